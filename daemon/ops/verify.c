/*
 * The monitor period after apply (verify.h): a timer, a watch on the
 * stack's engine events, and shipd's own http/tcp checks of what it
 * brought up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "engine/spec.h"
#include "engine/watch.h"
#include "ops/health.h"
#include "ops/op.h"
#include "ops/verify.h"
#include "proto.h"
#include "util.h"

struct verify {
	struct op	*op;
	uv_timer_t	 timer;
	struct watch	*watch;
	verify_bad_cb	*bad;
	verify_done_cb	*done;
	struct health_sub **subs;	/* shipd's own checks, one a replica */
	size_t		 nsubs;
};

static void
on_closed(uv_handle_t *h)
{
	free(h->data);
}

void
verify_cancel(struct op *op)
{
	struct verify *v = op->verify;

	if (v == NULL)
		return;
	op->verify = NULL;
	watch_cancel(v->watch);
	while (v->nsubs > 0)
		health_unsubscribe(v->subs[--v->nsubs]);
	free(v->subs);
	uv_timer_stop(&v->timer);
	uv_close((uv_handle_t *)&v->timer, on_closed);
}

static void
on_monitored(uv_timer_t *t)
{
	struct verify	*v = t->data;
	struct op	*op = v->op;
	verify_done_cb	*done = v->done;

	verify_cancel(op);
	done(op);
}

/* Is this container one the operation judges: a replica of a service
 * it touched or of one that depends on such a service (plan_judge)?  An
 * unrelated service's trouble is not this operation's. */
static struct replica *
judged(struct op *op, const char *id)
{
	size_t i, j;

	for (i = 0; i < op->stack->nunits; i++) {
		struct svc *s = &op->svcs[i];

		if (!s->judged)
			continue;
		for (j = 0; j < s->nreps; j++)
			if (s->reps[j].id != NULL && !s->reps[j].remove &&
			    strcmp(s->reps[j].id, id) == 0)
				return &s->reps[j];
	}
	return NULL;
}

static void
on_event(const char *id, const char *action, json_t *ev, void *arg)
{
	struct verify	*v = arg;
	struct replica	*r;
	const char	*code;
	char		 msg[256], *name;

	if (id == NULL || (r = judged(v->op, id)) == NULL)
		return;
	name = spec_container_name(v->op->stack_name, r->svc->unit->name,
	    r->n);
	if (strcmp(action, "die") == 0) {
		code = json_string_value(json_object_get(json_object_get(
		    json_object_get(ev, "Actor"), "Attributes"), "exitCode"));
		snprintf(msg, sizeof msg, "%s exited with code %s during the "
		    "%s monitor period", name, code ? code : "?",
		    r->svc->unit->name);
	} else if (strcmp(action, "health_status: unhealthy") == 0) {
		snprintf(msg, sizeof msg, "%s became unhealthy during the "
		    "monitor period", name);
	} else {
		free(name);
		return;
	}
	free(name);
	v->bad(r, msg);
}

/* shipd's own http/tcp check turned a judged container unhealthy. */
static void
on_own_bad(const char *id, const char *detail, void *arg)
{
	struct verify	*v = arg;
	struct replica	*r;
	char		 msg[256], *name;

	if ((r = judged(v->op, id)) == NULL)
		return;
	name = spec_container_name(v->op->stack_name, r->svc->unit->name,
	    r->n);
	snprintf(msg, sizeof msg, "%s became unhealthy during the monitor "
	    "period: %s", name, detail);
	free(name);
	v->bad(r, msg);
}

/* The engine cannot run http/tcp checks: subscribe to shipd's own. */
static void
watch_own_checks(struct verify *v)
{
	struct op		*op = v->op;
	struct health_sub	*sub;
	size_t			 i, j;

	for (i = 0; i < op->stack->nunits; i++) {
		struct svc *s = &op->svcs[i];

		for (j = 0; j < s->nreps; j++) {
			if (s->reps[j].id == NULL ||
			    judged(op, s->reps[j].id) == NULL ||
			    (sub = health_subscribe(op->sd, s->reps[j].id,
			    s->unit, on_own_bad, v)) == NULL)
				continue;
			v->subs = xrealloc(v->subs, (v->nsubs + 1) *
			    sizeof *v->subs);
			v->subs[v->nsubs++] = sub;
		}
	}
}

/* The longest monitor of a service this operation changed; 0: none. */
static uint64_t
monitor_ms(const struct op *op)
{
	uint64_t	ms = 0;
	size_t		i;

	for (i = 0; i < op->stack->nunits; i++) {
		const struct svc *s = &op->svcs[i];

		if (s->action != ACT_UNCHANGED && s->action != ACT_NONE &&
		    s->unit->update.monitor_ms > ms)
			ms = s->unit->update.monitor_ms;
	}
	return ms;
}

bool
verify_start(struct op *op, verify_bad_cb *bad, verify_done_cb *done)
{
	struct verify	*v;
	uint64_t	 ms;

	if ((ms = monitor_ms(op)) == 0)
		return false;
	op_emit(op, PROTO_EV_VERIFY, json_pack("{s:I}", "monitor_ms",
	    (json_int_t)ms));
	v = xcalloc(1, sizeof *v);
	v->op = op;
	v->bad = bad;
	v->done = done;
	uv_timer_init(op->sd->loop, &v->timer);
	v->timer.data = v;
	v->watch = watch_stack(op->sd, op->stack_name, on_event, v);
	watch_own_checks(v);
	op->verify = v;
	uv_timer_start(&v->timer, on_monitored, ms, 0);
	return true;
}
