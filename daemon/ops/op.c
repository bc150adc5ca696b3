/*
 * The life of an operation: created by a command (or by recovery, or by
 * a failed deploy for its rollback), listed while under way, queued for
 * its stack's lock, started through its kind, ended once, freed when its
 * last reference goes (never inside the callback that dropped it).
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/shipd.h"
#include "log.h"
#include "ops/op.h"
#include "proto.h"
#include "state/journal.h"
#include "state/lock.h"
#include "state/store.h"
#include "util.h"

static const char *const kind_names[OP_NKINDS] = {
	[OP_PLAN] = OP_NAME_PLAN,
	[OP_DEPLOY] = OP_NAME_DEPLOY,
	[OP_SCALE] = OP_NAME_SCALE,
	[OP_ROLLBACK] = OP_NAME_ROLLBACK,
	[OP_ROLLBACK_AUTO] = OP_NAME_ROLLBACK_AUTO,
	[OP_RECOVER] = OP_NAME_RECOVER,
};

int
op_kind_parse(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < OP_NKINDS; i++)
		if (strcmp(kind_names[i], name) == 0)
			return i;
	return -1;
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
op_create(struct shipd *sd, const struct op_kind *kind, struct ctl_req *r,
    struct stack *st, struct graph *g)
{
	struct op *op = xcalloc(1, sizeof *op);

	op->sd = sd;
	op->kind = kind;
	op->refs = 1;
	op->stack = st;
	op->graph = g;
	op->stack_name = xstrdup(st->name);
	op->t0 = now_ms();
	op->started_at = time(NULL);
	op->images = json_object();
	if (r != NULL) {
		op->req = r;
		op->uid = r->uid;
		op->pid = r->pid;
		ctl_req_on_cancel(r, on_req_cancel, op);
	}
	return op;
}

void
op_ref(struct op *op)
{
	assert(op->refs > 0);
	op->refs++;
}

static void
op_free(void *arg)
{
	struct op	*op = arg;
	size_t		 i, j;

	if (op->kind->cancel != NULL)
		op->kind->cancel(op);
	if (op->parent != NULL)
		op_unref(op->parent);
	for (i = 0; op->svcs != NULL && i < op->stack->nunits; i++) {
		struct svc *s = &op->svcs[i];

		for (j = 0; j < s->nreps; j++) {
			/* Apply let go of everything before the end. */
			assert(s->reps[j].gate == NULL);
			assert(s->reps[j].drainer == NULL);
			free(s->reps[j].id);
			free(s->reps[j].old_id);
			free(s->reps[j].restore_id);
		}
		free(s->reps);
		free(s->reason);
		free(s->error);
	}
	assert(op->verify == NULL);
	free(op->svcs);
	free(op->met);
	free(op->begun);
	json_decref(op->containers);
	json_decref(op->images);
	json_decref(op->removals);
	json_decref(op->orphans);
	json_decref(op->scale);
	json_decref(op->skip_checks);
	json_decref(op->preflight_errors);
	if (op->graph != NULL)
		graph_free(op->graph);
	if (op->stack != NULL)
		stack_free(op->stack);
	free(op->stack_name);
	free(op->backup_id);
	free(op->restore_id);
	free(op->error);
	free(op);
}

void
op_unref(struct op *op)
{
	assert(op->refs > 0);
	if (--op->refs > 0)
		return;
	defer_free(op->sd, op_free, op);
}

static void
list_add(struct op *op)
{
	op->next = op->sd->ops;
	op->sd->ops = op;
}

static void
list_del(struct op *op)
{
	struct op **pp;

	for (pp = &op->sd->ops; *pp != NULL; pp = &(*pp)->next)
		if (*pp == op) {
			*pp = op->next;
			return;
		}
}

static bool
lock_try(struct op *op, char *why, size_t len)
{
	return lock_acquire(op->sd, op->stack_name, op->kind->name, op->uid,
	    op->pid, &op->lock, why, len) == 0;
}

static void
on_lock_free(void *arg)
{
	struct op	*op = arg;
	char		 why[256];

	if (!lock_try(op, why, sizeof why))
		return;		/* someone queued earlier got it */
	lock_wait_cancel(op->sd, op->waiter);
	op->waiter = NULL;
	op->kind->start(op);
}

/* The stack is being recovered after a restart: a short wait for shipd
 * itself, not another client's operation to refuse. */
static bool
recovering(const struct op *op, char *why, size_t len)
{
	const struct stack_lock *h = lock_holder(op->sd, op->stack_name);

	if (h == NULL || strcmp(h->kind, OP_NAME_RECOVER) != 0)
		return false;
	snprintf(why, len, "stack %s is being recovered (an operation on it "
	    "was interrupted when shipd stopped); waiting for that to finish",
	    op->stack_name);
	return true;
}

/*
 * One operation per stack at a time: refuse with the holder named, or
 * with --wait (or when the holder is the stack's recovery), queue until
 * the lock is free.
 */
void
op_run(struct op *op)
{
	const char	*held;
	char		 why[256];

	list_add(op);
	/* A stack whose recovery failed is half way between revisions: a
	 * scale would build on that.  Deploy and rollback bring it to one
	 * revision, whole, and a plan only reads. */
	if (op->kind->id == OP_SCALE &&
	    (held = journal_held(op->sd, op->stack_name)) != NULL) {
		op_abort(op, PROTO_E_FAILED, "stack %s: recovery after shipd "
		    "restarted failed (%s); deploy or roll back the stack to "
		    "bring it to one revision, or restart shipd to try the "
		    "recovery again", op->stack_name, held);
		return;
	}
	if (!(op->kind->flags & OPK_LOCK) || op->lock != NULL ||
	    lock_try(op, why, sizeof why)) {
		op->kind->start(op);
		return;
	}
	if (!op->wait && !recovering(op, why, sizeof why)) {
		op_abort(op, PROTO_E_BUSY, "%s", why);
		return;
	}
	op_emit(op, PROTO_EV_WAITING, json_pack("{s:s}", "message", why));
	op->waiter = lock_wait(op->sd, op->stack_name, on_lock_free, op);
}

static void
on_truncated(int err, void *arg)
{
	(void)err;
	(void)arg;
}

void
op_end(struct op *op)
{
	struct shipd *sd = op->sd;

	if (op->ended)
		return;
	op->ended = true;
	if (op->req != NULL)
		op_reply_err(op, PROTO_E_INTERNAL, "%s %s ended without an "
		    "answer", op->kind->name, op->stack_name);
	list_del(op);
	lock_release(sd, op->lock);
	op->lock = NULL;
	lock_wait_cancel(sd, op->waiter);
	op->waiter = NULL;
	/* Nothing under way: what the journal holds is history, but for
	 * the stacks a failed recovery holds. */
	if (sd->ops == NULL && sd->recovered && sd->store != NULL &&
	    !sd->stopping)
		journal_settle(sd, on_truncated, NULL);
	op_unref(op);
}

/* ---- answers ------------------------------------------------------------- */

void
op_emit(struct op *op, const char *event, json_t *fields)
{
	if (op->req != NULL)
		ctl_req_event(op->req, event, fields);
	else
		json_decref(fields);
}

void
op_reply_ok(struct op *op, json_t *result)
{
	if (op->req != NULL)
		ctl_req_ok(op->req, result);
	else
		json_decref(result);
	op->req = NULL;
}

static void
reply_verr(struct op *op, const char *code, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (op->req != NULL)
		ctl_req_err(op->req, code, "%s", msg);
	op->req = NULL;
}

void
op_reply_err(struct op *op, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_verr(op, code, fmt, ap);
	va_end(ap);
}

void
op_abort(struct op *op, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_verr(op, code, fmt, ap);
	va_end(ap);
	op_end(op);
}

void
op_take_req(struct op *to, struct op *from)
{
	to->req = from->req;
	from->req = NULL;
	if (to->req != NULL)
		ctl_req_on_cancel(to->req, on_req_cancel, to);
}
