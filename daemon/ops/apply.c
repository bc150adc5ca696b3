/*
 * Apply: bring a planned stack up in dependency order.  Each service
 * starts the moment its dependencies meet their conditions (no level
 * barrier, independent branches concurrently); each replica is stopped
 * (if replaced), created, started and gated on health, all as chains of
 * engine callbacks on the one loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/docker.h"
#include "state/journal.h"
#include "log.h"
#include "ops/op.h"
#include "ops/opsmetrics.h"
#include "ops/progress.h"
#include "ops/steps.h"
#include "ops/verify.h"
#include "proto.h"
#include "core/shipd.h"
#include "engine/spec.h"
#include "util.h"

static void	op_kick(struct op *);
static void	op_maybe_finish(struct op *);
static void	rep_cancel_drain(struct replica *);

/* ---- failure ------------------------------------------------------------- */

/* Let go of every gate, drain and monitor: at a failure (they would only
 * delay the verdict) and at shutdown. */
static void
cancel_waits(struct op *op)
{
	size_t i, j;

	for (i = 0; op->svcs != NULL && i < op->stack->nunits; i++) {
		struct svc *s = &op->svcs[i];

		for (j = 0; j < s->nreps; j++) {
			struct replica *r = &s->reps[j];

			if (r->gate != NULL) {
				gate_cancel(r->gate);
				r->gate = NULL;
				r->state = REP_FAILED;
			}
			rep_cancel_drain(r);
		}
	}
	verify_cancel(op);
}

void
op_fail(struct op *op, const char *why)
{
	if (op->failed)
		return;
	op->failed = true;
	op->error = xstrdup(why);
	log_warn("%s %s: %s", op->kind->name, op->stack_name, why);
	cancel_waits(op);
}

void
apply_free(struct op *op)
{
	cancel_waits(op);
}

/*
 * What is still under way for the operation: engine calls, journal
 * writes, gates, drains, the monitor period, removals.  Each is a handle
 * set when it starts and cleared when it ends, so nothing is counted by
 * hand.
 */
static bool
op_busy(const struct op *op)
{
	size_t i, j;

	if (op->verify != NULL || op->removing > 0)
		return true;
	for (i = 0; i < op->stack->nunits; i++) {
		const struct svc *s = &op->svcs[i];

		for (j = 0; j < s->nreps; j++) {
			const struct replica *r = &s->reps[j];

			if (r->dreq != NULL || r->gate != NULL ||
			    r->drainer != NULL || r->journaling)
				return true;
		}
	}
	return false;
}

static void
svc_fail(struct svc *s, const char *why)
{
	if (s->state == SVC_FAILED)
		return;
	s->state = SVC_FAILED;
	s->t_done = now_ms();
	s->error = xstrdup(why);
	progress_service(s, "failed");
	op_fail(s->op, why);
}

/* ---- replicas ------------------------------------------------------------ */

static void	rep_advance(struct replica *);

static void
svc_settled(struct svc *s)
{
	struct op *op = s->op;

	if (s->state != SVC_ACTIVE)
		return;
	s->state = SVC_DONE;
	s->t_done = now_ms();
	progress_service(s, "done");
	op_kick(op);
}

/* Every replica reached its goal: dependents may go, even while replaced
 * containers are still being stopped behind them. */
static void
svc_gated(struct svc *s)
{
	struct op *op = s->op;

	op->met[s->idx] |= DEP_STARTED | DEP_HEALTHY;
	if (s->goal == GATE_COMPLETED)
		op->met[s->idx] |= DEP_COMPLETED;
	op_kick(op);
}

static void
rep_gated(struct replica *r)
{
	struct svc *s = r->svc;

	if (r->gated || r->remove)
		return;
	r->gated = true;
	if (++s->gated == svc_live_replicas(s))
		svc_gated(s);
}

static void
rep_started(struct replica *r)
{
	struct svc *s = r->svc;

	if (++s->started == svc_live_replicas(s)) {
		s->op->met[s->idx] |= DEP_STARTED;
		op_kick(s->op);
	}
}

/* Give a parallelism slot back and hand it to the next queued replica;
 * a failed operation starts nothing new. */
static void
rep_release_slot(struct replica *r)
{
	struct svc	*s = r->svc;
	size_t		 i;

	if (!r->slot)
		return;
	r->slot = false;
	s->active--;
	for (i = 0; i < s->nreps; i++) {
		struct replica *q = &s->reps[i];

		if (q->queued && !s->op->failed) {
			q->queued = false;
			q->slot = true;
			s->active++;
			rep_advance(q);
			return;
		}
	}
}

static void
rep_finished(struct replica *r)
{
	struct svc *s = r->svc;

	r->state = REP_DONE;
	rep_gated(r);
	rep_release_slot(r);
	if (--s->pending == 0)
		svc_settled(s);
}

/* Failed before the slot goes back, so that it goes to no one. */
static void
rep_failed(struct replica *r, const char *why)
{
	r->state = REP_FAILED;
	progress_step(r, "failed", why);
	svc_fail(r->svc, why);
	rep_release_slot(r);
}

static char *
rep_name(const struct replica *r)
{
	return spec_container_name(r->svc->op->stack_name,
	    r->svc->unit->name, r->n);
}

/*
 * A kept container is named for the revision it served (what a rollback
 * asks for and pruning counts by): the current one, keep_rev.  Bringing
 * current back (a failed deploy's rollback, a recovery: revision ==
 * keep_rev), a container the failed one had renamed back goes back under
 * its own revision: -r<keep_rev> is current's kept one, about to return.
 */
static char *
kept_name(const struct replica *r)
{
	const struct op	*op = r->svc->op;
	char		*base = rep_name(r), *s;
	int		 rev = r->old_rev;

	if (r->old_keep && op->revision != op->keep_rev)
		rev = op->keep_rev;

	xasprintf(&s, "%s-r%d", base, rev);
	free(base);
	return s;
}

/* Back from an engine call, journal write, gate or drain: the next step
 * if the operation may, then op_maybe_finish(), as every completion must
 * or a failed operation is left with nothing under way to end it. */
static void
rep_resume(struct replica *r)
{
	struct op *op = r->svc->op;

	rep_advance(r);
	op_maybe_finish(op);
}

/*
 * One engine call finished for replica r: account for it; false when the
 * replica cannot go on (the call failed, or the operation has).
 */
static bool
rep_call_done(struct replica *r, const struct docker_result *res,
    const char *what, bool ok_if_missing)
{
	struct op	*op = r->svc->op;
	char		 msg[512];

	r->dreq = NULL;
	if (res->err != 0 && !(ok_if_missing &&
	    res->err == DOCKER_E_NOT_FOUND)) {
		snprintf(msg, sizeof msg, "%s-%s-%d: %s: %s", op->stack_name,
		    r->svc->unit->name, r->n, what, res->message);
		rep_failed(r, msg);
		op_maybe_finish(op);
		return false;
	}
	if (op->failed) {
		op_maybe_finish(op);
		return false;
	}
	return true;
}

static void
rep_next_step(struct replica *r)
{
	r->step++;
	rep_resume(r);
}

static void
on_gate(int ok, const char *why, void *arg)
{
	struct replica	*r = arg;
	struct op	*op = r->svc->op;

	r->gate = NULL;
	opsmetrics_gate(op->stack_name, r->svc->unit->name, ok,
	    now_ms() - r->gate_t0);
	if (!ok) {
		rep_failed(r, why);
		op_maybe_finish(op);
		return;
	}
	progress_step(r, gate_goal_name(r->svc->goal), NULL);
	rep_gated(r);
	rep_next_step(r);
}

static void
on_conflict_removed(const struct docker_result *res, void *arg)
{
	struct replica *r = arg;

	if (!rep_call_done(r, res, "remove the previous kept container",
	    true))
		return;
	rep_resume(r);		/* the same rename, once more */
}

static void
on_step_done(const struct docker_result *res, void *arg)
{
	struct replica	*r = arg;
	enum rep_step	 st = r->steps[r->step];
	static const char *const what[] = { "leave network", "stop",
	    "rename", "remove", "rename back", "join network",
	    "leave network", "join network", "create", "connect network",
	    "start", "gate", "end", "stop" };
	static const char *const done[] = { "left", "stopped", "kept",
	    "removed", "restored", "joined", "named", "in service",
	    "created", "connected", "started", "", "", "stopped" };
	const char	*id;
	size_t		 nets = step_nets(r, st);

	/* A rename onto a name still held by an older kept container:
	 * what we keep now supersedes it, so it goes, and we rename again. */
	if (st == STEP_OLD_RENAME && res->err == DOCKER_E_CONFLICT &&
	    !r->retried) {
		char *name = kept_name(r);

		r->retried = true;
		r->dreq = docker_container_remove(r->svc->op->sd->docker,
		    name, 1, 0, on_conflict_removed, r);
		free(name);
		return;		/* still in flight, as r->dreq */
	}
	/* Leaving a network it is not on, or joining one it is on
	 * already, is what we wanted. */
	if ((st == STEP_OLD_LEAVE || st == STEP_JOIN ||
	    st == STEP_NEW_LEAVE) && res->err != 0 &&
	    res->err != DOCKER_E_UNAVAILABLE) {
		struct docker_result ok = { 0, res->status, "", NULL };

		on_step_done(&ok, arg);
		return;
	}
	if (!rep_call_done(r, res, what[st], st == STEP_OLD_STOP ||
	    st == STEP_OLD_REMOVE || st == STEP_STOP))
		return;
	/* One call per network. */
	if (nets > 0 && ++r->net < nets) {
		rep_resume(r);
		return;
	}
	r->net = 0;
	switch (st) {
	case STEP_CREATE:
		id = json_string_value(json_object_get(res->body, "Id"));
		if (id == NULL) {
			rep_failed(r, "create: the engine returned no ID");
			op_maybe_finish(r->svc->op);
			return;
		}
		r->id = xstrdup(id);
		break;
	case STEP_RESTORE:
		r->id = r->restore_id;
		r->restore_id = NULL;
		break;
	case STEP_START:
		rep_started(r);
		break;
	case STEP_OLD_REMOVE:
		free(r->old_id);
		r->old_id = NULL;
		break;
	default:
		break;
	}
	progress_step(r, done[st], NULL);
	rep_next_step(r);
}

static void
step_gate(struct replica *r)
{
	struct svc	*s = r->svc;
	char		*name = rep_name(r);

	r->gate_t0 = now_ms();
	r->gate = gate_start(s->op->sd, s->unit, r->id, name, s->goal,
	    s->unit->update.healthy_deadline_ms, on_gate, r);
	free(name);
}

/*
 * Leave or join the step's network number r->net (step_nets()).  A
 * replica about to stop leaves first, so the engine's DNS stops naming it
 * while it still answers; a kept container brought back joins again under
 * its service name; a new one is connected, named unless it is a
 * start-first successor, to the networks its create could not name.
 */
static struct docker_req *
net_call(struct replica *r, const char *id, bool join, bool aliased)
{
	struct op		*op = r->svc->op;
	struct docker_req	*dr;
	json_t			*body;
	char			*net, *path;

	net = step_network_name(r);
	xasprintf(&path, "/networks/%s/%s", net, join ? "connect" :
	    "disconnect");
	if (join && aliased)
		body = json_pack("{s:s, s:{s:[s]}}", "Container", id,
		    "EndpointConfig", "Aliases", r->svc->unit->name);
	else if (join)
		body = json_pack("{s:s, s:{}}", "Container", id,
		    "EndpointConfig");
	else
		body = json_pack("{s:s, s:b}", "Container", id, "Force", 0);
	dr = docker_request(op->sd->docker, "POST", path, body, on_step_done,
	    r);
	json_decref(body);
	free(path);
	free(net);
	return dr;
}

/*
 * Draining: a replica that has left the stack's DNS while others keep
 * serving is given a moment before its stop, so a client that looked it
 * up just before it left still gets an answer.
 */
#define DRAIN_MS	300

struct drain {
	uv_timer_t	 timer;
	struct replica	*r;
};

static void
on_drain_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
rep_cancel_drain(struct replica *r)
{
	if (r->drainer == NULL)
		return;
	uv_timer_stop(&r->drainer->timer);
	uv_close((uv_handle_t *)&r->drainer->timer, on_drain_closed);
	r->drainer = NULL;
}

static void
on_drained(uv_timer_t *t)
{
	struct drain	*dr = t->data;
	struct replica	*r = dr->r;

	rep_cancel_drain(r);
	r->drain = false;
	rep_resume(r);		/* the stop, now */
}

static void
drain_start(struct replica *r)
{
	struct drain *dr = xcalloc(1, sizeof *dr);

	dr->r = r;
	uv_timer_init(r->svc->op->sd->loop, &dr->timer);
	dr->timer.data = dr;
	r->drainer = dr;
	uv_timer_start(&dr->timer, on_drained, DRAIN_MS, 0);
}

static void
on_journaled(int err, void *arg)
{
	struct replica	*r = arg;
	struct op	*op = r->svc->op;

	r->journaling = false;
	if (err < 0) {
		char msg[256];

		snprintf(msg, sizeof msg, "journal: %s", strerror(-err));
		rep_failed(r, msg);
		op_maybe_finish(op);
		return;
	}
	rep_resume(r);		/* or, failed meanwhile, the end */
}

/* Take the replica's current step, once the journal has it on disk. */
static void
rep_advance(struct replica *r)
{
	struct svc	*s = r->svc;
	struct op	*op = s->op;
	struct docker	*d = op->sd->docker;
	enum rep_step	 st;
	const char	*target;
	json_t		*spec;
	char		*name;

	/* At shutdown nothing new starts: the journal's records say how
	 * far this replica got, and recovery takes it from there. */
	if (op->failed || r->state == REP_FAILED || op->sd->stopping)
		return;
	r->state = REP_BUSY;
	if (r->step >= r->nsteps) {
		rep_finished(r);
		return;
	}
	st = r->steps[r->step];
	if (!r->journaled && st != STEP_END &&
	    !(st == STEP_OLD_STOP && r->drain)) {
		r->journaled = true;
		r->journaling = true;
		journal_step(op->sd->store, op->stack_name, op->kind->name,
		    op->revision, s->unit->name, r->n, step_name(st),
		    on_journaled, r);
		return;
	}
	r->journaled = false;
	switch (r->steps[r->step]) {
	case STEP_OLD_LEAVE:
		r->dreq = net_call(r, r->old_id, false, false);
		break;
	case STEP_JOIN:
		r->dreq = net_call(r, r->restore_id, true, true);
		break;
	case STEP_NEW_LEAVE:
		r->dreq = net_call(r, r->id, false, false);
		break;
	case STEP_NEW_JOIN:
		r->dreq = net_call(r, r->id, true, true);
		break;
	case STEP_CONNECT:
		if (r->net == 0)
			r->net = 1;
		r->dreq = net_call(r, r->id, true, !r->unaliased);
		break;
	case STEP_OLD_STOP:
		if (r->drain) {
			drain_start(r);		/* in flight as r->drainer */
			break;
		}
		r->dreq = docker_container_stop(d, r->old_id,
		    (int)((s->unit->stop_grace_ms + 999) / 1000),
		    on_step_done, r);
		break;
	case STEP_STOP:
		r->dreq = docker_container_stop(d, r->id,
		    (int)((s->unit->stop_grace_ms + 999) / 1000),
		    on_step_done, r);
		break;
	case STEP_OLD_RENAME:
		name = kept_name(r);
		r->dreq = docker_container_rename(d, r->old_id, name,
		    on_step_done, r);
		free(name);
		break;
	case STEP_OLD_REMOVE:
		r->dreq = docker_container_remove(d, r->old_id, 1, 0,
		    on_step_done, r);
		break;
	case STEP_RESTORE:
		name = rep_name(r);
		r->dreq = docker_container_rename(d, r->restore_id, name,
		    on_step_done, r);
		free(name);
		break;
	case STEP_CREATE:
		name = rep_name(r);
		spec = spec_container(op->stack, s->unit, r->n, op->revision,
		    !r->unaliased, !r->connect);
		if ((op->kind->flags & OPK_PIN) && s->image_id != NULL)
			json_object_set_new(spec, "Image",
			    json_string(s->image_id));
		r->dreq = docker_container_create(d, name, spec, on_step_done,
		    r);
		json_decref(spec);
		free(name);
		break;
	case STEP_START:
		target = r->id;
		r->dreq = docker_container_start(d, target, on_step_done, r);
		break;
	case STEP_GATE:
		step_gate(r);
		break;
	case STEP_END:
		rep_finished(r);
		break;
	}
}

/* Start a replica, or queue it when its service's parallelism is used
 * up.  Only replacements count against parallelism. */
static void
rep_begin(struct replica *r)
{
	struct svc *s = r->svc;

	r->connect = spec_nets(s->op->stack, s->unit) > 1 &&
	    !docker_api_since(s->op->sd->docker, DOCKER_API_MULTI_NET);
	if (steps_plan(r, r->reuse ? container_state(s->op, r->id) : NULL))
		rep_started(r);
	/* A restart takes its replicas down update.parallelism at a time,
	 * as a deploy replaces them. */
	if ((r->old_id != NULL || (s->action == ACT_RESTART &&
	    r->nsteps > 0 && r->steps[0] == STEP_STOP)) && !r->remove) {
		if (s->active >= (size_t)s->unit->update.parallelism) {
			r->queued = true;
			return;
		}
		r->slot = true;
		s->active++;
	}
	if (r->reuse && (r->nsteps == 0 || r->steps[0] == STEP_GATE))
		progress_step(r, "kept", NULL);
	rep_advance(r);
}

/* ---- scheduling ---------------------------------------------------------- */

static void
svc_begin(struct svc *s)
{
	size_t i;

	s->state = SVC_ACTIVE;
	s->t_start = now_ms();
	s->pending = s->nreps;
	progress_service(s, "begin");
	if (svc_live_replicas(s) == 0)
		svc_gated(s);
	if (s->nreps == 0) {
		svc_settled(s);
		return;
	}
	for (i = 0; i < s->nreps && !s->op->failed; i++)
		rep_begin(&s->reps[i]);
}

static void
op_kick(struct op *op)
{
	size_t	 i, n, *ready;

	if (op->failed || op->finishing)
		return;
	ready = xcalloc(op->stack->nunits + 1, sizeof *ready);
	n = graph_ready(op->graph, op->met, op->begun, ready);
	for (i = 0; i < n; i++)
		op->begun[ready[i]] = 1;
	for (i = 0; i < n && !op->failed; i++)
		svc_begin(&op->svcs[ready[i]]);
	free(ready);
	op_maybe_finish(op);
}

static bool
all_settled(const struct op *op)
{
	size_t i;

	for (i = 0; i < op->stack->nunits; i++)
		if (op->svcs[i].state != SVC_DONE)
			return false;
	return true;
}

/* ---- removal of services gone from the stack ----------------------------- */

static void
on_removal_done(const struct docker_result *res, void *arg)
{
	struct op *op = arg;

	op->removing--;
	if (res->err != 0 && res->err != DOCKER_E_NOT_FOUND)
		log_warn("%s: removing a container of a dropped service: %s",
		    op->stack_name, res->message);
	op_maybe_finish(op);
}

static void
run_removals(struct op *op)
{
	json_t	*c;
	size_t	 i;

	json_array_foreach(op->removals, i, c) {
		op->removing++;
		/* A dropped service has no unit left to say how gently to
		 * stop it: force removal is the engine's SIGKILL. */
		docker_container_remove(op->sd->docker,
		    json_string_value(json_object_get(c, "Id")), 1, 0,
		    on_removal_done, op);
	}
	json_array_clear(op->removals);
}

/* ---- verify ---------------------------------------------------------------- */

static void
on_verify_bad(struct replica *r, const char *why)
{
	struct op *op = r->svc->op;

	progress_step(r, "failed", why);
	svc_fail(r->svc, why);		/* ends the verify, too */
	op_maybe_finish(op);
}

static void
on_verify_done(struct op *op)
{
	op_maybe_finish(op);
}

/* Services that never began, because a dependency failed. */
static void
mark_skipped(struct op *op)
{
	size_t i;

	for (i = 0; i < op->stack->nunits; i++) {
		struct svc *s = &op->svcs[i];

		if (s->state != SVC_PENDING)
			continue;
		s->state = SVC_SKIPPED;
		progress_emit(op, PROTO_EV_SERVICE, json_pack("{s:s, s:s, s:s}",
		    "service", s->unit->name, "status", "skipped", "message",
		    "a dependency failed"));
	}
}

static void
op_maybe_finish(struct op *op)
{
	if (op->finishing || op->sd->stopping || op_busy(op))
		return;
	if (!op->failed && !all_settled(op))
		return;
	if (!op->failed && !op->verified) {
		op->verified = true;
		op_phase_enter(op, PH_VERIFY);
		if (verify_start(op, on_verify_bad, on_verify_done))
			return;
	}
	if (!op->failed && json_array_size(op->removals) > 0) {
		run_removals(op);
		return;
	}
	op->finishing = true;
	op_phase_enter(op, PH_COMMIT);
	mark_skipped(op);
	log_info("%s %s revision %d: %s", op->kind->name, op->stack_name,
	    op->revision, op->failed ? op->error : "done");
	op->kind->finish(op);
}

void
apply_stop(struct op *op, const char *why)
{
	op_fail(op, why);
	op_maybe_finish(op);
}

void
apply_run(struct op *op)
{
	op_kick(op);
}
