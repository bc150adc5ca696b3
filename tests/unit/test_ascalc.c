/*
 * The autoscaler's decisions (ops/ascalc.c) on a clock of the test's own:
 * a table of single decisions (recommendation, tolerance, the larger
 * target, policies, bounds), then the sequences that need time
 * (the window, the policies' periods, stabilization).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ops/ascalc.h"
#include "unit.h"

#define T0	1000000

static struct unit_autoscale
as_make(int min, int max, int cpu, int mem)
{
	struct unit_autoscale a;

	memset(&a, 0, sizeof a);
	a.present = true;
	a.min = min;
	a.max = max;
	a.cpu = cpu;
	a.memory = mem;
	a.up.max_step = 4;
	a.up.max_percent = 100;
	a.up.every_ms = 15000;
	a.down.max_percent = 100;
	a.down.every_ms = 15000;
	a.window_ms = 5000;
	a.stabilization_ms = 0;
	return a;
}

/* One sample a second from *now over the window, then the decision. */
static bool
feed(struct ascalc *c, const struct unit_autoscale *a, uint64_t *now,
    double cpu, double mem, int current, struct ascalc_out *o)
{
	uint64_t end = *now + a->window_ms;

	for (; *now <= end; *now += 1000)
		ascalc_sample(c, *now, cpu, mem);
	*now -= 1000;
	return ascalc_decide(c, a, a->min, a->max, current, *now, o);
}

struct row {
	const char	*what;
	int		 min, max, cpu_t, mem_t;
	int		 up_step, up_pct, down_step, down_pct;
	double		 cpu, mem;
	int		 current;
	enum ascalc_dir	 dir;
	int		 to;
	const char	*metric;
};

static const struct row rows[] = {
	{ "double the target doubles", 1, 10, 50, 0, 4, 100, 0, 100,
	  100, 0, 2, ASCALC_UP, 4, "cpu" },
	{ "inside the tolerance (1.08)", 1, 10, 50, 0, 4, 100, 0, 100,
	  54, 0, 2, ASCALC_HOLD, 2, "cpu" },
	{ "at the tolerance's edge (1.10)", 1, 10, 50, 0, 4, 100, 0, 100,
	  55, 0, 10, ASCALC_HOLD, 10, "cpu" },
	{ "just past it (1.12)", 1, 10, 50, 0, 4, 100, 0, 100,
	  56, 0, 2, ASCALC_UP, 3, "cpu" },
	{ "under the tolerance (0.92)", 1, 10, 50, 0, 4, 100, 0, 100,
	  46, 0, 4, ASCALC_HOLD, 4, "cpu" },
	{ "max_step 1 bounds up", 1, 10, 50, 0, 1, 0, 0, 100,
	  200, 0, 2, ASCALC_UP, 3, "cpu" },
	{ "max_percent 100 of 2 is 2", 1, 10, 50, 0, 0, 100, 0, 100,
	  500, 0, 2, ASCALC_UP, 4, "cpu" },
	{ "the larger of step and percent", 1, 20, 50, 0, 5, 100, 0, 100,
	  500, 0, 2, ASCALC_UP, 7, "cpu" },
	{ "percent rounds up going up", 1, 20, 50, 0, 0, 10, 0, 100,
	  100, 0, 3, ASCALC_UP, 4, "cpu" },
	{ "never above max", 1, 5, 50, 0, 4, 100, 0, 100,
	  500, 0, 2, ASCALC_UP, 5, "cpu" },
	{ "at max, nothing", 1, 5, 50, 0, 4, 100, 0, 100,
	  500, 0, 5, ASCALC_HOLD, 5, "cpu" },
	{ "the larger of cpu and memory", 1, 10, 50, 40, 4, 100, 0, 100,
	  50, 80, 2, ASCALC_UP, 4, "memory" },
	{ "cpu wins when it asks more", 1, 10, 50, 40, 4, 100, 0, 100,
	  150, 40, 2, ASCALC_UP, 6, "cpu" },
	{ "down by half", 1, 10, 50, 0, 4, 100, 0, 50,
	  5, 0, 4, ASCALC_DOWN, 2, "cpu" },
	{ "down percent rounds down (3 * 50%: 1)", 1, 10, 50, 0, 4, 100, 0, 50,
	  5, 0, 3, ASCALC_DOWN, 2, "cpu" },
	{ "down percent moves at least 1", 1, 10, 50, 0, 4, 100, 0, 10,
	  5, 0, 3, ASCALC_DOWN, 2, "cpu" },
	{ "down step", 1, 10, 50, 0, 4, 100, 3, 0,
	  1, 0, 8, ASCALC_DOWN, 5, "cpu" },
	{ "never under min", 2, 10, 50, 0, 4, 100, 0, 100,
	  1, 0, 4, ASCALC_DOWN, 2, "cpu" },
	{ "at min, nothing", 2, 10, 50, 0, 4, 100, 0, 100,
	  1, 0, 2, ASCALC_HOLD, 2, "cpu" },
	{ "zero use scales to the recommendation", 1, 10, 50, 0, 4, 100, 0,
	  100, 0, 0, 6, ASCALC_DOWN, 1, "cpu" },
	{ "above max after a bound moved", 1, 3, 50, 0, 4, 100, 0, 100,
	  50, 0, 5, ASCALC_DOWN, 3, "bounds" },
	{ "below min after a bound moved", 4, 8, 50, 0, 4, 100, 0, 100,
	  50, 0, 2, ASCALC_UP, 4, "bounds" },
};

static void
test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row	*r = &rows[i];
		struct unit_autoscale	 a = as_make(r->min, r->max, r->cpu_t,
		    r->mem_t);
		struct ascalc		 c;
		struct ascalc_out	 o;
		uint64_t		 now = T0;

		a.up.max_step = r->up_step;
		a.up.max_percent = r->up_pct;
		a.down.max_step = r->down_step;
		a.down.max_percent = r->down_pct;
		ascalc_init(&c);
		if (!feed(&c, &a, &now, r->cpu, r->mem, r->current, &o))
			fail_msg("%s: no decision", r->what);
		if (o.dir != r->dir || o.to != r->to ||
		    strcmp(o.metric, r->metric) != 0)
			fail_msg("%s: got dir %d to %d (%s), want dir %d to %d "
			    "(%s): %s", r->what, o.dir, o.to, o.metric, r->dir,
			    r->to, r->metric, o.reason);
		ascalc_free(&c);
	}
}

/* The reason reads as history shows it. */
static void
test_reason(void **state)
{
	struct unit_autoscale	a = as_make(1, 10, 70, 0);
	struct ascalc		c;
	struct ascalc_out	o;
	uint64_t		now = T0;

	(void)state;
	a.window_ms = 30000;
	ascalc_init(&c);
	assert_true(feed(&c, &a, &now, 92, 0, 2, &o));
	assert_string_equal(o.reason, "cpu 92% of 70% target over 30s: 2 -> 3");
	ascalc_free(&c);
}

/* No decision before the samples cover the window, nor after a gap. */
static void
test_window(void **state)
{
	struct unit_autoscale	a = as_make(1, 10, 50, 0);
	struct ascalc		c;
	struct ascalc_out	o;
	uint64_t		now = T0;

	(void)state;
	ascalc_init(&c);
	assert_false(ascalc_decide(&c, &a, 1, 10, 2, now, &o));
	for (; now < T0 + a.window_ms; now += 1000) {
		ascalc_sample(&c, now, 100, 0);
		assert_false(ascalc_decide(&c, &a, 1, 10, 2, now, &o));
	}
	ascalc_sample(&c, now, 100, 0);
	assert_true(ascalc_decide(&c, &a, 1, 10, 2, now, &o));
	assert_int_equal(o.to, 4);
	/* A replica went missing: start again. */
	ascalc_clear(&c);
	now += 1000;
	ascalc_sample(&c, now, 100, 0);
	assert_false(ascalc_decide(&c, &a, 1, 10, 2, now, &o));
	/* Only the window counts: old high use is forgotten. */
	ascalc_clear(&c);
	for (now = T0; now < T0 + 10000; now += 1000)
		ascalc_sample(&c, now, 500, 0);
	for (; now <= T0 + 16000; now += 1000)
		ascalc_sample(&c, now, 50, 0);
	now -= 1000;
	assert_true(ascalc_decide(&c, &a, 1, 10, 2, now, &o));
	assert_int_equal(o.dir, ASCALC_HOLD);
	ascalc_free(&c);
}

/* Up 1 per 5 s: a change, then held until the period is over. */
static void
test_every(void **state)
{
	struct unit_autoscale	a = as_make(1, 3, 50, 0);
	struct ascalc		c;
	struct ascalc_out	o;
	uint64_t		now = T0, t_up;

	(void)state;
	a.up.max_step = 1;
	a.up.max_percent = 0;
	a.up.every_ms = 12000;
	ascalc_init(&c);
	assert_true(feed(&c, &a, &now, 200, 0, 1, &o));
	assert_int_equal(o.dir, ASCALC_UP);
	assert_int_equal(o.to, 2);
	ascalc_done(&c, &o, now);
	t_up = now;
	now += 1000;
	/* The window again (5 s), still within the 12 s period. */
	assert_true(feed(&c, &a, &now, 200, 0, 2, &o));
	assert_true(now < t_up + a.up.every_ms);
	assert_int_equal(o.dir, ASCALC_HOLD);
	assert_non_null(strstr(o.reason, "held"));
	while (now < t_up + a.up.every_ms) {
		now += 1000;
		ascalc_sample(&c, now, 200, 0);
		assert_true(ascalc_decide(&c, &a, 1, 3, 2, now, &o));
		if (now < t_up + a.up.every_ms)
			assert_int_equal(o.dir, ASCALC_HOLD);
	}
	assert_int_equal(o.dir, ASCALC_UP);
	assert_int_equal(o.to, 3);
	ascalc_free(&c);
}

/* A passing dip does not scale down: the highest recommendation of the
 * stabilization window stands. */
static void
test_stabilization(void **state)
{
	struct unit_autoscale	a = as_make(1, 10, 50, 0);
	struct ascalc		c;
	struct ascalc_out	o;
	uint64_t		now = T0, t_high;

	(void)state;
	a.stabilization_ms = 20000;
	a.window_ms = 2000;
	ascalc_init(&c);
	/* At 4 replicas, the use says 4. */
	assert_true(feed(&c, &a, &now, 50, 0, 4, &o));
	assert_int_equal(o.dir, ASCALC_HOLD);
	t_high = now;
	/* Then it drops: 2 wanted, held at 4 during stabilization. */
	ascalc_clear(&c);
	now += 1000;
	assert_true(feed(&c, &a, &now, 25, 0, 4, &o));
	assert_int_equal(o.dir, ASCALC_HOLD);
	assert_int_equal(o.want, 2);
	assert_non_null(strstr(o.reason, "highest"));
	while (now <= t_high + a.stabilization_ms) {
		now += 1000;
		ascalc_sample(&c, now, 25, 0);
		assert_true(ascalc_decide(&c, &a, 1, 10, 4, now, &o));
		if (now <= t_high + a.stabilization_ms)
			assert_int_equal(o.dir, ASCALC_HOLD);
	}
	assert_int_equal(o.dir, ASCALC_DOWN);
	assert_int_equal(o.to, 2);
	/* A brief rise in between resets nothing upwards: it just is the
	 * new highest. */
	ascalc_free(&c);
}

/* Bounds recorded by shipctl scale SERVICE=MIN:MAX stand while the unit
 * file's own are those they were given over. */
static void
test_bounds(void **state)
{
	struct unit	u;
	json_t		*o;
	int		min, max;

	(void)state;
	memset(&u, 0, sizeof u);
	u.autoscale = as_make(1, 10, 50, 0);
	u.replicas = 1;
	ascalc_bounds(&u, NULL, &min, &max);
	assert_int_equal(min, 1);
	assert_int_equal(max, 10);
	assert_int_equal(ascalc_count(&u, NULL), 1);
	o = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "replicas", 7,
	    "unit_replicas", 1, "min", 2, "max", 5, "unit_min", 1,
	    "unit_max", 10);
	ascalc_bounds(&u, o, &min, &max);
	assert_int_equal(min, 2);
	assert_int_equal(max, 5);
	assert_int_equal(ascalc_count(&u, o), 5);
	/* The file's max changed: its bounds again, the count kept. */
	u.autoscale.max = 8;
	ascalc_bounds(&u, o, &min, &max);
	assert_int_equal(min, 1);
	assert_int_equal(max, 8);
	assert_int_equal(ascalc_count(&u, o), 7);
	/* A changed replicas: does not reset an autoscaled count. */
	u.replicas = 3;
	assert_int_equal(ascalc_count(&u, o), 7);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_every),
		cmocka_unit_test(test_stabilization),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
