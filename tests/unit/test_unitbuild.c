/*
 * build: and pull_policy: in unit files and their JSON, and the
 * .dockerignore matcher that shipctl reads a build context with.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dockerignore.h"
#include "helper_stack.h"
#include "unit.h"
#include "unitemit.h"
#include "util.h"

/* A stack "bdstack" of one file, web.yaml, holding text. */
static int
load(const char *text, struct stack **s, struct diag_list *errs)
{
	const char *const files[] = { "web.yaml", text, NULL };

	return hs_load("bdstack", files, s, errs);
}

static void
test_build_map(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = NULL, *t = NULL;
	const struct unit	*u;
	json_t			*j1, *j2;
	char			 h1[65], h2[65];

	assert_int_equal(load(
	    "build:\n"
	    "  context: ./app/../app\n"
	    "  dockerfile: docker/Dockerfile.prod\n"
	    "  args: [B=2, A=1]\n"
	    "  target: prod\n"
	    "  labels: {team: web}\n"
	    "  cache_from: [shipd/x:1]\n"
	    "pull_policy: build\n", &s, &errs), 0);
	u = stack_unit(s, "web");
	assert_non_null(u);
	assert_true(u->build.present);
	assert_non_null(strstr(u->build.context, "/bdstack/app"));
	assert_null(strstr(u->build.context, ".."));
	assert_string_equal(u->build.dockerfile, "docker/Dockerfile.prod");
	assert_int_equal(u->build.nargs, 2);
	assert_string_equal(u->build.args[0].key, "A");	/* sorted */
	assert_string_equal(u->build.target, "prod");
	assert_string_equal(u->build.labels[0].value, "web");
	assert_string_equal(u->build.cache_from[0], "shipd/x:1");
	assert_int_equal(u->pull_policy, PULL_BUILD);
	/* No image: the stack's tag. */
	assert_string_equal(u->image, "shipd/bdstack-web:latest");

	j1 = stack_to_json(s);
	assert_int_equal(stack_from_json(j1, &t, &errs), 0);
	j2 = stack_to_json(t);
	assert_true(json_equal(j1, j2));
	u = stack_unit(t, "web");
	assert_string_equal(u->build.target, "prod");
	assert_int_equal(u->pull_policy, PULL_BUILD);
	/* The build is not part of the spec: the image ID it makes is. */
	unit_spec_hash(stack_unit(s, "web"), h1);
	unit_spec_hash(u, h2);
	assert_string_equal(h1, h2);
	json_decref(j1);
	json_decref(j2);
	stack_free(s);
	stack_free(t);
	diag_free(&errs);
}

static void
test_build_string_and_image(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = NULL;
	const struct unit	*u;
	json_t			*j;

	assert_int_equal(load("image: shipd-test/svc:9\nbuild: .\n", &s,
	    &errs), 0);
	u = stack_unit(s, "web");
	assert_true(u->build.present);
	assert_string_equal(u->build.dockerfile, "Dockerfile");
	assert_non_null(strstr(u->build.context, "/bdstack"));
	/* image: with build: is the tag the build makes. */
	assert_string_equal(u->image, "shipd-test/svc:9");
	assert_int_equal(u->pull_policy, PULL_MISSING);
	stack_free(s);
	diag_free(&errs);

	/* A unit without build: writes what it wrote before the key. */
	assert_int_equal(load("image: shipd-test/svc:1\n", &s, &errs), 0);
	j = stack_to_json(s);
	assert_null(json_object_get(json_array_get(json_object_get(j,
	    "units"), 0), "build"));
	assert_null(json_object_get(json_array_get(json_object_get(j,
	    "units"), 0), "pull_policy"));
	json_decref(j);
	stack_free(s);
	diag_free(&errs);
}

static void
test_build_errors(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = NULL;

	assert_int_equal(load("command: [a]\n", &s, &errs), -EINVAL);
	assert_true(hs_has_diag(&errs, "missing required key 'image' (or "
	    "'build')"));
	diag_free(&errs);
	assert_int_equal(load("build: {dockerfile: /etc/x}\n", &s, &errs),
	    -EINVAL);
	assert_true(hs_has_diag(&errs, "web.yaml:1:8: build: 'context' is "
	    "required"));
	assert_true(hs_has_diag(&errs, "build.dockerfile: '/etc/x': the "
	    "Dockerfile is a path inside the context"));
	diag_free(&errs);
	assert_int_equal(load("build: {context: ., labels: {io.shipd.x: a},"
	    " args: [NOEQ], target: ''}\n", &s, &errs), -EINVAL);
	assert_true(hs_has_diag(&errs, "keys starting with io.shipd. are"));
	assert_true(hs_has_diag(&errs, "expected KEY=VALUE, got 'NOEQ'"));
	assert_true(hs_has_diag(&errs, "build.target"));
	diag_free(&errs);
	assert_int_equal(load("build: https://x/y.git\n", &s, &errs),
	    -EINVAL);
	assert_true(hs_has_diag(&errs, "only a local directory can be a build "
	    "context"));
	diag_free(&errs);
	assert_int_equal(load("build: .\npull_policy: sometimes\n", &s,
	    &errs), -EINVAL);
	assert_true(hs_has_diag(&errs, "pull_policy: expected always, missing, "
	    "never or build, got 'sometimes'"));
	diag_free(&errs);
}

static void
test_build_json_errors(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = NULL, *t = NULL;
	json_t			*j, *u;

	assert_int_equal(load("build: .\n", &s, &errs), 0);
	j = stack_to_json(s);
	u = json_array_get(json_object_get(j, "units"), 0);
	json_object_set_new(json_object_get(u, "build"), "context",
	    json_string("rel"));
	json_object_set_new(u, "pull_policy", json_integer(1));
	assert_int_equal(stack_from_json(j, &t, &errs), -EINVAL);
	assert_true(hs_has_diag(&errs, "context: expected an absolute path"));
	assert_true(hs_has_diag(&errs, "pull_policy: expected always"));
	assert_null(t);
	json_decref(j);
	stack_free(s);
	diag_free(&errs);
}

/* shipctl config writes build: and pull_policy: out, and what it writes
 * loads back to the same unit. */
static void
test_build_emit(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = NULL, *t = NULL;
	struct buf		 b;
	json_t			*j1, *j2;
	char			*err = NULL;

	assert_int_equal(load("build:\n  context: .\n  args: {A: \"1\"}\n"
	    "  target: t\n  cache_from: [c:1]\npull_policy: never\n", &s,
	    &errs), 0);
	buf_init(&b);
	assert_int_equal(unit_emit_yaml(stack_unit(s, "web"), &b, &err), 0);
	assert_non_null(strstr(b.data, "pull_policy: never"));
	assert_non_null(strstr(b.data, "target: t"));
	assert_int_equal(load(b.data, &t, &errs), 0);
	j1 = unit_build_json(&stack_unit(s, "web")->build);
	j2 = unit_build_json(&stack_unit(t, "web")->build);
	/* The context is absolute, so it survives the move. */
	assert_true(json_equal(j1, j2));
	assert_int_equal(stack_unit(t, "web")->pull_policy, PULL_NEVER);
	json_decref(j1);
	json_decref(j2);
	buf_free(&b);
	stack_free(s);
	stack_free(t);
	diag_free(&errs);
}

/* ---- .dockerignore ------------------------------------------------------- */

static void
test_glob(void **state)
{
	assert_true(dockerignore_match("*.log", "a.log"));
	assert_false(dockerignore_match("*.log", "d/a.log"));
	assert_true(dockerignore_match("*/*.log", "d/a.log"));
	assert_true(dockerignore_match("**/*.log", "a.log"));
	assert_true(dockerignore_match("**/*.log", "d/e/a.log"));
	assert_true(dockerignore_match("d/**", "d/e/f"));
	assert_true(dockerignore_match("d/**/f", "d/f"));
	assert_true(dockerignore_match("d/**/f", "d/x/y/f"));
	assert_false(dockerignore_match("d/**/f", "d/x/yf"));
	assert_true(dockerignore_match("a?c", "abc"));
	assert_false(dockerignore_match("a?c", "a/c"));
	assert_true(dockerignore_match("[a-c]x", "bx"));
	assert_false(dockerignore_match("[^a-c]x", "bx"));
	assert_true(dockerignore_match("[!a-c]x", "dx"));
	assert_true(dockerignore_match("\\*x", "*x"));
	assert_false(dockerignore_match("\\*x", "ax"));
	assert_false(dockerignore_match("[a-", "a"));
}

static void
test_ignore_rules(void **state)
{
	static const char text[] =
	    "# comment\n"
	    "\n"
	    "  /secret.txt  \n"
	    "./build//\n"
	    "*.md\n"
	    "!README.md\n"
	    "**/*.tmp\n"
	    "logs\n"
	    "!logs/keep.log";	/* no final newline */
	struct dockerignore di;

	dockerignore_parse(&di, text, strlen(text));
	assert_int_equal(di.n, 7);
	assert_string_equal(di.v[0].pat, "secret.txt");
	assert_string_equal(di.v[1].pat, "build");
	assert_true(di.v[3].negate);
	assert_true(di.any_negate);
	assert_true(dockerignore_excluded(&di, "secret.txt"));
	assert_false(dockerignore_excluded(&di, "d/secret.txt"));
	/* A directory covers what is under it. */
	assert_true(dockerignore_excluded(&di, "build"));
	assert_true(dockerignore_excluded(&di, "build/x/y.o"));
	assert_false(dockerignore_excluded(&di, "builder"));
	/* The last pattern that matches wins. */
	assert_true(dockerignore_excluded(&di, "CHANGES.md"));
	assert_false(dockerignore_excluded(&di, "README.md"));
	assert_false(dockerignore_excluded(&di, "docs/x.md"));
	assert_true(dockerignore_excluded(&di, "a/b/c.tmp"));
	assert_true(dockerignore_excluded(&di, "c.tmp"));
	assert_true(dockerignore_excluded(&di, "logs/a.log"));
	assert_false(dockerignore_excluded(&di, "logs/keep.log"));
	assert_false(dockerignore_excluded(&di, "app/main.c"));
	assert_true(dockerignore_may_reinclude(&di, "logs"));
	assert_false(dockerignore_may_reinclude(&di, "build"));
	dockerignore_free(&di);

	/* "**" alone and "!" alone. */
	dockerignore_parse(&di, "**\n!\n!Dockerfile\n", 17);
	assert_int_equal(di.n, 2);
	assert_true(dockerignore_excluded(&di, "a/b"));
	assert_false(dockerignore_excluded(&di, "Dockerfile"));
	dockerignore_free(&di);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_map),
		cmocka_unit_test(test_build_string_and_image),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_build_json_errors),
		cmocka_unit_test(test_build_emit),
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_ignore_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
