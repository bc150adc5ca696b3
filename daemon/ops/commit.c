/*
 * The ends of an operation: its revision recorded "in_progress" with the
 * journal's begin record before anything changes, and at the end recorded
 * committed or failed, the commit journaled, current moved, the client
 * answered.  The store runs writes in submission order, so each sequence
 * below is queued at once and only its last callback acts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backup/backup.h"
#include "core/req.h"
#include "ops/deploy.h"
#include "state/journal.h"
#include "state/lock.h"
#include "log.h"
#include "ops/op.h"
#include "proto.h"
#include "core/shipd.h"
#include "state/store.h"
#include "util.h"

static json_t *
summary_json(const struct op *op)
{
	static const char *const st[] = { "skipped", "active", "done",
	    "failed", "skipped" };
	json_t	*arr = json_array();
	size_t	 i;

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
	    "kind", op->kind, "started", t0, "finished", t1,
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

void
commit_begin(struct op *op, store_cb *cb)
{
	json_t *doc;

	if (strcmp(op->kind, "scale") == 0) {
		journal_op(op, "begin", cb, op);
		return;
	}
	journal_op(op, "begin", NULL, NULL);
	doc = revision_doc(op);
	store_revision_put(op->sd->store, op->stack_name, op->revision, doc,
	    cb, op);
	json_decref(doc);
}

/* ---- the end -------------------------------------------------------------- */

static void
on_truncated(int err, void *arg)
{
	(void)err;
	(void)arg;
}

void
reply_result(struct op *op)
{
	struct shipd *sd = op->sd;

	if (op->req != NULL && op->failed) {
		ctl_req_event(op->req, "summary", json_pack("{s:o}",
		    "services", summary_json(op)));
		ctl_req_err(op->req, PROTO_E_FAILED, "%s", op->error);
	} else if (op->req != NULL)
		ctl_req_ok(op->req, json_pack("{s:i, s:I, s:o}", "revision",
		    op->revision, "elapsed_ms", (json_int_t)(now_ms() - op->t0),
		    "services", summary_json(op)));
	op->req = NULL;
	op_free(op);
	/* Nothing under way: what the journal holds is history. */
	if (sd->ops == NULL && sd->recovered)
		store_journal_truncate(sd->store, on_truncated, NULL);
}

static void
on_ended(int err, void *arg)
{
	struct op *op = arg;

	if (err < 0)
		log_err("%s: recording revision %d: %s", op->stack_name,
		    op->revision, strerror(-err));
	if (!op->failed && strcmp(op->kind, "scale") != 0)
		rollback_prune(op->sd, op->stack_name, op->revision,
		    op->stack->retain);
	reply_result(op);
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

		json_object_set_new(o, svc, json_pack("{s:O, s:i}",
		    "replicas", n, "unit_replicas", u ? u->replicas : 0));
	}
	store_scale_set(op->sd->store, op->stack_name, o, NULL, NULL);
	json_decref(o);
}

/*
 * Record the outcome: revision document, then (when it succeeded) the
 * commit record and current, then the journal's end; reply after all.
 */
void
record_revision(struct op *op)
{
	json_t *doc;

	op->finishing = true;
	if (strcmp(op->kind, "scale") == 0) {
		if (!op->failed)
			record_scale(op);
	} else {
		doc = revision_doc(op);
		store_revision_put(op->sd->store, op->stack_name, op->revision,
		    doc, NULL, NULL);
		json_decref(doc);
		if (!op->failed) {
			journal_op(op, "commit", NULL, NULL);
			store_current_set(op->sd->store, op->stack_name,
			    op->revision, NULL, NULL);
		}
	}
	journal_op(op, "end", on_ended, op);
}

/* rollback --with-data: the containers are back; so is their data now. */
static void
on_restored(int err, const char *msg, void *arg)
{
	struct op *op = arg;

	if (err < 0) {
		op->failed = true;
		xasprintf(&op->error, "the containers of revision %d are back, "
		    "but restoring backup %s failed: %s", op->rollback_of,
		    op->restore_id, msg ? msg : strerror(-err));
	}
	record_revision(op);
}

void
deploy_finish(struct op *op)
{
	size_t i;

	for (i = 0; i < op->stack->nunits; i++) {
		struct svc *s = &op->svcs[i];

		if (s->state != SVC_PENDING)
			continue;
		s->state = SVC_SKIPPED;
		if (op->req != NULL)
			ctl_req_event(op->req, "service", json_pack(
			    "{s:s, s:s, s:s}", "service", s->unit->name,
			    "status", "skipped", "message",
			    "a dependency failed"));
	}
	log_info("%s %s revision %d: %s", op->kind, op->stack_name,
	    op->revision, op->failed ? op->error : "done");
	if (strcmp(op->kind, "rollback-auto") == 0) {
		rollback_auto_done(op);
		return;
	}
	if (strcmp(op->kind, "recover") == 0) {
		journal_recovered(op);
		return;
	}
	if (op->failed && rollback_wanted(op)) {
		rollback_auto(op);
		return;
	}
	if (!op->failed && op->restore_id != NULL) {
		if (op->req != NULL)
			ctl_req_event(op->req, "phase", json_pack("{s:s, s:s}",
			    "phase", "restore", "backup", op->restore_id));
		restore_for_rollback(op->sd, op->stack_name, op->restore_id,
		    on_restored, op);
		return;
	}
	record_revision(op);
}
