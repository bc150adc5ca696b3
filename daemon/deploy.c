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

#include "ctl.h"
#include "deploy.h"
#include "docker.h"
#include "log.h"
#include "op.h"
#include "proto.h"
#include "shipd.h"
#include "spec.h"
#include "util.h"

static void	rep_next(struct replica *);
static void	op_kick(struct op *);
static void	op_maybe_finish(struct op *);

/* ---- progress ------------------------------------------------------------ */

static uint64_t
elapsed(const struct op *op)
{
	return now_ms() - op->t0;
}

static void
emit(struct op *op, const char *event, json_t *fields)
{
	json_object_set_new(fields, "elapsed_ms",
	    json_integer((json_int_t)elapsed(op)));
	if (op->req != NULL)
		ctl_req_event(op->req, event, fields);
	else
		json_decref(fields);
}

static void
emit_step(struct replica *r, const char *step, const char *msg)
{
	json_t *f = json_pack("{s:s, s:i, s:s}", "service",
	    r->svc->unit->name, "replica", r->n, "step", step);

	if (msg != NULL)
		json_object_set_new(f, "message", json_string(msg));
	emit(r->svc->op, "step", f);
}

static void
emit_service(struct svc *s, const char *status)
{
	json_t *f = json_pack("{s:s, s:s, s:s}", "service", s->unit->name,
	    "status", status, "action", plan_action_name(s->action));

	if (s->error != NULL)
		json_object_set_new(f, "message", json_string(s->error));
	if (s->t_done > s->t_start && s->t_start != 0)
		json_object_set_new(f, "took_ms",
		    json_integer((json_int_t)(s->t_done - s->t_start)));
	emit(s->op, "service", f);
}

/* ---- failure ------------------------------------------------------------- */

static void
op_fail(struct op *op, const char *why)
{
	size_t i, j;

	if (op->failed)
		return;
	op->failed = true;
	op->error = xstrdup(why);
	log_warn("%s %s: %s", op->kind, op->stack_name, why);
	/* Gates still waiting would only delay the verdict. */
	for (i = 0; i < op->stack->nunits; i++) {
		struct svc *s = &op->svcs[i];

		for (j = 0; j < s->nreps; j++) {
			struct replica *r = &s->reps[j];

			if (r->gate != NULL) {
				gate_cancel(r->gate);
				r->gate = NULL;
				r->state = REP_FAILED;
				op->inflight--;
			}
		}
	}
}

static void
svc_fail(struct svc *s, const char *why)
{
	if (s->state == SVC_FAILED)
		return;
	s->state = SVC_FAILED;
	s->t_done = now_ms();
	s->error = xstrdup(why);
	emit_service(s, "failed");
	op_fail(s->op, why);
}

/* ---- replicas ------------------------------------------------------------ */

static void
svc_settled(struct svc *s)
{
	struct op *op = s->op;

	if (s->state != SVC_ACTIVE)
		return;
	s->state = SVC_DONE;
	s->t_done = now_ms();
	op->met[s->idx] |= DEP_STARTED | DEP_HEALTHY;
	if (s->goal == GATE_COMPLETED)
		op->met[s->idx] |= DEP_COMPLETED;
	emit_service(s, "done");
	op_kick(op);
}

static void
rep_done(struct replica *r)
{
	struct svc *s = r->svc;

	r->state = REP_DONE;
	if (--s->pending == 0)
		svc_settled(s);
}

static void
rep_failed(struct replica *r, const char *why)
{
	r->state = REP_FAILED;
	emit_step(r, "failed", why);
	svc_fail(r->svc, why);
}

static void
on_gate(int ok, const char *why, void *arg)
{
	struct replica	*r = arg;
	struct op	*op = r->svc->op;

	r->gate = NULL;
	op->inflight--;
	if (ok) {
		emit_step(r, gate_goal_name(r->svc->goal), NULL);
		rep_done(r);
	} else
		rep_failed(r, why);
	op_maybe_finish(op);
}

static void
rep_gate(struct replica *r)
{
	struct svc	*s = r->svc;
	char		*name;

	name = spec_container_name(s->op->stack_name, s->unit->name, r->n);
	r->state = REP_GATING;
	s->op->inflight++;
	r->gate = gate_start(s->op->sd, s->unit, r->id, name, s->goal,
	    s->unit->update.healthy_deadline_ms, on_gate, r);
	free(name);
}

static void
rep_started(struct replica *r)
{
	struct svc *s = r->svc;
	size_t i, live = 0;

	for (i = 0; i < s->nreps; i++)
		if (!s->reps[i].remove)
			live++;
	if (++s->started == live) {
		s->op->met[s->idx] |= DEP_STARTED;
		op_kick(s->op);
	}
}

/*
 * One engine call finished for replica r: account for it and move the
 * replica on, unless the operation has failed meanwhile.
 */
static bool
rep_call_done(struct replica *r, const struct docker_result *res,
    const char *what, bool ok_if_missing)
{
	struct op	*op = r->svc->op;
	char		 msg[512];

	r->dreq = NULL;
	op->inflight--;
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
on_started(const struct docker_result *res, void *arg)
{
	struct replica *r = arg;

	if (!rep_call_done(r, res, "start", false))
		return;
	emit_step(r, "started", NULL);
	rep_started(r);
	/* The gate was armed before start so no event is missed. */
}

static void
rep_start(struct replica *r)
{
	struct op *op = r->svc->op;

	r->state = REP_STARTING;
	rep_gate(r);
	op->inflight++;
	r->dreq = docker_container_start(op->sd->docker, r->id, on_started, r);
}

static void
on_created(const struct docker_result *res, void *arg)
{
	struct replica	*r = arg;
	const char	*id;

	if (!rep_call_done(r, res, "create", false))
		return;
	id = json_string_value(json_object_get(res->body, "Id"));
	if (id == NULL) {
		rep_failed(r, "create: the engine returned no container ID");
		op_maybe_finish(r->svc->op);
		return;
	}
	r->id = xstrdup(id);
	emit_step(r, "created", NULL);
	rep_start(r);
}

static void
rep_create(struct replica *r)
{
	struct svc	*s = r->svc;
	struct op	*op = s->op;
	json_t		*spec;
	char		*name;

	r->state = REP_CREATING;
	name = spec_container_name(op->stack_name, s->unit->name, r->n);
	spec = spec_container(op->stack, s->unit, r->n, op->revision);
	op->inflight++;
	r->dreq = docker_container_create(op->sd->docker, name, spec,
	    on_created, r);
	json_decref(spec);
	free(name);
}

static void
on_old_removed(const struct docker_result *res, void *arg)
{
	struct replica *r = arg;

	if (!rep_call_done(r, res, "remove", true))
		return;
	free(r->old_id);
	r->old_id = NULL;
	emit_step(r, "removed", NULL);
	if (r->remove)
		rep_done(r);
	else
		rep_next(r);
	op_maybe_finish(r->svc->op);
}

static void
on_old_stopped(const struct docker_result *res, void *arg)
{
	struct replica	*r = arg;
	struct op	*op = r->svc->op;

	if (!rep_call_done(r, res, "stop", true))
		return;
	emit_step(r, "stopped", NULL);
	op->inflight++;
	r->dreq = docker_container_remove(op->sd->docker, r->old_id, 1, 0,
	    on_old_removed, r);
}

static void
rep_stop_old(struct replica *r)
{
	struct op *op = r->svc->op;

	r->state = REP_STOPPING;
	op->inflight++;
	r->dreq = docker_container_stop(op->sd->docker, r->old_id,
	    (int)((r->svc->unit->stop_grace_ms + 999) / 1000),
	    on_old_stopped, r);
}

static const char *
container_state(const struct op *op, const char *id)
{
	json_t	*c;
	size_t	 i;

	json_array_foreach(op->containers, i, c)
		if (strcmp(json_string_value(json_object_get(c, "Id")) ?
		    json_string_value(json_object_get(c, "Id")) : "", id) == 0)
			return json_string_value(json_object_get(c, "State"));
	return NULL;
}

/* Move a replica to its next step: stop-first replacement for now. */
static void
rep_next(struct replica *r)
{
	struct op	*op = r->svc->op;
	const char	*st;

	if (op->failed)
		return;
	if (r->old_id != NULL) {
		rep_stop_old(r);
		return;
	}
	if (r->remove) {
		rep_done(r);
		return;
	}
	if (!r->reuse) {
		rep_create(r);
		return;
	}
	/* A kept container: running ones are only gated; a finished
	 * one-shot is not run again. */
	st = container_state(op, r->id);
	if (st != NULL && strcmp(st, "running") == 0) {
		emit_step(r, "kept", NULL);
		rep_started(r);
		rep_gate(r);
	} else if (st != NULL && strcmp(st, "exited") == 0 &&
	    strcmp(r->svc->unit->restart, "no") == 0) {
		emit_step(r, "kept", NULL);
		rep_started(r);
		rep_gate(r);
	} else
		rep_start(r);
}

/* ---- scheduling ---------------------------------------------------------- */

static void
svc_begin(struct svc *s)
{
	size_t i;

	s->state = SVC_ACTIVE;
	s->t_start = now_ms();
	s->pending = s->nreps;
	emit_service(s, "begin");
	if (s->nreps == 0 || s->want == 0) {
		s->op->met[s->idx] |= DEP_STARTED;
		if (s->nreps == 0) {
			svc_settled(s);
			return;
		}
	}
	for (i = 0; i < s->nreps && !s->op->failed; i++)
		rep_next(&s->reps[i]);
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

	op->inflight--;
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
		op->inflight++;
		/* A dropped service has no unit left to say how gently to
		 * stop it: force removal is the engine's SIGKILL. */
		docker_container_remove(op->sd->docker,
		    json_string_value(json_object_get(c, "Id")), 1, 0,
		    on_removal_done, op);
	}
	json_array_clear(op->removals);
}

static void
op_maybe_finish(struct op *op)
{
	if (op->finishing || op->inflight > 0)
		return;
	if (!op->failed && !all_settled(op))
		return;
	if (!op->failed && json_array_size(op->removals) > 0) {
		run_removals(op);
		return;
	}
	op->finishing = true;
	deploy_finish(op);
}

void
deploy_apply(struct op *op)
{
	op_kick(op);
}
