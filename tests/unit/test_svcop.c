/*
 * stop, start and restart against the dockerd model (ops/svcop.c): stop
 * takes dependents down first, start brings them back in dependency
 * order, restart stops and starts in place; every step is journaled; what
 * stop left stopped stays stopped through a deploy; and a shipd killed in
 * the middle of a stop or a start is recovered consistently (the stop
 * undone, the start undone), with the journal emptied.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/spec.h"
#include "graph.h"
#include "helper_opsrig.h"
#include "state/journal.h"
#include "state/store.h"
#include "unit.h"
#include "util.h"

#define APP	"shipd-test/app:1"
#define CHECK	"health: {test: [CMD, /bin/check]}\n"
#define MUTATING "create start stop kill rename remove connect disconnect"

static const char *const files[] = {
	"db.yaml", "image: " APP "\n" CHECK,
	"api.yaml", "image: " APP "\n" CHECK "depends_on: {db: healthy}\n",
	"web.yaml", "image: " APP "\n" CHECK "depends_on: {api: started}\n",
	"x.yaml", "image: " APP "\n" CHECK,
	NULL
};

/* The same, but x changed. */
static const char *const files_x2[] = {
	"db.yaml", "image: " APP "\n" CHECK,
	"api.yaml", "image: " APP "\n" CHECK "depends_on: {db: healthy}\n",
	"web.yaml", "image: " APP "\n" CHECK "depends_on: {api: started}\n",
	"x.yaml", "image: " APP "\n" CHECK "environment: {V: \"2\"}\n",
	NULL
};

static struct cap *
svcop(struct rig *g, const char *kind, const char *svc)
{
	struct cap	*c = cap_new(g, kind);
	json_t		*names = json_pack("[s]", svc);

	ops_svcop(&g->sd, c->req, kind, "demo", names, false);
	json_decref(names);
	rig_wait(g, c);
	rig_settle(g);
	return c;
}

static void
svcop_ok(struct rig *g, const char *kind, const char *svc)
{
	struct cap *c = svcop(g, kind, svc);

	cap_assert_ok(c);
	cap_free(c);
}

static char *
marks(struct rig *g)
{
	const json_t	*st = json_object_get(store_svcstate_get(g->sd.store,
	    "demo"), "stopped");
	const char	*k;
	json_t		*v;
	struct buf	 b;

	buf_init(&b);
	buf_append(&b, "", 0);
	json_object_foreach((json_t *)st, k, v)
		buf_printf(&b, "%s%s", b.len ? " " : "", k);
	return buf_steal(&b);
}

static void
assert_str(char *got, const char *want)
{
	assert_string_equal(got, want);
	free(got);
}

static void
open_deployed(struct rig *g)
{
	rig_open(g);
	fakedocker_image(g->fd, APP, NULL, NULL);
	rig_deploy_ok(g, files);
}

static bool
recovered(struct rig *g, void *arg)
{
	(void)arg;
	return g->sd.recovered;
}

static void
restart(struct rig *g)
{
	rig_down(g);
	g->recover = true;
	rig_up(g);
	rig_until(g, recovered, NULL, "recovery");
	rig_settle(g);
}

static bool
journal_empty(struct rig *g, void *arg)
{
	json_t	*j = rig_journal(g);
	bool	 empty = json_array_size(j) == 0;

	(void)arg;
	json_decref(j);
	return empty;
}

/* Once recovered, nothing under way: the journal is emptied (its
 * truncate is a store write that may land after the last op's end). */
static void
assert_journal_empty(struct rig *g)
{
	json_t *j;

	if (g->sd.recovered)
		rig_until(g, journal_empty, NULL, "the journal emptied");
	j = rig_journal(g);

	if (json_array_size(j) != 0) {
		json_t *r;
		size_t i;

		json_array_foreach(j, i, r)
			fprintf(stderr, "%s %s %s %s\n", json_string_value(
			    json_object_get(r, "event")), json_string_value(
			    json_object_get(r, "kind")), json_string_value(
			    json_object_get(r, "service")) ?: "-",
			    json_string_value(json_object_get(r, "step")) ?:
			    "-");
		fail_msg("the journal is not empty");
	}
	json_decref(j);
}

/* The journal's records of kind: "begin web:stop ... end". */
static char *
journal_of(struct rig *g, const char *kind)
{
	json_t		*j = rig_journal(g), *r;
	struct buf	 b;
	size_t		 i;

	buf_init(&b);
	buf_append(&b, "", 0);
	json_array_foreach(j, i, r) {
		const char *ev = json_string_value(json_object_get(r, "event"));

		if (strcmp(json_string_value(json_object_get(r, "kind")),
		    kind) != 0)
			continue;
		if (b.len)
			buf_printf(&b, " ");
		if (strcmp(ev, "step") == 0)
			buf_printf(&b, "%s:%s", json_string_value(
			    json_object_get(r, "service")), json_string_value(
			    json_object_get(r, "step")));
		else
			buf_printf(&b, "%s", ev);
	}
	json_decref(j);
	return buf_steal(&b);
}

/* stop db: web, then api, then db; x is left alone; all marked. */
static void
test_stop_order(void **state)
{
	struct rig	g;
	int		mark;

	(void)state;
	open_deployed(&g);
	mark = fakedocker_ncalls(g.fd);
	svcop_ok(&g, "stop", "db");
	assert_str(fakedocker_trace(g.fd, mark, MUTATING, NULL),
	    "stop demo-web-1\nstop demo-api-1\nstop demo-db-1\n");
	assert_str(marks(&g), "api db web");
	assert_str(fakedocker_containers(g.fd), "demo-api-1 exited 1\n"
	    "demo-db-1 exited 1\ndemo-web-1 exited 1\ndemo-x-1 running 1\n");
	/* Each stop journaled before it was taken. */
	assert_str(journal_of(&g, "stop"), "begin web:stop api:stop db:stop end");

	/* A deploy of the same files starts none of them. */
	mark = fakedocker_ncalls(g.fd);
	rig_deploy_ok(&g, files);
	assert_str(fakedocker_trace(g.fd, mark, MUTATING, NULL), "");
	/* Nor does a restart of shipd. */
	restart(&g);
	assert_str(fakedocker_trace(g.fd, mark, MUTATING, NULL), "");
	/* Nor a deploy that changes x: only x is replaced. */
	mark = fakedocker_ncalls(g.fd);
	rig_deploy_ok(&g, files_x2);
	assert_str(fakedocker_trace(g.fd, mark, "start stop", NULL),
	    "stop demo-x-1\nstart demo-x-1\n");
	assert_str(fakedocker_containers(g.fd), "demo-api-1 exited 1\n"
	    "demo-db-1 exited 1\ndemo-web-1 exited 1\ndemo-x-1 running 2\n"
	    "demo-x-1-r1 exited 1\n");
	assert_str(marks(&g), "api db web");
	rig_close(&g);
}

/* start db after stop db: db, api (once db is healthy), web. */
static void
test_start_order(void **state)
{
	struct rig	g;
	int		mark, db, probe, api, web;

	(void)state;
	open_deployed(&g);
	svcop_ok(&g, "stop", "db");
	mark = fakedocker_ncalls(g.fd);
	svcop_ok(&g, "start", "db");
	assert_str(fakedocker_trace(g.fd, mark, MUTATING, NULL),
	    "start demo-db-1\nstart demo-api-1\nstart demo-web-1\n");
	db = fakedocker_find(g.fd, mark, "start demo-db-1");
	probe = fakedocker_find(g.fd, db, "healthy demo-db-1");
	api = fakedocker_find(g.fd, db, "start demo-api-1");
	web = fakedocker_find(g.fd, api, "start demo-web-1");
	if (!(db >= 0 && probe > db && api > probe && web > api))
		fail_msg("%d %d %d %d:\n%s", db, probe, api, web,
		    fakedocker_trace(g.fd, mark, NULL, NULL));
	assert_str(marks(&g), "");
	assert_str(journal_of(&g, "start"), "begin db:start db:gate "
	    "api:start web:start api:gate web:gate end");
	rig_close(&g);
}

/* restart api: stop and start in place, then web; db and x untouched. */
static void
test_restart(void **state)
{
	struct rig	g;
	char		before[72], after[72];
	int		mark;

	(void)state;
	open_deployed(&g);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", before), 0);
	mark = fakedocker_ncalls(g.fd);
	svcop_ok(&g, "restart", "api");
	assert_str(fakedocker_trace(g.fd, mark, MUTATING, NULL),
	    "stop demo-api-1\nstart demo-api-1\nstop demo-web-1\n"
	    "start demo-web-1\n");
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", after), 0);
	assert_string_equal(after, before);
	assert_int_equal(store_current(g.sd.store, "demo"), 1);
	rig_close(&g);
}

/* An unknown service: not_found, nothing touched, nothing recorded. */
static void
test_unknown(void **state)
{
	struct rig	 g;
	struct cap	*c;
	int		 mark;

	(void)state;
	open_deployed(&g);
	mark = fakedocker_ncalls(g.fd);
	c = svcop(&g, "stop", "nosuch");
	assert_string_equal(cap_code(c), "not_found");
	assert_non_null(strstr(cap_message(c), "'nosuch'"));
	cap_free(c);
	assert_str(fakedocker_trace(g.fd, mark, MUTATING, NULL), "");
	assert_null(store_svcstate_get(g.sd.store, "demo"));
	rig_close(&g);
}

/* Replica 1 of svc, running, as revision 1 made it (the model has no
 * start behind shipd's back: the stopped one is replaced). */
static void
reseed_running(struct rig *g, const char *svc)
{
	struct stack	*st;
	struct graph	*gr;
	json_t		*spec;
	char		 name[64];

	snprintf(name, sizeof name, "demo-%s-1", svc);
	assert_int_equal(fakedocker_remove(g->fd, name), 0);
	rig_stack(g, files, &st, &gr);
	spec = spec_container(st, stack_unit(st, svc), 1, 1, true, true);
	assert_int_equal(fakedocker_seed(g->fd, name, spec, true), 0);
	json_decref(spec);
	graph_free(gr);
	stack_free(st);
}

/* The journal of a stop or start that got as far as its first step. */
static void
journal(struct rig *g, const char *kind, const char *svc, const char *step)
{
	int done = 0;

	journal_op(g->sd.store, "begin", "demo", kind, 1, 1, NULL, NULL);
	journal_step(g->sd.store, "demo", kind, 1, svc, 1, step, rig_store_cb,
	    &done);
	rig_store_wait(g, &done);
}

/* Killed after web was stopped for a stop of db: recovery starts web
 * again (nothing was marked), and the journal ends empty. */
static void
test_recover_stop(void **state)
{
	struct rig	g;
	int		mark;

	(void)state;
	open_deployed(&g);
	assert_int_equal(fakedocker_exit(g.fd, "demo-web-1", 0), 0);
	journal(&g, "stop", "web", "stop");
	mark = fakedocker_ncalls(g.fd);
	restart(&g);
	assert_str(fakedocker_trace(g.fd, mark, MUTATING, NULL),
	    "start demo-web-1\n");
	assert_str(marks(&g), "");
	assert_journal_empty(&g);
	rig_close(&g);
}

/* Killed after api was stopped for a restart of api: recovery finishes
 * it, api is started again; web, not reached, is left running. */
static void
test_recover_restart(void **state)
{
	struct rig	g;
	int		mark;

	(void)state;
	open_deployed(&g);
	assert_int_equal(fakedocker_exit(g.fd, "demo-api-1", 0), 0);
	journal(&g, "restart", "api", "stop");
	mark = fakedocker_ncalls(g.fd);
	restart(&g);
	assert_str(fakedocker_trace(g.fd, mark, MUTATING, NULL),
	    "start demo-api-1\n");
	assert_str(fakedocker_containers(g.fd), "demo-api-1 running 1\n"
	    "demo-db-1 running 1\ndemo-web-1 running 1\ndemo-x-1 running 1\n");
	assert_journal_empty(&g);
	rig_close(&g);
}

/* Killed after db was started for a start of db: the marks stop left
 * stand, so recovery stops db again. */
static void
test_recover_start(void **state)
{
	struct rig	g;
	int		mark;

	(void)state;
	open_deployed(&g);
	svcop_ok(&g, "stop", "db");
	/* db started by the start that was under way */
	journal(&g, "start", "db", "start");
	reseed_running(&g, "db");
	mark = fakedocker_ncalls(g.fd);
	restart(&g);
	assert_str(fakedocker_trace(g.fd, mark, MUTATING, NULL),
	    "stop demo-db-1\n");
	assert_str(marks(&g), "api db web");
	assert_str(fakedocker_containers(g.fd), "demo-api-1 exited 1\n"
	    "demo-db-1 exited 1\ndemo-web-1 exited 1\ndemo-x-1 running 1\n");
	assert_journal_empty(&g);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stop_order),
		cmocka_unit_test(test_start_order),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_recover_stop),
		cmocka_unit_test(test_recover_start),
		cmocka_unit_test(test_recover_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
