/*
 * The operations layer's metrics (opsmetrics.h).
 */
#include <stdbool.h>
#include <string.h>

#include "core/metrics.h"
#include "core/shipd.h"
#include "engine/spec.h"
#include "engine/stats.h"
#include "ops/health.h"
#include "ops/op.h"
#include "ops/opsmetrics.h"
#include "state/store.h"
#include "util.h"

#define STACKS_MAX	1024

/* A stack is shipd's once it has a current revision, or while an
 * operation on it (its first deploy) runs. */
static bool
want_stack(struct shipd *sd, const char *stack)
{
	struct op *op;

	if (sd->store != NULL && store_current(sd->store, stack) > 0)
		return true;
	for (op = sd->ops; op != NULL; op = op->next)
		if (strcmp(op->stack_name, stack) == 0)
			return true;
	return false;
}

void
opsmetrics_op_end(const struct op *op)
{
	const char	*kind = op->kind->name, *result;
	double		 secs = (double)(now_ms() - op->t0) / 1000.0;

	if (strcmp(kind, OP_NAME_DEPLOY) == 0) {
		result = !op->failed ? "ok" : op->rolled_back ?
		    "rolled_back" : "failed";
		metrics_inc("shipd_deploys_total", "stack", op->stack_name,
		    "result", result, NULL);
		metrics_observe("shipd_deploy_duration_seconds", secs,
		    "stack", op->stack_name, NULL);
	} else if (strcmp(kind, OP_NAME_ROLLBACK) == 0 ||
	    strcmp(kind, OP_NAME_ROLLBACK_AUTO) == 0) {
		metrics_inc("shipd_rollbacks_total", "stack", op->stack_name,
		    "trigger", strcmp(kind, OP_NAME_ROLLBACK) == 0 ? "asked" :
		    "automatic", "result", op->failed ? "failed" : "ok", NULL);
	}
}

void
opsmetrics_gate(const char *stack, const char *service, int ok, uint64_t ms)
{
	metrics_observe("shipd_gate_duration_seconds", (double)ms / 1000.0,
	    "stack", stack, "service", service, "result", ok ? "passed" :
	    "failed", NULL);
}

struct count {
	const char	*stack;
	const char	*service;
	struct shipd	*sd;
	int		 running;
	int		 healthy;
};

static void
count_one(const struct stats_sample *s, void *arg)
{
	struct count	*c = arg;
	const char	*h;

	if (strcmp(s->stack, c->stack) != 0 ||
	    strcmp(s->service, c->service) != 0 ||
	    spec_kept_revision(s->name) > 0)
		return;
	c->running++;
	/* shipd's own check first; then the engine's; none is healthy. */
	if ((h = health_own(c->sd, s->id, NULL)) == NULL)
		h = s->health;
	if (*h == '\0' || strcmp(h, "healthy") == 0)
		c->healthy++;
}

static void
collect(struct buf *b, void *arg)
{
	struct shipd	*sd = arg;
	const char	*stacks[STACKS_MAX], *svc;
	const json_t	*doc, *scale, *n, *o;
	struct buf	 run, healthy;
	struct count	 c;
	size_t		 i, ns = 0;
	int		 cur;

	buf_init(&run);
	buf_init(&healthy);
	metrics_family(b, "shipd_replicas_desired", "gauge",
	    "Replicas the current revision (and scale) asks for");
	if (sd->store != NULL)
		ns = store_stacks(sd->store, stacks, nitems(stacks));
	for (i = 0; i < ns; i++) {
		if ((cur = store_current(sd->store, stacks[i])) <= 0)
			continue;
		doc = store_revision_get(sd->store, stacks[i], cur);
		scale = store_scale_get(sd->store, stacks[i]);
		json_object_foreach((json_t *)json_object_get(doc,
		    "replicas"), svc, n) {
			o = json_object_get(json_object_get(scale, svc),
			    "replicas");
			metrics_sample(b, "shipd_replicas_desired",
			    (double)json_integer_value(o ? o : n), "stack",
			    stacks[i], "service", svc, NULL);
			memset(&c, 0, sizeof c);
			c.stack = stacks[i];
			c.service = svc;
			c.sd = sd;
			stats_foreach(sd, count_one, &c);
			metrics_sample(&run, "shipd_replicas_running",
			    c.running, "stack", stacks[i], "service", svc,
			    NULL);
			metrics_sample(&healthy, "shipd_replicas_healthy",
			    c.healthy, "stack", stacks[i], "service", svc,
			    NULL);
		}
	}
	metrics_family(b, "shipd_replicas_running", "gauge",
	    "Replicas running (kept old revisions not counted)");
	buf_append(b, run.data ? run.data : "", run.len);
	metrics_family(b, "shipd_replicas_healthy", "gauge",
	    "Running replicas that are healthy, or have no check");
	buf_append(b, healthy.data ? healthy.data : "", healthy.len);
	buf_free(&run);
	buf_free(&healthy);
}

void
opsmetrics_start(struct shipd *sd)
{
	sd->stats_want = want_stack;
	metrics_collector_add(collect, sd);
}

void
opsmetrics_stop(struct shipd *sd)
{
	metrics_collector_del(collect, sd);
}
