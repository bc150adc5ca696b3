/*
 * What operations tell webhooks (core/webhook.c): a deploy's start and
 * its end, a rollback's end, and ops_notify() for the watchers that find
 * trouble between operations (crash loops, autoscaling, backups).  The
 * hooks are those of the stack the operation applies; a failed deploy's
 * rollback reports to the failed revision's hooks, which are the newest.
 */
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "core/webhook.h"
#include "ops/op.h"
#include "ops/ops.h"
#include "state/revision.h"
#include "log.h"
#include "unit.h"

#define BEGUN		0x1	/* it ran: its failure is news */
#define SENT_START	0x2
#define SENT_END	0x4

static json_t *
services_json(const struct stack *s)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < s->nunits; i++)
		json_array_append_new(a, json_string(s->units[i]->name));
	return a;
}

static void
hook_send(struct op *op, const struct stack *hooks, enum notify_event e,
    int rev, const char *reason, json_t *detail)
{
	struct webhook_event ev;

	memset(&ev, 0, sizeof ev);
	ev.event = e;
	ev.stack = op->stack_name;
	ev.revision = rev;
	ev.reason = reason;
	ev.detail = detail;
	ev.services = op->stack != NULL ? services_json(op->stack) : NULL;
	if (hooks != NULL && hooks->nhooks > 0)
		webhook_emit(op->sd, hooks->hooks, hooks->nhooks, &ev);
	json_decref(ev.services);
	json_decref(detail);
}

/* A refusal before the lock (busy) is no deploy to tell of. */
void
op_notify_begin(struct op *op)
{
	op->notified |= BEGUN;
}

/* Once numbered: a deploy with nothing to change sends nothing. */
void
op_notify_start(struct op *op)
{
	if (op->kind->id != OP_DEPLOY || (op->notified & SENT_START) ||
	    op->stack == NULL)
		return;
	op->notified |= SENT_START;
	hook_send(op, op->stack, NOTIFY_DEPLOY_START, op->revision, NULL,
	    json_pack("{s:i}", "previous_revision", op->prev_revision));
}

/* A deploy failed: now, before its rollback (which reports on its own). */
void
op_notify_failed(struct op *op, bool rolling_back)
{
	if (op->kind->id != OP_DEPLOY || !(op->notified & BEGUN) ||
	    (op->notified & SENT_END))
		return;
	op->notified |= SENT_END;
	hook_send(op, op->stack, NOTIFY_DEPLOY_FAILURE, op->revision,
	    op->error != NULL ? op->error : op->refusal,
	    json_pack("{s:i, s:b}", "previous_revision", op->prev_revision,
	    "rolling_back", rolling_back));
}

void
op_notify_end(struct op *op)
{
	const struct stack	*hooks = op->stack;
	json_t			*detail;
	bool			 bad = op->failed || op->refusal != NULL;

	switch (op->kind->id) {
	case OP_DEPLOY:
		if (bad) {
			op_notify_failed(op, false);
			return;
		}
		if (!(op->notified & SENT_START) || (op->notified & SENT_END))
			return;
		op->notified |= SENT_END;
		hook_send(op, op->stack, NOTIFY_DEPLOY_SUCCESS, op->revision, NULL,
		    json_pack("{s:i, s:I}", "previous_revision",
		    op->prev_revision, "elapsed_ms",
		    (json_int_t)(now_ms() - op->t0)));
		return;
	case OP_ROLLBACK_AUTO:
		if (op->parent != NULL && op->parent->stack != NULL)
			hooks = op->parent->stack;
		detail = json_pack("{s:s, s:i, s:i, s:b}", "kind", "automatic",
		    "from", op->parent != NULL ? op->parent->revision : 0,
		    "to", op->revision, "ok", !bad);
		break;
	case OP_ROLLBACK:
		detail = json_pack("{s:s, s:i, s:i, s:b}", "kind", "manual",
		    "from", op->prev_revision, "to", op->rollback_of,
		    "ok", !bad);
		break;
	default:
		return;
	}
	if ((op->notified & SENT_END) || !(op->notified & BEGUN)) {
		json_decref(detail);
		return;
	}
	op->notified |= SENT_END;
	hook_send(op, hooks, NOTIFY_ROLLBACK, op->revision, bad ?
	    (op->error != NULL ? op->error : op->refusal) :
	    op->kind->id == OP_ROLLBACK_AUTO && op->parent ?
	    op->parent->error : NULL, detail);
}

void
ops_notify(struct shipd *sd, const char *stack, enum notify_event e,
    json_t *services, const char *reason, json_t *detail)
{
	struct webhook_event	 ev;
	struct stack		*s = NULL;
	char			 why[256];
	int			 rev = 0;

	if (sd->store == NULL || sd->stopping ||
	    revision_load(sd->store, stack, 0, &s, NULL, &rev, why,
	    sizeof why) != 0) {
		json_decref(services);
		json_decref(detail);
		return;
	}
	memset(&ev, 0, sizeof ev);
	ev.event = e;
	ev.stack = stack;
	ev.revision = rev;
	ev.services = services;
	ev.reason = reason;
	ev.detail = detail;
	webhook_emit(sd, s->hooks, s->nhooks, &ev);
	json_decref(services);
	json_decref(detail);
	stack_free(s);
}
