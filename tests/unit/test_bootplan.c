/*
 * What ordered boot does to a stack (ops/bootplan.c), from container
 * lists of the test's own: what runs ahead of a dependency that is not
 * ready is stopped and started again, what is down is started, the
 * running dependencies they wait on are gated, and a stack whose
 * dependencies are met is left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "diag.h"
#include "engine/spec.h"
#include "graph.h"
#include "ops/boot.h"
#include "stackgraph.h"
#include "unit.h"
#include "util.h"

#define CHECK	"health: {test: [CMD, /bin/check]}\n"
#define OWN	"health: {http: {port: 8080, path: /health}}\n"

struct fx {
	char		 dir[64];
	struct stack	*st;
	struct graph	*g;
	json_t		*rows;
	/* shipd's own verdict for every container, and its probe's detail */
	const char	*own;
	const char	*detail;
};

static void
put(const char *dir, const char *name, const char *text)
{
	char	*p;
	FILE	*f;

	xasprintf(&p, "%s/%s", dir, name);
	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
	free(p);
}

/* db <- api (healthy) <- web (healthy); cache <- side (healthy); job is a
 * one-shot that init waits on (completed); log needs api started. */
static int
setup(void **state)
{
	struct fx	*f = xcalloc(1, sizeof *f);
	struct diag_list errs;
	char		*envp[] = { NULL };

	snprintf(f->dir, sizeof f->dir, "/tmp/test_bootplan.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	put(f->dir, "stack.yaml", "name: demo\n");
	put(f->dir, "db.yaml", "image: x:1\n" CHECK);
	put(f->dir, "api.yaml", "image: x:1\n" OWN
	    "depends_on: {db: healthy}\n");
	put(f->dir, "web.yaml", "image: x:1\ndepends_on: {api: healthy}\n");
	put(f->dir, "log.yaml", "image: x:1\ndepends_on: {api: started}\n");
	put(f->dir, "cache.yaml", "image: x:1\n" CHECK);
	put(f->dir, "side.yaml", "image: x:1\nrestart: on-failure\n"
	    "depends_on: {cache: healthy}\n");
	put(f->dir, "job.yaml", "image: x:1\nrestart: on-failure\n");
	put(f->dir, "init.yaml", "image: x:1\n"
	    "depends_on: {job: completed}\n");
	diag_init(&errs);
	if (stack_load_checked(f->dir, envp, &f->st, &f->g, &errs) != 0)
		fail_msg("units: %s", errs.n ? errs.v[0].msg : "?");
	diag_free(&errs);
	f->rows = json_array();
	f->own = "healthy";
	f->detail = "HTTP 200";
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;
	char		*cmd;

	json_decref(f->rows);
	graph_free(f->g);
	stack_free(f->st);
	xasprintf(&cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f);
	return 0;
}

/* One replica of svc, as the engine's container list has it. */
static void
row(struct fx *f, const char *svc, const char *state, const char *status)
{
	char *id;

	xasprintf(&id, "%s-id", svc);
	json_array_append_new(f->rows, json_pack("{s:s, s:s, s:s, s:{s:s, "
	    "s:s}}", "Id", id, "State", state, "Status", status, "Labels",
	    LABEL_STACK, "demo", LABEL_SERVICE, svc));
	free(id);
}

/* Everything as a deploy leaves it. */
static void
rows_settled(struct fx *f)
{
	row(f, "db", "running", "Up 2 minutes (healthy)");
	row(f, "api", "running", "Up 2 minutes");
	row(f, "web", "running", "Up 2 minutes");
	row(f, "log", "running", "Up 2 minutes");
	row(f, "cache", "running", "Up 2 minutes (healthy)");
	row(f, "side", "running", "Up 2 minutes");
	row(f, "job", "exited", "Exited (0) 2 minutes ago");
	row(f, "init", "running", "Up 2 minutes");
}

/* Change the State and Status of svc's row. */
static void
set(struct fx *f, const char *svc, const char *state, const char *status)
{
	json_t	*c;
	size_t	 i;
	char	*id;

	xasprintf(&id, "%s-id", svc);
	json_array_foreach(f->rows, i, c) {
		if (strcmp(json_string_value(json_object_get(c, "Id")),
		    id) != 0)
			continue;
		json_object_set_new(c, "State", json_string(state));
		json_object_set_new(c, "Status", json_string(status));
	}
	free(id);
}

static const char *
own(const char *id, const char **detail, void *arg)
{
	struct fx *f = arg;

	/* Only api has a check of shipd's own. */
	if (strcmp(id, "api-id") != 0)
		return NULL;
	*detail = f->detail;
	return f->own;
}

/* "a b c": the keys of o, sorted. */
static char *
keys(const json_t *o)
{
	const char	*k, *v[64];
	json_t		*x;
	struct buf	 b;
	size_t		 n = 0, i, j;

	json_object_foreach((json_t *)o, k, x)
		if (n < nitems(v))
			v[n++] = k;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			k = v[j];
			v[j] = v[j - 1];
			v[j - 1] = k;
		}
	buf_init(&b);
	buf_append(&b, "", 0);
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? " " : "", v[i]);
	return buf_steal(&b);
}

static void
plan(struct fx *f, const json_t *after, const char *want_stop,
    const char *want_start)
{
	json_t	*stop, *start;
	char	*ks, *kt;

	assert_true(boot_plan(f->st, f->rows, after, true, own, f, &stop,
	    &start));
	ks = keys(stop);
	kt = keys(start);
	assert_string_equal(ks, want_stop);
	assert_string_equal(kt, want_start);
	free(ks);
	free(kt);
	json_decref(stop);
	json_decref(start);
}

static const char *
why(struct fx *f, const char *svc)
{
	static char	 out[128];
	json_t		*stop, *start;

	assert_true(boot_plan(f->st, f->rows, NULL, true, own, f, &stop,
	    &start));
	snprintf(out, sizeof out, "%s", json_string_value(json_object_get(
	    start, svc)) ?: "");
	json_decref(stop);
	json_decref(start);
	return out;
}

/* A shipd restart with the stack as a deploy left it: nothing to do. */
static void
test_settled(void **state)
{
	struct fx *f = *state;

	rows_settled(f);
	plan(f, NULL, "", "");
}

/* The engine started everything at once; db is still starting: api and
 * web, which wait on it being healthy, run ahead (web behind api).  log needs api only
 * started; side's cache is healthy: both are left alone. */
static void
test_ahead(void **state)
{
	struct fx	*f = *state;
	json_t		*stop, *start;

	rows_settled(f);
	/* Too young for the engine's first probe: not known yet (shipd's
	 * own probes may have passed it already), so a patient boot waits. */
	set(f, "db", "running", "Up 1 second (health: starting)");
	assert_false(boot_plan(f->st, f->rows, NULL, true, own, f, &stop,
	    &start));
	/* Starting past its first probe: its probes failed. */
	set(f, "db", "running", "Up 2 minutes (health: starting)");
	plan(f, NULL, "api web", "api db web");
	assert_string_equal(why(f, "api"), "started before db was ready");
	assert_string_equal(why(f, "web"), "started before api was ready");
	assert_string_equal(why(f, "db"), "api waits for it");
	/* db unhealthy, or down, is not ready either. */
	set(f, "db", "running", "Up 3 minutes (unhealthy)");
	plan(f, NULL, "api web", "api db web");
	set(f, "db", "exited", "Exited (137) 1 second ago");
	plan(f, NULL, "api web", "api db web");
	assert_string_equal(why(f, "db"), "down at boot");
}

/* api's own check: not known before its first probe (wait), starting
 * after a failed one (web runs ahead), healthy (left alone). */
static void
test_own_verdict(void **state)
{
	struct fx	*f = *state;
	json_t		*stop, *start;

	rows_settled(f);
	f->own = "starting";
	f->detail = "";
	assert_false(boot_plan(f->st, f->rows, NULL, true, own, f, &stop,
	    &start));
	assert_null(stop);
	assert_null(start);
	/* Out of patience: not known is not ready. */
	assert_true(boot_plan(f->st, f->rows, NULL, false, own, f, &stop,
	    &start));
	json_decref(stop);
	json_decref(start);
	f->detail = "connection refused";
	plan(f, NULL, "web", "api web");
	f->own = "healthy";
	f->detail = "HTTP 200";
	plan(f, NULL, "", "");
}

/* A one-shot that the engine runs again at boot is not completed: init
 * waits for it (gated, not restarted); once it exited 0 again, init may
 * run. */
static void
test_completed(void **state)
{
	struct fx *f = *state;

	rows_settled(f);
	set(f, "job", "running", "Up 1 second");
	plan(f, NULL, "init", "init job");
	set(f, "job", "exited", "Exited (1) 1 second ago");
	plan(f, NULL, "init", "init job");
	set(f, "job", "exited", "Exited (0) 1 second ago");
	plan(f, NULL, "", "");
}

/* Down at boot (stopped behind shipd's back): started, with the running
 * services it waits on gated. */
static void
test_down(void **state)
{
	struct fx *f = *state;

	rows_settled(f);
	set(f, "web", "exited", "Exited (143) 5 seconds ago");
	plan(f, NULL, "", "api web");
	assert_string_equal(why(f, "web"), "down at boot");
	assert_string_equal(why(f, "api"), "web waits for it");
}

/* What boot itself stopped comes back even with a clean exit that would
 * otherwise look meant (side's restart is on-failure). */
static void
test_after(void **state)
{
	struct fx	*f = *state;
	json_t		*after = json_pack("{s:s}", "side", "x");

	rows_settled(f);
	set(f, "side", "exited", "Exited (0) 1 second ago");
	plan(f, NULL, "", "");
	plan(f, after, "", "cache side");
	/* Started again by someone else meanwhile: nothing. */
	set(f, "side", "running", "Up 1 second");
	plan(f, after, "", "");
	json_decref(after);
}

/* A dependency with no replica listed (left stopped by shipctl stop, so
 * not in the rows) is not waited for. */
static void
test_no_rows(void **state)
{
	struct fx *f = *state;

	row(f, "api", "running", "Up 2 minutes");
	row(f, "web", "running", "Up 2 minutes");
	plan(f, NULL, "", "");
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_settled),
		T(test_ahead),
		T(test_own_verdict),
		T(test_completed),
		T(test_down),
		T(test_after),
		T(test_no_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
