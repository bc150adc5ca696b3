/*
 * The small parsers every loader shares: durations and sizes (util.c),
 * KEY=VALUE mappings and lists (ytree_kv), lexical path cleaning and the
 * string vectors, each with what it accepts and what it refuses.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"
#include "dockerignore.h"
#include "util.h"
#include "ytree.h"

/* ---- durations ----------------------------------------------------------- */

static void
test_duration_ok(void **state)
{
	static const struct { const char *s; uint64_t ms; } ok[] = {
		{ "0", 0 }, { "0s", 0 }, { "500ms", 500 }, { "5s", 5000 },
		{ "2m", 120000 }, { "1h", 3600000 }, { "1m30s", 90000 },
		{ "1h2m3s4ms", 3723004 }, { "90s", 90000 },
		{ "1s500ms", 1500 }, { "2m2m", 240000 }, { "007s", 7000 },
	};
	uint64_t	v;
	size_t		i;

	for (i = 0; i < nitems(ok); i++) {
		v = 12345;
		if (parse_duration_ms(ok[i].s, &v) != 0)
			fail_msg("'%s' refused", ok[i].s);
		if (v != ok[i].ms)
			fail_msg("'%s' gave %llu, not %llu", ok[i].s,
			    (unsigned long long)v,
			    (unsigned long long)ok[i].ms);
	}
}

static void
test_duration_bad(void **state)
{
	static const char *const bad[] = {
		"", "5", "00", "s", "ms", "1.5s", "-1s", "+1s", " 1s", "1s ",
		"1 s", "5x", "5sec", "1d", "1M", "1S", "5us", "1m30", "m5",
		"99999999999999999999ms", "18446744073709551615s",
	};
	uint64_t	v = 77;
	size_t		i;

	for (i = 0; i < nitems(bad); i++)
		if (parse_duration_ms(bad[i], &v) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(v, 77);	/* left alone */
	assert_int_equal(parse_duration_ms(NULL, &v), -EINVAL);
}

/* ---- sizes --------------------------------------------------------------- */

static void
test_size_ok(void **state)
{
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "0", 0 }, { "512", 512 }, { "1k", 1024 }, { "1K", 1024 },
		{ "512M", 512ULL << 20 }, { "512m", 512ULL << 20 },
		{ "512MB", 512ULL << 20 }, { "512Mb", 512ULL << 20 },
		{ "512MiB", 512ULL << 20 }, { "1g", 1ULL << 30 },
		{ "2T", 2ULL << 40 }, { "16777215T", 16777215ULL << 40 },
	};
	uint64_t	v;
	size_t		i;

	for (i = 0; i < nitems(ok); i++) {
		if (parse_size(ok[i].s, &v) != 0)
			fail_msg("'%s' refused", ok[i].s);
		if (v != ok[i].v)
			fail_msg("'%s' gave %llu", ok[i].s,
			    (unsigned long long)v);
	}
}

static void
test_size_bad(void **state)
{
	static const char *const bad[] = {
		"", "M", "1.5G", "-1", "1P", "1MBx", "1 M", "1Mi", "1kk",
		"1MIB", "16777216T", "99999999999999999999",
	};
	uint64_t	v = 77;
	size_t		i;

	for (i = 0; i < nitems(bad); i++)
		if (parse_size(bad[i], &v) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(v, 77);
	assert_int_equal(parse_size(NULL, &v), -EINVAL);
}

/* ---- decimals (cpus) ----------------------------------------------------- */

static void
test_decimal(void **state)
{
	static const struct { const char *s; double v; } ok[] = {
		{ "0", 0 }, { "1", 1 }, { "0.5", 0.5 }, { ".5", 0.5 },
		{ "2.", 2 }, { "4096", 4096 }, { "0.01", 0.01 },
		{ "1.00000000000000000000", 1 },
	};
	static const char *const bad[] = {
		"", ".", "-1", "+1", " 1", "1 ", "1e3", "inf", "nan", "0x10",
		"1.2.3", "1,5", "..5",
	};
	double	v;
	size_t	i;

	for (i = 0; i < nitems(ok); i++) {
		if (parse_decimal(ok[i].s, &v) != 0)
			fail_msg("'%s' refused", ok[i].s);
		assert_true(v == ok[i].v);
	}
	v = 7;
	for (i = 0; i < nitems(bad); i++)
		if (parse_decimal(bad[i], &v) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	assert_true(v == 7);
}

/* ---- KEY=VALUE ----------------------------------------------------------- */

static struct diag_list	 errs;
static struct buf	 seen;

static int
setup(void **state)
{
	diag_init(&errs);
	buf_init(&seen);
	return 0;
}

static int
teardown(void **state)
{
	diag_free(&errs);
	buf_free(&seen);
	return 0;
}

/* Each entry as "path|epath|key=value" (value "-" for none), at its line. */
static void
note(struct yctx *c, const struct ykv *e, void *obj)
{
	buf_printf(&seen, "%s%d %s|%s|%s=%s", seen.len > 0 ? "\n" : "",
	    e->at->line, e->path, e->epath, e->key,
	    e->value != NULL ? e->value : "-");
}

/* Walk the value of "env:" in text; what ytree_kv returned. */
static bool
walk(const char *text, bool bare)
{
	struct yctx	 c;
	struct ynode	*root;
	bool		 ok;

	memset(&c, 0, sizeof c);
	c.file = "t.yaml";
	c.errs = &errs;
	assert_int_equal(ytree_parse(&c, text, strlen(text), &root), 0);
	assert_int_equal(root->type, Y_MAP);
	ok = ytree_kv(&c, "env", root->kids[1], bare, note, NULL);
	ytree_free(root);
	return ok;
}

static void
one_err(const char *want)
{
	char *s;

	assert_int_equal(errs.n, 1);
	s = diag_format(&errs.v[0]);
	if (strcmp(s, want) != 0)
		fail_msg("error '%s', not '%s'", s, want);
	free(s);
}

static void
test_kv_map(void **state)
{
	assert_true(walk("env:\n  A: 1\n  B: \"x=y\"\n  C: \"\"\n", false));
	assert_int_equal(errs.n, 0);
	assert_string_equal(seen.data, "2 env|env.A|A=1\n3 env|env.B|B=x=y\n"
	    "4 env|env.C|C=");
}

static void
test_kv_list(void **state)
{
	assert_true(walk("env:\n  - A=1\n  - B=x=y\n  - C=\n", false));
	assert_int_equal(errs.n, 0);
	assert_string_equal(seen.data, "2 env[0]|env[0]|A=1\n"
	    "3 env[1]|env[1]|B=x=y\n4 env[2]|env[2]|C=");
}

/* Without bare, an entry with no value is the walker's error... */
static void
test_kv_novalue_refused(void **state)
{
	assert_true(walk("env:\n  - A=1\n  - NOEQ\n", false));
	one_err("t.yaml:3:5: env[1]: expected KEY=VALUE, got 'NOEQ'");
	assert_string_equal(seen.data, "2 env[0]|env[0]|A=1");
	diag_free(&errs);
	diag_init(&errs);
	buf_free(&seen);
	buf_init(&seen);
	assert_true(walk("env:\n  A:\n  B: 2\n", false));
	one_err("t.yaml:2:5: env.A: no value; write A: \"\" for an empty "
	    "string");
	assert_string_equal(seen.data, "3 env|env.B|B=2");
}

/* ...and with it, the caller's (compose passes the caller's variable). */
static void
test_kv_novalue_bare(void **state)
{
	assert_true(walk("env:\n  - NOEQ\n", true));
	assert_true(walk("env:\n  A: ~\n  B: null\n", true));
	assert_int_equal(errs.n, 0);
	assert_string_equal(seen.data, "2 env[0]|env[0]|NOEQ=-\n"
	    "2 env|env.A|A=-\n3 env|env.B|B=-");
}

static void
test_kv_wrong_types(void **state)
{
	assert_false(walk("env: 5\n", true));
	one_err("t.yaml:1:6: env: expected a mapping or a list of KEY=VALUE, "
	    "got a scalar");
	diag_free(&errs);
	diag_init(&errs);
	/* A value that is no string is reported and skipped, in both. */
	assert_true(walk("env:\n  A: [1]\n  B: 2\n", true));
	assert_int_equal(errs.n, 1);
	assert_string_equal(seen.data, "3 env|env.B|B=2");
	diag_free(&errs);
	diag_init(&errs);
	buf_reset(&seen);
	assert_true(walk("env:\n  - {A: 1}\n", true));
	assert_int_equal(errs.n, 1);
	assert_int_equal(seen.len, 0);
}

/* ---- paths and vectors --------------------------------------------------- */

static void
test_path_clean(void **state)
{
	static const struct { const char *in, *out; } v[] = {
		{ "/", "/" }, { "//", "/" }, { "/a/b", "/a/b" },
		{ "/a//b/", "/a/b" }, { "/a/./b", "/a/b" },
		{ "/a/../b", "/b" }, { "/../..", "/" }, { "/a/b/..", "/a" },
		{ "/a/..b/c", "/a/..b/c" }, { "/.x", "/.x" },
	};
	char	*s;
	size_t	 i;

	for (i = 0; i < nitems(v); i++) {
		s = path_clean(v[i].in);
		if (strcmp(s, v[i].out) != 0)
			fail_msg("'%s' gave '%s', not '%s'", v[i].in, s,
			    v[i].out);
		free(s);
	}
}

/* A .dockerignore pattern is cleaned as a path under the context. */
static void
test_dockerignore_clean(void **state)
{
	static const char text[] = "/a/b\n./c//d/\n../e\nf/../g\n!/h/./i\n"
	    "/\n";
	static const char *const want[] = { "a/b", "c/d", "e", "g", "h/i" };
	struct dockerignore	 di;
	size_t			 i;

	dockerignore_parse(&di, text, strlen(text));
	assert_true(di.n >= nitems(want));
	for (i = 0; i < nitems(want); i++)
		assert_string_equal(di.v[i].pat, want[i]);
	assert_true(di.v[4].negate);
	dockerignore_free(&di);
}

static void
test_strv(void **state)
{
	char **v = NULL;

	assert_false(strv_contains(v, "a"));
	strv_push(&v, xstrdup("a"));
	strv_push(&v, xstrdup("b"));
	assert_true(strv_contains(v, "a"));
	assert_true(strv_contains(v, "b"));
	assert_false(strv_contains(v, "c"));
	assert_string_equal(v[1], "b");
	assert_null(v[2]);
	strv_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_ok),
		cmocka_unit_test(test_duration_bad),
		cmocka_unit_test(test_size_ok),
		cmocka_unit_test(test_size_bad),
		cmocka_unit_test(test_decimal),
		cmocka_unit_test_setup_teardown(test_kv_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kv_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kv_novalue_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_kv_novalue_bare, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_kv_wrong_types, setup,
		    teardown),
		cmocka_unit_test(test_path_clean),
		cmocka_unit_test(test_dockerignore_clean),
		cmocka_unit_test(test_strv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
