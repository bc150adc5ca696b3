/*
 * Recovery at start: the journal says which operations were under way
 * when shipd (or the machine) stopped.  One whose commit was recorded
 * stands; any other is undone by bringing back the revision before it,
 * through the same apply engine a rollback uses, as an operation of kind
 * recover.  A first deploy with nothing before it has what it made
 * removed.  Interrupted revisions are recorded failed.  A stack is
 * recovered once, for the last operation on it the journal left open;
 * the stacks go in parallel, each to its end, and a command for a stack
 * under recovery waits for it (ops/op.c).
 *
 * Before judging anything, recovery settles what the engine may still be
 * doing for the killed shipd: a replica whose last step recorded was a
 * stop may be running with that stop under way (the engine finishes it
 * whoever asked), and inspect cannot tell.  So the stop is asked again
 * (of a stopping container it waits for the same exit) and recovery
 * plans once it has returned.  Likewise a container the engine lists as
 * "removing" (a remove the killed shipd sent, say of a rollback): a
 * remove of it answers 409 "already in progress", so recovery waits for
 * it to be gone.
 *
 * A stack whose recovery fails keeps its records in the journal (the
 * next start tries again) and is held (state/journal.c): status names
 * the failure, a scale is refused, a deploy or rollback that brings the
 * stack to a revision ends the hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/shipd.h"
#include "engine/docker.h"
#include "engine/spec.h"
#include "log.h"
#include "proto.h"
#include "ops/op.h"
#include "ops/ops.h"
#include "state/journal.h"
#include "state/lock.h"
#include "state/store.h"
#include "unit.h"
#include "util.h"

/* The kinds whose begin record names a revision of their own (a scale's
 * names the current one, which stands). */
static bool
records_revision(const char *kind)
{
	int id = op_kind_parse(kind);

	return id == OP_DEPLOY || id == OP_ROLLBACK;
}

struct unfinished {
	char	*stack;
	char	*kind;
	int	 revision;
	int	 prev;
	bool	 committed;
	json_t	*last;		/* "service/replica" -> its last step record */
};

struct recovery {
	struct shipd		*sd;
	struct task		 task;
	struct unfinished	*u;
	size_t			 n;
	size_t			 pending;
};

static void
recovery_free(void *arg)
{
	struct recovery	*rc = arg;
	size_t		 i;

	task_del(rc->sd, &rc->task);
	for (i = 0; i < rc->n; i++) {
		free(rc->u[i].stack);
		free(rc->u[i].kind);
		json_decref(rc->u[i].last);
	}
	free(rc->u);
	free(rc);
}

static void
on_truncated(int err, void *arg)
{
	struct recovery *rc = arg;

	if (err < 0)
		log_warn("journal: truncate: %s", strerror(-err));
	recovery_free(rc);
}

/* The journal is emptied when nothing is under way (now, or when the
 * last operation, a command that waited for a stack, ends: op_end), all
 * but the records of the stacks whose recovery failed. */
static void
recovery_step_done(struct recovery *rc)
{
	if (--rc->pending > 0)
		return;
	log_info("journal: recovery finished");
	rc->sd->recovered = true;
	if (rc->sd->ops != NULL) {
		recovery_free(rc);
		return;
	}
	journal_settle(rc->sd, on_truncated, rc);
}

static void
on_noted(int err, void *arg)
{
	(void)err;
	recovery_step_done(arg);
}

/* Mark the interrupted revision failed (when it was recorded at all). */
static void
note_failed(struct recovery *rc, struct unfinished *u, const char *why)
{
	const json_t	*doc = store_revision_get(rc->sd->store, u->stack,
	    u->revision);
	json_t		*d;
	char		 now[32];

	if (doc == NULL || !records_revision(u->kind)) {
		recovery_step_done(rc);
		return;
	}
	d = json_deep_copy(doc);
	fmt_time_utc(now, sizeof now, (long long)time(NULL));
	json_object_set_new(d, "result", json_string("failed"));
	json_object_set_new(d, "reason", json_string(why));
	json_object_set_new(d, "finished", json_string(now));
	store_revision_put(rc->sd->store, u->stack, u->revision, d, on_noted,
	    rc);
	json_decref(d);
}

struct recover_ctx {
	struct recovery		*rc;
	struct unfinished	*u;
};

/*
 * The audit log's view of a recovery: shipd itself (its uid and pid)
 * runs a "recover" command for the stack, written when it starts and
 * when it ends, in the schema of ctl/audit.c; "req" pairs the two.
 */
static void
audit_recovery(struct shipd *sd, const struct unfinished *u,
    const char *event, const char *result, const char *message)
{
	json_t	*rec;
	char	 req[64];

	snprintf(req, sizeof req, "%ld-recover-%s-%d", (long)getpid(),
	    u->stack, u->revision);
	rec = json_pack("{s:s, s:s, s:i, s:i, s:s, s:{s:s, s:s, s:i, s:i}}",
	    "event", event, "req", req, "uid", (int)geteuid(), "pid",
	    (int)getpid(), "cmd", OP_NAME_RECOVER, "args", "stack", u->stack,
	    "kind", u->kind, "revision", u->revision, "prev", u->prev);
	if (result != NULL)
		json_object_set_new(rec, "result", json_string(result));
	if (message != NULL)
		json_object_set_new(rec, "message", json_string(message));
	json_object_set_new(rec, "recovered", json_true());
	store_audit(sd->store, rec);
	json_decref(rec);
}

/* The recovery's journal end is on disk: note the interrupted revision
 * failed, end the operation. */
static void
on_recover_end(int err, void *arg)
{
	struct op		*op = arg;
	struct recover_ctx	*rx = op->kind_data;
	char			 why[512];

	(void)err;
	if (op->failed) {
		snprintf(why, sizeof why, "interrupted (shipd stopped during "
		    "%s); bringing back revision %d failed: %s", rx->u->kind,
		    rx->u->prev, op->error);
		journal_hold(op->sd, rx->u->stack, why);
		log_err("journal: %s: recovery failed; its journal records "
		    "are kept for the next try (restart shipd, or deploy or "
		    "roll back the stack)", rx->u->stack);
	} else
		snprintf(why, sizeof why, "interrupted (shipd stopped during "
		    "%s); revision %d brought back", rx->u->kind,
		    rx->u->prev);
	log_warn("journal: %s: revision %d: %s", rx->u->stack,
	    rx->u->revision, why);
	audit_recovery(op->sd, rx->u, "end", op->failed ? PROTO_E_FAILED :
	    "ok", why);
	note_failed(rx->rc, rx->u, why);
	op_end(op);
}

static void
recover_finish(struct op *op)
{
	journal_op(op->sd->store, "end", op->stack_name, op->kind->name,
	    op->revision, op->prev_revision, on_recover_end, op);
}

static void
recover_cancel(struct op *op)
{
	free(op->kind_data);
	op->kind_data = NULL;
}

static const struct op_kind op_kind_recover = {
	OP_RECOVER, OP_NAME_RECOVER, OPK_LOCK | OPK_OBJECTS | OPK_PIN,
	pipeline_run, recover_finish, recover_cancel
};

/*
 * An open record with a later one for the same stack after it: the later
 * operation began from what this one left, and it decides what the stack
 * is brought back to.  This one only needs its result (an early failure
 * that recorded no end, before shipd recorded every end).
 */
static void
superseded(struct recovery *rc, struct unfinished *u)
{
	log_warn("journal: %s: revision %d never recorded its end; another "
	    "operation on the stack began after it", u->stack, u->revision);
	if (u->committed)
		recovery_step_done(rc);
	else
		note_failed(rc, u, "did not finish (no end was recorded before "
		    "the next operation on the stack began)");
}

/* ---- settling what the engine was doing ---------------------------------- */

struct settle {
	struct op		*op;
	struct unfinished	*u;
	struct task		 task;	/* shutdown with engine calls pending */
	size_t			 pending;
};

static void
settle_free(void *arg)
{
	struct settle	*se = arg;
	struct op	*op = se->op;

	task_del(op->sd, &se->task);
	lock_release(op->sd, op->lock);
	op->lock = NULL;
	op_unref(op);
	free(se);
}

static void
settle_done(struct settle *se)
{
	if (--se->pending > 0)
		return;
	task_del(se->op->sd, &se->task);
	op_run(se->op);
	free(se);
}

static void
on_restopped(const struct docker_result *res, void *arg)
{
	struct settle *se = arg;

	if (res->err < 0 && res->err != DOCKER_E_NOT_FOUND)
		log_warn("journal: %s: stopping again: %s", se->u->stack,
		    res->message);
	settle_done(se);
}

static void
on_gone(const struct docker_result *res, void *arg)
{
	struct settle *se = arg;

	if (res->err < 0 && res->err != DOCKER_E_NOT_FOUND)
		log_warn("journal: %s: waiting for a removal: %s",
		    se->u->stack, res->message);
	settle_done(se);
}

static const char *
label_of(json_t *c, const char *key)
{
	return json_string_value(json_object_get(json_object_get(c, "Labels"),
	    key));
}

/*
 * A container the killed shipd was stopping: its replica's last record
 * is a stop, and it is not the one that step made room for (a scale's
 * stop is of a replica of the revision that stands, so any of them, and
 * so is the in-place stop of a stop or restart).
 */
static bool
was_stopping(const struct unfinished *u, json_t *c)
{
	const char	*svc = label_of(c, LABEL_SERVICE);
	const char	*rep = label_of(c, LABEL_REPLICA);
	const char	*rev = label_of(c, LABEL_REVISION);
	const char	*state = json_string_value(json_object_get(c, "State"));
	json_t		*last;
	char		*key;

	if (svc == NULL || rep == NULL || state == NULL ||
	    (strcmp(state, "running") != 0 && strcmp(state, "restarting") != 0))
		return false;
	xasprintf(&key, "%s/%s", svc, rep);
	last = json_object_get(u->last, key);
	free(key);
	if (last == NULL || strcmp(json_string_value(json_object_get(last,
	    "step")), "stop") != 0)
		return false;
	switch (op_kind_parse(json_string_value(json_object_get(last,
	    "kind")))) {
	case OP_SCALE:
	case OP_STOP:		/* in place, whatever its revision */
	case OP_START:
	case OP_RESTART:
		return true;
	default:
		break;
	}
	return rev == NULL || atoi(rev) != (int)json_integer_value(
	    json_object_get(last, "revision"));
}

/* The stop's grace: the unit's in the revision brought back (the engine
 * counts from its new signal), else the container's own. */
static int
grace_s(const struct op *op, json_t *c)
{
	const struct unit *u = stack_unit(op->stack, label_of(c,
	    LABEL_SERVICE));

	return u != NULL ? (int)((u->stop_grace_ms + 999) / 1000) : -1;
}

static void
on_settle_listed(const struct docker_result *res, void *arg)
{
	struct settle	*se = arg;
	struct docker	*d = se->op->sd->docker;
	json_t		*c;
	const char	*id;
	size_t		 i;

	if (res->err < 0)
		log_warn("journal: %s: listing its containers: %s",
		    se->u->stack, res->message);
	json_array_foreach(res->err < 0 ? NULL : res->body, i, c) {
		if ((id = json_string_value(json_object_get(c, "Id"))) == NULL)
			continue;
		if (strcmp(json_string_value(json_object_get(c, "State")) ?: "",
		    "removing") == 0) {
			/* A removal the killed shipd sent: a remove of it now
			 * answers 409 "already in progress"; it goes. */
			log_warn("journal: %s: %s was being removed when shipd "
			    "stopped; waiting for it to go", se->u->stack,
			    json_string_value(json_array_get(json_object_get(c,
			    "Names"), 0)) ?: id);
			se->pending++;
			docker_container_wait_removed(d, id, on_gone, se);
			continue;
		}
		if (!was_stopping(se->u, c))
			continue;
		log_warn("journal: %s: %s replica %s was being stopped when "
		    "shipd stopped; waiting for that stop to finish",
		    se->u->stack, label_of(c, LABEL_SERVICE),
		    label_of(c, LABEL_REPLICA));
		se->pending++;
		docker_container_stop(d, id, grace_s(se->op, c), on_restopped,
		    se);
	}
	settle_done(se);
}

/* Run op once the stops the journal says were under way have ended. */
static void
settle_then_run(struct unfinished *u, struct op *op)
{
	struct settle	*se;
	char		*filter;

	if (json_object_size(u->last) == 0) {
		op_run(op);
		return;
	}
	se = xcalloc(1, sizeof *se);
	se->op = op;
	se->u = u;
	se->pending = 1;
	task_add(op->sd, &se->task, se, settle_free);
	xasprintf(&filter, LABEL_STACK "=%s", u->stack);
	docker_containers_list(op->sd->docker, filter, 1, on_settle_listed,
	    se);
	free(filter);
}

/* ---- one stack ------------------------------------------------------------ */

static void
recover_one(struct recovery *rc, struct unfinished *u)
{
	struct recover_ctx	*rx;
	struct op		*op;
	char			 why[256];

	if (u->committed) {
		/* The commit was recorded: the new revision stands. */
		log_info("journal: %s: revision %d was committed; finishing",
		    u->stack, u->revision);
		if (store_current(rc->sd->store, u->stack) != u->revision)
			store_current_set(rc->sd->store, u->stack,
			    u->revision, on_noted, rc);
		else
			recovery_step_done(rc);
		return;
	}
	op = u->prev > 0 ? op_snapshot(rc->sd, &op_kind_recover, NULL,
	    u->stack, u->prev, why, sizeof why) : NULL;
	if (op == NULL) {
		/* Nothing committed to go back to: the stack had no revision
		 * before; what the interrupted one made is removed. */
		log_warn("journal: %s: revision %d interrupted with nothing "
		    "to go back to: %s", u->stack, u->revision,
		    u->prev > 0 ? why : "removing what it created");
		audit_recovery(rc->sd, u, "start", NULL, NULL);
		prune_revision(rc->sd, u->stack, u->revision);
		audit_recovery(rc->sd, u, "end", "ok", "interrupted; what it "
		    "created is being removed");
		note_failed(rc, u, "interrupted (shipd stopped); its "
		    "containers were removed");
		return;
	}
	if (lock_acquire(rc->sd, u->stack, op->kind->name, 0, 0, &op->lock,
	    why, sizeof why) < 0) {
		log_err("journal: %s: %s", u->stack, why);
		journal_hold(rc->sd, u->stack, why);
		op_unref(op);
		recovery_step_done(rc);
		return;
	}
	log_warn("journal: %s: revision %d was interrupted; bringing back "
	    "revision %d", u->stack, u->revision, u->prev);
	rx = xcalloc(1, sizeof *rx);
	rx->rc = rc;
	rx->u = u;
	op->kind_data = rx;
	/* Its end is the interrupted operation's: every failure of its
	 * pipeline comes to recover_finish. */
	op->in_record = true;
	op->revision = op->keep_rev = op->prev_revision = u->prev;
	audit_recovery(rc->sd, u, "start", NULL, NULL);
	settle_then_run(u, op);
}

/* The latest begin a record belongs to: same stack, kind and revision
 * (a recovery's end names the revision it brought back, not one begun). */
static struct unfinished *
find(struct recovery *rc, const char *stack, const char *kind, int rev)
{
	size_t i;

	for (i = rc->n; i-- > 0;)
		if (strcmp(rc->u[i].stack, stack) == 0 &&
		    strcmp(rc->u[i].kind, kind) == 0 &&
		    rc->u[i].revision == rev)
			return &rc->u[i];
	return NULL;
}

/* The operation a step record belongs to: its own begin, or for a
 * recovery's step (a recovery journals no begin) the stack's latest. */
static struct unfinished *
owner(struct recovery *rc, const char *stack, const char *kind, int rev)
{
	size_t i;

	if (op_kind_parse(kind) != OP_RECOVER)
		return find(rc, stack, kind, rev);
	for (i = rc->n; i-- > 0;)
		if (strcmp(rc->u[i].stack, stack) == 0)
			return &rc->u[i];
	return NULL;
}

/* Another open record for the same stack after u. */
static bool
later_open(const struct recovery *rc, const struct unfinished *u)
{
	size_t i;

	for (i = (size_t)(u - rc->u) + 1; i < rc->n; i++)
		if (rc->u[i].revision >= 0 &&
		    strcmp(rc->u[i].stack, u->stack) == 0)
			return true;
	return false;
}

void
ops_recover(struct shipd *sd)
{
	struct recovery	*rc = xcalloc(1, sizeof *rc);
	json_t		*recs = store_journal_read(sd->store), *r;
	struct unfinished *u;
	size_t		 i, live;

	rc->sd = sd;
	task_add(sd, &rc->task, rc, recovery_free);
	json_array_foreach(recs, i, r) {
		const char *ev = json_string_value(json_object_get(r, "event"));
		const char *stack = json_string_value(json_object_get(r,
		    "stack"));
		const char *kind = json_string_value(json_object_get(r,
		    "kind"));
		int rev = (int)json_integer_value(json_object_get(r,
		    "revision"));

		if (ev == NULL || stack == NULL || kind == NULL)
			continue;
		if (strcmp(ev, "begin") == 0) {
			rc->u = xrealloc(rc->u, (rc->n + 1) * sizeof *rc->u);
			u = &rc->u[rc->n++];
			u->stack = xstrdup(stack);
			u->kind = xstrdup(kind);
			u->revision = rev;
			u->prev = (int)json_integer_value(json_object_get(r,
			    "prev"));
			u->committed = false;
			u->last = json_object();
		} else if (strcmp(ev, "step") == 0) {
			const char *svc = json_string_value(json_object_get(r,
			    "service"));
			char *key;

			if (svc == NULL || (u = owner(rc, stack, kind, rev)) ==
			    NULL)
				continue;
			xasprintf(&key, "%s/%d", svc, (int)json_integer_value(
			    json_object_get(r, "replica")));
			json_object_set(u->last, key, r);
			free(key);
		} else if ((u = find(rc, stack, kind, rev)) != NULL) {
			if (strcmp(ev, "commit") == 0)
				u->committed = true;
			else if (strcmp(ev, "end") == 0)
				u->revision = -1;	/* finished */
		}
	}
	for (i = live = 0; i < rc->n; i++)
		if (rc->u[i].revision >= 0)
			live++;
	rc->pending = live + 1;
	for (i = 0; i < rc->n; i++) {
		if (rc->u[i].revision < 0)
			continue;
		if (later_open(rc, &rc->u[i]))
			superseded(rc, &rc->u[i]);
		else
			recover_one(rc, &rc->u[i]);
	}
	recovery_step_done(rc);
}
