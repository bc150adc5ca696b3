/*
 * Rollback: automatic, when a deploy's gate fails, and on demand with
 * `shipctl rollback [--to N]`.  Both are the apply engine run again with an
 * older revision's snapshot: the planner finds the containers kept from
 * that revision (renamed <name>-r<rev>) and brings them back by renaming
 * and starting them, without create or pull; containers it cannot find are
 * recreated from the snapshot, pinned to the image IDs it recorded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup.h"
#include "core/shipd.h"
#include "log.h"
#include "ops/op.h"
#include "ops/ops.h"
#include "proto.h"
#include "state/revision.h"
#include "state/store.h"
#include "util.h"

/* A failed deploy rolls back unless a service it touched says pause, and
 * only when there is a committed revision to go back to and it began to
 * change anything (one that failed creating the networks did not). */
bool
rollback_wanted(const struct op *op)
{
	size_t	i;
	bool	touched = false;

	if (op->prev_revision <= 0 || op->svcs == NULL)
		return false;
	for (i = 0; i < op->stack->nunits; i++) {
		const struct svc *s = &op->svcs[i];

		if (s->state == SVC_PENDING || s->state == SVC_SKIPPED)
			continue;
		touched = true;
		if (s->action != ACT_UNCHANGED &&
		    s->unit->update.on_failure == UPDATE_PAUSE)
			return false;
	}
	return touched;
}

/* An operation that applies revision rev's snapshot. */
struct op *
op_snapshot(struct shipd *sd, const struct op_kind *kind, struct ctl_req *r,
    const char *stack, int rev, char *why, size_t len)
{
	struct stack	*st;
	struct graph	*g;
	struct op	*op;

	if (revision_load(sd->store, stack, rev, &st, &g, NULL, why, len) < 0)
		return NULL;
	op = op_create(sd, kind, r, st, g);
	json_decref(op->images);
	op->images = json_deep_copy(json_object_get(store_revision_get(
	    sd->store, stack, rev), "images"));
	if (op->images == NULL)
		op->images = json_object();
	return op;
}

/* ---- automatic: a failed deploy's way back --------------------------------- */

static void
auto_start(struct op *rb)
{
	pipeline_run(rb);
}

/* The rollback finished: record the failed revision and answer for it. */
static void
auto_finish(struct op *rb)
{
	struct op	*failed = rb->parent;
	char		*msg;

	op_take_req(failed, rb);
	failed->lock = rb->lock;
	rb->lock = NULL;
	failed->rolled_back = !rb->failed;
	if (rb->failed)
		xasprintf(&msg, "%s; rolling back to revision %d failed too: "
		    "%s", failed->error, failed->prev_revision, rb->error);
	else
		xasprintf(&msg, "%s; rolled back to revision %d in %.2fs",
		    failed->error, failed->prev_revision,
		    (double)(now_ms() - rb->t0) / 1000);
	free(failed->error);
	failed->error = msg;
	op_end(rb);
	commit_end(failed);
}

static const struct op_kind op_kind_rollback_auto = {
	OP_ROLLBACK_AUTO, OP_NAME_ROLLBACK_AUTO, OPK_OBJECTS | OPK_PIN,
	auto_start, auto_finish, NULL
};

/* failed has ended its apply; it stays listed and locked meanwhile. */
void
rollback_auto(struct op *failed)
{
	struct op	*rb;
	char		 why[256];

	rb = op_snapshot(failed->sd, &op_kind_rollback_auto, NULL,
	    failed->stack_name, failed->prev_revision, why, sizeof why);
	if (rb == NULL) {
		log_err("%s: cannot roll back: %s", failed->stack_name, why);
		commit_end(failed);
		return;
	}
	log_warn("%s: revision %d failed; rolling back to %d",
	    failed->stack_name, failed->revision, failed->prev_revision);
	op_notify_failed(failed, true);
	op_emit(failed, PROTO_EV_ROLLBACK, json_pack("{s:i, s:i, s:s}",
	    "from", failed->revision, "to", failed->prev_revision, "reason",
	    failed->error));
	op_phase_enter(failed, PH_ROLLBACK);
	op_take_req(rb, failed);
	op_ref(failed);
	rb->parent = failed;
	rb->in_record = true;
	rb->uid = failed->uid;
	rb->pid = failed->pid;
	rb->lock = failed->lock;
	failed->lock = NULL;
	rb->revision = rb->keep_rev = rb->prev_revision =
	    failed->prev_revision;
	op_run(rb);
}

/* ---- shipctl rollback [--to N] --------------------------------------------- */

/* rollback --with-data: the containers are back; so is their data now. */
static void
on_restored(int err, const char *msg, const char *safety, void *arg)
{
	struct op *op = arg;

	if (safety != NULL)
		op->safety_id = xstrdup(safety);
	if (err < 0) {
		op->failed = true;
		xasprintf(&op->error, "the containers of revision %d are back, "
		    "but restoring backup %s failed: %s", op->rollback_of,
		    op->restore_id, msg ? msg : strerror(-err));
	}
	commit_end(op);
}

static void
manual_finish(struct op *op)
{
	if (op->failed || op->restore_id == NULL) {
		commit_end(op);
		return;
	}
	op_emit(op, PROTO_EV_PHASE, json_pack("{s:s, s:s}", "phase",
	    "restore", "backup", op->restore_id));
	restore_for_rollback(op->sd, op->stack_name, op->restore_id,
	    on_restored, op);
}

static void
manual_start(struct op *op)
{
	struct store	*store = op->sd->store;
	int		 cur = store_current(store, op->stack_name);

	/* The new revision's number comes with the plan (pipeline.c). */
	op->prev_revision = op->keep_rev = cur;
	op_emit(op, PROTO_EV_ROLLBACK, json_pack("{s:i, s:i}", "from", cur,
	    "to", op->rollback_of));
	pipeline_run(op);
}

static const struct op_kind op_kind_rollback = {
	OP_ROLLBACK, OP_NAME_ROLLBACK, OPK_LOCK | OPK_CHECKS | OPK_REVISION |
	    OPK_BEGIN | OPK_OBJECTS | OPK_PIN | OPK_POLICY,
	manual_start, manual_finish, NULL
};

void
ops_rollback(struct shipd *sd, struct ctl_req *r, const char *stack, int to,
    bool with_data)
{
	struct op	*op;
	const char	*id = NULL;
	char		 why[256];
	int		 cur;

	cur = store_current(sd->store, stack);
	/* Back to what ran before the last change: a revision that only
	 * repeats current (a redeploy, a rollback) would change nothing. */
	if (to == 0)
		to = revision_prev_differing(sd->store, stack, cur);
	if (to <= 0) {
		ctl_req_err(r, PROTO_E_NOT_FOUND, "stack %s has no committed "
		    "revision before %d that differs from it to roll back to",
		    stack, cur);
		return;
	}
	if (with_data) {
		/* The data goes back to before the deploy being undone:
		 * the backup that deploy took first. */
		id = json_string_value(json_object_get(store_revision_get(
		    sd->store, stack, cur), "backup"));
		if (id == NULL) {
			ctl_req_err(r, PROTO_E_NOT_FOUND, "revision %d took no "
			    "backup before it was deployed: nothing to restore "
			    "(roll back without --with-data)", cur);
			return;
		}
	}
	if ((op = op_snapshot(sd, &op_kind_rollback, r, stack, to, why,
	    sizeof why)) == NULL) {
		ctl_req_err(r, PROTO_E_NOT_FOUND, "%s", why);
		return;
	}
	op->restore_id = id ? xstrdup(id) : NULL;
	op->rollback_of = to;
	op_run(op);
}
