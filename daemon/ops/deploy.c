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

void
ops_scale(struct shipd *sd, struct ctl_req *r, const char *name,
    json_t *want, bool wait)
{
	struct diag_list errs;
	struct stack	*st;
	struct graph	*g;
	struct op	*op;
	const char	*svc;
	json_t		*n;
	char		 why[256];

	if (revision_load(sd->store, name, 0, &st, &g, NULL, why,
	    sizeof why) < 0) {
		ctl_req_err(r, PROTO_E_NOT_FOUND, "%s: nothing to scale", why);
		return;
	}
	diag_init(&errs);
	if (json_object_size(want) == 0) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "scale: name at least one "
		    "service, as SERVICE=N");
		goto fail;
	}
	json_object_foreach(want, svc, n) {
		const struct unit *u = stack_unit(st, svc);

		if (u == NULL) {
			ctl_req_err(r, PROTO_E_BAD_ARGS, "scale: stack has no "
			    "service '%s'", svc);
			goto fail;
		}
		if (!json_is_integer(n) || json_integer_value(n) < 0 ||
		    json_integer_value(n) > INT_MAX) {
			ctl_req_err(r, PROTO_E_BAD_ARGS, "scale: %s: replicas "
			    "must be a count", svc);
			goto fail;
		}
		/* Every rule the unit files are held to that takes the
		 * count in (range, host ports, a completed dependency on
		 * it) holds for it, before anything is touched: the one
		 * validator says. */
		if (unit_check_replicas(st, u, (int)json_integer_value(n),
		    &errs) < 0) {
			char *m = diag_format(&errs.v[0]);

			ctl_req_err(r, PROTO_E_BAD_ARGS, "scale: %s: %s", svc,
			    m);
			free(m);
			diag_free(&errs);
			goto fail;
		}
	}
	op = op_create(sd, &op_kind_scale, r, st, g);
	op->scale = json_incref(want);
	op->wait = wait;
	op_run(op);
	return;
fail:
	graph_free(g);
	stack_free(st);
}
