/*
 * Every way an operation fails once its begin is recorded records its
 * result, against the dockerd model: a deploy whose network the engine
 * refuses, and a failed deploy whose rollback the engine refuses the
 * same way.  The revision is "failed", the journal has its end, the lock
 * is free and the client has its answer.
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
#define MUTATING "create start stop kill rename remove connect disconnect"
/* ops/pipeline.c: the network of that name is asked for with a driver
 * no engine has. */
#define REFUSE	"SHIPD_TEST_REFUSE_NETWORK"

static const char *const v1[] = {
	"api.yaml", "image: shipd-test/app:1\n" CHECK, NULL
};
static const char *const v1_extra[] = {
	"stack.yaml", "name: demo\nnetworks: [extra]\n",
	"api.yaml", "image: shipd-test/app:1\n" CHECK, NULL
};
static const char *const v2_sick[] = {
	"api.yaml", "image: shipd-test/sick:1\n" CHECK
	    "update: {healthy_deadline: 500ms}\n", NULL
};

static void
images(struct rig *g)
{
	struct fake_image sick = { -1, -1, 0, false, 0 };

	fakedocker_image(g->fd, "shipd-test/app:1", NULL, NULL);
	fakedocker_image(g->fd, "shipd-test/sick:1", &sick, NULL);
}

static const char *
reason(struct rig *g, int rev)
{
	const char *s = json_string_value(json_object_get(store_revision_get(
	    g->sd.store, "demo", rev), "reason"));

	return s ? s : "";
}

/* How many records of event for demo's deploy of revision rev the
 * journal holds (the rig does not recover, so nothing empties it). */
static int
journal_count(struct rig *g, const char *event, int rev)
{
	json_t	*j = rig_journal(g), *r;
	size_t	 i;
	int	 n = 0;

	json_array_foreach(j, i, r)
		if (strcmp(json_string_value(json_object_get(r, "event")),
		    event) == 0 && json_integer_value(json_object_get(r,
		    "revision")) == rev && strcmp(json_string_value(
		    json_object_get(r, "kind")), "deploy") == 0)
			n++;
	json_decref(j);
	return n;
}

/*
 * The engine refuses the new network of revision 2: the deploy fails
 * with the engine's reason, revision 2 is recorded failed (not left
 * in_progress), the journal has its end, nothing is rolled back (nothing
 * changed), and the next deploy takes the lock at once.
 */
static void
test_network_refused(void **state)
{
	struct rig	 g;
	struct cap	*c;
	json_t		*ev;
	char		*t;
	int		 mark;

	(void)state;
	rig_open(&g);
	images(&g);
	rig_deploy_ok(&g, v1);
	setenv(REFUSE, "demo_extra", 1);
	mark = fakedocker_ncalls(g.fd);
	c = rig_deploy(&g, v1_extra, NULL, false);
	rig_wait(&g, c);
	unsetenv(REFUSE);
	assert_string_equal(cap_code(c), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(c), "creating the stack's networks "
	    "and volumes: plugin \"shipd-test-no-such-driver\" not found"));
	ev = cap_events(c, PROTO_EV_ROLLBACK);
	assert_int_equal(json_array_size(ev), 0);
	json_decref(ev);
	rig_settle(&g);
	assert_string_equal(rig_result(&g, "demo", 2), "failed");
	assert_non_null(strstr(reason(&g, 2), "creating the stack's networks"));
	assert_int_equal(store_current(g.sd.store, "demo"), 1);
	assert_null(g.sd.locks);
	t = fakedocker_trace(g.fd, mark, MUTATING, NULL);
	assert_string_equal(t, "");
	free(t);
	/* Begun, and ended: nothing for a recovery to find. */
	assert_int_equal(journal_count(&g, "begin", 2), 1);
	assert_int_equal(journal_count(&g, "end", 2), 1);
	cap_free(c);

	rig_deploy_ok(&g, v1_extra);
	assert_string_equal(rig_result(&g, "demo", 3), "committed");
	rig_close(&g);
}

/*
 * Revision 1 had a network of its own, removed behind shipd's back
 * (revision 2 does not use it); revision 2 fails its gate and rolls
 * back, and the rollback cannot make revision 1's network again: the
 * deploy is answered and recorded failed, with both reasons, the lock is
 * free (the deploy does not stay listed for ever).
 */
static void
test_rollback_network_refused(void **state)
{
	struct rig	 g;
	struct cap	*c;

	(void)state;
	rig_open(&g);
	images(&g);
	rig_deploy_ok(&g, v1_extra);
	assert_int_equal(fakedocker_remove_network(g.fd, "demo_extra"), 0);
	setenv(REFUSE, "demo_extra", 1);
	c = rig_deploy(&g, v2_sick, NULL, false);
	rig_wait(&g, c);
	unsetenv(REFUSE);
	assert_string_equal(cap_code(c), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(c), "rolling back to revision 1 "
	    "failed too: creating the stack's networks and volumes"));
	rig_settle(&g);
	assert_string_equal(rig_result(&g, "demo", 2), "failed");
	assert_int_equal(store_current(g.sd.store, "demo"), 1);
	assert_null(g.sd.locks);
	assert_null(g.sd.ops);
	assert_int_equal(journal_count(&g, "end", 2), 1);
	cap_free(c);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_network_refused),
		cmocka_unit_test(test_rollback_network_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
