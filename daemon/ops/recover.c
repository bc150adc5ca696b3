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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/shipd.h"
#include "engine/docker.h"
#include "engine/spec.h"
#include "log.h"
#include "ops/op.h"
#include "ops/ops.h"
#include "state/journal.h"
#include "state/lock.h"
#include "state/store.h"
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

/* The journal is emptied when nothing is under way: now, or when the
 * last operation (a command that waited for a stack) ends (op_end). */
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
	store_journal_truncate(rc->sd->store, on_truncated, rc);
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

/* The recovery's journal end is on disk: note the interrupted revision
 * failed, end the operation. */
static void
on_recover_end(int err, void *arg)
{
	struct op		*op = arg;
	struct recover_ctx	*rx = op->kind_data;
	char			 why[512];

	(void)err;
	if (op->failed)
		snprintf(why, sizeof why, "interrupted (shipd stopped during "
		    "%s); bringing back revision %d failed: %s", rx->u->kind,
		    rx->u->prev, op->error);
	else
		snprintf(why, sizeof why, "interrupted (shipd stopped during "
		    "%s); revision %d brought back", rx->u->kind,
		    rx->u->prev);
	log_warn("journal: %s: revision %d: %s", rx->u->stack,
	    rx->u->revision, why);
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
		prune_revision(rc->sd, u->stack, u->revision);
		note_failed(rc, u, "interrupted (shipd stopped); its "
		    "containers were removed");
		return;
	}
	if (lock_acquire(rc->sd, u->stack, op->kind->name, 0, 0, &op->lock,
	    why, sizeof why) < 0) {
		log_err("journal: %s: %s", u->stack, why);
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
	op_run(op);
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
