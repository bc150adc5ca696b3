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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_noop_deploy),
		cmocka_unit_test(test_noop_retention),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
