/*
 * The supervisor's backoff and crash-loop rules (ops/healpol.c), on a
 * clock of the test's own, and the unit key on_unhealthy read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ops/heal.h"
#include "unit.h"

/* 10s, 20s, 40s ... up to 5 minutes between heals. */
static void
test_backoff(void **state)
{
	struct heal_pol	p;
	uint64_t	now = 1000000, want = HEAL_BACKOFF_MIN_MS;
	int		i;

	(void)state;
	heal_pol_init(&p);
	p.loop_count = 100;
	p.loop_window_ms = 1;		/* no loop here */
	assert_int_equal(heal_pol_delay(&p, now), 0);
	for (i = 0; i < 8; i++) {
		assert_false(heal_pol_record(&p, now));
		assert_int_equal(heal_pol_delay(&p, now), want);
		assert_int_equal(heal_pol_delay(&p, now + want / 2),
		    want - want / 2);
		assert_int_equal(heal_pol_delay(&p, now + want + 1), 0);
		now += want;
		want *= 2;
		if (want > HEAL_BACKOFF_MAX_MS)
			want = HEAL_BACKOFF_MAX_MS;
	}
	assert_int_equal(want, HEAL_BACKOFF_MAX_MS);
	heal_pol_reset(&p);
	assert_int_equal(heal_pol_delay(&p, now), 0);
	assert_false(heal_pol_record(&p, now));
	assert_int_equal(heal_pol_delay(&p, now), HEAL_BACKOFF_MIN_MS);
}

/* N heals inside the window: the next is refused as a crash loop, and
 * stays so until a reset; heals spread wider than the window are not. */
static void
test_crash_loop(void **state)
{
	struct heal_pol	p;
	uint64_t	now = 5000;
	unsigned	i;

	(void)state;
	heal_pol_init(&p);
	for (i = 0; i < HEAL_LOOP_COUNT; i++) {
		now += heal_pol_delay(&p, now);
		assert_false(heal_pol_record(&p, now));
	}
	now += heal_pol_delay(&p, now);
	assert_true(now - 5000 < HEAL_LOOP_WINDOW_MS);
	assert_true(heal_pol_record(&p, now));
	assert_true(p.crash_loop);
	assert_int_equal(heal_pol_delay(&p, now), UINT64_MAX);
	assert_int_equal(heal_pol_delay(&p, now + HEAL_LOOP_WINDOW_MS * 10),
	    UINT64_MAX);
	heal_pol_reset(&p);
	assert_false(p.crash_loop);
	assert_int_equal(heal_pol_delay(&p, now), 0);

	/* One heal per window and a bit: never a loop. */
	heal_pol_init(&p);
	p.backoff_max_ms = p.backoff_min_ms;
	for (i = 0; i < 3 * HEAL_LOOP_COUNT; i++) {
		assert_false(heal_pol_record(&p, now));
		now += HEAL_LOOP_WINDOW_MS / (HEAL_LOOP_COUNT - 1);
	}
}

static void
test_names(void **state)
{
	enum unit_heal h = HEAL_DEFAULT;

	(void)state;
	assert_null(unit_heal_name(HEAL_DEFAULT));
	assert_int_equal(unit_heal_parse("none", &h), 0);
	assert_int_equal(h, HEAL_NONE);
	assert_string_equal(unit_heal_name(h), "none");
	assert_int_equal(unit_heal_parse("restart", &h), 0);
	assert_string_equal(unit_heal_name(h), "restart");
	assert_int_equal(unit_heal_parse("always", &h), -1);
	assert_int_equal(h, HEAL_RESTART);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_crash_loop),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("heal", tests, NULL, NULL);
}
