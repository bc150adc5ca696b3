/*
 * The unit-file writer's round trip: a stack written with stack_write_dir
 * and loaded again with stack_load_dir is the same stack (the same
 * stack_to_json but for where it was read from, the same spec hash for
 * every unit): on the demo units/, on the loader's reference stack, and on
 * a stack of values that are easy to write wrongly.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit.h"
#include "unitemit.h"
#include "util.h"

static char *const no_env[] = { NULL };

/* A directory of the source tree, from the tree or the binary's. */
static char *
srcdir(const char *rel)
{
	char	 exe[PATH_MAX], *p, *path;
	ssize_t	 n;

	if (access(rel, R_OK) == 0)
		return xstrdup(rel);
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) < 0)
		fail_msg("cannot find %s", rel);
	exe[n] = '\0';
	if ((p = strstr(exe, "/build")) != NULL)
		*p = '\0';
	xasprintf(&path, "%s/%s", exe, rel);
	return path;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
rmtree(char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static struct stack *
load_ok(const char *dir, char *const *env)
{
	struct diag_list	 errs;
	struct stack		*s = NULL;
	size_t			 i;
	char			*m;
	int			 rc;

	diag_init(&errs);
	rc = stack_load_dir(dir, env, &s, &errs);
	for (i = 0; i < errs.n; i++) {
		m = diag_format(&errs.v[i]);
		print_message("  diag: %s\n", m);
		free(m);
	}
	assert_int_equal(rc, 0);
	diag_free(&errs);
	return s;
}

/* Where a value was read from is not part of it. */
static void
strip_where(json_t *j)
{
	const char	*k;
	json_t		*v;
	void		*tmp;
	size_t		 i;

	if (json_is_object(j)) {
		json_object_foreach_safe(j, tmp, k, v) {
			if (strcmp(k, "line") == 0 || strcmp(k, "col") == 0 ||
			    strcmp(k, "file") == 0 || strcmp(k, "dir") == 0)
				json_object_del(j, k);
			else
				strip_where(v);
		}
	} else if (json_is_array(j))
		json_array_foreach(j, i, v)
			strip_where(v);
}

/* Write s out, load it back, and compare. */
static void
round_trip(struct stack *s)
{
	struct stack	*back;
	json_t		*a, *b;
	char		*dir = xstrdup("/tmp/shipd-emit-XXXXXX"), *err, *sa, *sb;
	char		 ha[65], hb[65];
	size_t		 i;

	assert_non_null(mkdtemp(dir));
	if (stack_write_dir(s, dir, &err) != 0)
		fail_msg("stack_write_dir: %s", err);
	back = load_ok(dir, no_env);
	a = stack_to_json(s);
	b = stack_to_json(back);
	strip_where(a);
	strip_where(b);
	sa = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT);
	sb = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
	if (!json_equal(a, b))
		fail_msg("round trip differs:\n%s\n%s", sa, sb);
	assert_int_equal(s->nunits, back->nunits);
	for (i = 0; i < s->nunits; i++) {
		unit_spec_hash(s->units[i], ha);
		unit_spec_hash(back->units[i], hb);
		assert_string_equal(ha, hb);
	}
	free(sa);
	free(sb);
	json_decref(a);
	json_decref(b);
	stack_free(back);
	rmtree(dir);
}

static void
test_demo(void **state)
{
	char		*dir = srcdir("units");
	struct stack	*s = load_ok(dir, no_env);

	round_trip(s);
	stack_free(s);
	free(dir);
}

static void
test_reference(void **state)
{
	char		*dir = srcdir("tests/unit/data/units/valid");
	struct stack	*s = load_ok(dir, no_env);

	round_trip(s);
	stack_free(s);
	free(dir);
}

/* Values that a careless writer gets wrong: $ (expanded on load), strings
 * YAML reads as booleans, numbers or nulls, empty ones, quotes, newlines,
 * IPv6 hosts, exact sizes and CPU fractions, every kind of health check. */
static void
test_tricky(void **state)
{
	static const struct { const char *name, *text; } files[] = {
		{ "stack.yaml", "name: tricky\nnetworks: [backend]\n"
		    "volumes: [v1]\nretain: 0\n" },
		{ "a.yaml",
		    "image: 'busybox:1.36'\n"
		    "command: ['sh', '-c', 'echo $$HOME \"q\" ''s''']\n"
		    "entrypoint: []\n"
		    "environment:\n"
		    "  DOLLAR: '$$5 and $${X}'\n"
		    "  T: 'true'\n  N: 'null'\n  NUM: '0x10'\n  E: ''\n"
		    "  NL: \"a\\nb\\tc\"\n  U: \"h\\u00e9llo\"\n"
		    "  SP: ' lead and trail '\n  HASH: 'a #b'\n"
		    "ports: ['[::1]:8080:80/tcp', '127.0.0.1:53:53/udp', '9000']\n"
		    "volumes: ['v1:/data:ro', '/tmp:/host']\n"
		    "networks: [backend, default]\n"
		    "health: {http: {port: 80, path: '/h?x=1&y=$$z'}, interval: 1m30s500ms,"
		    " timeout: 2s, retries: 7, start_period: 0, start_interval: 0}\n"
		    "replicas: 0\n"
		    "update: {order: stop-first, parallelism: 3, healthy_deadline: 1h,"
		    " monitor: 250ms, deadline: 2h, on_failure: pause}\n"
		    "restart: on-failure:3\n"
		    "stop_grace: 0\nstop_signal: SIGRTMIN+3\n"
		    "resources: {memory: 1536M, cpus: 0.125}\n"
		    "labels: {com.example.yes: 'no', 'x y': 'on'}\n"
		    "user: '1000:1000'\nworking_dir: /srv/a b\n"
		    "backup: {paths: [/data], pre: 'dump > /data/x', stop: true,"
		    " keep: 2, timeout: 45s}\n" },
		{ "b.yaml", "image: x/b\nhealth: {tcp: 5432}\nrestart: 'no'\n"
		    "resources: {memory: 6291457}\ndepends_on: {a: started}\n" },
		{ "c.yaml", "image: x/c\nhealth: {test: [NONE]}\n"
		    "depends_on: {a: healthy, b: started}\n" },
		{ "d.yaml", "image: x/d\nupdate: {order: start-first}\nhealth: {interval: 3s, start_interval: 7ms}\n"
		    "command: run\nrestart: always\nresources: {cpus: 4096}\n" },
		{ "e.yaml", "image: x/e\nhealth: {test: 'wget -q -O- http://x/'}\n"
		    "depends_on: {d: started}\n" },
	};
	char		*dir = xstrdup("/tmp/shipd-emit-src-XXXXXX"), *path;
	struct stack	*s;
	FILE		*f;
	size_t		 i;

	assert_non_null(mkdtemp(dir));
	for (i = 0; i < nitems(files); i++) {
		xasprintf(&path, "%s/%s", dir, files[i].name);
		assert_non_null(f = fopen(path, "w"));
		fputs(files[i].text, f);
		fclose(f);
		free(path);
	}
	s = load_ok(dir, no_env);
	/* What the fixture means to test is really in it. */
	assert_string_equal(stack_unit(s, "a")->env[0].value, "$5 and ${X}");
	assert_int_equal(stack_unit(s, "a")->nano_cpus, 125000000);
	assert_int_equal(stack_unit(s, "a")->health.interval_ms, 90500);
	round_trip(s);
	stack_free(s);
	rmtree(dir);
}

/* The text itself: a default written out, a $ doubled, a boolean-looking
 * string quoted. */
static void
test_text(void **state)
{
	char		*dir = srcdir("units"), *err;
	struct stack	*s = load_ok(dir, no_env);
	struct buf	 b;

	buf_init(&b);
	assert_int_equal(unit_emit_yaml(stack_unit(s, "api"), &b, &err), 0);
	assert_non_null(strstr(b.data, "replicas: 2\n"));
	assert_non_null(strstr(b.data, "stop_grace: 5s\n"));
	assert_non_null(strstr(b.data, "restart: unless-stopped\n"));
	assert_non_null(strstr(b.data, "on_failure: rollback\n"));
	buf_reset(&b);
	assert_int_equal(unit_emit_yaml(stack_unit(s, "migrate"), &b, &err), 0);
	assert_non_null(strstr(b.data, "restart: \"no\"\n"));
	buf_reset(&b);
	assert_int_equal(stack_emit_yaml(s, &b, &err), 0);
	assert_non_null(strstr(b.data, "name: demo\n"));
	assert_non_null(strstr(b.data, "retain: 2\n"));
	buf_free(&b);
	stack_free(s);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo),
		cmocka_unit_test(test_reference),
		cmocka_unit_test(test_tricky),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
