/*
 * The autoscaler (autoscale.h).  One timer a second walks the stacks'
 * current revisions for autoscaled services (a stack's units are loaded
 * again only when its revision changes), takes from the stats streams
 * one sample per live replica, and when every replica the service should
 * have has a fresh one, their averages go to ascalc.c.  A decision to
 * move runs as a scale operation with no client, marked autoscaling (an
 * operator's command waits for it, as for the supervisor's); while any
 * operation holds the stack, its recovery failed, or a stop left the
 * service stopped, nothing is sampled or decided (the window starts
 * again after).  Each change is an "autoscale" event, a metric, a
 * webhook and a history row; a failed scale backs off.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/metrics.h"
#include "core/shipd.h"
#include "engine/spec.h"
#include "engine/stats.h"
#include "engine/watch.h"
#include "graph.h"
#include "log.h"
#include "ops/ascalc.h"
#include "ops/autoscale.h"
#include "ops/op.h"
#include "ops/ops.h"
#include "state/journal.h"
#include "state/lock.h"
#include "state/revision.h"
#include "state/store.h"
#include "util.h"

#define AS_STACKS_MAX	256
#define AS_HISTORY_MAX	100	/* as svcop.c's */

struct asvc {
	struct autoscale	*as;
	char			*stack;
	char			*svc;
	struct unit_autoscale	 cfg;
	int64_t			 nano_cpus;
	uint64_t		 memory;
	int			 min, max, count;
	bool			 seen;		/* in this tick's walk */
	bool			 gone;		/* no longer autoscaled */
	struct ascalc		 calc;
	bool			 evaluated;	/* last holds an evaluation */
	struct ascalc_out	 last;
	char			 decision[192];	/* the last change */
	time_t			 decided;
	/* This tick's samples. */
	int			 n;
	double			 cpu, mem;
	/* The scale under way. */
	bool			 running;
	struct ascalc_out	 acting;
	time_t			 started;
	int			 failures;
	uint64_t		 backoff_ms;
	uint64_t		 next_ok;	/* no scale before (now_ms) */
	struct asvc		*next;
};

struct astack {
	char			*name;
	int			 rev;
	struct stack		*st;	/* NULL: nothing autoscaled in it */
	bool			 seen;
	struct astack		*next;
};

struct autoscale {
	struct shipd		*sd;
	uv_timer_t		 timer;
	struct asvc		*svcs;
	struct astack		*stacks;
	uint64_t		 tick_ms;
	uint64_t		 backoff_min_ms;
	bool			 stopped;
};

static void	collect(struct buf *, void *);

static uint64_t
env_ms(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? strtoull(v, NULL, 10) : dflt;
}

static struct asvc *
asvc_find(struct autoscale *as, const char *stack, const char *svc)
{
	struct asvc *a;

	for (a = as->svcs; a != NULL; a = a->next)
		if (!a->gone && strcmp(a->stack, stack) == 0 &&
		    strcmp(a->svc, svc) == 0)
			return a;
	return NULL;
}

static void
asvc_free(struct asvc *a)
{
	ascalc_free(&a->calc);
	free(a->stack);
	free(a->svc);
	free(a);
}

/* An "autoscale" event on the stack's fan-out (shipctl events). */
static void
emit(struct asvc *a, const char *action, const char *reason)
{
	struct timespec	 ts;
	json_t		*ev;

	clock_gettime(CLOCK_REALTIME, &ts);
	ev = json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}}, s:I, s:I, "
	    "s:i, s:i, s:s}",
	    "Type", "autoscale", "Action", action,
	    "Actor", "ID", "", "Attributes", LABEL_STACK, a->stack,
	    LABEL_SERVICE, a->svc, "name", a->svc,
	    "time", (json_int_t)ts.tv_sec, "timeNano",
	    (json_int_t)ts.tv_sec * 1000000000 + ts.tv_nsec,
	    "from", a->acting.from, "to", a->acting.to, "reason", reason);
	watch_stack_event(a->as->sd, a->stack, action, ev);
	json_decref(ev);
}

/* A row of history (svcstate.json's "ops", as stop/start/restart). */
static void
record(struct asvc *a, struct op *op, const char *reason)
{
	struct shipd	*sd = a->as->sd;
	const json_t	*old = store_svcstate_get(sd->store, a->stack);
	json_t		*doc, *ops, *entry;
	char		 t0[32], t1[32];

	doc = old != NULL ? json_deep_copy(old) : json_object();
	if ((ops = json_object_get(doc, "ops")) == NULL) {
		ops = json_array();
		json_object_set_new(doc, "ops", ops);
	}
	fmt_time_utc(t0, sizeof t0, (long long)a->started);
	fmt_time_utc(t1, sizeof t1, (long long)time(NULL));
	entry = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:[{s:s, "
	    "s:s}], s:s}", "kind", "autoscale", "started", t0, "finished", t1,
	    "uid", 0, "pid", (int)getpid(), "revision", op->revision,
	    "result", op->failed ? "failed" : "done", "changes", "service",
	    a->svc, "action", "scale", "reason", reason);
	json_array_append_new(ops, entry);
	while (json_array_size(ops) > AS_HISTORY_MAX)
		json_array_remove(ops, 0);
	store_svcstate_set(sd->store, a->stack, doc, NULL, NULL);
	json_decref(doc);
}

static void
notify(struct asvc *a, const char *reason, bool ok)
{
	ops_notify(a->as->sd, a->stack, NOTIFY_AUTOSCALE, json_pack("[s]",
	    a->svc), reason, json_pack("{s:s, s:i, s:i, s:s, s:f, s:i, s:b}",
	    "service", a->svc, "from", a->acting.from, "to", a->acting.to,
	    "metric", a->acting.metric, "value", a->acting.value, "target",
	    a->acting.target, "ok", ok));
}

static void
on_scaled(struct op *op, void *arg)
{
	struct asvc	*a = arg;
	char		 why[320];

	a->running = false;
	if (a->as == NULL || a->as->stopped)
		return;
	if (op->failed) {
		a->failures++;
		a->backoff_ms = a->backoff_ms == 0 ? a->as->backoff_min_ms :
		    a->backoff_ms * 2;
		if (a->backoff_ms > AUTOSCALE_BACKOFF_MAX_MS)
			a->backoff_ms = AUTOSCALE_BACKOFF_MAX_MS;
		a->next_ok = now_ms() + a->backoff_ms;
		snprintf(why, sizeof why, "%s; failed: %s", a->acting.reason,
		    op->error != NULL ? op->error : op->refusal != NULL ?
		    op->refusal : "the scale failed");
		log_warn("autoscale %s/%s: %s (no other scale for %llus)",
		    a->stack, a->svc, why,
		    (unsigned long long)(a->backoff_ms / 1000));
		metrics_inc("shipd_autoscale_failures_total", "stack",
		    a->stack, "service", a->svc, NULL);
		emit(a, "failed", why);
		notify(a, why, false);
		record(a, op, why);
	} else {
		a->backoff_ms = 0;
		a->next_ok = 0;
		emit(a, "done", a->acting.reason);
		notify(a, a->acting.reason, true);
		record(a, op, a->acting.reason);
	}
	/* What the replicas used while it ran says little. */
	ascalc_clear(&a->calc);
	if (a->gone)
		asvc_free(a);
}

/* Every condition holds: scale it, now. */
static void
act(struct asvc *a, const struct ascalc_out *o)
{
	struct shipd	*sd = a->as->sd;
	struct stack	*st;
	struct graph	*g;
	char		 why[256];

	if (revision_load(sd->store, a->stack, 0, &st, &g, NULL, why,
	    sizeof why) < 0) {
		log_warn("autoscale %s/%s: %s", a->stack, a->svc, why);
		return;
	}
	a->acting = *o;
	a->running = true;
	a->started = time(NULL);
	a->decided = a->started;
	snprintf(a->decision, sizeof a->decision, "%s", o->reason);
	ascalc_done(&a->calc, o, now_ms());
	log_info("autoscale %s/%s: %s", a->stack, a->svc, o->reason);
	metrics_inc("shipd_autoscale_decisions_total", "stack", a->stack,
	    "service", a->svc, "direction", o->dir == ASCALC_UP ? "up" :
	    "down", NULL);
	emit(a, "scale", o->reason);
	scale_auto(sd, st, g, json_pack("{s:i}", a->svc, o->to), on_scaled, a);
}

/* The units of the stack's current revision, when it changed. */
static void
sync_stack(struct autoscale *as, const char *name)
{
	struct shipd	*sd = as->sd;
	struct astack	*k;
	struct graph	*g = NULL;
	struct asvc	*a;
	char		 why[256];
	int		 cur = store_current(sd->store, name);
	size_t		 i;

	for (k = as->stacks; k != NULL; k = k->next)
		if (strcmp(k->name, name) == 0)
			break;
	if (k == NULL) {
		k = xcalloc(1, sizeof *k);
		k->name = xstrdup(name);
		k->next = as->stacks;
		as->stacks = k;
	}
	k->seen = true;
	if (k->rev != cur) {
		stack_free(k->st);
		k->st = NULL;
		k->rev = cur;
		if (cur > 0 && revision_load(sd->store, name, cur, &k->st, &g,
		    NULL, why, sizeof why) < 0)
			k->st = NULL;
		graph_free(g);
		for (i = 0; k->st != NULL && i < k->st->nunits; i++)
			if (k->st->units[i]->autoscale.present)
				break;
		if (k->st != NULL && i == k->st->nunits) {
			stack_free(k->st);
			k->st = NULL;
		}
	}
	for (i = 0; k->st != NULL && i < k->st->nunits; i++) {
		const struct unit *u = k->st->units[i];

		if (!u->autoscale.present)
			continue;
		if ((a = asvc_find(as, name, u->name)) == NULL) {
			a = xcalloc(1, sizeof *a);
			a->as = as;
			a->stack = xstrdup(name);
			a->svc = xstrdup(u->name);
			ascalc_init(&a->calc);
			a->next = as->svcs;
			as->svcs = a;
		}
		a->seen = true;
		a->cfg = u->autoscale;
		a->nano_cpus = u->nano_cpus;
		a->memory = u->memory;
		a->min = u->autoscale.min;
		a->max = u->autoscale.max;
		a->count = ascalc_count(u, json_object_get(store_scale_get(
		    sd->store, name), u->name));
		ascalc_bounds(u, json_object_get(store_scale_get(sd->store,
		    name), u->name), &a->min, &a->max);
	}
}

static void
on_sample(const struct stats_sample *s, void *arg)
{
	struct autoscale	*as = arg;
	struct asvc		*a;
	double			 cpus;

	/* A replica past the count (one a failed scale left) is not one
	 * the service has. */
	if (!s->have || s->read + AUTOSCALE_FRESH_S < time(NULL) ||
	    spec_kept_revision(s->name) > 0 ||
	    (a = asvc_find(as, s->stack, s->service)) == NULL ||
	    s->replica > a->count)
		return;
	cpus = a->nano_cpus > 0 ? (double)a->nano_cpus / 1e9 : 1.0;
	a->n++;
	a->cpu += s->cpu_percent / cpus;
	if (a->memory > 0)
		a->mem += (double)s->mem_bytes * 100.0 / (double)a->memory;
}

/* Whether the service may be looked at now: nothing else holds its
 * stack, and the operator did not stop it. */
static bool
free_to_act(struct asvc *a)
{
	struct shipd *sd = a->as->sd;

	if (a->running || lock_holder(sd, a->stack) != NULL ||
	    journal_held(sd, a->stack) != NULL)
		return false;
	if (json_object_get(json_object_get(store_svcstate_get(sd->store,
	    a->stack), "stopped"), a->svc) != NULL)
		return false;
	return true;
}

static void
evaluate(struct asvc *a, uint64_t now)
{
	struct ascalc_out o;

	if (!free_to_act(a) || a->n == 0 || a->n != a->count) {
		/* Missing samples are no use, not zero use. */
		if (a->calc.nsamples > 0)
			log_debug("autoscale %s/%s: %d samples of %d replicas: "
			    "the window starts again", a->stack, a->svc, a->n,
			    a->count);
		ascalc_clear(&a->calc);
		if (!free_to_act(a) || a->count < a->min || a->count > a->max)
			return;
	} else
		ascalc_sample(&a->calc, now, a->cpu / a->n, a->mem / a->n);
	if (!ascalc_decide(&a->calc, &a->cfg, a->min, a->max, a->count, now,
	    &o))
		return;
	if (strcmp(o.metric, "bounds") != 0) {
		a->last = o;
		a->evaluated = true;
	}
	if (o.dir == ASCALC_HOLD || now < a->next_ok) {
		log_debug("autoscale %s/%s: %s%s", a->stack, a->svc, o.reason,
		    o.dir != ASCALC_HOLD ? " (backing off after a failure)" :
		    "");
		return;
	}
	act(a, &o);
}

static void
on_tick(uv_timer_t *t)
{
	struct autoscale	*as = t->data;
	struct shipd		*sd = as->sd;
	const char		*names[AS_STACKS_MAX];
	struct astack		*k, **kp;
	struct asvc		*a, **ap;
	uint64_t		 now = now_ms();
	size_t			 n, i;

	if (as->stopped || sd->stopping || !sd->recovered || sd->store == NULL)
		return;
	for (k = as->stacks; k != NULL; k = k->next)
		k->seen = false;
	for (a = as->svcs; a != NULL; a = a->next) {
		a->seen = false;
		a->n = 0;
		a->cpu = a->mem = 0;
	}
	n = store_stacks(sd->store, names, AS_STACKS_MAX);
	for (i = 0; i < n; i++)
		sync_stack(as, names[i]);
	for (kp = &as->stacks; (k = *kp) != NULL;) {
		if (k->seen) {
			kp = &k->next;
			continue;
		}
		*kp = k->next;
		stack_free(k->st);
		free(k->name);
		free(k);
	}
	/* What is no longer autoscaled goes (once its scale ended). */
	for (ap = &as->svcs; (a = *ap) != NULL;) {
		if (a->seen) {
			ap = &a->next;
			continue;
		}
		*ap = a->next;
		a->gone = true;
		if (!a->running)
			asvc_free(a);
	}
	if (as->svcs == NULL)
		return;
	stats_foreach(sd, on_sample, as);
	for (a = as->svcs; a != NULL; a = a->next)
		evaluate(a, now);
}

void
autoscale_start(struct shipd *sd)
{
	struct autoscale *as;

	if (sd->autoscale != NULL)
		return;
	as = sd->autoscale = xcalloc(1, sizeof *as);
	as->sd = sd;
	/* Test knobs: a faster tick, a shorter backoff. */
	as->tick_ms = env_ms("SHIPD_TEST_AUTOSCALE_TICK_MS", AUTOSCALE_TICK_MS);
	as->backoff_min_ms = env_ms("SHIPD_TEST_AUTOSCALE_BACKOFF_MS",
	    AUTOSCALE_BACKOFF_MIN_MS);
	uv_timer_init(sd->loop, &as->timer);
	as->timer.data = as;
	uv_timer_start(&as->timer, on_tick, as->tick_ms, as->tick_ms);
	metrics_collector_add(collect, sd);
}

static void
on_closed(uv_handle_t *h)
{
	free(h->data);
}

void
autoscale_stop(struct shipd *sd)
{
	struct autoscale	*as = sd->autoscale;
	struct asvc		*a, *an;
	struct astack		*k, *kn;
	struct op		*op;

	if (as == NULL)
		return;
	as->stopped = true;
	for (op = sd->ops; op != NULL; op = op->next)
		if (op->autoscaling)
			op->on_end = NULL;
	for (a = as->svcs; a != NULL; a = an) {
		an = a->next;
		asvc_free(a);
	}
	for (k = as->stacks; k != NULL; k = kn) {
		kn = k->next;
		stack_free(k->st);
		free(k->name);
		free(k);
	}
	metrics_collector_del(collect, sd);
	uv_timer_stop(&as->timer);
	uv_close((uv_handle_t *)&as->timer, on_closed);
	sd->autoscale = NULL;
}

static json_t *
pct(double v)
{
	return v < 0 ? json_null() : json_real(v);
}

json_t *
autoscale_status(struct shipd *sd, const char *stack)
{
	struct autoscale	*as = sd->autoscale;
	struct asvc		*a;
	json_t			*o = NULL;
	char			 t[32];

	if (as == NULL)
		return NULL;
	/* What a scale recorded a moment ago, not at the next tick. */
	if (sd->store != NULL && !as->stopped)
		sync_stack(as, stack);
	for (a = as->svcs; a != NULL; a = a->next) {
		if (a->gone || strcmp(a->stack, stack) != 0)
			continue;
		if (o == NULL)
			o = json_object();
		if (a->decided != 0)
			fmt_time_utc(t, sizeof t, (long long)a->decided);
		json_object_set_new(o, a->svc, json_pack("{s:i, s:i, s:i, s:o, "
		    "s:o, s:o, s:o, s:o, s:o, s:o, s:b}",
		    "min_replicas", a->min, "max_replicas", a->max,
		    "replicas", a->count,
		    "cpu_target", a->cfg.cpu ? json_integer(a->cfg.cpu) :
			json_null(),
		    "memory_target", a->cfg.memory ?
			json_integer(a->cfg.memory) : json_null(),
		    "cpu_average", a->evaluated ? pct(a->last.cpu) :
			json_null(),
		    "memory_average", a->evaluated ? pct(a->last.mem) :
			json_null(),
		    "last_evaluation", a->evaluated ?
			json_string(a->last.reason) : json_null(),
		    "last_decision", a->decided ? json_string(a->decision) :
			json_null(),
		    "last_decision_time", a->decided ? json_string(t) :
			json_null(),
		    "scaling", a->running));
	}
	return o;
}

/* The gauges, at scrape time: what each autoscaled service wants and
 * the averages it saw. */
static void
collect(struct buf *b, void *arg)
{
	struct shipd		*sd = arg;
	struct autoscale	*as = sd->autoscale;
	struct asvc		*a;

	metrics_family(b, "shipd_autoscale_desired_replicas", "gauge",
	    "The replica count the autoscaler holds the service at");
	for (a = as ? as->svcs : NULL; a != NULL; a = a->next)
		if (!a->gone)
			metrics_sample(b, "shipd_autoscale_desired_replicas",
			    (double)(a->running ? a->acting.to : a->count),
			    "stack", a->stack, "service", a->svc, NULL);
	metrics_family(b, "shipd_autoscale_utilization_percent", "gauge",
	    "The replicas' average use over the window, percent of the limit");
	for (a = as ? as->svcs : NULL; a != NULL; a = a->next) {
		if (a->gone || !a->evaluated)
			continue;
		if (a->last.cpu >= 0)
			metrics_sample(b, "shipd_autoscale_utilization_percent",
			    a->last.cpu, "stack", a->stack, "service", a->svc,
			    "resource", "cpu", NULL);
		if (a->last.mem >= 0)
			metrics_sample(b, "shipd_autoscale_utilization_percent",
			    a->last.mem, "stack", a->stack, "service", a->svc,
			    "resource", "memory", NULL);
	}
}
