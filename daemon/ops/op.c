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
#include <uv.h>

#include "core/shipd.h"
#include "log.h"
#include "ops/op.h"
#include "ops/opsmetrics.h"
#include "proto.h"
#include "state/journal.h"
#include "state/lock.h"
#include "state/store.h"
#include "util.h"

static const char *const kind_names[OP_NKINDS] = {
	[OP_PLAN] = OP_NAME_PLAN,
	[OP_DEPLOY] = OP_NAME_DEPLOY,
	[OP_SCALE] = OP_NAME_SCALE,
	[OP_STOP] = OP_NAME_STOP,
	[OP_START] = OP_NAME_START,
	[OP_RESTART] = OP_NAME_RESTART,
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

static const char *const phase_names[PH_NPHASES] = {
	[PH_QUEUED] = "queued",
	[PH_IMAGES] = "images",
	[PH_PLAN] = "plan",
	[PH_CHECKS] = "checks",
	[PH_BACKUP] = "backup",
	[PH_BEGIN] = "begin",
	[PH_APPLY] = "apply",
	[PH_VERIFY] = "verify",
	[PH_COMMIT] = "commit",
	[PH_ROLLBACK] = "rollback",
};

const char *
op_phase_name(enum op_phase ph)
{
	return ph < PH_NPHASES ? phase_names[ph] : "?";
}

void
op_phase_enter_with(struct op *op, enum op_phase ph, json_t *fields)
{
	bool same = op->phase == ph;

	op->phase = ph;
	op->phase_t = now_ms();
	/* The lock taken at once re-enters images, which op_create did. */
	if (same) {
		json_decref(fields);
		return;
	}
	if (fields == NULL)
		fields = json_object();
	json_object_set_new(fields, "phase", json_string(op_phase_name(ph)));
	json_object_set_new(fields, "elapsed_ms",
	    json_integer((json_int_t)(op->phase_t - op->t0)));
	/* Recording a failure (commit after a failed apply) says so. */
	if (op->failed)
		json_object_set_new(fields, "failed", json_true());
	op_emit(op, PROTO_EV_PHASE, fields);
}

void
op_phase_enter(struct op *op, enum op_phase ph)
{
	op_phase_enter_with(op, ph, NULL);
}

/* ---- those attached (shipctl attach) ------------------------------------- */

/*
 * One client attached to the operation: it gets what the operation's own
 * client gets from then on.  A watcher whose request is done (answered,
 * gone, or dropped at shutdown) has req NULL and is freed outside the
 * loops that send, since a hang-up may be found inside a send.
 */
struct op_watch {
	struct ctl_req	*req;
	struct op_watch	*next;
};

static void
on_watch_gone(struct ctl_req *r, void *arg)
{
	struct op_watch *w = arg;

	w->req = NULL;
	ctl_req_err(r, PROTO_E_FAILED, "the client went away");
}

static void
on_watch_cancel(struct ctl_req *r, void *arg)
{
	struct op_watch *w = arg;

	(void)r;
	w->req = NULL;
}

void
op_watch_add(struct op *op, struct ctl_req *r)
{
	struct op_watch *w = xcalloc(1, sizeof *w);

	w->req = r;
	w->next = op->watchers;
	op->watchers = w;
	ctl_req_on_gone(r, on_watch_gone, w);
	ctl_req_on_cancel(r, on_watch_cancel, w);
}

static void
watch_prune(struct op *op)
{
	struct op_watch **wp = &op->watchers, *w;

	while ((w = *wp) != NULL) {
		if (w->req == NULL) {
			*wp = w->next;
			free(w);
		} else
			wp = &w->next;
	}
}

static void
watch_emit(struct op *op, const char *event, json_t *fields)
{
	struct op_watch *w;

	for (w = op->watchers; w != NULL; w = w->next)
		if (w->req != NULL)
			ctl_req_event(w->req, event, json_incref(fields));
	watch_prune(op);
}

/* The answer, to each attached: result or (code, msg). */
static void
watch_answer(struct op *op, json_t *result, const char *code,
    const char *msg)
{
	struct op_watch	*w;
	struct ctl_req	*r;

	for (w = op->watchers; w != NULL; w = w->next) {
		if ((r = w->req) == NULL)
			continue;
		w->req = NULL;
		if (code == NULL)
			ctl_req_ok(r, json_incref(result));
		else
			ctl_req_err(r, code, "%s", msg);
	}
	watch_prune(op);
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

/*
 * The client went away.  An operation under way goes on to its end (what
 * it touched must be committed or rolled back); one still queued for the
 * lock is dropped, or it would take the lock later for nobody.
 */
static void
on_req_gone(struct ctl_req *r, void *arg)
{
	struct op *op = arg;

	(void)r;
	if (op->waiter != NULL && !op->ended)
		op_abort(op, PROTO_E_FAILED, "the client went away while %s "
		    "waited for the lock of %s", op->kind->name,
		    op->stack_name);
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
		ctl_req_on_gone(r, on_req_gone, op);
	}
	op_phase_enter(op, PH_IMAGES);
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
	json_decref(op->bounds);
	json_decref(op->targets);
	json_decref(op->skip_checks);
	json_decref(op->preflight_errors);
	if (op->graph != NULL)
		graph_free(op->graph);
	if (op->stack != NULL)
		stack_free(op->stack);
	free(op->stack_name);
	free(op->backup_id);
	free(op->restore_id);
	free(op->safety_id);
	free(op->error);
	free(op->refusal);
	free(op->stop_why);
	/* At shutdown the control server dropped their requests first. */
	watch_prune(op);
	assert(op->watchers == NULL);
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
	op_phase_enter(op, PH_IMAGES);
	op_notify_begin(op);
	op->kind->start(op);
}

/*
 * shipd's own way back holds the stack: its recovery after a restart, or
 * the supervisor's restart or ordered boot.  An operator's command waits
 * for that rather than being refused busy by shipd itself.
 */
static bool
recovering(const struct op *op, char *why, size_t len)
{
	const struct stack_lock	*h = lock_holder(op->sd, op->stack_name);
	const struct op		*o;

	if (h == NULL)
		return false;
	if (strcmp(h->kind, OP_NAME_RECOVER) == 0) {
		snprintf(why, len, "stack %s is being recovered (an operation "
		    "on it was interrupted when shipd stopped); waiting for "
		    "that to finish", op->stack_name);
		return true;
	}
	for (o = op->sd->ops; o != NULL; o = o->next)
		if (o != op && o->lock != NULL && (o->healing ||
		    o->autoscaling) &&
		    strcmp(o->stack_name, op->stack_name) == 0)
			break;
	if (o == NULL)
		return false;
	if (o->autoscaling)
		snprintf(why, len, "stack %s: the autoscaler is scaling it; "
		    "waiting for that to finish", op->stack_name);
	else
		snprintf(why, len, "stack %s: shipd is bringing services back "
		    "(%s by the supervisor or after the engine restarted); "
		    "waiting for that to finish", op->stack_name, h->kind);
	return true;
}

/*
 * One operation per stack at a time: refuse with the holder named, or
 * with --wait (or when the holder is shipd's own recovery, supervisor
 * restart or ordered boot), queue until the lock is free.
 */
void
op_run(struct op *op)
{
	const char	*held;
	char		 why[256];

	list_add(op);
	/* A stack whose recovery failed is half way between revisions: a
	 * scale, stop, start or restart would build on that.  Deploy and
	 * rollback bring it to one revision, whole; a plan only reads. */
	if ((op->kind->id == OP_SCALE || op->targets != NULL) &&
	    (held = journal_held(op->sd, op->stack_name)) != NULL) {
		op_abort(op, PROTO_E_FAILED, "stack %s: recovery after shipd "
		    "restarted failed (%s); deploy or roll back the stack to "
		    "bring it to one revision, or restart shipd to try the "
		    "recovery again", op->stack_name, held);
		return;
	}
	if (!(op->kind->flags & OPK_LOCK) || op->lock != NULL ||
	    lock_try(op, why, sizeof why)) {
		op_notify_begin(op);
		op->kind->start(op);
		return;
	}
	if (!op->wait && !recovering(op, why, sizeof why)) {
		op_abort(op, PROTO_E_BUSY, "%s", why);
		return;
	}
	/* Queued before the event: a peer found gone while sending it
	 * drops the op from the queue (on_req_gone). */
	op_phase_enter(op, PH_QUEUED);
	op->waiter = lock_wait(op->sd, op->stack_name, on_lock_free, op);
	op_emit(op, PROTO_EV_WAITING, json_pack("{s:s}", "message", why));
}

static void
on_truncated(int err, void *arg)
{
	(void)err;
	(void)arg;
}

/* ---- the phase's deadline ------------------------------------------------ */

struct op_timer {
	uv_timer_t	 timer;
	struct op	*op;
	void		(*fn)(struct op *);
};

static void
on_timer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
on_deadline(uv_timer_t *t)
{
	struct op_timer	*ot = t->data;
	struct op	*op = ot->op;
	void		(*fn)(struct op *) = ot->fn;

	op_deadline(op, 0, NULL);
	fn(op);
}

void
op_deadline(struct op *op, uint64_t ms, void (*fn)(struct op *))
{
	struct op_timer *ot = op->deadline;

	if (ot != NULL) {
		uv_timer_stop(&ot->timer);
		uv_close((uv_handle_t *)&ot->timer, on_timer_closed);
		op->deadline = NULL;
	}
	if (ms == 0 || fn == NULL || op->ended || op->sd->stopping)
		return;
	ot = xcalloc(1, sizeof *ot);
	ot->op = op;
	ot->fn = fn;
	uv_timer_init(op->sd->loop, &ot->timer);
	ot->timer.data = ot;
	op->deadline = ot;
	uv_timer_start(&ot->timer, on_deadline, ms, 0);
}

void
op_end(struct op *op)
{
	struct shipd *sd = op->sd;

	if (op->ended)
		return;
	op->ended = true;
	op_notify_end(op);
	opsmetrics_op_end(op);
	if (op->req != NULL || op->watchers != NULL)
		op_reply_err(op, PROTO_E_INTERNAL, "%s %s ended without an "
		    "answer", op->kind->name, op->stack_name);
	list_del(op);
	op_deadline(op, 0, NULL);
	lock_release(sd, op->lock);
	op->lock = NULL;
	lock_wait_cancel(sd, op->waiter);
	op->waiter = NULL;
	if (op->on_end != NULL)
		op->on_end(op, op->on_end_arg);
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
	if (op->watchers != NULL)
		watch_emit(op, event, fields);
	if (op->req != NULL)
		ctl_req_event(op->req, event, fields);
	else
		json_decref(fields);
}

void
op_reply_ok(struct op *op, json_t *result)
{
	if (op->watchers != NULL)
		watch_answer(op, result, NULL, NULL);
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
	/* An error answer is a failure to tell, with or without op->error. */
	if (op->refusal == NULL)
		op->refusal = xstrdup(msg);
	if (op->watchers != NULL)
		watch_answer(op, NULL, code, msg);
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
	struct op_watch **wp = &to->watchers;

	while (*wp != NULL)
		wp = &(*wp)->next;
	*wp = from->watchers;
	from->watchers = NULL;
	to->req = from->req;
	from->req = NULL;
	if (to->req != NULL) {
		ctl_req_on_cancel(to->req, on_req_cancel, to);
		ctl_req_on_gone(to->req, on_req_gone, to);
	}
}
