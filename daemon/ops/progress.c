/*
 * Apply's progress events, split out of apply.c: a step of a replica, a
 * service's begin, end or failure, each with the time since the
 * operation began.
 */
#include "ops/op.h"
#include "ops/progress.h"
#include "proto.h"
#include "util.h"

void
progress_emit(struct op *op, const char *event, json_t *fields)
{
	json_object_set_new(fields, "elapsed_ms",
	    json_integer((json_int_t)(now_ms() - op->t0)));
	op_emit(op, event, fields);
}

void
progress_step(struct replica *r, const char *step, const char *msg)
{
	json_t *f = json_pack("{s:s, s:i, s:s}", "service",
	    r->svc->unit->name, "replica", r->n, "step", step);

	if (msg != NULL)
		json_object_set_new(f, "message", json_string(msg));
	progress_emit(r->svc->op, PROTO_EV_STEP, f);
}

void
progress_service(struct svc *s, const char *status)
{
	json_t *f = json_pack("{s:s, s:s, s:s}", "service", s->unit->name,
	    "status", status, "action", plan_action_name(s->action));

	if (s->error != NULL)
		json_object_set_new(f, "message", json_string(s->error));
	if (s->t_done > s->t_start && s->t_start != 0)
		json_object_set_new(f, "took_ms",
		    json_integer((json_int_t)(s->t_done - s->t_start)));
	progress_emit(s->op, PROTO_EV_SERVICE, f);
}
