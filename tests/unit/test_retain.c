/*
 * Backup retention's choice (daemon/backup/retain.c): each class keeps its
 * own `keep` newest per service, pinned backups always stay, and backups
 * written before classes count as what their reason says, else manual.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "backup/backup_int.h"

/* Backups oldest first: "id:class" for one service "db". */
static json_t *
list(const char *const *spec, size_t n)
{
	json_t	*a = json_array();
	char	 id[64], *colon;
	size_t	 i;

	for (i = 0; i < n; i++) {
		snprintf(id, sizeof id, "%s", spec[i]);
		if ((colon = strchr(id, ':')) != NULL)
			*colon++ = '\0';
		json_array_append_new(a, colon ? json_pack("{s:s, s:s, s:[s]}",
		    "id", id, "class", colon, "services", "db") :
		    json_pack("{s:s, s:[s]}", "id", id, "services", "db"));
	}
	return a;
}

/* The ids removed, joined with spaces. */
static char *
pick(json_t *backups, int keep, json_t *pinned)
{
	json_t	*k = json_pack("{s:i}", "db", keep), *gone, *v;
	char	*out = calloc(1, 512);
	size_t	 i;

	gone = backup_retain_select(backups, k, 7, pinned);
	json_array_foreach(gone, i, v) {
		if (i > 0)
			strcat(out, " ");
		strcat(out, json_string_value(v));
	}
	json_decref(gone);
	json_decref(k);
	json_decref(backups);
	json_decref(pinned);
	return out;
}

#define PICK(want, spec, keep, pinned) do {				\
	char *got_ = pick(list(spec, sizeof spec / sizeof spec[0]),	\
	    keep, pinned);						\
	assert_string_equal(got_, want);				\
	free(got_);							\
} while (0)

/* The scenario: with keep 2, a manual backup, two restores' safety
 * backups and a deploy's backup all stay; on main B0 went. */
static void
test_classes_counted_apart(void **state)
{
	static const char *const s[] = { "b0:manual", "s1:safety",
	    "s2:safety", "d1:deploy" };

	(void)state;
	PICK("", s, 2, NULL);
}

static void
test_each_class_keeps_its_newest(void **state)
{
	static const char *const s[] = { "m1:manual", "s1:safety",
	    "m2:manual", "d1:deploy", "s2:safety", "d2:deploy", "m3:manual",
	    "s3:safety", "d3:deploy" };

	(void)state;
	PICK("m1 s1 d1", s, 2, NULL);
	PICK("m1 s1 m2 d1 s2 d2", s, 1, NULL);
}

/* A pinned backup (a kept revision's, or the one a restore reads) stays
 * past its class's count; the others still go. */
static void
test_pinned_stays(void **state)
{
	static const char *const s[] = { "m1:manual", "m2:manual",
	    "m3:manual", "m4:manual" };

	(void)state;
	PICK("m2", s, 2, json_pack("[s, s]", "m1", "nope"));
	PICK("", s, 1, json_pack("[s, s, s]", "m1", "m2", "m3"));
}

/* No class: the reason when it names one (see backup_class_of), else
 * manual.  backup_retain_select itself treats a missing class as manual. */
static void
test_unclassed_is_manual(void **state)
{
	static const char *const s[] = { "old1", "old2", "m1:manual",
	    "x:bogus" };
	json_t *m;

	(void)state;
	PICK("old1 old2", s, 2, NULL);
	m = json_pack("{s:s}", "reason", "safety");
	assert_string_equal(backup_class_of(m), "safety");
	json_decref(m);
	m = json_pack("{s:s, s:s}", "reason", "safety", "class", "deploy");
	assert_string_equal(backup_class_of(m), "deploy");
	json_decref(m);
	m = json_pack("{s:s}", "reason", "nightly");
	assert_string_equal(backup_class_of(m), "manual");
	json_decref(m);
	m = json_object();
	assert_string_equal(backup_class_of(m), "manual");
	json_decref(m);
}

/* A backup stays while any service it holds still counts it. */
static void
test_any_service_keeps_it(void **state)
{
	json_t	*a = json_array();
	char	*got;

	(void)state;
	json_array_append_new(a, json_pack("{s:s, s:s, s:[s, s]}", "id", "ab",
	    "class", "manual", "services", "db", "web"));
	json_array_append_new(a, json_pack("{s:s, s:s, s:[s]}", "id", "a2",
	    "class", "manual", "services", "db"));
	json_array_append_new(a, json_pack("{s:s, s:s, s:[s]}", "id", "a3",
	    "class", "manual", "services", "db"));
	/* db keeps 2 (a3, a2); web keeps the default 7, so ab stays. */
	got = pick(a, 2, NULL);
	assert_string_equal(got, "");
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes_counted_apart),
		cmocka_unit_test(test_each_class_keeps_its_newest),
		cmocka_unit_test(test_pinned_stays),
		cmocka_unit_test(test_unclassed_is_manual),
		cmocka_unit_test(test_any_service_keeps_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
