/*
 * Stopping an operation before its end: `shipctl cancel`, and the
 * deadlines of the phases that have no bound of their own.  Both take the
 * one failure path of the phase the operation is in, so that it ends
 * once, releases its lock and records its result as any failure does: a
 * deploy stopped after its begin rolls back what it touched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "log.h"
#include "ops/op.h"
#include "ops/ops.h"
#include "proto.h"
#include "state/lock.h"
#include "util.h"

/* ---- deadlines ------------------------------------------------------------- */

#define CHECKS_DEADLINE_MS	(2 * 60 * 1000)
#define BACKUP_DEADLINE_MS	(60 * 60 * 1000)
#define APPLY_SLACK_MS		(5 * 60 * 1000)

/*
 * Apply and verify together: each service's replicas go in waves of
 * `parallelism`, and a wave is bounded by its stop grace and its gate's
 * healthy_deadline; services run in dependency order, at worst one after
 * the other; then the longest monitor period.  The slack is for the
 * engine calls around them, which carry deadlines of their own.  A unit
 * may set it instead (update.deadline).
 */
static uint64_t
apply_deadline_ms(const struct op *op)
{
	uint64_t	ms = APPLY_SLACK_MS, mon = 0, set = 0;
	size_t		i, waves;

	/* Set on a unit (update.deadline): the largest such stands. */
	for (i = 0; i < op->stack->nunits; i++)
		if (op->stack->units[i]->update.deadline_ms > set)
			set = op->stack->units[i]->update.deadline_ms;
	if (set > 0)
		return set;
	for (i = 0; op->svcs != NULL && i < op->stack->nunits; i++) {
		const struct svc	*s = &op->svcs[i];
		const struct unit	*u = s->unit;
		size_t			 par = u->update.parallelism > 0 ?
		    (size_t)u->update.parallelism : 1;

		waves = (s->nreps + par - 1) / par;
		if (waves == 0)
			waves = 1;
		ms += waves * (u->update.healthy_deadline_ms +
		    u->stop_grace_ms);
		if (u->update.monitor_ms > mon)
			mon = u->update.monitor_ms;
	}
	return ms + mon;
}

/*
 * Testing: SHIPD_TEST_PHASE_DEADLINE=PHASE:MS replaces one phase's
 * deadline, so that a test sees it pass without waiting minutes.  Only
 * the test suite sets it.
 */
static uint64_t
test_deadline(enum op_phase ph, uint64_t ms)
{
	const char	*v = getenv("SHIPD_TEST_PHASE_DEADLINE"), *name;
	size_t		 len;

	if (v == NULL)
		return ms;
	name = op_phase_name(ph);
	len = strlen(name);
	if (strncmp(v, name, len) == 0 && v[len] == ':')
		return strtoull(v + len + 1, NULL, 10);
	return ms;
}

static void
on_phase_deadline(struct op *op)
{
	char	why[256], dur[32];

	fmt_duration_ms(dur, sizeof dur, op->deadline_ms);
	snprintf(why, sizeof why, "the %s phase passed its deadline of %s",
	    op->phase == PH_VERIFY ? "apply (with verify)" :
	    op_phase_name(op->phase), dur);
	op_stop(op, why);
}

void
op_phase_deadline(struct op *op)
{
	uint64_t ms;

	switch (op->phase) {
	case PH_CHECKS:
		ms = CHECKS_DEADLINE_MS;
		break;
	case PH_BACKUP:
		ms = BACKUP_DEADLINE_MS;
		break;
	case PH_APPLY:		/* and verify, under the same deadline */
		ms = apply_deadline_ms(op);
		break;
	default:
		ms = 0;
		break;
	}
	op->deadline_ms = test_deadline(op->phase, ms);
	op_deadline(op, op->deadline_ms, on_phase_deadline);
}

/* ---- stopping -------------------------------------------------------------- */

bool
op_stop(struct op *op, const char *why)
{
	if (op->ended || op->finishing)
		return false;
	if (op->waiter != NULL) {
		op_abort(op, PROTO_E_FAILED, "%s (it was queued; nothing was "
		    "changed)", why);
		return true;
	}
	if (op->phase == PH_APPLY || op->phase == PH_VERIFY) {
		apply_stop(op, why);
		return true;
	}
	/* An engine call, a check or the backup is under way for it: the
	 * pipeline stops when it comes back, at its next stage. */
	if (op->stop_why == NULL) {
		op->stop_why = xstrdup(why);
		log_warn("%s %s: %s", op->kind->name, op->stack_name, why);
	}
	return true;
}

/* ---- shipctl cancel ---------------------------------------------------------- */

static json_t *
op_json(const struct op *op)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:b}", "kind", op->kind->name,
	    "phase", op_phase_name(op->phase), "uid", (json_int_t)op->uid,
	    "queued", op->waiter != NULL);

	if (op->revision > 0)
		json_object_set_new(o, "revision", json_integer(op->revision));
	return o;
}

static bool
way_back(const struct op *op)
{
	return op->kind->id == OP_ROLLBACK_AUTO || op->kind->id == OP_RECOVER;
}

/*
 * The operation holding the stack's lock and every one queued for it
 * are stopped: each client gets its error, this one what was stopped.
 * An automatic rollback or a recovery is the way back from a failure and
 * is never stopped; an operation recording its outcome is past stopping.
 */
void
ops_cancel(struct shipd *sd, struct ctl_req *r, const char *stack)
{
	struct op	*op, *next;
	json_t		*done;
	char		 why[128];

	for (op = sd->ops; op != NULL; op = op->next) {
		if (op->ended || strcmp(op->stack_name, stack) != 0)
			continue;
		if (way_back(op)) {
			ctl_req_err(r, PROTO_E_BUSY, "stack %s is under %s "
			    "(the way back from a failure); it cannot be "
			    "cancelled", stack, op->kind->id == OP_RECOVER ?
			    "recovery" : "automatic rollback");
			return;
		}
		if (op->lock != NULL && op->finishing) {
			ctl_req_err(r, PROTO_E_BUSY, "%s of stack %s is "
			    "recording its outcome; too late to cancel",
			    op->kind->name, stack);
			return;
		}
	}
	snprintf(why, sizeof why, "cancelled by uid %u", (unsigned)r->uid);
	done = json_array();
	for (op = sd->ops; op != NULL; op = next) {
		next = op->next;
		if (op->ended || strcmp(op->stack_name, stack) != 0 ||
		    !(op->kind->flags & OPK_LOCK) ||
		    (op->lock == NULL && op->waiter == NULL))
			continue;
		json_array_append_new(done, op_json(op));
		log_info("%s %s: %s", op->kind->name, stack, why);
		op_stop(op, why);
	}
	if (json_array_size(done) == 0) {
		const struct stack_lock *h = lock_holder(sd, stack);

		json_decref(done);
		if (h != NULL)
			ctl_req_err(r, PROTO_E_NOT_FOUND, "no operation under "
			    "way on stack %s: it is locked by a %s (uid %u), "
			    "which cancel does not stop", stack, h->kind,
			    (unsigned)h->uid);
		else
			ctl_req_err(r, PROTO_E_NOT_FOUND, "no operation under "
			    "way on stack %s", stack);
		return;
	}
	ctl_req_ok(r, json_pack("{s:s, s:o}", "stack", stack, "cancelled",
	    done));
}

/* ---- shipctl attach ---------------------------------------------------------- */

/*
 * The operation whose progress a client of the stack sees now: the one
 * holding the lock, else the oldest queued.  A failed deploy whose
 * rollback runs has handed its client to the rollback, and so is passed
 * over; a plan changes nothing and is not followed.
 */
static struct op *
attach_target(struct shipd *sd, const char *stack)
{
	struct op *op, *queued = NULL;

	for (op = sd->ops; op != NULL; op = op->next) {
		if (op->ended || strcmp(op->stack_name, stack) != 0 ||
		    op->kind->id == OP_PLAN || op->phase == PH_ROLLBACK)
			continue;
		if (op->waiter == NULL)
			return op;
		if (queued == NULL)
			queued = op;
	}
	return queued;
}

void
ops_attach(struct shipd *sd, struct ctl_req *r, const char *stack)
{
	struct op	*op = attach_target(sd, stack);
	json_t		*o;
	char		 t[32];

	if (op == NULL) {
		const struct stack_lock *h = lock_holder(sd, stack);

		if (h != NULL)
			ctl_req_err(r, PROTO_E_NOT_FOUND, "no operation under "
			    "way on stack %s to attach to: it is locked by a "
			    "%s (uid %u), which attach does not follow", stack,
			    h->kind, (unsigned)h->uid);
		else
			ctl_req_err(r, PROTO_E_NOT_FOUND, "no operation under "
			    "way on stack %s to attach to", stack);
		return;
	}
	/* Where it is, then (once planned) its plan, then what comes. */
	o = op_json(op);
	fmt_time_utc(t, sizeof t, (long long)op->started_at);
	json_object_set_new(o, "stack", json_string(op->stack_name));
	json_object_set_new(o, "started", json_string(t));
	json_object_set_new(o, "phase_ms",
	    json_integer((json_int_t)(now_ms() - op->phase_t)));
	json_object_set_new(o, "elapsed_ms",
	    json_integer((json_int_t)(now_ms() - op->t0)));
	ctl_req_event(r, PROTO_EV_ATTACHED, o);
	if (op->svcs != NULL && op->phase > PH_PLAN && op->waiter == NULL)
		ctl_req_event(r, PROTO_EV_PLAN, json_pack("{s:i, s:o}",
		    "revision", op->revision, "services", plan_json(op)));
	op_watch_add(op, r);
}

/* ---- status -------------------------------------------------------------------- */

/*
 * Every operation under way or queued, oldest first: who started it, the
 * phase it is in and for how long, how long it has run.  A failed deploy
 * whose rollback runs is listed in phase rollback, beside the rollback.
 */
json_t *
ops_status(struct shipd *sd, const char *stack)
{
	struct op	*op;
	json_t		*a = json_array(), *o;
	uint64_t	 now = now_ms();

	for (op = sd->ops; op != NULL; op = op->next) {
		if (op->ended || (stack != NULL &&
		    strcmp(op->stack_name, stack) != 0))
			continue;
		o = op_json(op);
		json_object_set_new(o, "stack", json_string(op->stack_name));
		json_object_set_new(o, "pid", json_integer(op->pid));
		json_object_set_new(o, "phase_ms",
		    json_integer((json_int_t)(now - op->phase_t)));
		json_object_set_new(o, "elapsed_ms",
		    json_integer((json_int_t)(now - op->t0)));
		if (op->stop_why != NULL)
			json_object_set_new(o, "stopping",
			    json_string(op->stop_why));
		/* sd->ops is newest first. */
		json_array_insert_new(a, 0, o);
	}
	return a;
}
