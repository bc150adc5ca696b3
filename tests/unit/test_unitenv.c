/*
 * Environments of a unit directory (common/unitenv.c): ENV.env after
 * .env, overlays from env/ENV/ merged over the units with compose's rules,
 * and the errors for an overlay without a unit and a missing environment.
 */
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "helper_stack.h"
#include "unit.h"
#include "unitenv.h"
#include "util.h"

static char *const no_env[] = { NULL };

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* A stack directory "envstack" in a new temporary directory. */
static char *
mkstack(void)
{
	char *top = xstrdup("/tmp/shipd-uenv-XXXXXX"), *dir;

	assert_non_null(mkdtemp(top));
	xasprintf(&dir, "%s/envstack", top);
	assert_int_equal(mkdir(dir, 0700), 0);
	free(top);
	return dir;
}

/* Write dir/rel, making env/ and env/NAME/ as needed. */
static void
put(const char *dir, const char *rel, const char *text)
{
	char	*path, *p;
	FILE	*f;

	xasprintf(&path, "%s/%s", dir, rel);
	for (p = path + strlen(dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		(void)mkdir(path, 0700);
		*p = '/';
	}
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	free(path);
}

static void
rmstack(char *dir)
{
	char *top = xstrdup(dir);

	*strrchr(top, '/') = '\0';
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(top);
	free(dir);
}

/* rc must be 0; else show why. */
static void
ok(int rc, const struct diag_list *errs)
{
	size_t	 i;
	char	*s;

	for (i = 0; rc != 0 && i < errs->n; i++) {
		s = diag_format(&errs->v[i]);
		print_message("  diag: %s\n", s);
		free(s);
	}
	assert_int_equal(rc, 0);
}

static const char *
env_of(const struct unit *u, const char *key)
{
	size_t i;

	for (i = 0; i < u->nenv; i++) {
		if (strcmp(u->env[i].key, key) == 0)
			return u->env[i].value;
	}
	return NULL;
}

static const char api[] =
    "image: shipd-test/svc:${TAG}\n"
    "command: [sh, -c, base]\n"
    "environment: {A: base-a, B: base-b}\n"
    "ports: [\"80\", \"90\"]\n"
    "depends_on: [db]\n"
    "health:\n"
    "  test: [CMD, /bin/true]\n"
    "  interval: 5s\n"
    "replicas: 1\n"
    "labels: {role: api}\n";

static const char db[] =
    "image: shipd-test/svc:1\n"
    "volumes: [\"data:/data\"]\n";

static void
test_overlay_merge(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = NULL;
	const struct unit	*u;
	char			*dir = mkstack();

	put(dir, "api.yaml", api);
	put(dir, "db.yaml", db);
	put(dir, "stack.yaml", "name: base\nvolumes: [data]\n");
	put(dir, ".env", "TAG=1\nWHO=dotenv\n");
	put(dir, "prod.env", "TAG=2\n");
	put(dir, "env/prod/stack.yaml", "name: base-prod\nretain: 5\n");
	put(dir, "env/prod/api.yaml",
	    "command: [sh, -c, prod]\n"
	    "environment: [B=prod-b, C=prod-c]\n"
	    "ports: [\"80\", \"443\"]\n"
	    "depends_on: {cache: healthy}\n"
	    "health: {interval: 1s}\n"
	    "replicas: 3\n"
	    "labels: !reset {}\n");
	put(dir, "cache.yaml", "image: shipd-test/svc:1\n"
	    "health: {test: [CMD, /bin/true]}\n");

	diag_init(&errs);
	ok(stack_load_dir_env(dir, "prod", no_env, &s, &errs), &errs);
	assert_string_equal(s->name, "base-prod");
	assert_int_equal(s->retain, 5);
	assert_non_null(u = stack_unit(s, "api"));
	assert_string_equal(u->image, "shipd-test/svc:2");	/* prod.env */
	assert_int_equal(u->replicas, 3);
	/* command is replaced whole, not appended to */
	assert_non_null(u->command);
	assert_string_equal(u->command[2], "prod");
	assert_null(u->command[3]);
	/* environment by key, list and mapping forms mixed */
	assert_string_equal(env_of(u, "A"), "base-a");
	assert_string_equal(env_of(u, "B"), "prod-b");
	assert_string_equal(env_of(u, "C"), "prod-c");
	/* ports by identity: 80 once, 443 added */
	assert_int_equal(u->nports, 3);
	/* depends_on list [db] and mapping {cache: healthy} */
	assert_int_equal(u->ndeps, 2);
	/* health merges key by key: the test stays, interval is 1s */
	assert_int_equal(u->health.interval_ms, 1000);
	assert_int_equal(u->health.kind, HEALTH_CMD);
	/* !reset removes the base's labels */
	assert_int_equal(u->nlabels, 0);
	/* a unit without an overlay is as it was */
	assert_non_null(u = stack_unit(s, "db"));
	assert_int_equal(u->nmounts, 1);
	stack_free(s);
	diag_free(&errs);

	/* Without an environment, the overlays are not read. */
	diag_init(&errs);
	assert_int_equal(stack_load_dir(dir, no_env, &s, &errs), 0);
	assert_string_equal(s->name, "base");
	assert_non_null(u = stack_unit(s, "api"));
	assert_string_equal(u->image, "shipd-test/svc:1");
	assert_int_equal(u->replicas, 1);
	assert_int_equal(u->nports, 2);
	stack_free(s);
	diag_free(&errs);

	/* The caller's environment wins over both .env and prod.env. */
	{
		char *const envp[] = { "TAG=9", NULL };

		diag_init(&errs);
		assert_int_equal(stack_load_dir_env(dir, "prod", envp, &s,
		    &errs), 0);
		assert_string_equal(stack_unit(s, "api")->image,
		    "shipd-test/svc:9");
		stack_free(s);
		diag_free(&errs);
	}
	rmstack(dir);
}

/* An environment with only env/NAME/ (no NAME.env), and a stack.yaml
 * overlay where the directory has none. */
static void
test_overlay_dir_only(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = NULL;
	char			*dir = mkstack();

	put(dir, "db.yaml", db);
	put(dir, "env/qa/stack.yaml", "name: qa-stack\n");
	put(dir, "env/qa/db.yaml", "volumes: [\"other:/data\"]\n");
	diag_init(&errs);
	assert_int_equal(stack_load_dir_env(dir, "qa", no_env, &s, &errs), 0);
	assert_string_equal(s->name, "qa-stack");
	/* the same target: the overlay's volume replaces the base's */
	assert_int_equal(stack_unit(s, "db")->nmounts, 1);
	assert_string_equal(stack_unit(s, "db")->mounts[0].source, "other");
	stack_free(s);
	diag_free(&errs);
	rmstack(dir);
}

static void
test_overlay_errors(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = NULL;
	char			*dir = mkstack(), *want, **names;

	put(dir, "api.yaml", api);
	put(dir, "db.yaml", db);
	put(dir, ".env", "TAG=1\n");
	put(dir, "staging.env", "TAG=2\n");
	put(dir, "env/prod/api.yaml", "replicas: lots\n"
	    "resources: {memory: 1}\n");
	put(dir, "env/prod/worker.yaml", "replicas: 2\n");
	put(dir, "env/prod/db.yml", "replicas: 2\n");

	/* An overlay for a service without a unit file names the file. */
	diag_init(&errs);
	assert_int_equal(stack_load_dir_env(dir, "prod", no_env, &s, &errs),
	    -EINVAL);
	assert_null(s);
	xasprintf(&want, "%s/env/prod/worker.yaml: an overlay for service "
	    "'worker', which has no unit file", dir);
	assert_true(hs_has_diag(&errs, want));
	free(want);
	assert_true(hs_has_diag(&errs, "env/prod/db.yml: overlays end in .yaml"));
	diag_free(&errs);

	/* Errors in an overlay's values name the overlay's file:line:col,
	 * both the decoder's and the checks' after it. */
	{
		char *p;

		xasprintf(&p, "%s/env/prod/worker.yaml", dir);
		assert_int_equal(unlink(p), 0);
		free(p);
		xasprintf(&p, "%s/env/prod/db.yml", dir);
		assert_int_equal(unlink(p), 0);
		free(p);
	}
	diag_init(&errs);
	assert_int_equal(stack_load_dir_env(dir, "prod", no_env, &s, &errs),
	    -EINVAL);
	xasprintf(&want, "%s/env/prod/api.yaml:1:11: replicas:", dir);
	assert_true(hs_has_diag(&errs, want));
	free(want);
	xasprintf(&want, "%s/env/prod/api.yaml:2:21: resources.memory", dir);
	assert_true(hs_has_diag(&errs, want));
	free(want);
	diag_free(&errs);

	/* A missing environment lists those there are. */
	diag_init(&errs);
	assert_int_equal(stack_load_dir_env(dir, "production", no_env, &s,
	    &errs), -EINVAL);
	assert_true(hs_has_diag(&errs, "no environment 'production' (no "
	    "production.env, no env/production/); environments here: prod, "
	    "staging"));
	diag_free(&errs);

	/* A name that is not one (no paths through -e). */
	diag_init(&errs);
	assert_int_equal(stack_load_dir_env(dir, "../x", no_env, &s, &errs),
	    -EINVAL);
	assert_true(hs_has_diag(&errs, "environment '../x': a name is"));
	diag_free(&errs);

	names = unit_env_names(dir);
	assert_string_equal(names[0], "prod");
	assert_string_equal(names[1], "staging");
	assert_null(names[2]);
	strv_free(names);
	rmstack(dir);

	/* No environments at all. */
	dir = mkstack();
	put(dir, "db.yaml", db);
	diag_init(&errs);
	assert_int_equal(stack_load_dir_env(dir, "prod", no_env, &s, &errs),
	    -EINVAL);
	assert_true(hs_has_diag(&errs, "this directory has no environments"));
	diag_free(&errs);
	rmstack(dir);
}

/* !override replaces a mapping whole: another kind of health check. */
static void
test_overlay_override(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = NULL;
	const struct unit	*u;
	char			*dir = mkstack(), *want;

	put(dir, "api.yaml", api);
	put(dir, "db.yaml", db);
	put(dir, ".env", "TAG=1\n");
	put(dir, "env/prod/api.yaml",
	    "health: !override {http: {port: 8080, path: /health}}\n"
	    "ports: !override [\"8443:443\"]\n"
	    "depends_on: !reset []\n");
	diag_init(&errs);
	ok(stack_load_dir_env(dir, "prod", no_env, &s, &errs), &errs);
	assert_non_null(u = stack_unit(s, "api"));
	assert_int_equal(u->health.kind, HEALTH_HTTP);
	assert_int_equal(u->health.port, 8080);
	assert_int_equal(u->nports, 1);
	assert_int_equal(u->ndeps, 0);
	stack_free(s);
	diag_free(&errs);

	/* Merged without !override, test and http are both there: an
	 * error, at the overlay's line. */
	put(dir, "env/prod/api.yaml", "health: {http: {port: 8080}}\n");
	diag_init(&errs);
	assert_int_equal(stack_load_dir_env(dir, "prod", no_env, &s, &errs),
	    -EINVAL);
	xasprintf(&want, "%s/env/prod/api.yaml:1:10: health: set one of "
	    "test, http or tcp, not both test and http", dir);
	assert_true(hs_has_diag(&errs, want));
	free(want);
	diag_free(&errs);
	rmstack(dir);
}

/* Positions: the base's errors name the base, the overlay's the overlay,
 * in one load; an overlay that is not a mapping is refused. */
static void
test_overlay_positions(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = NULL;
	char			*dir = mkstack(), *want;

	put(dir, "api.yaml", "image: shipd-test/svc:1\nstop_grace: soon\n");
	put(dir, "db.yaml", db);
	put(dir, "stack.yaml", "name: ok\n");
	put(dir, "env/prod/api.yaml", "replicas: -1\n");
	put(dir, "env/prod/stack.yaml", "name: \"Not A Name\"\n");
	put(dir, "env/prod/db.yaml", "[replicas]\n");
	diag_init(&errs);
	assert_int_equal(stack_load_dir_env(dir, "prod", no_env, &s, &errs),
	    -EINVAL);
	xasprintf(&want, "%s/api.yaml:2:13: stop_grace", dir);
	assert_true(hs_has_diag(&errs, want));
	free(want);
	xasprintf(&want, "%s/env/prod/api.yaml:1:11: replicas", dir);
	assert_true(hs_has_diag(&errs, want));
	free(want);
	xasprintf(&want, "%s/env/prod/stack.yaml:1:7:", dir);
	assert_true(hs_has_diag(&errs, want));
	free(want);
	xasprintf(&want, "%s/env/prod/db.yaml:1:1: expected a mapping", dir);
	assert_true(hs_has_diag(&errs, want));
	free(want);
	diag_free(&errs);
	rmstack(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlay_merge),
		cmocka_unit_test(test_overlay_dir_only),
		cmocka_unit_test(test_overlay_errors),
		cmocka_unit_test(test_overlay_override),
		cmocka_unit_test(test_overlay_positions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
