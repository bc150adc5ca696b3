/*
 * A failed operation ends: whatever was under way when it failed (engine
 * calls, journal writes, gates, drains) finishes into the one completion
 * that replies, rolls back and releases the lock, and nothing new starts.
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
#include "state/lock.h"
#include "state/store.h"
#include "util.h"

#define CHECK	"health: {test: [CMD, /bin/check]}\n"
#define ROUNDS	4
/* Far below the rig's own deadline: a hang fails here, not there. */
#define END_MS	15000

static void
image(struct rig *g, const char *ref, int healthy_after_ms)
{
	struct fake_image k = { healthy_after_ms, -1, 0, false, 0 };

	fakedocker_image(g->fd, ref, &k, NULL);
}

/* The deploy failed, rolled back to revision 1, and let the lock go. */
static void
assert_rolled_back(struct rig *g, struct cap *c, uint64_t t0, int rev)
{
	assert_string_equal(cap_code(c), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(c), "; rolled back to revision 1 "
	    "in "));
	assert_true(c->done_at - t0 < END_MS);
	rig_settle(g);
	assert_null(lock_holder(&g->sd, "demo"));
	assert_string_equal(rig_result(g, "demo", rev), "failed");
	assert_int_equal(store_current(g->sd.store, "demo"), 1);
}

/*
 * replicas 2, parallelism 1: replica 1 never becomes healthy while
 * replica 2 waits for the slot.  The failure must not hand the slot on,
 * and the deploy fails and rolls back within its deadline, each time.
 */
static void
test_gate_fails_queued(void **state)
{
	static const char *const v1[] = {
		"api.yaml", "image: shipd-test/api:1\nreplicas: 2\n" CHECK
		    "update: {parallelism: 1, healthy_deadline: 300ms}\n",
		NULL
	};
	static const char *const v2[] = {
		"api.yaml", "image: shipd-test/sick:1\nreplicas: 2\n" CHECK
		    "update: {parallelism: 1, healthy_deadline: 300ms}\n",
		NULL
	};
	struct rig	 g;
	struct cap	*c;
	uint64_t	 t0;
	char		*t;
	int		 i;

	(void)state;
	rig_open(&g);
	image(&g, "shipd-test/api:1", 0);
	image(&g, "shipd-test/sick:1", -1);
	rig_deploy_ok(&g, v1);
	for (i = 0; i < ROUNDS; i++) {
		t0 = now_ms();
		c = rig_deploy(&g, v2, NULL, true);
		assert_non_null(strstr(cap_message(c), "demo-api-1 did not "
		    "become healthy within 300ms"));
		assert_rolled_back(&g, c, t0, i + 2);
		cap_free(c);
	}
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 1\ndemo-api-2 running 1\n");
	free(t);
	rig_close(&g);
}

/*
 * Three services, each with replicas in flight, and the engine refuses
 * every create: the deploy fails and rolls back, each time.
 */
static void
test_creates_fail(void **state)
{
	static const char *const v1[] = {
		"a.yaml", "image: shipd-test/a:1\nreplicas: 2\n",
		"b.yaml", "image: shipd-test/b:1\nreplicas: 3\n"
		    "update: {parallelism: 2}\n",
		"c.yaml", "image: shipd-test/c:1\n",
		NULL
	};
	static const char *const v2[] = {
		"a.yaml", "image: shipd-test/v2:1\nreplicas: 2\n",
		"b.yaml", "image: shipd-test/v2:1\nreplicas: 3\n"
		    "update: {parallelism: 2}\n",
		"c.yaml", "image: shipd-test/v2:1\n",
		NULL
	};
	struct rig	 g;
	struct cap	*c;
	uint64_t	 t0;
	int		 i;

	(void)state;
	rig_open(&g);
	image(&g, "shipd-test/a:1", 0);
	image(&g, "shipd-test/b:1", 0);
	image(&g, "shipd-test/c:1", 0);
	image(&g, "shipd-test/v2:1", 0);
	rig_deploy_ok(&g, v1);
	fakedocker_refuse_creates(g.fd, true);
	for (i = 0; i < ROUNDS; i++) {
		t0 = now_ms();
		c = rig_deploy(&g, v2, NULL, true);
		assert_non_null(strstr(cap_message(c), "cannot create"));
		assert_rolled_back(&g, c, t0, i + 2);
		cap_free(c);
	}
	rig_close(&g);
}

/* A first deploy has nothing to roll back to: it fails and ends. */
static void
test_creates_fail_first(void **state)
{
	static const char *const files[] = {
		"a.yaml", "image: shipd-test/v2:1\nreplicas: 2\n",
		"b.yaml", "image: shipd-test/v2:1\nreplicas: 3\n",
		"c.yaml", "image: shipd-test/v2:1\n",
		NULL
	};
	struct rig	 g;
	struct cap	*c;
	uint64_t	 t0;
	int		 i;

	(void)state;
	rig_open(&g);
	image(&g, "shipd-test/v2:1", 0);
	fakedocker_refuse_creates(g.fd, true);
	for (i = 0; i < ROUNDS; i++) {
		t0 = now_ms();
		c = rig_deploy(&g, files, NULL, true);
		assert_string_equal(cap_code(c), PROTO_E_FAILED);
		assert_non_null(strstr(cap_message(c), "cannot create"));
		assert_true(c->done_at - t0 < END_MS);
		rig_settle(&g);
		assert_null(lock_holder(&g.sd, "demo"));
		assert_string_equal(rig_result(&g, "demo", i + 1), "failed");
		cap_free(c);
	}
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gate_fails_queued),
		cmocka_unit_test(test_creates_fail),
		cmocka_unit_test(test_creates_fail_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
