/*
 * The steps a replica goes through, planned once from what the planner
 * found: reuse, removal, stop-first or start-first replacement, a kept
 * container brought back; and the networks each network step works on.
 * apply.c takes them one by one.
 */
#include <string.h>

#include "engine/spec.h"
#include "ops/op.h"
#include "ops/steps.h"

static const char *const step_names[] = {
	"leave", "stop", "keep", "remove", "restore", "join", "unname",
	"name", "create", "connect", "start", "gate", "end", "stop",
};

const char *
step_name(enum rep_step st)
{
	return step_names[st];
}

static void
push(struct replica *r, enum rep_step st)
{
	r->steps[r->nsteps++] = st;
}

/*
 * Plan a replica's steps from what the planner found.  stop-first: the
 * occupant stops before its successor starts.  start-first: the occupant
 * is renamed aside and keeps serving until its successor is healthy.
 */
size_t
svc_live_replicas(const struct svc *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->nreps; i++)
		if (!s->reps[i].remove)
			n++;
	return n;
}

bool
steps_reuse_starts(const struct unit *u, const char *state)
{
	/* a finished one-shot is not run again */
	return state == NULL || (strcmp(state, "running") != 0 &&
	    !(strcmp(state, "exited") == 0 && strcmp(u->restart, "no") == 0));
}

/*
 * A replica of a stop, start or restart, and one of a service stop left
 * stopped that another kind plans: in place, or (the latter, its spec
 * changed) replaced by a container that is created and left stopped.
 */
static bool
steps_svcop(struct replica *r, const char *state)
{
	const struct unit	*u = r->svc->unit;
	bool			 running = state != NULL &&
	    (strcmp(state, "running") == 0 || strcmp(state, "restarting") == 0 ||
	    strcmp(state, "paused") == 0);

	switch (r->svc->action) {
	case ACT_START:
		if (!steps_reuse_starts(u, state)) {
			push(r, STEP_GATE);
			return true;
		}
		push(r, STEP_START);
		push(r, STEP_GATE);
		return false;
	case ACT_RESTART:
		if (running)
			push(r, STEP_STOP);
		push(r, STEP_START);
		push(r, STEP_GATE);
		return false;
	default:
		break;
	}
	if (r->reuse || r->svc->action == ACT_STOP) {
		if (running)
			push(r, STEP_STOP);
		return false;
	}
	if (r->old_id != NULL) {
		push(r, STEP_OLD_LEAVE);
		push(r, STEP_OLD_STOP);
		push(r, r->old_keep ? STEP_OLD_RENAME : STEP_OLD_REMOVE);
	}
	if (r->restore_id != NULL) {
		push(r, STEP_JOIN);
		push(r, STEP_RESTORE);
	} else {
		push(r, STEP_CREATE);
		if (r->connect)
			push(r, STEP_CONNECT);
	}
	return false;
}

bool
steps_plan(struct replica *r, const char *state)
{
	const struct unit	*u = r->svc->unit;
	bool			 start_first, running = false;

	r->nsteps = r->step = 0;
	if ((r->svc->stopped && !r->remove) || r->svc->action == ACT_STOP ||
	    r->svc->action == ACT_START || r->svc->action == ACT_RESTART)
		return steps_svcop(r, state);
	if (r->reuse) {
		if (steps_reuse_starts(u, state))
			push(r, STEP_START);
		else
			running = true;
		/* A container left as it was is judged only when the
		 * operation touched its service or what it depends on, or
		 * a touched service waits on it: one unrelated unhealthy
		 * service does not sink the deploy of another. */
		if (!running || r->svc->judged || r->svc->needed)
			push(r, STEP_GATE);
		return running;
	}
	if (r->remove) {
		r->drain = svc_live_replicas(r->svc) > 0;
		push(r, STEP_OLD_LEAVE);
		push(r, STEP_OLD_STOP);
		push(r, r->old_keep ? STEP_OLD_RENAME : STEP_OLD_REMOVE);
		return false;
	}
	start_first = u->update.order == UPDATE_START_FIRST &&
	    r->old_id != NULL && r->old_running;
	if (r->old_id != NULL && !start_first) {
		push(r, STEP_OLD_LEAVE);
		push(r, STEP_OLD_STOP);
		push(r, r->old_keep ? STEP_OLD_RENAME : STEP_OLD_REMOVE);
	} else if (start_first)
		push(r, STEP_OLD_RENAME);
	if (r->restore_id != NULL) {
		push(r, STEP_JOIN);
		push(r, STEP_RESTORE);
	} else {
		/* The engine's DNS names a container as soon as it starts,
		 * healthy or not: a start-first successor stays unnamed
		 * until its gate passes, while its predecessor serves. */
		r->unaliased = start_first;
		push(r, STEP_CREATE);
		/* Engines before API 1.44 take one network at create. */
		if (r->connect)
			push(r, STEP_CONNECT);
	}
	push(r, STEP_START);
	push(r, STEP_GATE);
	if (r->unaliased) {
		push(r, STEP_NEW_LEAVE);
		push(r, STEP_NEW_JOIN);
	}
	if (start_first) {
		r->drain = true;
		push(r, STEP_OLD_LEAVE);
		push(r, STEP_OLD_STOP);
		if (!r->old_keep)
			push(r, STEP_OLD_REMOVE);
	}
	return false;
}

/*
 * How many network calls a step makes.  An occupant leaves every network
 * of the stack, whatever revision put it where it is (leaving one it is
 * not on is a no-op); the others work on the unit's networks.  A connect
 * starts at the second: the create named the first.
 */
size_t
step_nets(const struct replica *r, enum rep_step st)
{
	const struct op	*op = r->svc->op;

	switch (st) {
	case STEP_OLD_LEAVE:
		return 1 + op->stack->nnetworks;
	case STEP_JOIN:
	case STEP_NEW_LEAVE:
	case STEP_NEW_JOIN:
	case STEP_CONNECT:
		return spec_nets(op->stack, r->svc->unit);
	default:
		return 0;
	}
}

char *
step_network_name(const struct replica *r)
{
	const struct op	*op = r->svc->op;

	if (r->steps[r->step] == STEP_OLD_LEAVE)
		return spec_network_name(op->stack_name, r->net == 0 ?
		    "default" : op->stack->networks[r->net - 1]);
	return spec_network_name(op->stack_name, spec_net(op->stack,
	    r->svc->unit, r->net));
}

const char *
container_state(const struct op *op, const char *id)
{
	json_t		*c;
	const char	*cid;
	size_t		 i;

	json_array_foreach(op->containers, i, c)
		if ((cid = json_string_value(json_object_get(c, "Id"))) !=
		    NULL && strcmp(cid, id) == 0)
			return json_string_value(json_object_get(c, "State"));
	return NULL;
}
