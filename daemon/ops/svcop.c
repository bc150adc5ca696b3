/*
 * The kinds that act on services as they stand, with no new revision:
 * stop, start and restart (shipctl stop|start|restart SERVICE...).  Each
 * runs through the pipeline and the apply engine like a scale: under the
 * stack's lock, journaled step by step, gated, cancellable.
 *
 * stop takes the named services' dependents down first: it walks the
 * dependency graph reversed.  start brings the named services up with the
 * stopped services they need and the stopped dependents stop took down,
 * in dependency order, each replica gated like a deploy's.  restart stops
 * and starts each replica in place, update.parallelism at a time, then
 * the running dependents the same way, in order.
 *
 * What stop left stopped is marked in svcstate.json once it is done, and
 * start and restart clear the marks of what they brought up once that is
 * done: a deploy, rollback or recovery leaves a marked service stopped.
 * So a stop or start that shipd did not finish is undone by recovery
 * (the marks are those before it), and a restart is finished.  Each one
 * is listed by history, from svcstate.json's "ops".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/shipd.h"
#include "graph.h"
#include "ops/op.h"
#include "ops/ops.h"
#include "proto.h"
#include "state/revision.h"
#include "state/store.h"
#include "util.h"

#define SVCOP_HISTORY_MAX	100	/* entries svcstate.json keeps */

static const json_t *
marks(struct shipd *sd, const char *stack)
{
	return json_object_get(store_svcstate_get(sd->store, stack),
	    "stopped");
}

/* Record what it did (marks, history), then end as a scale does. */
static void
svcop_finish(struct op *op)
{
	const json_t	*old = store_svcstate_get(op->sd->store,
	    op->stack_name);
	json_t		*doc, *stopped, *ops, *names, *entry;
	char		 t0[32], t1[32];
	size_t		 i;

	/* A user's start or restart: the supervisor starts afresh. */
	if (!op->healing && op->kind->id != OP_STOP &&
	    op->sd->heal_reset != NULL)
		op->sd->heal_reset(op->sd, op->stack_name);
	doc = old != NULL ? json_deep_copy(old) : json_object();
	if ((stopped = json_object_get(doc, "stopped")) == NULL) {
		stopped = json_object();
		json_object_set_new(doc, "stopped", stopped);
	}
	if ((ops = json_object_get(doc, "ops")) == NULL) {
		ops = json_array();
		json_object_set_new(doc, "ops", ops);
	}
	fmt_time_utc(t0, sizeof t0, (long long)op->started_at);
	fmt_time_utc(t1, sizeof t1, (long long)time(NULL));
	/* In the order it ran: the plan's. */
	names = plan_json(op);
	for (i = 0; i < op->stack->nunits; i++) {
		const struct svc *s = &op->svcs[i];

		if (s->action == ACT_NONE)
			continue;
		/* Stopped all the way (but by ordered boot, which starts
		 * it again); or started at all (a start that failed in a
		 * gate leaves it running, so not stopped). */
		if (s->action == ACT_STOP && s->state == SVC_DONE &&
		    !op->healing)
			json_object_set_new(stopped, s->unit->name, json_pack(
			    "{s:s, s:i}", "since", t1, "uid", (int)op->uid));
		else if (s->action != ACT_STOP && (s->state == SVC_DONE ||
		    s->started > 0))
			json_object_del(stopped, s->unit->name);
	}
	entry = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:o}",
	    "kind", op->kind->name, "started", t0, "finished", t1,
	    "uid", (int)op->uid, "pid", (int)op->pid,
	    "revision", op->revision, "result", op->failed ? "failed" :
	    "done", "changes", names);
	if (op->error != NULL)
		json_object_set_new(entry, "reason", json_string(op->error));
	json_array_append_new(ops, entry);
	while (json_array_size(ops) > SVCOP_HISTORY_MAX)
		json_array_remove(ops, 0);
	/* Writes land in order: the marks before the journal's end. */
	store_svcstate_set(op->sd->store, op->stack_name, doc, NULL, NULL);
	json_decref(doc);
	commit_end(op);
}

static void
svcop_start(struct op *op)
{
	op->revision = op->prev_revision = store_current(op->sd->store,
	    op->stack_name);
	/* What it stopped is meant to be down: no monitor period. */
	if (op->kind->id == OP_STOP)
		op->verified = true;
	pipeline_run(op);
}

static const struct op_kind op_kind_stop = {
	OP_STOP, OP_NAME_STOP, OPK_LOCK | OPK_BEGIN | OPK_PIN,
	svcop_start, svcop_finish, NULL
};
static const struct op_kind op_kind_start = {
	OP_START, OP_NAME_START, OPK_LOCK | OPK_BEGIN | OPK_PIN,
	svcop_start, svcop_finish, NULL
};
static const struct op_kind op_kind_restart = {
	OP_RESTART, OP_NAME_RESTART, OPK_LOCK | OPK_BEGIN | OPK_PIN,
	svcop_start, svcop_finish, NULL
};

/* The dependency graph turned round: stop walks dependents first. */
static struct graph *
reversed(const struct stack *st)
{
	struct graph	*g = graph_new();
	struct diag_list errs;
	size_t		 i, j;

	for (i = 0; i < st->nunits; i++)
		graph_add_node(g, st->units[i]->name, st->units[i]->file);
	for (i = 0; i < st->nunits; i++) {
		const struct unit *u = st->units[i];

		for (j = 0; j < u->ndeps; j++)
			graph_add_edge(g, u->deps[j].name, u->name,
			    DEP_STARTED, 0, 0);
	}
	diag_init(&errs);
	graph_check(g, &errs);		/* the stack's graph had no cycle */
	diag_free(&errs);
	return g;
}

/* Every transitive dependency of node into mark (not node itself). */
static void
closure_deps(const struct graph *g, size_t node, unsigned char *mark)
{
	size_t	 n = graph_deps(g, node, NULL, NULL), i, *out;

	out = xcalloc(n + 1, sizeof *out);
	graph_deps(g, node, out, NULL);
	for (i = 0; i < n; i++) {
		if (mark[out[i]])
			continue;
		mark[out[i]] = 1;
		closure_deps(g, out[i], mark);
	}
	free(out);
}

/*
 * {service: why} for the kind: the named services, and what comes with
 * them (stop: every dependent; start: the stopped dependents and
 * dependencies; restart: the dependents not left stopped).
 */
static void
take(json_t *t, const struct graph *g, const unsigned char *mark,
    const json_t *stopped, enum op_kind_id kind, bool dependent,
    const char *named)
{
	size_t	 i;
	char	*why;

	for (i = 0; i < graph_count(g); i++) {
		const char	*svc = graph_name(g, i);
		bool		 is_stopped = json_object_get(stopped, svc) !=
		    NULL;

		if (!mark[i] || json_object_get(t, svc) != NULL ||
		    (kind == OP_START && !is_stopped) ||
		    (kind == OP_RESTART && is_stopped))
			continue;
		if (dependent)
			xasprintf(&why, "depends on %s", named);
		else
			xasprintf(&why, "%s needs it", named);
		json_object_set_new(t, svc, json_string(why));
		free(why);
	}
}

static json_t *
targets(struct shipd *sd, enum op_kind_id kind, const char *stack,
    const struct graph *g, const json_t *names)
{
	const json_t	*stopped = marks(sd, stack);
	json_t		*t = json_object(), *v;
	size_t		 n = graph_count(g), k;
	unsigned char	*mark;
	const char	*name;

	json_array_foreach(names, k, v)
		json_object_set_new(t, json_string_value(v),
		    json_string("named"));
	mark = xcalloc(n + 1, 1);
	json_array_foreach(names, k, v) {
		name = json_string_value(v);
		memset(mark, 0, n);
		graph_closure_dependents(g, (size_t)graph_index(g, name),
		    mark);
		take(t, g, mark, stopped, kind, true, name);
		if (kind != OP_START)
			continue;
		memset(mark, 0, n);
		closure_deps(g, (size_t)graph_index(g, name), mark);
		take(t, g, mark, stopped, kind, false, name);
	}
	free(mark);
	return t;
}

void
ops_svcop(struct shipd *sd, struct ctl_req *r, const char *kind,
    const char *name, const json_t *services, bool wait)
{
	const struct op_kind	*k;
	struct stack		*st;
	struct graph		*g;
	struct op		*op;
	json_t			*v;
	size_t			 i;
	char			 why[256];

	k = strcmp(kind, OP_NAME_STOP) == 0 ? &op_kind_stop :
	    strcmp(kind, OP_NAME_START) == 0 ? &op_kind_start :
	    &op_kind_restart;
	if (revision_load(sd->store, name, 0, &st, &g, NULL, why,
	    sizeof why) < 0) {
		ctl_req_err(r, PROTO_E_NOT_FOUND, "%s: nothing to %s", why,
		    kind);
		return;
	}
	if (json_array_size(services) == 0) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "%s: name at least one "
		    "service", kind);
		goto fail;
	}
	json_array_foreach(services, i, v) {
		if (!json_is_string(v) || stack_unit(st,
		    json_string_value(v)) == NULL) {
			ctl_req_err(r, PROTO_E_NOT_FOUND, "%s: stack %s has no "
			    "service '%s'", kind, name, json_is_string(v) ?
			    json_string_value(v) : "?");
			goto fail;
		}
	}
	op = op_create(sd, k, r, st, NULL);
	op->targets = targets(sd, k->id, name, g, services);
	if (k->id == OP_STOP) {
		graph_free(g);
		g = reversed(st);
	}
	op->graph = g;
	op->wait = wait;
	op_run(op);
	return;
fail:
	graph_free(g);
	stack_free(st);
}

/* An operation of kind k on targets ({svc: why}) of st in graph g's
 * order, shipd's own (no client; it is "healing", so an operator's
 * command waits for it); all three are stolen. */
static void
own_op(struct shipd *sd, const struct op_kind *k, struct stack *st,
    struct graph *g, json_t *targets, void (*on_end)(struct op *, void *),
    void *arg)
{
	struct op *op;

	op = op_create(sd, k, NULL, st, NULL);
	op->targets = targets;
	op->graph = g;
	op->healing = true;
	op->on_end = on_end;
	op->on_end_arg = arg;
	op_run(op);
}

/* heal.c: restart the services in targets ({svc: why}) of stack st, with
 * no client; on_end(op, arg) once it ends. */
void
svcop_heal(struct shipd *sd, struct stack *st, struct graph *g,
    json_t *targets, void (*on_end)(struct op *, void *), void *arg)
{
	own_op(sd, &op_kind_restart, st, g, targets, on_end, arg);
}

/* boot.c: start the services in targets ({svc: why}, stolen, as are st
 * and g) of st, with no client; on_end(op, arg) once it ends. */
void
svcop_boot(struct shipd *sd, struct stack *st, struct graph *g,
    json_t *targets, void (*on_end)(struct op *, void *), void *arg)
{
	own_op(sd, &op_kind_start, st, g, targets, on_end, arg);
}

/* boot.c: stop the services in targets (stolen, as are st and g),
 * dependents first, with no client and leaving no mark: they are to be
 * started again in order once what they wait on is ready. */
void
svcop_boot_stop(struct shipd *sd, struct stack *st, struct graph *g,
    json_t *targets, void (*on_end)(struct op *, void *), void *arg)
{
	graph_free(g);
	own_op(sd, &op_kind_stop, st, reversed(st), targets, on_end, arg);
}
