/*
 * The autoscaler's decisions (ascalc.h), in the manner of Kubernetes'
 * HorizontalPodAutoscaler: for each target, ceil(current * average /
 * target) replicas, nothing while average / target is within 10% of 1;
 * the larger of the CPU and memory answers; a scale-down goes only to the
 * highest count recommended during the stabilization window; each
 * direction moves at most its policy's bound per period; min and max
 * bound it all.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ascalc.h"
#include "util.h"

void
ascalc_init(struct ascalc *a)
{
	memset(a, 0, sizeof *a);
}

void
ascalc_free(struct ascalc *a)
{
	free(a->samples);
	free(a->recs);
	memset(a, 0, sizeof *a);
}

void
ascalc_clear(struct ascalc *a)
{
	a->nsamples = 0;
}

void
ascalc_sample(struct ascalc *a, uint64_t t, double cpu, double mem)
{
	if (a->nsamples == ASCALC_SAMPLES_MAX) {
		memmove(a->samples, a->samples + 1, (a->nsamples - 1) *
		    sizeof *a->samples);
		a->nsamples--;
	}
	if (a->nsamples == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->samples = xrealloc(a->samples, a->cap *
		    sizeof *a->samples);
	}
	a->samples[a->nsamples].t = t;
	a->samples[a->nsamples].cpu = cpu;
	a->samples[a->nsamples].mem = mem;
	a->nsamples++;
}

/* Drop what is older than the window; true when what is left covers it
 * (a sample came at least window ago, so the window saw no gap). */
static bool
window(struct ascalc *a, uint64_t window_ms, uint64_t now)
{
	size_t	 i = 0;
	bool	 covered = false;

	while (i < a->nsamples && a->samples[i].t + window_ms <= now) {
		covered = true;
		i++;
	}
	/* Keep the last one out of the window: it says the next tick is
	 * still covered. */
	if (i > 0) {
		i--;
		memmove(a->samples, a->samples + i, (a->nsamples - i) *
		    sizeof *a->samples);
		a->nsamples -= i;
	}
	return covered && a->nsamples > 1;
}

static void
push_rec(struct ascalc *a, uint64_t stab_ms, uint64_t now, int n)
{
	size_t i = 0;

	while (a->nrecs > 0 && a->recs[a->nrecs - 1].n <= n)
		a->nrecs--;
	if (a->nrecs == a->rcap) {
		a->rcap = a->rcap ? a->rcap * 2 : 16;
		a->recs = xrealloc(a->recs, a->rcap * sizeof *a->recs);
	}
	a->recs[a->nrecs].t = now;
	a->recs[a->nrecs].n = n;
	a->nrecs++;
	while (i + 1 < a->nrecs && a->recs[i].t + stab_ms < now)
		i++;
	if (i > 0) {
		memmove(a->recs, a->recs + i, (a->nrecs - i) *
		    sizeof *a->recs);
		a->nrecs -= i;
	}
}

/* How many replicas a policy lets move from current in one period. */
static int
allowed(const struct unit_scale_policy *p, int current, bool up)
{
	int by_step = p->max_step, by_pct = 0;

	if (p->max_percent > 0) {
		if (up)
			by_pct = (int)(((long long)current * p->max_percent +
			    99) / 100);
		else
			by_pct = (int)((long long)current * p->max_percent /
			    100);
		if (by_pct < 1)
			by_pct = 1;
	}
	return by_step > by_pct ? by_step : by_pct;
}

static void
fmt_ms(char *dst, size_t len, uint64_t ms)
{
	if (ms % 1000 == 0 && ms < 60000)
		snprintf(dst, len, "%llus", (unsigned long long)(ms / 1000));
	else
		fmt_duration_ms(dst, len, ms);
}

/* One target's recommendation; the tolerance keeps current. */
static int
recommend(int current, double avg, int target)
{
	double r = avg / target;

	if (fabs(r - 1.0) <= ASCALC_TOLERANCE)
		return current;
	return (int)ceil((double)current * r - 1e-9);
}

static int
clamp(int n, int min, int max)
{
	return n < min ? min : n > max ? max : n;
}

bool
ascalc_decide(struct ascalc *a, const struct unit_autoscale *as, int min,
    int max, int current, uint64_t now, struct ascalc_out *o)
{
	double	 cpu = 0, mem = 0;
	int	 rc = -1, rm = -1, want, high, room;
	char	 w[32], head[96];
	size_t	 i, n;

	memset(o, 0, sizeof *o);
	o->from = o->to = current;
	o->cpu = o->mem = -1;
	/* Out of bounds (a deploy or scale moved them): back within, now. */
	if (current < min || current > max) {
		o->to = o->want = clamp(current, min, max);
		o->dir = o->to > current ? ASCALC_UP : ASCALC_DOWN;
		o->metric = "bounds";
		snprintf(o->reason, sizeof o->reason, "outside the bounds %d "
		    "to %d: %d -> %d", min, max, current, o->to);
		return true;
	}
	if (!window(a, as->window_ms, now))
		return false;
	for (i = 0, n = 0; i < a->nsamples; i++) {
		if (a->samples[i].t + as->window_ms <= now)
			continue;	/* the one kept out of the window */
		cpu += a->samples[i].cpu;
		mem += a->samples[i].mem;
		n++;
	}
	cpu /= (double)n;
	mem /= (double)n;
	if (as->cpu > 0) {
		o->cpu = cpu;
		rc = recommend(current, cpu, as->cpu);
	}
	if (as->memory > 0) {
		o->mem = mem;
		rm = recommend(current, mem, as->memory);
	}
	if (rc >= rm) {
		o->metric = "cpu";
		o->value = cpu;
		o->target = as->cpu;
		want = rc;
	} else {
		o->metric = "memory";
		o->value = mem;
		o->target = as->memory;
		want = rm;
	}
	want = o->want = clamp(want, min, max);
	push_rec(a, as->stabilization_ms, now, want);
	high = a->recs[0].n;
	fmt_ms(w, sizeof w, as->window_ms);
	snprintf(head, sizeof head, "%s %.0f%% of %d%% target over %s",
	    o->metric, o->value, o->target, w);
	if (want > current) {
		if (a->last_up != 0 && now < a->last_up + as->up.every_ms) {
			fmt_ms(w, sizeof w, a->last_up + as->up.every_ms - now);
			snprintf(o->reason, sizeof o->reason, "%s: %d wanted, "
			    "held %s by the up policy", head, want, w);
			return true;
		}
		room = allowed(&as->up, current, true);
		o->to = want < current + room ? want : current + room;
		o->dir = ASCALC_UP;
	} else if (high < current) {
		if (a->last_down != 0 && now < a->last_down +
		    as->down.every_ms) {
			fmt_ms(w, sizeof w, a->last_down + as->down.every_ms -
			    now);
			snprintf(o->reason, sizeof o->reason, "%s: %d wanted, "
			    "held %s by the down policy", head, high, w);
			return true;
		}
		room = allowed(&as->down, current, false);
		o->to = high > current - room ? high : current - room;
		o->dir = ASCALC_DOWN;
	} else {
		if (want < current) {
			fmt_ms(w, sizeof w, as->stabilization_ms);
			snprintf(o->reason, sizeof o->reason, "%s: %d wanted, "
			    "held at %d, the highest of the last %s", head,
			    want, high, w);
		} else
			snprintf(o->reason, sizeof o->reason, "%s: %d", head,
			    current);
		return true;
	}
	o->to = clamp(o->to, min, max);
	if (o->to == current) {
		o->dir = ASCALC_HOLD;
		snprintf(o->reason, sizeof o->reason, "%s: %d", head, current);
	} else
		snprintf(o->reason, sizeof o->reason, "%s: %d -> %d", head,
		    current, o->to);
	return true;
}

void
ascalc_done(struct ascalc *a, const struct ascalc_out *o, uint64_t now)
{
	if (o->dir == ASCALC_UP)
		a->last_up = now;
	else if (o->dir == ASCALC_DOWN)
		a->last_down = now;
	/* New replicas, or fewer: what the old count used says nothing. */
	ascalc_clear(a);
}

void
ascalc_bounds(const struct unit *u, const json_t *o, int *min, int *max)
{
	*min = u->autoscale.min;
	*max = u->autoscale.max;
	if (json_is_integer(json_object_get(o, "min")) &&
	    json_integer_value(json_object_get(o, "unit_min")) == *min &&
	    json_integer_value(json_object_get(o, "unit_max")) == *max) {
		*min = (int)json_integer_value(json_object_get(o, "min"));
		*max = (int)json_integer_value(json_object_get(o, "max"));
	}
}

int
ascalc_count(const struct unit *u, const json_t *o)
{
	json_t	*n = json_object_get(o, "replicas");
	int	 min, max;

	ascalc_bounds(u, o, &min, &max);
	return clamp(json_is_integer(n) ? (int)json_integer_value(n) :
	    u->replicas, min, max);
}
