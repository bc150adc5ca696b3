/*
 * Ordered boot (docs/operations.md): when shipd starts, and whenever the
 * engine's event stream comes back (dockerd restarted), list every
 * stack's containers and bring each stack to what a deploy would have
 * made of it, in dependency order.  A replica of the current revision
 * that is down although nothing meant it so (not left stopped by shipctl
 * stop, not a one-shot that completed) has its service started again; a
 * service the engine started on its own while something it waits on
 * (healthy, completed) is not there yet is stopped first, dependents
 * before what they depend on, and started again with them.  The stop is
 * an operation of kind stop that leaves no mark, the start one of kind
 * start that also gates the running services they wait on, each under
 * the stack's lock, each replica gated as a deploy gates it.  A service
 * whose dependencies are met is left running.  A stack whose lock is
 * held (a deploy, a recovery) is looked at again once it is free.
 */
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "engine/docker.h"
#include "engine/spec.h"
#include "graph.h"
#include "log.h"
#include "ops/boot.h"
#include "ops/health.h"
#include "ops/op.h"
#include "state/lock.h"
#include "state/revision.h"
#include "state/store.h"
#include "util.h"

#define BOOT_COALESCE_MS	200
#define BOOT_RETRY_MS		1000
#define BOOT_FAIL_MIN_MS	10000	/* after a failed start, doubled */
#define BOOT_FAIL_MAX_MS	300000
#define BOOT_PATIENCE		20	/* lists waiting for shipd's own
					   checks' first verdicts */

struct boot {
	struct shipd		*sd;
	uv_timer_t		 timer;
	struct docker_req	*list;
	bool			 again;
	json_t			*after;		/* {stack: {svc: why}}: what
						   boot stopped, to start */
	uint64_t		 fail_ms;	/* wait after a failed start */
	unsigned		 waits;		/* lists spent waiting */
};

/* One service as the list shows it: its replicas of the current
 * revision. */
enum sat { SAT_YES, SAT_NO, SAT_UNKNOWN };

struct bsvc {
	const struct unit *u;
	bool		 rows;		/* it has replicas */
	bool		 down;		/* one is down, and not meant so */
	bool		 running;	/* one is running */
	enum sat	 healthy;	/* every replica runs and is healthy */
	bool		 completed;	/* every replica exited 0 */
	bool		 stop;		/* running ahead of what it needs */
	const char	*ahead_of;	/* ...that */
};

static void	on_boot_timer(uv_timer_t *);

static const char *
label(json_t *c, const char *key)
{
	return json_string_value(json_object_get(json_object_get(c,
	    "Labels"), key));
}

static const char *
str(json_t *c, const char *key)
{
	return json_string_value(json_object_get(c, key));
}

/* Down, and not meant to be: exited or created, but for a clean exit the
 * engine would leave as it is (restart "no" or "on-failure"). */
static bool
down_unmeant(json_t *c, const struct unit *u)
{
	const char *state = str(c, "State");
	const char *status = str(c, "Status");

	if (state == NULL || (strcmp(state, "exited") != 0 &&
	    strcmp(state, "created") != 0))
		return false;
	if (status != NULL && strncmp(status, "Exited (0)", 10) == 0 &&
	    u->restart != NULL && (strcmp(u->restart, "no") == 0 ||
	    strcmp(u->restart, "on-failure") == 0))
		return false;
	return true;
}

/*
 * Is the replica healthy, as a gate would judge it: the engine's verdict
 * in the list's Status ("Up 3 s (healthy)"), else shipd's own http/tcp
 * check (unknown until its first probe: shipd has only just started),
 * else running is enough.
 */
static enum sat
replica_healthy(struct shipd *sd, json_t *c, const struct unit *u)
{
	const char	*state = str(c, "State"), *status = str(c, "Status");
	const char	*own, *detail = NULL;

	if (state == NULL || strcmp(state, "running") != 0)
		return SAT_NO;
	if (status != NULL && strstr(status, "(healthy)") != NULL)
		return SAT_YES;
	if (status != NULL && strstr(status, "health") != NULL)
		return SAT_NO;		/* starting, or unhealthy */
	if (u->health.kind != HEALTH_HTTP && u->health.kind != HEALTH_TCP)
		return SAT_YES;
	own = health_own(sd, str(c, "Id") ?: "", &detail);
	if (own == NULL || (strcmp(own, "starting") == 0 &&
	    (detail == NULL || *detail == '\0')))
		return SAT_UNKNOWN;
	return strcmp(own, "healthy") == 0 ? SAT_YES : SAT_NO;
}

/* {stack: [row, ...]}: the current revision's replicas (not kept ones,
 * not services shipctl stop left stopped). */
static json_t *
by_stack(struct shipd *sd, json_t *rows)
{
	json_t		*out = json_object(), *c, *a;
	const char	*stack, *svc, *name, *rev;
	const json_t	*stopped;
	size_t		 i;
	int		 cur;

	json_array_foreach(rows, i, c) {
		stack = label(c, LABEL_STACK);
		svc = label(c, LABEL_SERVICE);
		rev = label(c, LABEL_REVISION);
		name = json_string_value(json_array_get(json_object_get(c,
		    "Names"), 0));
		if (stack == NULL || svc == NULL || name == NULL ||
		    spec_kept_revision(name[0] == '/' ? name + 1 : name) > 0)
			continue;
		if ((cur = store_current(sd->store, stack)) <= 0 ||
		    (rev != NULL && atoi(rev) > cur))
			continue;
		stopped = json_object_get(store_svcstate_get(sd->store,
		    stack), "stopped");
		if (json_object_get(stopped, svc) != NULL)
			continue;
		if ((a = json_object_get(out, stack)) == NULL) {
			a = json_array();
			json_object_set_new(out, stack, a);
		}
		json_array_append(a, c);
	}
	return out;
}

static ssize_t
unit_idx(const struct stack *st, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < st->nunits; i++)
		if (strcmp(st->units[i]->name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* Each service of st (by unit index) as the list shows it. */
static struct bsvc *
survey(struct boot *b, const char *stack, const struct stack *st,
    json_t *rows)
{
	struct bsvc	*v = xcalloc(st->nunits + 1, sizeof *v), *s;
	json_t		*after = json_object_get(b->after, stack), *c;
	const char	*state, *status;
	enum sat	 h;
	size_t		 i;
	ssize_t		 k;

	for (i = 0; i < st->nunits; i++) {
		v[i].u = st->units[i];
		v[i].healthy = SAT_YES;
		v[i].completed = true;
	}
	json_array_foreach(rows, i, c) {
		if ((k = unit_idx(st, label(c, LABEL_SERVICE))) < 0)
			continue;
		s = &v[k];
		state = str(c, "State");
		status = str(c, "Status");
		s->rows = true;
		s->down |= down_unmeant(c, s->u);
		s->running |= state != NULL && strcmp(state, "running") == 0;
		h = replica_healthy(b->sd, c, s->u);
		if (h == SAT_NO || (h == SAT_UNKNOWN && s->healthy == SAT_YES))
			s->healthy = h;
		s->completed &= state != NULL && strcmp(state, "exited") == 0 &&
		    status != NULL && strncmp(status, "Exited (0)", 10) == 0;
	}
	/* What boot stopped is started again, whatever its exit. */
	for (i = 0; i < st->nunits; i++)
		if (json_object_get(after, v[i].u->name) != NULL &&
		    v[i].rows && !v[i].running)
			v[i].down = true;
	return v;
}

/* Does the dependency meet its condition now?  One with no replica
 * (none, or left stopped by shipctl stop) is not waited for. */
static enum sat
dep_met(const struct bsvc *v, const struct stack *st,
    const struct unit_dep *d)
{
	ssize_t k = unit_idx(st, d->name);

	if (k < 0 || !v[k].rows)
		return SAT_YES;
	if (v[k].down || v[k].stop)
		return SAT_NO;
	if (d->cond == DEP_COMPLETED)
		return v[k].completed ? SAT_YES : SAT_NO;
	return v[k].healthy;
}

/*
 * Mark what runs ahead of what it waits on: a running service with a
 * healthy or completed dependency not met (down, being stopped itself,
 * starting, unhealthy, not yet completed).  A started condition holds
 * once the dependency has run at all, as compose has it.  False when a
 * verdict it needs is not known yet (and patient).
 */
static bool
mark_ahead(struct bsvc *v, const struct stack *st, bool patient)
{
	const struct unit	*u;
	enum sat		 m;
	bool			 more = true, unknown = false;
	size_t			 i, j;

	while (more) {
		more = false;
		for (i = 0; i < st->nunits; i++) {
			u = v[i].u;
			if (!v[i].running || v[i].stop)
				continue;
			for (j = 0; j < u->ndeps; j++) {
				if (u->deps[j].cond == DEP_STARTED)
					continue;
				m = dep_met(v, st, &u->deps[j]);
				if (m == SAT_UNKNOWN && patient) {
					unknown = true;
					continue;
				}
				if (m == SAT_YES)
					continue;
				v[i].stop = more = true;
				v[i].ahead_of = u->deps[j].name;
				break;
			}
		}
	}
	return !unknown;
}

/* {svc: why}: what is down or ahead, and the running services those
 * wait on (healthy, completed), which the start gates and leaves be. */
static json_t *
start_targets(const struct bsvc *v, const struct stack *st)
{
	json_t	*t = json_object();
	char	*why;
	bool	 more = true;
	size_t	 i, j;
	ssize_t	 k;

	for (i = 0; i < st->nunits; i++) {
		if (v[i].stop)
			xasprintf(&why, "started before %s was ready",
			    v[i].ahead_of);
		else if (v[i].down)
			why = xstrdup("down at boot");
		else
			continue;
		json_object_set_new(t, v[i].u->name, json_string(why));
		free(why);
	}
	while (more && json_object_size(t) > 0) {
		more = false;
		for (i = 0; i < st->nunits; i++) {
			if (json_object_get(t, v[i].u->name) == NULL)
				continue;
			for (j = 0; j < v[i].u->ndeps; j++) {
				const struct unit_dep *d = &v[i].u->deps[j];

				if (d->cond == DEP_STARTED || (k = unit_idx(st,
				    d->name)) < 0 || !v[k].running ||
				    json_object_get(t, d->name) != NULL)
					continue;
				xasprintf(&why, "%s waits for it", v[i].u->name);
				json_object_set_new(t, d->name,
				    json_string(why));
				free(why);
				more = true;
			}
		}
	}
	return t;
}

static void
on_stopped(struct op *op, void *arg)
{
	struct boot *b = arg;

	if (op->failed)
		log_warn("boot %s: stopping what ran ahead: %s",
		    op->stack_name, op->error ? op->error : "failed");
	/* Now what it stopped is down: start it, in order. */
	uv_timer_start(&b->timer, on_boot_timer, 0, 0);
}

static void
on_started(struct op *op, void *arg)
{
	struct boot *b = arg;

	if (!op->failed) {
		b->fail_ms = 0;
		return;
	}
	b->fail_ms = b->fail_ms == 0 ? BOOT_FAIL_MIN_MS : b->fail_ms * 2;
	if (b->fail_ms > BOOT_FAIL_MAX_MS)
		b->fail_ms = BOOT_FAIL_MAX_MS;
	log_warn("boot %s: %s; looking again in %llu s", op->stack_name,
	    op->error ? op->error : "failed",
	    (unsigned long long)(b->fail_ms / 1000));
	if (!uv_is_active((uv_handle_t *)&b->timer))
		uv_timer_start(&b->timer, on_boot_timer, b->fail_ms, 0);
}

/* Bring stack to what a deploy would make of it; false if it must
 * wait (its lock is held, a verdict is not known yet). */
static bool
boot_stack(struct boot *b, const char *stack, json_t *rows)
{
	struct shipd	*sd = b->sd;
	struct stack	*st;
	struct graph	*g;
	struct bsvc	*v;
	json_t		*t, *stop;
	char		 why[256];
	size_t		 i;

	if (lock_holder(sd, stack) != NULL)
		return false;
	if (revision_load(sd->store, stack, 0, &st, &g, NULL, why,
	    sizeof why) < 0)
		return true;
	v = survey(b, stack, st, rows);
	if (!mark_ahead(v, st, b->waits < BOOT_PATIENCE)) {
		free(v);
		graph_free(g);
		stack_free(st);
		return false;
	}
	json_object_del(b->after, stack);
	t = start_targets(v, st);
	stop = json_object();
	for (i = 0; i < st->nunits; i++)
		if (v[i].stop)
			json_object_set(stop, v[i].u->name, json_object_get(t,
			    v[i].u->name));
	free(v);
	if (json_object_size(stop) > 0) {
		log_info("boot %s: stopping %zu services that started ahead "
		    "of what they wait on", stack, json_object_size(stop));
		json_object_set_new(b->after, stack, json_deep_copy(stop));
		json_decref(t);
		svcop_boot_stop(sd, st, g, stop, on_stopped, b);
	} else if (json_object_size(t) > 0) {
		json_decref(stop);
		log_info("boot %s: starting %zu services, in order", stack,
		    json_object_size(t));
		svcop_boot(sd, st, g, t, on_started, b);
	} else {
		json_decref(stop);
		json_decref(t);
		graph_free(g);
		stack_free(st);
	}
	return true;
}

static void
on_listed(const struct docker_result *res, void *arg)
{
	struct boot	*b = arg;
	struct shipd	*sd = b->sd;
	json_t		*stacks, *rows;
	const char	*stack;
	bool		 retry = res->err != 0;

	b->list = NULL;
	if (res->err == 0) {
		stacks = by_stack(sd, res->body);
		json_object_foreach(stacks, stack, rows)
			if (!boot_stack(b, stack, rows))
				retry = true;
		json_decref(stacks);
	}
	b->waits = retry ? b->waits + 1 : 0;
	if (b->again || retry) {
		b->again = false;
		uv_timer_start(&b->timer, on_boot_timer, BOOT_RETRY_MS, 0);
	}
}

static void
on_boot_timer(uv_timer_t *t)
{
	struct boot	*b = t->data;
	struct shipd	*sd = b->sd;

	if (sd->stopping)
		return;
	/* After recovery: what it finishes or rolls back comes first. */
	if (!sd->recovered || !sd->engine_ok || sd->store == NULL) {
		uv_timer_start(&b->timer, on_boot_timer, BOOT_RETRY_MS, 0);
		return;
	}
	if (b->list != NULL) {
		b->again = true;
		return;
	}
	b->list = docker_containers_list(sd->docker, LABEL_STACK, 1,
	    on_listed, b);
}

void
boot_scan(struct shipd *sd, struct boot **bp)
{
	struct boot *b = *bp;

	if (sd->stopping)
		return;
	if (b == NULL) {
		b = *bp = xcalloc(1, sizeof *b);
		b->sd = sd;
		b->after = json_object();
		uv_timer_init(sd->loop, &b->timer);
		b->timer.data = b;
	}
	if (!uv_is_active((uv_handle_t *)&b->timer))
		uv_timer_start(&b->timer, on_boot_timer, BOOT_COALESCE_MS, 0);
}

static void
boot_closed(uv_handle_t *t)
{
	struct boot *b = t->data;

	json_decref(b->after);
	free(b);
}

void
boot_stop(struct boot **bp)
{
	struct boot *b = *bp;

	if (b == NULL)
		return;
	*bp = NULL;
	docker_cancel(b->list);
	uv_timer_stop(&b->timer);
	uv_close((uv_handle_t *)&b->timer, boot_closed);
}
