/*
 * What a deploy judges, against the dockerd model: the services it
 * touches and those that depend on them, gated and watched; what a
 * touched service waits on, gated and checked in pre-flight; nothing
 * else, however unhealthy.  Its rollback likewise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helper_opsrig.h"
#include "proto.h"
#include "util.h"

#define CHECK	"health: {test: [CMD, /bin/check]}\n"
#define APP	"image: shipd-test/app:1\n" CHECK

static void
images(struct rig *g)
{
	struct fake_image sick = { -1, -1, 0, false, 0 };

	fakedocker_image(g->fd, "shipd-test/app:1", NULL, NULL);
	fakedocker_image(g->fd, "shipd-test/sick:1", &sick, NULL);
}

/* The journal's steps of one service's replica 1 in a revision. */
static char *
steps_of(struct rig *g, int rev, const char *svc)
{
	json_t		*recs = rig_journal(g), *r;
	struct buf	 b;
	size_t		 i;

	buf_init(&b);
	buf_append(&b, "", 0);
	json_array_foreach(recs, i, r) {
		if (strcmp(json_string_value(json_object_get(r, "event")),
		    "step") != 0 || json_integer_value(json_object_get(r,
		    "revision")) != rev || strcmp(json_string_value(
		    json_object_get(r, "kind")), "deploy") != 0 ||
		    strcmp(json_string_value(json_object_get(r, "service")),
		    svc) != 0)
			continue;
		buf_printf(&b, "%s%s", b.len ? " " : "", json_string_value(
		    json_object_get(r, "step")));
	}
	json_decref(recs);
	return buf_steal(&b);
}

static void
assert_steps(struct rig *g, int rev, const char *svc, const char *want)
{
	char *t = steps_of(g, rev, svc);

	assert_string_equal(t, want);
	free(t);
}

static void
assert_calls(struct rig *g, int from, const char *verbs, const char *match,
    const char *want)
{
	char *t = fakedocker_trace(g->fd, from, verbs, match);

	assert_string_equal(t, want);
	free(t);
}

static const char *const v1[] = {
	"h.yaml", APP,
	"c.yaml", APP "environment: {V: \"1\"}\n",
	NULL
};
static const char *const v2[] = {
	"h.yaml", APP,
	"c.yaml", APP "environment: {V: \"2\"}\n",
	NULL
};

/*
 * c changes while h, unrelated and unchanged, is unhealthy: h is neither
 * gated nor looked at, and the deploy commits.
 */
static void
test_unrelated_unhealthy(void **state)
{
	struct rig	 g;
	struct cap	*c;
	int		 mark;

	(void)state;
	rig_open(&g);
	images(&g);
	rig_deploy_ok(&g, v1);
	assert_int_equal(fakedocker_unhealthy(g.fd, "demo-h-1"), 0);
	mark = fakedocker_ncalls(g.fd);
	c = rig_deploy(&g, v2, NULL, true);
	cap_assert_ok(c);
	assert_string_equal(rig_result(&g, "demo", 2), "committed");
	assert_steps(&g, 2, "h", "");
	assert_steps(&g, 2, "c", "leave stop keep create start gate");
	assert_calls(&g, mark, NULL, "demo-h-1", "");
	cap_free(c);
	rig_close(&g);
}

static const char *const v2_sick[] = {
	"h.yaml", APP,
	"c.yaml", "image: shipd-test/sick:1\n" CHECK
	    "update: {healthy_deadline: 300ms}\n",
	NULL
};

/* ...and when c's new version fails, the rollback touches c only and
 * succeeds, h unhealthy all along. */
static void
test_rollback_judges_touched(void **state)
{
	struct rig	 g;
	struct cap	*c;

	(void)state;
	rig_open(&g);
	images(&g);
	rig_deploy_ok(&g, v1);
	assert_int_equal(fakedocker_unhealthy(g.fd, "demo-h-1"), 0);
	c = rig_deploy(&g, v2_sick, NULL, true);
	assert_string_equal(cap_code(c), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(c), "demo-c-1 did not become "
	    "healthy"));
	assert_non_null(strstr(cap_message(c), "rolled back to revision 1"));
	assert_null(strstr(cap_message(c), "failed too"));
	assert_null(strstr(cap_message(c), "demo-h-1"));
	rig_settle(&g);
	assert_string_equal(rig_result(&g, "demo", 2), "failed");
	cap_free(c);
	rig_close(&g);
}

static const char *const dep_v2[] = {
	"h.yaml", APP,
	"c.yaml", APP "environment: {V: \"2\"}\ndepends_on: {h: healthy}\n",
	NULL
};
static const char *const started_v2[] = {
	"h.yaml", APP,
	"c.yaml", APP "environment: {V: \"2\"}\ndepends_on: {h: started}\n",
	NULL
};

/*
 * c waits on h being healthy, and h is not: pre-flight says so, naming
 * both, and nothing is stopped.  Waiting on h's start only, it goes.
 */
static void
test_dependency_preflight(void **state)
{
	struct rig	 g;
	struct cap	*c;
	int		 mark;

	(void)state;
	rig_open(&g);
	images(&g);
	rig_deploy_ok(&g, v1);
	assert_int_equal(fakedocker_unhealthy(g.fd, "demo-h-1"), 0);
	mark = fakedocker_ncalls(g.fd);
	c = rig_deploy(&g, dep_v2, NULL, true);
	assert_string_equal(cap_code(c), PROTO_E_PREFLIGHT);
	assert_non_null(strstr(cap_message(c), "dependencies: h is unhealthy "
	    "(demo-h-1"));
	assert_non_null(strstr(cap_message(c), "and c, which this deploy "
	    "changes, waits for it to be healthy"));
	assert_calls(&g, mark, "create start stop rename remove connect "
	    "disconnect", NULL, "");
	cap_free(c);
	rig_settle(&g);

	/* --skip-check dependencies: the gate judges h instead, at once. */
	{
		struct deploy_opts o = { 0 };

		o.skip_checks = json_pack("[s]", "dependencies");
		c = rig_deploy(&g, dep_v2, &o, true);
		json_decref(o.skip_checks);
	}
	assert_string_equal(cap_code(c), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(c), "demo-h-1 is unhealthy"));
	cap_free(c);
	rig_settle(&g);

	c = rig_deploy(&g, started_v2, NULL, true);
	cap_assert_ok(c);
	cap_free(c);
	rig_close(&g);
}

static const char *const chain_v1[] = {
	"c.yaml", APP "environment: {V: \"1\"}\n",
	"a.yaml", APP "depends_on: {c: healthy}\n",
	"h.yaml", APP,
	NULL
};
static const char *const chain_v2[] = {
	"c.yaml", APP "environment: {V: \"2\"}\n"
	    "update: {monitor: 400ms}\n",
	"a.yaml", APP "depends_on: {c: healthy}\n",
	"h.yaml", APP,
	NULL
};
static const char *const chain_v3[] = {
	"c.yaml", APP "environment: {V: \"3\"}\n"
	    "update: {monitor: 400ms}\n",
	"a.yaml", APP "depends_on: {c: healthy}\n",
	"h.yaml", APP,
	NULL
};

static bool
verifying(struct rig *g, void *arg)
{
	json_t	*ev = cap_events(arg, "verify");
	bool	 on = json_array_size(ev) > 0;

	(void)g;
	json_decref(ev);
	return on;
}

/*
 * a depends on c, which changes: a is gated after c, and watched in the
 * monitor period, where its exit fails the deploy.  h, unrelated, may
 * exit then without anyone minding.
 */
static void
test_dependent_judged(void **state)
{
	struct rig	 g;
	struct cap	*c;

	(void)state;
	rig_open(&g);
	images(&g);
	rig_deploy_ok(&g, chain_v1);

	/* h exits in the monitor period: not this deploy's business. */
	c = rig_deploy(&g, chain_v2, NULL, false);
	rig_until(&g, verifying, c, "the monitor period");
	assert_int_equal(fakedocker_exit(g.fd, "demo-h-1", 3), 0);
	rig_wait(&g, c);
	cap_assert_ok(c);
	assert_steps(&g, 2, "a", "gate");
	assert_steps(&g, 2, "h", "");
	cap_free(c);
	rig_settle(&g);

	/* a exits in the monitor period of a change to c: that fails it. */
	c = rig_deploy(&g, chain_v3, NULL, false);
	rig_until(&g, verifying, c, "the monitor period");
	assert_int_equal(fakedocker_exit(g.fd, "demo-a-1", 4), 0);
	rig_wait(&g, c);
	assert_string_equal(cap_code(c), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(c), "demo-a-1 exited with code 4"));
	cap_free(c);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unrelated_unhealthy),
		cmocka_unit_test(test_rollback_judges_touched),
		cmocka_unit_test(test_dependency_preflight),
		cmocka_unit_test(test_dependent_judged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
