/*
 * parse_rfc3339: the times shipctl logs takes for --since/--until and the
 * engine's log timestamps shipd merges lines by.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util.h"

static void
test_forms(void **state)
{
	long long	sec;
	long		nsec;

	(void)state;
	assert_int_equal(parse_rfc3339("2026-11-23T00:12:04Z", &sec, &nsec),
	    20);
	assert_true(sec == 1795392724LL);
	assert_int_equal(nsec, 0);
	/* The engine's RFC3339Nano drops trailing zeros. */
	assert_int_equal(parse_rfc3339("2026-11-23T00:12:04.5Z tick 1",
	    &sec, &nsec), 22);
	assert_int_equal(nsec, 500000000);
	assert_int_equal(parse_rfc3339("2026-11-23T00:12:04.123456789Z",
	    &sec, &nsec), 30);
	assert_int_equal(nsec, 123456789);
	/* More digits than nanoseconds are read and cut. */
	assert_int_equal(parse_rfc3339("2026-11-23T00:12:04.1234567891Z",
	    &sec, &nsec), 31);
	assert_int_equal(nsec, 123456789);
	/* An offset, a lowercase t, a space. */
	assert_int_not_equal(parse_rfc3339("2026-11-23t01:12:04+01:00", &sec,
	    &nsec), 0);
	assert_true(sec == 1795392724LL);
	assert_int_not_equal(parse_rfc3339("2026-11-22 23:42:04-00:30", &sec,
	    &nsec), 0);
	assert_true(sec == 1795392724LL);
}

static void
test_refused(void **state)
{
	static const char *bad[] = {
		"", "10m", "2026-11-23", "2026-11-23T00:12:04",
		"2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
		"2026-11-23T24:00:00Z", "2026-11-23T00:60:00Z",
		"2026-11-23T00:12:04.Z", "2026-11-23T00:12:04+1:00",
		"2026/11/23T00:12:04Z", "20261123T001204Z",
	};
	long long	sec;
	long		nsec;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (parse_rfc3339(bad[i], &sec, &nsec) != 0)
			fail_msg("accepted %s", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests_name("time", tests, NULL, NULL);
}
