/*
 * deploy, scale and history as control commands: validate what the client
 * sent, take the stack's lock, gather the engine's view (containers,
 * images), plan, prepare networks and volumes, hand over to the apply
 * engine, and record the outcome as a revision.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/req.h"
#include "ops/deploy.h"
#include "backup/backup.h"
#include "engine/docker.h"
#include "state/lock.h"
#include "log.h"
#include "ops/op.h"
#include "ops/preflight.h"
#include "proto.h"
#include "core/shipd.h"
#include "engine/spec.h"
#include "stackgraph.h"
#include "state/store.h"
#include "util.h"

/* ---- lifecycle ----------------------------------------------------------- */

void
op_free(struct op *op)
{
	struct op	**pp;
	size_t		  i, j;

	if (op->child != NULL) {
		op->child->parent = NULL;
		op_free(op->child);
	}
	if (op->parent != NULL)
		op->parent->child = NULL;
	for (pp = &op->sd->ops; *pp != NULL; pp = &(*pp)->next)
		if (*pp == op) {
			*pp = op->next;
			break;
		}
	for (i = 0; op->svcs != NULL && i < op->stack->nunits; i++) {
		struct svc *s = &op->svcs[i];

		for (j = 0; j < s->nreps; j++) {
			gate_cancel(s->reps[j].gate);
			rep_cancel_drain(&s->reps[j]);
			free(s->reps[j].id);
			free(s->reps[j].old_id);
			free(s->reps[j].restore_id);
		}
		free(s->reps);
		free(s->reason);
		free(s->error);
	}
	op_verify_cancel(op);
	free(op->svcs);
	free(op->met);
	free(op->begun);
	json_decref(op->containers);
	json_decref(op->images);
	json_decref(op->removals);
	json_decref(op->scale);
	json_decref(op->skip_checks);
	json_decref(op->preflight_errors);
	if (op->graph != NULL)
		graph_free(op->graph);
	if (op->stack != NULL)
		stack_free(op->stack);
	lock_release(op->sd, op->lock);
	lock_wait_cancel(op->sd, op->waiter);
	free(op->stack_name);
	free(op->backup_id);
	free(op->restore_id);
	free(op->error);
	free(op);
}

void
ops_free_all(struct shipd *sd)
{
	while (sd->ops != NULL)
		op_free(sd->ops);
}

/* The request goes with the control server at shutdown; the op stays
 * until the engine client has closed. */
static void
on_req_cancel(struct ctl_req *r, void *arg)
{
	struct op *op = arg;

	(void)r;
	op->req = NULL;
}

struct op *
op_create(struct shipd *sd, struct ctl_req *r, const char *kind,
    struct stack *st, struct graph *g)
{
	struct op *op = xcalloc(1, sizeof *op);

	op->sd = sd;
	op->req = r;
	op->kind = kind;
	op->stack = st;
	op->graph = g;
	op->stack_name = xstrdup(st->name);
	op->t0 = now_ms();
	op->started_at = time(NULL);
	op->images = json_object();
	if (r != NULL) {
		op->uid = r->uid;
		op->pid = r->pid;
		ctl_req_on_cancel(r, on_req_cancel, op);
	}
	return op;
}

/* Hand a request (and its cancel hook) from one operation to another. */
void
op_take_req(struct op *to, struct op *from)
{
	to->req = from->req;
	from->req = NULL;
	if (to->req != NULL)
		ctl_req_on_cancel(to->req, on_req_cancel, to);
}

static void	on_lock_free(void *);

/*
 * One operation per stack at a time: refuse with the owner named, or with
 * `wait`, queue until the lock is free.  True when the op may begin now.
 */
static bool
op_lock(struct shipd *sd, struct op *op)
{
	char why[256];

	op->next = sd->ops;
	sd->ops = op;
	if (lock_acquire(sd, op->stack_name, op->kind, op->uid, op->pid,
	    &op->lock, why, sizeof why) == 0)
		return true;
	if (op->req != NULL && ctl_bool(op->req, "wait", false)) {
		if (op->waiter == NULL) {
			ctl_req_event(op->req, "waiting", json_pack("{s:s}",
			    "message", why));
			op->waiter = lock_wait(sd, op->stack_name,
			    on_lock_free, op);
		}
		return false;
	}
	if (op->req != NULL)
		ctl_req_err(op->req, PROTO_E_BUSY, "%s", why);
	op->req = NULL;
	op_free(op);
	return false;
}

static void
on_lock_free(void *arg)
{
	struct op	*op = arg;
	char		 why[256];

	if (lock_acquire(op->sd, op->stack_name, op->kind, op->uid, op->pid,
	    &op->lock, why, sizeof why) < 0)
		return;		/* someone queued earlier got it */
	lock_wait_cancel(op->sd, op->waiter);
	op->waiter = NULL;
	op->start(op);
}

static void
reply_fail(struct op *op, const char *code, const char *msg)
{
	if (op->req != NULL)
		ctl_req_err(op->req, code, "%s", msg);
	op->req = NULL;
	op_free(op);
}

static void
reply_diags(struct ctl_req *r, const char *what, struct diag_list *errs)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	for (i = 0; i < errs->n && i < 20; i++) {
		char *s = diag_format(&errs->v[i]);

		buf_printf(&b, "%s%s", i ? "\n" : "", s);
		free(s);
	}
	if (errs->n > 20)
		buf_printf(&b, "\n(and %zu more)", errs->n - 20);
	ctl_req_err(r, PROTO_E_INVALID_STACK, "%s: %s", what,
	    b.len ? b.data : "invalid");
	buf_free(&b);
	diag_free(errs);
}

/* ---- preparing: containers, images, networks, volumes -------------------- */

static void
on_prepared(const struct docker_result *res, void *arg)
{
	struct op *op = arg;

	/* 409: the network exists already, which is what we want. */
	if (res->err != 0 && res->err != DOCKER_E_CONFLICT && !op->failed) {
		op->failed = true;
		op->error = xstrdup(res->message);
	}
	if (--op->inflight > 0)
		return;
	if (op->failed) {
		char *why = op->error;

		op->error = NULL;
		reply_fail(op, PROTO_E_ENGINE, why);
		free(why);
		return;
	}
	deploy_apply(op);
}

static void
prepare_objects(struct op *op)
{
	const struct stack	*st = op->stack;
	json_t			*spec;
	size_t			 i;

	op->inflight = 1;	/* held until every call is sent */
	spec = spec_network(st->name, "default");
	op->inflight++;
	docker_network_create(op->sd->docker, spec, on_prepared, op);
	json_decref(spec);
	for (i = 0; i < st->nnetworks; i++) {
		spec = spec_network(st->name, st->networks[i]);
		op->inflight++;
		docker_network_create(op->sd->docker, spec, on_prepared, op);
		json_decref(spec);
	}
	for (i = 0; i < st->nvolumes; i++) {
		spec = spec_volume(st->name, st->volumes[i]);
		op->inflight++;
		docker_volume_create(op->sd->docker, spec, on_prepared, op);
		json_decref(spec);
	}
	{
		static const struct docker_result none = { 0, 200, "", NULL };

		on_prepared(&none, op);
	}
}

static void
on_begun(int err, void *arg)
{
	struct op	*op = arg;
	char		 msg[256];

	if (err < 0) {
		snprintf(msg, sizeof msg, "recording the start of revision %d: "
		    "%s", op->revision, strerror(-err));
		reply_fail(op, PROTO_E_INTERNAL, msg);
		return;
	}
	if (strcmp(op->kind, "scale") == 0)
		deploy_apply(op);
	else
		prepare_objects(op);
}

static void
on_backed_up(int err, const char *id, const char *msg, void *arg)
{
	struct op *op = arg;
	char buf[512];

	if (err < 0) {
		snprintf(buf, sizeof buf, "backup before the deploy failed: %s "
		    "(nothing was changed; --no-backup skips it)",
		    msg ? msg : strerror(-err));
		reply_fail(op, PROTO_E_FAILED, buf);
		return;
	}
	if (id != NULL) {
		op->backup_id = xstrdup(id);
		if (op->req != NULL)
			ctl_req_event(op->req, "backup", json_pack("{s:s}",
			    "backup", id));
	}
	commit_begin(op, on_begun);
}

/*
 * The backup phase: services that declare backup: and are about to
 * change are backed up first, tagged with the new revision, so that
 * `rollback --with-data` of it can restore what they held before.
 */
static void
backup_phase(struct op *op)
{
	const char	**names;
	size_t		  i, n = 0;

	if (strcmp(op->kind, "deploy") != 0 || op->no_backup) {
		commit_begin(op, on_begun);
		return;
	}
	names = xcalloc(op->stack->nunits + 1, sizeof *names);
	for (i = 0; i < op->stack->nunits; i++) {
		const struct svc *s = &op->svcs[i];

		if (s->unit->backup.present && (s->action == ACT_RECREATE ||
		    s->action == ACT_SCALE))
			names[n++] = s->unit->name;
	}
	if (n == 0) {
		free(names);
		commit_begin(op, on_begun);
		return;
	}
	if (op->req != NULL)
		ctl_req_event(op->req, "phase", json_pack("{s:s, s:I}",
		    "phase", "backup", "services", (json_int_t)n));
	backup_for_deploy(op->sd, op->stack, names, n, op->revision,
	    on_backed_up, op);
	free(names);
}

/* Every check ran; any failure stops the deploy with nothing changed. */
static void
on_checked(struct op *op)
{
	char *why;

	if ((why = preflight_failures(op)) != NULL) {
		reply_fail(op, PROTO_E_PREFLIGHT, why);
		free(why);
		return;
	}
	backup_phase(op);
}

static void
planned(struct op *op)
{
	if (plan_compute(op, op->sd->store ? store_scale_get(op->sd->store,
	    op->stack_name) : NULL) < 0) {
		reply_fail(op, PROTO_E_INTERNAL, "planning failed");
		return;
	}
	if (strcmp(op->kind, "plan") == 0) {
		ctl_req_ok(op->req, json_pack("{s:i, s:o}", "current",
		    op->prev_revision, "services", plan_json(op)));
		op->req = NULL;
		op_free(op);
		return;
	}
	if (op->req != NULL)
		ctl_req_event(op->req, "plan", json_pack("{s:i, s:o}",
		    "revision", op->revision, "services", plan_json(op)));
	/* A rollback of a failed deploy and a recovery belong to the
	 * operation they finish: no checks, no journal begin of their own;
	 * they must go ahead. */
	if (op->parent != NULL || op->recover != NULL)
		on_begun(0, op);
	else if (strcmp(op->kind, "scale") == 0)
		commit_begin(op, on_begun);
	else
		preflight_checks(op, on_checked);
}

static void
on_images(struct op *op)
{
	char *why;

	/* A plan cannot be made without the images; a deploy reports them
	 * with the other checks. */
	if (strcmp(op->kind, "plan") == 0 &&
	    (why = preflight_failures(op)) != NULL) {
		reply_fail(op, PROTO_E_PREFLIGHT, why);
		free(why);
		return;
	}
	planned(op);
}

static void
resolve_images(struct op *op)
{
	if (op->pin_images)
		planned(op);
	else
		preflight_images(op, on_images);
}

static void
on_listed(const struct docker_result *res, void *arg)
{
	struct op *op = arg;

	if (res->err != 0) {
		char msg[512];

		snprintf(msg, sizeof msg, "listing containers: %s",
		    res->message);
		reply_fail(op, res->err == DOCKER_E_UNAVAILABLE ?
		    PROTO_E_UNAVAILABLE : PROTO_E_ENGINE, msg);
		return;
	}
	op->containers = json_incref(res->body);
	resolve_images(op);
}

void
op_begin(struct op *op)
{
	char *filter;

	xasprintf(&filter, LABEL_STACK "=%s", op->stack_name);
	docker_containers_list(op->sd->docker, filter, 1, on_listed, op);
	free(filter);
}


/* ---- handlers ------------------------------------------------------------ */

/* The stack a client sent, validated as strictly as a unit file. */
static struct op *
op_from_request(struct shipd *sd, struct ctl_req *r, const char *kind)
{
	struct diag_list	 errs;
	struct stack		*st;
	struct graph		*g;

	diag_init(&errs);
	if (stack_from_json(json_object_get(r->args, "stack"), &st,
	    &errs) != 0) {
		reply_diags(r, "invalid stack", &errs);
		return NULL;
	}
	if (stack_graph_build(st, &g, &errs) != 0) {
		stack_free(st);
		reply_diags(r, "invalid dependencies", &errs);
		return NULL;
	}
	diag_free(&errs);
	return op_create(sd, r, kind, st, g);
}

void
ctl_handle_plan(struct shipd *sd, struct ctl_req *r)
{
	struct op *op;

	if ((op = op_from_request(sd, r, "plan")) == NULL)
		return;
	/* No lock: a plan changes nothing.  Listed, so shutdown frees it. */
	op->next = sd->ops;
	sd->ops = op;
	op->prev_revision = op->keep_rev = store_current(sd->store,
	    op->stack_name);
	op_begin(op);
}

/* With the lock held: the revision numbers, then the work. */
static void
deploy_start(struct op *op)
{
	op->prev_revision = store_current(op->sd->store, op->stack_name);
	op->keep_rev = op->prev_revision;
	op->revision = store_revision_next(op->sd->store, op->stack_name);
	op_begin(op);
}

static void
scale_start(struct op *op)
{
	op->revision = op->prev_revision = store_current(op->sd->store,
	    op->stack_name);
	op_begin(op);
}

void
ctl_handle_deploy(struct shipd *sd, struct ctl_req *r)
{
	struct op	*op;

	json_t		*skip = json_object_get(r->args, "skip_checks"), *v;
	size_t		 i;

	json_array_foreach(skip, i, v)
		if (!preflight_check_known(json_string_value(v))) {
			ctl_req_err(r, PROTO_E_BAD_ARGS, "skip_checks: no check "
			    "named '%.32s' (checks: %s)", json_string_value(v) ?
			    json_string_value(v) : "?", PREFLIGHT_CHECKS);
			return;
		}
	if ((op = op_from_request(sd, r, "deploy")) == NULL)
		return;
	op->skip_checks = json_incref(skip);
	op->no_backup = ctl_bool(r, "no_backup", false);
	op->start = deploy_start;
	if (op_lock(sd, op))
		deploy_start(op);
}

void
ctl_handle_scale(struct shipd *sd, struct ctl_req *r)
{
	struct diag_list	 errs;
	const json_t		*doc;
	struct stack		*st;
	struct graph		*g;
	struct op		*op;
	const char		*name = ctl_str(r, "stack"), *svc;
	json_t			*want = json_object_get(r->args, "replicas"), *n;
	int			 cur;

	cur = store_current(sd->store, name);
	doc = cur > 0 ? store_revision_get(sd->store, name, cur) : NULL;
	if (doc == NULL) {
		ctl_req_err(r, PROTO_E_NOT_FOUND, "stack %s has no deployed "
		    "revision to scale", name);
		return;
	}
	diag_init(&errs);
	if (stack_from_json(json_object_get(doc, "stack"), &st, &errs) != 0) {
		reply_diags(r, "current revision unreadable", &errs);
		return;
	}
	if (json_object_size(want) == 0) {
		stack_free(st);
		ctl_req_err(r, PROTO_E_BAD_ARGS, "scale: name at least one "
		    "service, as SERVICE=N");
		return;
	}
	json_object_foreach(want, svc, n) {
		if (stack_unit(st, svc) == NULL || !json_is_integer(n) ||
		    json_integer_value(n) < 0 ||
		    json_integer_value(n) > UNIT_REPLICAS_MAX) {
			ctl_req_err(r, PROTO_E_BAD_ARGS, stack_unit(st, svc) ?
			    "scale: %s: replicas must be 0 to %d" :
			    "scale: stack has no service '%s' (max %d)", svc,
			    UNIT_REPLICAS_MAX);
			stack_free(st);
			return;
		}
	}
	if (stack_graph_build(st, &g, &errs) != 0) {
		stack_free(st);
		reply_diags(r, "current revision unreadable", &errs);
		return;
	}
	op = op_create(sd, r, "scale", st, g);
	op->scale = json_incref(want);
	op->start = scale_start;
	if (op_lock(sd, op))
		scale_start(op);
}
