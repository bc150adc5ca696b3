/*
 * Apply against the dockerd model: services start in dependency order,
 * each the moment its dependencies meet their conditions, independent
 * ones concurrently; a replaced replica goes through the steps of its
 * update order (stop-first, start-first) in the engine's call log and in
 * the journal; parallelism bounds the replacements in flight; extra
 * networks are connected before start.
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
#include "state/store.h"
#include "unit.h"
#include "util.h"

#define APP	"shipd-test/app:1"
#define CHECK	"health: {test: [CMD, /bin/check]}\n"
/* What replaces a replica, and the engine's own news of its health. */
#define STEPS	"create start stop rename remove connect disconnect healthy"

/* Index of a call or engine change at or after from; fails if none. */
static int __attribute__((format(printf, 3, 4)))
at(struct rig *g, int from, const char *fmt, ...)
{
	char	text[256];
	va_list	ap;
	int	i;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if ((i = fakedocker_find(g->fd, from, text)) < 0) {
		char *t = fakedocker_trace(g->fd, from, NULL, NULL);

		fail_msg("no \"%s\" in the engine's log:\n%s", text, t);
	}
	return i;
}

static void
image(struct rig *g, const char *ref, int healthy_after_ms)
{
	struct fake_image k = { healthy_after_ms, -1, 0, false, 0 };

	fakedocker_image(g->fd, ref, &k, NULL);
}

static void
assert_trace(struct rig *g, int from, const char *match, const char *want)
{
	char *t = fakedocker_trace(g->fd, from, STEPS, match);

	assert_string_equal(t, want);
	free(t);
}

/* The "step" records of one revision in the journal, space separated. */
static char *
journal_steps(struct rig *g, int rev, const char *kind, const char *svc,
    int replica)
{
	json_t		*recs = rig_journal(g), *r;
	struct buf	 b;
	size_t		 i;

	buf_init(&b);
	buf_append(&b, "", 0);
	json_array_foreach(recs, i, r) {
		const char *ev = json_string_value(json_object_get(r, "event"));

		if (strcmp(ev, "step") != 0 || json_integer_value(
		    json_object_get(r, "revision")) != rev ||
		    strcmp(json_string_value(json_object_get(r, "kind")),
		    kind) != 0 ||
		    strcmp(json_string_value(json_object_get(r, "service")),
		    svc) != 0 || json_integer_value(json_object_get(r,
		    "replica")) != replica)
			continue;
		buf_printf(&b, "%s%s", b.len ? " " : "", json_string_value(
		    json_object_get(r, "step")));
	}
	json_decref(recs);
	return buf_steal(&b);
}

/* The journal's begin, commit and end records of a revision, in order. */
static char *
journal_ops(struct rig *g, int rev)
{
	json_t		*recs = rig_journal(g), *r;
	struct buf	 b;
	size_t		 i;

	buf_init(&b);
	buf_append(&b, "", 0);
	json_array_foreach(recs, i, r) {
		const char *ev = json_string_value(json_object_get(r, "event"));

		if (strcmp(ev, "step") == 0 || json_integer_value(
		    json_object_get(r, "revision")) != rev)
			continue;
		buf_printf(&b, "%s%s:%s", b.len ? " " : "", ev,
		    json_string_value(json_object_get(r, "kind")));
	}
	json_decref(recs);
	return buf_steal(&b);
}

/* ---- dependency order ------------------------------------------------------ */

/*
 * db <- api (healthy) <- web (started), and cache beside them.  api waits
 * for db's health, web only for api's start; db and cache go together.
 */
static void
test_apply_dependency_order(void **state)
{
	static const char *const files[] = {
		"api.yaml", "image: shipd-test/api:1\n" CHECK
		    "depends_on: {db: healthy}\n",
		"cache.yaml", "image: shipd-test/cache:1\n" CHECK,
		"db.yaml", "image: shipd-test/db:1\n" CHECK,
		"web.yaml", "image: shipd-test/web:1\n"
		    "depends_on: {api: started}\n",
		NULL
	};
	struct rig	 g;
	struct cap	*c;
	json_t		*ev, *e;
	char		*t;
	size_t		 i;
	int		 start_db, start_cache, healthy_db, healthy_cache;
	int		 create_api, start_api, healthy_api, create_web;

	(void)state;
	rig_open(&g);
	image(&g, "shipd-test/db:1", 800);
	image(&g, "shipd-test/cache:1", 800);
	image(&g, "shipd-test/api:1", 1500);
	image(&g, "shipd-test/web:1", 0);
	c = rig_deploy(&g, files, NULL, true);
	cap_assert_ok(c);
	assert_int_equal(json_integer_value(json_object_get(cap_result(c),
	    "revision")), 1);

	start_db = at(&g, 0, "start demo-db-1");
	start_cache = at(&g, 0, "start demo-cache-1");
	healthy_db = at(&g, 0, "healthy demo-db-1");
	healthy_cache = at(&g, 0, "healthy demo-cache-1");
	create_api = at(&g, 0, "create demo-api-1");
	start_api = at(&g, 0, "start demo-api-1");
	healthy_api = at(&g, 0, "healthy demo-api-1");
	create_web = at(&g, 0, "create demo-web-1");
	/* api on db's health */
	assert_true(start_db < healthy_db);
	assert_true(healthy_db < create_api);
	/* db and cache concurrently: neither waited for the other */
	assert_true(start_cache < healthy_db);
	assert_true(start_db < healthy_cache);
	/* web on api's start only, not its health */
	assert_true(start_api < create_web);
	assert_true(create_web < healthy_api);
	assert_true(at(&g, 0, "start demo-web-1") > start_api);

	/* Each service began once, in an order its dependencies allow. */
	ev = cap_events(c, "service");
	t = xstrdup("");
	json_array_foreach(ev, i, e) {
		char *n;

		if (strcmp(json_string_value(json_object_get(e, "status")),
		    "begin") != 0)
			continue;
		xasprintf(&n, "%s%s ", t, json_string_value(json_object_get(e,
		    "service")));
		free(t);
		t = n;
	}
	json_decref(ev);
	assert_true(strcmp(t, "cache db api web ") == 0 ||
	    strcmp(t, "db cache api web ") == 0);
	free(t);

	rig_settle(&g);
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 1\ndemo-cache-1 running 1\n"
	    "demo-db-1 running 1\ndemo-web-1 running 1\n");
	free(t);
	assert_string_equal(rig_result(&g, "demo", 1), "committed");
	assert_int_equal(store_current(g.sd.store, "demo"), 1);
	assert_int_equal(fakedocker_unknown(g.fd), 0);
	cap_free(c);
	rig_close(&g);
}

/* ---- step sequences -------------------------------------------------------- */

static const char *const api_v1[] = {
	"api.yaml", "image: " APP "\n" CHECK "environment: {V: \"1\"}\n", NULL
};
static const char *const api_v2[] = {
	"api.yaml", "image: " APP "\n" CHECK "environment: {V: \"2\"}\n", NULL
};

/*
 * stop-first, the occupant of a committed revision: it leaves the
 * network, stops and is kept under -r1; only then is its successor
 * created, started and gated.  Every step is journaled before it is
 * taken, inside the revision's begin and commit.
 */
static void
test_stop_first_keeps(void **state)
{
	struct rig	 g;
	char		*t;
	int		 mark;

	(void)state;
	rig_open(&g);
	image(&g, APP, 100);
	rig_deploy_ok(&g, api_v1);
	mark = fakedocker_ncalls(g.fd);
	rig_deploy_ok(&g, api_v2);
	assert_trace(&g, mark, "demo-api",
	    "disconnect demo_default demo-api-1\n"
	    "stop demo-api-1\n"
	    "rename demo-api-1 demo-api-1-r1\n"
	    "create demo-api-1\n"
	    "start demo-api-1\n"
	    "healthy demo-api-1\n");
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 2\n"
	    "demo-api-1-r1 exited 1\n");
	free(t);

	t = journal_steps(&g, 2, "deploy", "api", 1);
	assert_string_equal(t, "leave stop keep create start gate");
	free(t);
	t = journal_ops(&g, 2);
	assert_string_equal(t, "begin:deploy commit:deploy end:deploy");
	free(t);
	assert_string_equal(rig_result(&g, "demo", 2), "committed");
	rig_close(&g);
}

/*
 * stop-first, an occupant of no committed revision (here one the store
 * knows nothing of): it is not worth keeping, so it is removed.
 */
static void
test_stop_first_removes(void **state)
{
	struct rig	 g;
	struct stack	*st;
	struct graph	*gr;
	json_t		*spec;
	char		*t;

	(void)state;
	rig_open(&g);
	image(&g, APP, 0);
	fakedocker_seed_network(g.fd, "demo_default", "demo");
	rig_stack(&g, api_v1, &st, &gr);
	spec = spec_container(st, stack_unit(st, "api"), 1, 7, true, true);
	assert_int_equal(fakedocker_seed(g.fd, "demo-api-1", spec, true), 0);
	json_decref(spec);
	graph_free(gr);
	stack_free(st);

	rig_deploy_ok(&g, api_v2);
	assert_trace(&g, 0, "demo-api",
	    "disconnect demo_default demo-api-1\n"
	    "stop demo-api-1\n"
	    "remove demo-api-1\n"
	    "create demo-api-1\n"
	    "start demo-api-1\n"
	    "healthy demo-api-1\n");
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 1\n");
	free(t);
	t = journal_steps(&g, 1, "deploy", "api", 1);
	assert_string_equal(t, "leave stop remove create start gate");
	free(t);
	rig_close(&g);
}

/*
 * start-first: the occupant is renamed aside and keeps serving under the
 * service's name; its successor is created without the name, started and
 * gated; once healthy it takes the name, and the old one leaves, drains
 * and stops, kept.
 */
static void
test_start_first(void **state)
{
	static const char *const v1[] = { "api.yaml", "image: " APP "\n" CHECK
	    "environment: {V: \"1\"}\nupdate: {order: start-first}\n", NULL };
	static const char *const v2[] = { "api.yaml", "image: " APP "\n" CHECK
	    "environment: {V: \"2\"}\nupdate: {order: start-first}\n", NULL };
	struct rig	 g;
	json_t		*nets, *want;
	char		*t;
	int		 mark, leave, stop;

	(void)state;
	rig_open(&g);
	image(&g, APP, 200);
	rig_deploy_ok(&g, v1);
	mark = fakedocker_ncalls(g.fd);
	rig_deploy_ok(&g, v2);
	assert_trace(&g, mark, "demo-api",
	    "rename demo-api-1 demo-api-1-r1\n"
	    "create demo-api-1 unaliased\n"
	    "start demo-api-1\n"
	    "healthy demo-api-1\n"
	    "disconnect demo_default demo-api-1\n"
	    "connect demo_default demo-api-1 api\n"
	    "disconnect demo_default demo-api-1-r1\n"
	    "stop demo-api-1-r1\n");
	/* The old one drains for 300 ms between leaving and stopping. */
	leave = at(&g, mark, "disconnect demo_default demo-api-1-r1");
	stop = at(&g, leave, "stop demo-api-1-r1");
	assert_true(fakedocker_at(g.fd, stop) - fakedocker_at(g.fd, leave) >=
	    290);

	nets = fakedocker_networks_of(g.fd, "demo-api-1");
	want = json_pack("{s:[s]}", "demo_default", "api");
	assert_true(json_equal(nets, want));
	json_decref(nets);
	json_decref(want);
	nets = fakedocker_networks_of(g.fd, "demo-api-1-r1");
	assert_int_equal(json_object_size(nets), 0);
	json_decref(nets);
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 2\n"
	    "demo-api-1-r1 exited 1\n");
	free(t);
	t = journal_steps(&g, 2, "deploy", "api", 1);
	assert_string_equal(t, "keep create start gate unname name leave "
	    "stop");
	free(t);
	rig_close(&g);
}

/* ---- parallelism ------------------------------------------------------------ */

static const char *const rep3[][3] = {
	{ "api.yaml", "image: " APP "\n" CHECK "replicas: 3\n"
	    "environment: {V: \"1\"}\n", NULL },
	{ "api.yaml", "image: " APP "\n" CHECK "replicas: 3\n"
	    "environment: {V: \"2\"}\n", NULL },
	{ "api.yaml", "image: " APP "\n" CHECK "replicas: 3\n"
	    "environment: {V: \"3\"}\nupdate: {parallelism: 3}\n", NULL },
};

/* Where replica n's replacement begins (it leaves) and ends (healthy). */
static void
span(struct rig *g, int from, int n, int *b, int *e)
{
	*b = at(g, from, "disconnect demo_default demo-api-%d", n);
	*e = at(g, *b, "healthy demo-api-%d", n);
}

/*
 * parallelism 1: one replacement at a time, each from its leave to its
 * health before the next begins; parallelism 3 on the same stack: all
 * three under way together.
 */
static void
test_parallelism(void **state)
{
	struct rig	 g;
	int		 mark, b[4], e[4], n, k;
	char		*t;

	(void)state;
	rig_open(&g);
	image(&g, APP, 150);
	rig_deploy_ok(&g, rep3[0]);
	mark = fakedocker_ncalls(g.fd);
	rig_deploy_ok(&g, rep3[1]);
	for (n = 1; n <= 3; n++)
		span(&g, mark, n, &b[n], &e[n]);
	for (n = 1; n <= 3; n++)
		for (k = n + 1; k <= 3; k++)
			if (!(e[n] < b[k] || e[k] < b[n]))
				fail_msg("replicas %d and %d were replaced at "
				    "once", n, k);
	/* In replica order. */
	assert_true(e[1] < b[2] && e[2] < b[3]);
	for (n = 1; n <= 3; n++) {
		char *s = journal_steps(&g, 2, "deploy", "api", n);

		assert_string_equal(s, "leave stop keep create start gate");
		free(s);
	}

	mark = fakedocker_ncalls(g.fd);
	rig_deploy_ok(&g, rep3[2]);
	for (n = 1; n <= 3; n++)
		span(&g, mark, n, &b[n], &e[n]);
	/* Every replica had left before any new one was healthy. */
	for (n = 1; n <= 3; n++)
		for (k = 1; k <= 3; k++)
			assert_true(b[n] < e[k]);
	t = fakedocker_containers(g.fd);
	/* retain 2: the kept containers of revisions 2 and 1 stay. */
	assert_string_equal(t,
	    "demo-api-1 running 3\ndemo-api-1-r1 exited 1\n"
	    "demo-api-1-r2 exited 2\n"
	    "demo-api-2 running 3\ndemo-api-2-r1 exited 1\n"
	    "demo-api-2-r2 exited 2\n"
	    "demo-api-3 running 3\ndemo-api-3-r1 exited 1\n"
	    "demo-api-3-r2 exited 2\n");
	free(t);
	rig_close(&g);
}

/*
 * scale down: the highest-numbered replicas leave, drain while the
 * others serve, stop and are removed (a scale keeps nothing); the one
 * that stays is not touched.  Each step is journaled before it is taken.
 */
static void
test_scale_down(void **state)
{
	struct rig	 g;
	struct cap	*c;
	json_t		*want;
	char		*t;
	int		 mark, n, leave, stop;

	(void)state;
	rig_open(&g);
	image(&g, APP, 0);
	rig_deploy_ok(&g, rep3[0]);
	mark = fakedocker_ncalls(g.fd);
	c = cap_new(&g, "scale");
	want = json_pack("{s:i}", "api", 1);
	ops_scale(&g.sd, c->req, "demo", want, NULL, false);
	json_decref(want);
	rig_wait(&g, c);
	cap_assert_ok(c);
	rig_settle(&g);
	for (n = 2; n <= 3; n++) {
		char m[32], w[256];

		snprintf(m, sizeof m, "demo-api-%d", n);
		snprintf(w, sizeof w, "disconnect demo_default %s\nstop %s\n"
		    "remove %s\n", m, m, m);
		assert_trace(&g, mark, m, w);
		leave = at(&g, mark, "disconnect demo_default %s", m);
		stop = at(&g, leave, "stop %s", m);
		assert_true(fakedocker_at(g.fd, stop) -
		    fakedocker_at(g.fd, leave) >= 290);
		t = journal_steps(&g, 1, "scale", "api", n);
		assert_string_equal(t, "leave stop remove");
		free(t);
	}
	assert_trace(&g, mark, "demo-api-1", "");
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 1\n");
	free(t);
	cap_free(c);
	rig_close(&g);
}

/*
 * Extra networks on an engine that takes one network at create (the model
 * speaks API 1.41): a replica is created on its first network and
 * connected to the others before it starts, under its name; a start-first
 * successor is connected unnamed and takes the name on every network once
 * healthy.  A unit's own networks: put it on those only.
 */
static void
test_extra_networks(void **state)
{
	static const char *const v1[] = { "stack.yaml",
	    "name: demo\nnetworks: [backend]\n", "api.yaml", "image: " APP
	    "\n" CHECK "environment: {V: \"1\"}\nupdate: {order: start-first}\n",
	    "db.yaml", "image: " APP "\nnetworks: [backend]\n", NULL };
	static const char *const v2[] = { "stack.yaml",
	    "name: demo\nnetworks: [backend]\n", "api.yaml", "image: " APP
	    "\n" CHECK "environment: {V: \"2\"}\nupdate: {order: start-first}\n",
	    "db.yaml", "image: " APP "\nnetworks: [backend]\n", NULL };
	struct rig	 g;
	json_t		*nets, *want;
	int		 mark;

	(void)state;
	rig_open(&g);
	image(&g, APP, 200);
	rig_deploy_ok(&g, v1);
	assert_trace(&g, 0, "demo-api",
	    "create demo-api-1\n"
	    "connect demo_backend demo-api-1 api\n"
	    "start demo-api-1\n"
	    "healthy demo-api-1\n");
	assert_trace(&g, 0, "demo-db",
	    "create demo-db-1\n"
	    "start demo-db-1\n");
	nets = fakedocker_networks_of(g.fd, "demo-db-1");
	want = json_pack("{s:[s]}", "demo_backend", "db");
	assert_true(json_equal(nets, want));
	json_decref(nets);
	json_decref(want);

	mark = fakedocker_ncalls(g.fd);
	rig_deploy_ok(&g, v2);
	assert_trace(&g, mark, "demo-api",
	    "rename demo-api-1 demo-api-1-r1\n"
	    "create demo-api-1 unaliased\n"
	    "connect demo_backend demo-api-1 \n"
	    "start demo-api-1\n"
	    "healthy demo-api-1\n"
	    "disconnect demo_default demo-api-1\n"
	    "disconnect demo_backend demo-api-1\n"
	    "connect demo_default demo-api-1 api\n"
	    "connect demo_backend demo-api-1 api\n"
	    "disconnect demo_default demo-api-1-r1\n"
	    "disconnect demo_backend demo-api-1-r1\n"
	    "stop demo-api-1-r1\n");
	nets = fakedocker_networks_of(g.fd, "demo-api-1");
	want = json_pack("{s:[s], s:[s]}", "demo_default", "api",
	    "demo_backend", "api");
	assert_true(json_equal(nets, want));
	json_decref(nets);
	json_decref(want);
	rig_close(&g);
}

/* From API 1.44 on, the create names every network: no connects. */
static void
test_extra_networks_one_call(void **state)
{
	static const char *const v1[] = { "stack.yaml",
	    "name: demo\nnetworks: [backend]\n", "api.yaml", "image: " APP
	    "\n" CHECK, NULL };
	struct rig	 g;
	json_t		*nets, *want;

	(void)state;
	rig_open(&g);
	fakedocker_api(g.fd, "1.44");
	rig_down(&g);
	rig_up(&g);
	image(&g, APP, 200);
	rig_deploy_ok(&g, v1);
	assert_trace(&g, 0, "demo-api",
	    "create demo-api-1\n"
	    "start demo-api-1\n"
	    "healthy demo-api-1\n");
	nets = fakedocker_networks_of(g.fd, "demo-api-1");
	want = json_pack("{s:[s], s:[s]}", "demo_default", "api",
	    "demo_backend", "api");
	assert_true(json_equal(nets, want));
	json_decref(nets);
	json_decref(want);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_dependency_order),
		cmocka_unit_test(test_stop_first_keeps),
		cmocka_unit_test(test_stop_first_removes),
		cmocka_unit_test(test_start_first),
		cmocka_unit_test(test_parallelism),
		cmocka_unit_test(test_scale_down),
		cmocka_unit_test(test_extra_networks),
		cmocka_unit_test(test_extra_networks_one_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
