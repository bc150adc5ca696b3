/*
 * Revisions that repeat each other, against the dockerd model: a deploy
 * with nothing to change answers so and records, numbers and prunes
 * nothing; retention and rollback without --to count only revisions
 * that deploy something different.
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
#include "state/store.h"
#include "util.h"

#define CHECK	"health: {test: [CMD, /bin/check]}\n"
#define STACK	"stack.yaml", "name: demo\nretain: 2\n"
#define STEPS	"create start stop rename remove connect disconnect pull"

static const char *const v1[] = {
	STACK, "api.yaml", "image: shipd-test/app:1\n" CHECK, NULL
};
static const char *const v2[] = {
	STACK, "api.yaml", "image: shipd-test/app:2\n" CHECK, NULL
};
static const char *const v3[] = {
	STACK, "api.yaml", "image: shipd-test/app:2\n" CHECK
	    "environment: {MODE: three}\n", NULL
};
/* v2 with a setting no container carries: a revision of its own. */
static const char *const v2_slow[] = {
	STACK, "api.yaml", "image: shipd-test/app:2\n" CHECK
	    "update: {healthy_deadline: 90s}\n", NULL
};

static void
images(struct rig *g)
{
	fakedocker_image(g->fd, "shipd-test/app:1", NULL, NULL);
	fakedocker_image(g->fd, "shipd-test/app:2", NULL, NULL);
}

static size_t
nrevisions(struct rig *g)
{
	int revs[16];

	return store_revision_list(g->sd.store, "demo", revs, nitems(revs));
}

static void
assert_containers(struct rig *g, const char *want)
{
	char *t = fakedocker_containers(g->fd);

	assert_string_equal(t, want);
	free(t);
}

static struct cap *
rollback(struct rig *g, int to)
{
	struct cap *c = cap_new(g, "rollback");

	ops_rollback(&g->sd, c->req, "demo", to, false);
	rig_wait(g, c);
	cap_assert_ok(c);
	rig_settle(g);
	return c;
}

static int
result_int(const struct cap *c, const char *key)
{
	return (int)json_integer_value(json_object_get(cap_result(c), key));
}

/* Three deploys of what runs: no revision, no step, no prune, no gap. */
static void
test_noop_deploy(void **state)
{
	struct rig	 g;
	struct cap	*c;
	json_t		*ev;
	char		*t;
	int		 i, mark;

	(void)state;
	rig_open(&g);
	images(&g);
	rig_deploy_ok(&g, v1);
	rig_deploy_ok(&g, v2);
	assert_containers(&g, "demo-api-1 running 2\ndemo-api-1-r1 exited 1\n");
	mark = fakedocker_ncalls(g.fd);

	for (i = 0; i < 3; i++) {
		c = rig_deploy(&g, v2, NULL, true);
		cap_assert_ok(c);
		assert_true(json_is_true(json_object_get(cap_result(c),
		    "unchanged")));
		assert_int_equal(result_int(c, "revision"), 2);
		ev = cap_events(c, PROTO_EV_PLAN);
		assert_int_equal(json_array_size(ev), 0);
		json_decref(ev);
		cap_free(c);
		rig_settle(&g);
	}
	t = fakedocker_trace(g.fd, mark, STEPS, NULL);
	assert_string_equal(t, "");
	free(t);
	assert_containers(&g, "demo-api-1 running 2\ndemo-api-1-r1 exited 1\n");
	assert_int_equal(nrevisions(&g), 2);
	assert_int_equal(store_current(g.sd.store, "demo"), 2);

	/* A setting that no container carries is a change all the same. */
	c = rig_deploy(&g, v2_slow, NULL, true);
	cap_assert_ok(c);
	assert_null(json_object_get(cap_result(c), "unchanged"));
	assert_int_equal(result_int(c, "revision"), 3);
	cap_free(c);
	rig_settle(&g);

	/* The numbers go on without a gap. */
	c = rig_deploy(&g, v3, NULL, true);
	cap_assert_ok(c);
	assert_int_equal(result_int(c, "revision"), 4);
	cap_free(c);
	rig_close(&g);
}

/*
 * Revisions 3 and 4 repeat 2 (rollbacks --to 2): with retain 2 they do
 * not push revision 1's kept container out, and rollback without --to
 * passes them by for revision 1, whose container comes back.
 */
static void
test_noop_retention(void **state)
{
	struct rig	 g;
	struct cap	*c;
	json_t		*ev;
	char		 id1[72], now[72];

	(void)state;
	rig_open(&g);
	images(&g);
	rig_deploy_ok(&g, v1);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", id1), 0);
	rig_deploy_ok(&g, v2);
	cap_free(rollback(&g, 2));
	cap_free(rollback(&g, 2));
	assert_int_equal(store_current(g.sd.store, "demo"), 4);
	assert_containers(&g, "demo-api-1 running 2\ndemo-api-1-r1 exited 1\n");

	c = rollback(&g, 0);
	ev = cap_events(c, PROTO_EV_ROLLBACK);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ev,
	    0), "to")), 1);
	json_decref(ev);
	assert_int_equal(result_int(c, "revision"), 5);
	cap_free(c);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", now), 0);
	assert_string_equal(now, id1);
	assert_containers(&g, "demo-api-1 running 1\ndemo-api-1-r4 exited 2\n");

	/* And back: 4 differs from 5; 3 and 2 repeat it. */
	c = rollback(&g, 0);
	ev = cap_events(c, PROTO_EV_ROLLBACK);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ev,
	    0), "to")), 4);
	json_decref(ev);
	cap_free(c);
	assert_containers(&g, "demo-api-1 running 2\ndemo-api-1-r5 exited 1\n");
	rig_close(&g);
}

/*
 * A deploy refused before its begin (pre-flight: an image the engine
 * does not have) records no revision, and takes no
 * number either: the plan it showed names the number the next deploy
 * takes, and history has no gap.  A deploy that fails after its begin (a
 * gate) is recorded, failed, under its number, as before.
 */
static void
test_refused_takes_no_number(void **state)
{
	static const char *const missing[] = {
		STACK, "api.yaml", "image: shipd-test/nowhere:9\n", NULL
	};
	static const char *const v1_sick[] = {
		STACK, "api.yaml", "image: shipd-test/app:1\n" CHECK,
		"extra.yaml", "image: shipd-test/sick:1\n" CHECK
		    "update: {healthy_deadline: 300ms}\n", NULL
	};
	struct fake_image sick = { -1, -1, 0, false, 0 };
	struct rig	 g;
	struct cap	*c;
	json_t		*ev;
	int		 revs[4], i;

	(void)state;
	rig_open(&g);
	images(&g);
	fakedocker_image(g.fd, "shipd-test/sick:1", &sick, NULL);
	for (i = 0; i < 2; i++) {
		c = rig_deploy(&g, missing, NULL, true);
		assert_string_equal(cap_code(c), PROTO_E_PREFLIGHT);
		ev = cap_events(c, PROTO_EV_PLAN);
		assert_int_equal(json_integer_value(json_object_get(
		    json_array_get(ev, 0), "revision")), 1);
		json_decref(ev);
		cap_free(c);
		rig_settle(&g);
	}
	assert_int_equal(nrevisions(&g), 0);
	c = rig_deploy(&g, v1, NULL, true);
	cap_assert_ok(c);
	assert_int_equal(result_int(c, "revision"), 1);
	cap_free(c);
	rig_settle(&g);

	/* After the first revision too. */
	c = rig_deploy(&g, missing, NULL, true);
	assert_string_equal(cap_code(c), PROTO_E_PREFLIGHT);
	cap_free(c);
	rig_settle(&g);
	c = rig_deploy(&g, v1_sick, NULL, true);
	assert_string_equal(cap_code(c), PROTO_E_FAILED);
	cap_free(c);
	rig_settle(&g);
	assert_string_equal(rig_result(&g, "demo", 2), "failed");
	c = rig_deploy(&g, v2, NULL, true);
	cap_assert_ok(c);
	assert_int_equal(result_int(c, "revision"), 3);
	cap_free(c);
	rig_settle(&g);
	assert_int_equal(store_revision_list(g.sd.store, "demo", revs,
	    nitems(revs)), 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(revs[i], i + 1);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_noop_deploy),
		cmocka_unit_test(test_noop_retention),
		cmocka_unit_test(test_refused_takes_no_number),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
