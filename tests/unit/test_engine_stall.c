/*
 * An operation against an engine that stops answering in the middle of a
 * deploy (issue 10, item 2): the start of the new container never comes
 * back in time, the engine client's deadline fails that call, and the
 * deploy fails naming it, rolls back to the revision before, records the
 * revision failed and lets the lock go, each time.  Without a deadline
 * the deploy would wait for the engine as long as the engine likes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/docker.h"
#include "helper_opsrig.h"
#include "proto.h"
#include "state/lock.h"
#include "state/store.h"
#include "util.h"

#define ORDINARY_MS	1000	/* the engine client's ordinary deadline */
#define STALL_MS	10000	/* how long the engine sits on a start */
#define ROUNDS		2

static void
test_start_stalls(void **state)
{
	static const char *const v1[] = {
		"api.yaml", "image: shipd-test/api:1\nreplicas: 2\n", NULL
	};
	static const char *const v2[] = {
		"api.yaml", "image: shipd-test/stall:1\nreplicas: 2\n", NULL
	};
	struct fake_image	 ok = { 0, -1, 0, false, 0 };
	struct fake_image	 stall = { 0, -1, 0, false, STALL_MS };
	struct rig		 g;
	struct cap		*c;
	uint64_t		 t0;
	char			*t;
	int			 i;

	(void)state;
	rig_open(&g);
	docker_set_timeout(g.sd.docker, ORDINARY_MS);
	fakedocker_image(g.fd, "shipd-test/api:1", &ok, NULL);
	fakedocker_image(g.fd, "shipd-test/stall:1", &stall, NULL);
	rig_deploy_ok(&g, v1);
	for (i = 0; i < ROUNDS; i++) {
		t0 = now_ms();
		c = rig_deploy(&g, v2, NULL, true);
		print_message("after %llu ms: %s\n",
		    (unsigned long long)(c->done_at - t0), cap_message(c));
		assert_string_equal(cap_code(c), PROTO_E_FAILED);
		assert_non_null(strstr(cap_message(c), "engine did not answer "
		    "POST /containers/"));
		assert_non_null(strstr(cap_message(c), "/start within 1.0s"));
		assert_non_null(strstr(cap_message(c), "; rolled back to "
		    "revision 1 in "));
		/* Failed at the deadline, not when the engine got round to
		 * answering. */
		assert_true(c->done_at - t0 < STALL_MS - 2000);
		rig_settle(&g);
		assert_null(lock_holder(&g.sd, "demo"));
		assert_string_equal(rig_result(&g, "demo", i + 2), "failed");
		assert_int_equal(store_current(g.sd.store, "demo"), 1);
		cap_free(c);
	}
	t = fakedocker_containers(g.fd);
	print_message("%s", t);
	assert_non_null(strstr(t, "demo-api-1 running 1\n"));
	assert_non_null(strstr(t, "demo-api-2 running 1\n"));
	free(t);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_stalls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
