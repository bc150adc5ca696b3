/*
 * The kinds that take a stack as the client sent it or as it stands:
 * plan, deploy and scale.  A deploy that fails rolls back unless told not
 * to (rollback.c); one with nothing to change records nothing; a scale
 * records its counts instead of a revision.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "diag.h"
#include "ops/ascalc.h"
#include "ops/op.h"
#include "ops/ops.h"
#include "proto.h"
#include "state/revision.h"
#include "state/store.h"
#include "util.h"

/* ---- plan ------------------------------------------------------------------ */

static void
plan_start(struct op *op)
{
	op->prev_revision = op->keep_rev = store_current(op->sd->store,
	    op->stack_name);
	pipeline_run(op);
}

static const struct op_kind op_kind_plan = {
	OP_PLAN, OP_NAME_PLAN, OPK_PLAN_ONLY | OPK_POLICY, plan_start, NULL, NULL
};

void
ops_plan(struct shipd *sd, struct ctl_req *r, struct stack *st,
    struct graph *g)
{
	/* No lock: a plan changes nothing.  Listed, so shutdown frees it. */
	op_run(op_create(sd, &op_kind_plan, r, st, g));
}

/* ---- deploy ---------------------------------------------------------------- */

/* With the lock held: the revision it starts from, then the work (the
 * pipeline numbers the new one once the plan has something to change). */
static void
deploy_start(struct op *op)
{
	op->prev_revision = store_current(op->sd->store, op->stack_name);
	op->keep_rev = op->prev_revision;
	pipeline_run(op);
}

static void
deploy_finish(struct op *op)
{
	if (op->failed && rollback_wanted(op))
		rollback_auto(op);
	else
		commit_end(op);
}

static const struct op_kind op_kind_deploy = {
	OP_DEPLOY, OP_NAME_DEPLOY, OPK_LOCK | OPK_CHECKS | OPK_BACKUP |
	    OPK_REVISION | OPK_BEGIN | OPK_OBJECTS | OPK_ORPHANS | OPK_NOOP |
	    OPK_POLICY,
	deploy_start, deploy_finish, NULL
};

void
ops_deploy(struct shipd *sd, struct ctl_req *r, struct stack *st,
    struct graph *g, const struct deploy_opts *o)
{
	struct op *op = op_create(sd, &op_kind_deploy, r, st, g);

	op->skip_checks = json_incref(o->skip_checks);
	op->no_backup = o->no_backup;
	op->wait = o->wait;
	op->remove_orphans = o->remove_orphans;
	op_run(op);
}

/* ---- scale ----------------------------------------------------------------- */

static void
scale_start(struct op *op)
{
	op->revision = op->prev_revision = store_current(op->sd->store,
	    op->stack_name);
	pipeline_run(op);
}

static const struct op_kind op_kind_scale = {
	OP_SCALE, OP_NAME_SCALE, OPK_LOCK | OPK_BEGIN | OPK_POLICY,
	scale_start, commit_end, NULL
};

/* SERVICE=N of an autoscaled service is the autoscaler's to set. */
static int
scale_count(struct ctl_req *r, const struct stack *st, const json_t *ov,
    const char *svc, json_t *n, struct diag_list *errs)
{
	const struct unit	*u = stack_unit(st, svc);
	int			 min, max;

	if (u == NULL) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "scale: stack has no service "
		    "'%s'", svc);
		return -1;
	}
	if (!json_is_integer(n) || json_integer_value(n) < 0 ||
	    json_integer_value(n) > INT_MAX) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "scale: %s: replicas must be "
		    "a count", svc);
		return -1;
	}
	if (u->autoscale.present) {
		ascalc_bounds(u, json_object_get(ov, svc), &min, &max);
		ctl_req_err(r, PROTO_E_BAD_ARGS, "scale: %s is autoscaled "
		    "between %d and %d replicas, shipd sets its count; set "
		    "other bounds with shipctl scale %s=MIN:MAX (or in its "
		    "unit file's autoscale: min and max)", svc, min, max, svc);
		return -1;
	}
	/* Every rule the unit files are held to that takes the count in
	 * (range, host ports, a completed dependency on it) holds for it,
	 * before anything is touched: the one validator says. */
	if (unit_check_replicas(st, u, (int)json_integer_value(n), errs) < 0) {
		char *m = diag_format(&errs->v[0]);

		ctl_req_err(r, PROTO_E_BAD_ARGS, "scale: %s: %s", svc, m);
		free(m);
		return -1;
	}
	return 0;
}

/* SERVICE=MIN:MAX: new bounds, and the count within them. */
static int
scale_bounds(struct ctl_req *r, const struct stack *st, const json_t *ov,
    const char *svc, json_t *b, json_t *want, struct diag_list *errs)
{
	const struct unit	*u = stack_unit(st, svc);
	json_t			*jmin = json_object_get(b, "min");
	json_t			*jmax = json_object_get(b, "max");
	int			 min, max, n;

	if (u == NULL) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "scale: stack has no service "
		    "'%s'", svc);
		return -1;
	}
	if (!u->autoscale.present) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "scale: %s is not autoscaled: "
		    "give it a count (%s=N), or autoscale: in its unit file",
		    svc, svc);
		return -1;
	}
	if (!json_is_integer(jmin) || !json_is_integer(jmax) ||
	    json_integer_value(jmin) < 1 || json_integer_value(jmax) <
	    json_integer_value(jmin) || json_integer_value(jmax) >
	    UNIT_REPLICAS_MAX) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "scale: %s: bounds must be "
		    "1 <= MIN <= MAX <= %d", svc, UNIT_REPLICAS_MAX);
		return -1;
	}
	min = (int)json_integer_value(jmin);
	max = (int)json_integer_value(jmax);
	if (unit_check_replicas(st, u, max, errs) < 0) {
		char *m = diag_format(&errs->v[0]);

		ctl_req_err(r, PROTO_E_BAD_ARGS, "scale: %s: max %d: %s", svc,
		    max, m);
		free(m);
		return -1;
	}
	n = ascalc_count(u, json_object_get(ov, svc));
	json_object_set_new(want, svc, json_integer(n < min ? min : n > max ?
	    max : n));
	return 0;
}

void
ops_scale(struct shipd *sd, struct ctl_req *r, const char *name,
    json_t *replicas, json_t *bounds, bool wait)
{
	struct diag_list errs;
	struct stack	*st;
	struct graph	*g;
	struct op	*op;
	const char	*svc;
	json_t		*n, *want;
	const json_t	*ov = store_scale_get(sd->store, name);
	char		 why[256];

	if (revision_load(sd->store, name, 0, &st, &g, NULL, why,
	    sizeof why) < 0) {
		ctl_req_err(r, PROTO_E_NOT_FOUND, "%s: nothing to scale", why);
		return;
	}
	diag_init(&errs);
	want = json_object();
	if (json_object_size(replicas) + json_object_size(bounds) == 0) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "scale: name at least one "
		    "service, as SERVICE=N (or SERVICE=MIN:MAX)");
		goto fail;
	}
	json_object_foreach(replicas, svc, n) {
		if (scale_count(r, st, ov, svc, n, &errs) < 0)
			goto fail;
		json_object_set(want, svc, n);
	}
	json_object_foreach(bounds, svc, n) {
		if (json_object_get(want, svc) != NULL) {
			ctl_req_err(r, PROTO_E_BAD_ARGS, "scale: %s named "
			    "twice", svc);
			goto fail;
		}
		if (scale_bounds(r, st, ov, svc, n, want, &errs) < 0)
			goto fail;
	}
	op = op_create(sd, &op_kind_scale, r, st, g);
	op->scale = want;
	op->bounds = json_incref(bounds);
	op->wait = wait;
	op_run(op);
	return;
fail:
	diag_free(&errs);
	json_decref(want);
	graph_free(g);
	stack_free(st);
}

/* autoscale.c: scale st's services to want ({svc: n}, stolen, as are st
 * and g) with no client; on_end(op, arg) once it ends. */
void
scale_auto(struct shipd *sd, struct stack *st, struct graph *g, json_t *want,
    void (*on_end)(struct op *, void *), void *arg)
{
	struct op *op = op_create(sd, &op_kind_scale, NULL, st, g);

	op->scale = want;
	op->autoscaling = true;
	op->on_end = on_end;
	op->on_end_arg = arg;
	op_run(op);
}
