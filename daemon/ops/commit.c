/*
 * The two ends of an operation that changes a stack: its revision
 * recorded "in_progress" with the journal's begin record before anything
 * changes, and at the end recorded committed or failed, the commit
 * journaled, current moved, kept containers pruned, the client answered.
 * The store runs writes in submission order, so each sequence below is
 * queued at once and only its last callback acts.  What comes before the
 * end (a rollback, a restore) is the kind's business, not this file's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state/journal.h"
#include "log.h"
#include "ops/health.h"
#include "ops/op.h"
#include "proto.h"
#include "core/shipd.h"
#include "state/revision.h"
#include "state/store.h"
#include "util.h"

static json_t *
summary_json(const struct op *op)
{
	static const char *const st[] = { "skipped", "active", "done",
	    "failed", "skipped" };
	json_t		*arr = json_array();
	const char	**orphans;
	size_t		  i, n;

	for (i = 0; i < op->stack->nunits; i++) {
		const struct svc *s = &op->svcs[i];

		if (s->action == ACT_NONE)
			continue;
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i, "
		    "s:I}", "service", s->unit->name, "action",
		    plan_action_name(s->action), "status", st[s->state],
		    "replicas", s->want, "took_ms",
		    (json_int_t)(s->t_done > s->t_start ?
		    s->t_done - s->t_start : 0)));
	}
	/* Removed services are counted too: they run last, after all else
	 * succeeded, so a failed operation removed none. */
	orphans = plan_orphans(op, &n);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i, "
		    "s:i}", "service", orphans[i], "action", "remove",
		    "status", op->failed ? "skipped" : "done", "replicas", 0,
		    "took_ms", 0));
	free(orphans);
	return arr;
}

/* The revision document.  Only result, reason and finished may differ
 * between its first (in_progress) and last writes. */
json_t *
revision_doc(const struct op *op)
{
	json_t	*specs = json_object(), *reps = json_object(), *doc;
	char	 t0[32], t1[32] = "";
	size_t	 i;

	for (i = 0; i < op->stack->nunits; i++) {
		const struct unit *u = op->stack->units[i];

		json_object_set_new(specs, u->name, unit_spec_json(u));
		json_object_set_new(reps, u->name,
		    json_integer(op->svcs[i].want));
	}
	fmt_time_utc(t0, sizeof t0, (long long)op->started_at);
	if (op->finishing)
		fmt_time_utc(t1, sizeof t1, (long long)time(NULL));
	doc = json_pack("{s:i, s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:o, s:o, "
	    "s:O, s:o, s:o, s:i}",
	    "revision", op->revision, "stack_name", op->stack_name,
	    "kind", op->kind->name, "started", t0, "finished", t1,
	    "uid", (int)op->uid, "pid", (int)op->pid,
	    "result", !op->finishing ? "in_progress" :
		op->failed ? "failed" : "committed",
	    "stack", stack_to_json(op->stack), "specs", specs,
	    "images", op->images, "replicas", reps,
	    "changes", plan_json(op), "rollback_of", op->rollback_of);
	json_object_set_new(doc, "reason", op->error ?
	    json_string(op->error) : json_null());
	json_object_set_new(doc, "backup", op->backup_id ?
	    json_string(op->backup_id) : json_null());
	return doc;
}

/* ---- the beginning -------------------------------------------------------- */

static void
journal(struct op *op, const char *event, store_cb *cb)
{
	journal_op(op->sd->store, event, op->stack_name, op->kind->name,
	    op->revision, op->prev_revision, cb, cb ? op : NULL);
}

void
commit_begin(struct op *op, store_cb *cb)
{
	json_t *doc;

	/* From here on a failure is recorded, whatever stage it comes in. */
	op->in_record = true;
	if (!(op->kind->flags & OPK_REVISION)) {
		journal(op, "begin", cb);
		return;
	}
	journal(op, "begin", NULL);
	doc = revision_doc(op);
	store_revision_put(op->sd->store, op->stack_name, op->revision, doc,
	    cb, op);
	json_decref(doc);
}

/* ---- nothing to change ----------------------------------------------------- */

/*
 * Every service unchanged, nothing to remove, and the stack the same as
 * current's to the last setting: a revision would only repeat current,
 * and later take a place in retention and be what rollback goes back to.
 */
bool
commit_nothing(const struct op *op)
{
	json_t	*doc;
	size_t	 i;
	bool	 same;

	if (op->prev_revision <= 0 || json_array_size(op->removals) > 0)
		return false;
	for (i = 0; i < op->stack->nunits; i++)
		if (op->svcs[i].action != ACT_UNCHANGED)
			return false;
	doc = revision_doc(op);
	same = revision_same(doc, store_revision_get(op->sd->store,
	    op->stack_name, op->prev_revision));
	json_decref(doc);
	return same;
}

/* Nothing was journaled or recorded: answer with the revision that stands. */
void
commit_none(struct op *op)
{
	log_info("%s: nothing to change; revision %d stands", op->stack_name,
	    op->prev_revision);
	op_reply_ok(op, json_pack("{s:i, s:b, s:I, s:o}", "revision",
	    op->prev_revision, "unchanged", 1, "elapsed_ms",
	    (json_int_t)(now_ms() - op->t0), "services", summary_json(op)));
	op_end(op);
}

/* ---- the end -------------------------------------------------------------- */

static void
reply_result(struct op *op)
{
	if (op->failed) {
		op_emit(op, PROTO_EV_SUMMARY, json_pack("{s:o}", "services",
		    summary_json(op)));
		op_reply_err(op, PROTO_E_FAILED, "%s", op->error);
	} else if (op->restore_id != NULL)	/* rollback --with-data */
		op_reply_ok(op, json_pack("{s:i, s:I, s:o, s:s, s:s?}",
		    "revision", op->revision, "elapsed_ms",
		    (json_int_t)(now_ms() - op->t0), "services",
		    summary_json(op), "restored", op->restore_id, "safety",
		    op->safety_id));
	else
		op_reply_ok(op, json_pack("{s:i, s:I, s:o}", "revision",
		    op->revision, "elapsed_ms", (json_int_t)(now_ms() - op->t0),
		    "services", summary_json(op)));
}

static void
on_ended(int err, void *arg)
{
	struct op *op = arg;

	if (err < 0)
		log_err("%s: recording revision %d: %s", op->stack_name,
		    op->revision, strerror(-err));
	if (!op->failed && (op->kind->flags & OPK_REVISION)) {
		prune_kept(op->sd, op->stack_name, op->revision,
		    op->stack->retain);
		/* current has landed (writes land in order): the health
		 * watcher takes the new revision's checks from here. */
		health_refresh(op->sd);
		/* A new start for the supervisor's backoff and loops. */
		if (op->sd->heal_reset != NULL)
			op->sd->heal_reset(op->sd, op->stack_name);
	}
	/* The stack is whole at one revision again (this one, or the one
	 * rolled back to): a failed recovery's records of it are history. */
	if ((!op->failed && (op->kind->flags & OPK_REVISION)) ||
	    op->rolled_back)
		journal_release(op->sd, op->stack_name);
	reply_result(op);
	op_end(op);
}

static void
record_scale(struct op *op)
{
	const json_t	*old = store_scale_get(op->sd->store, op->stack_name);
	json_t		*o = old ? json_deep_copy(old) : json_object();
	const char	*svc;
	json_t		*n;

	json_object_foreach(op->scale, svc, n) {
		const struct unit *u = stack_unit(op->stack, svc);
		json_t *e = json_object_get(o, svc), *b;

		/* What else it holds (autoscale bounds) stays. */
		if (!json_is_object(e)) {
			e = json_object();
			json_object_set_new(o, svc, e);
		}
		json_object_set(e, "replicas", n);
		json_object_set_new(e, "unit_replicas", json_integer(u ?
		    u->replicas : 0));
		/* shipctl scale SERVICE=MIN:MAX: they stand while the
		 * unit's own bounds are these. */
		if (u != NULL && (b = json_object_get(op->bounds, svc)) !=
		    NULL) {
			json_object_set(e, "min", json_object_get(b, "min"));
			json_object_set(e, "max", json_object_get(b, "max"));
			json_object_set_new(e, "unit_min", json_integer(
			    u->autoscale.min));
			json_object_set_new(e, "unit_max", json_integer(
			    u->autoscale.max));
		}
	}
	store_scale_set(op->sd->store, op->stack_name, o, NULL, NULL);
	json_decref(o);
}

/*
 * Record the outcome: revision document, then (when it succeeded) the
 * commit record and current, then the journal's end; reply after all.
 */
void
commit_end(struct op *op)
{
	json_t *doc;

	op->finishing = true;
	if (!(op->kind->flags & OPK_REVISION)) {
		if (!op->failed && op->scale != NULL)
			record_scale(op);
	} else {
		doc = revision_doc(op);
		store_revision_put(op->sd->store, op->stack_name, op->revision,
		    doc, NULL, NULL);
		json_decref(doc);
		if (!op->failed) {
			journal(op, "commit", NULL);
			store_current_set(op->sd->store, op->stack_name,
			    op->revision, NULL, NULL);
		}
	}
	journal(op, "end", on_ended);
}
