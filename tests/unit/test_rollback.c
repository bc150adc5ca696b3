/*
 * Rollback against the dockerd model.  A deploy whose gate fails rolls
 * back by itself: its new containers go and the kept ones are renamed
 * back and started, with no create and no pull, and the reply is an
 * error that names the failure and the way back.  `shipctl rollback`
 * brings a committed revision back the same way as a new revision, and
 * recreates what was not kept from the image IDs it recorded.
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
#define STEPS	"create start stop rename remove connect disconnect pull"
#define NETS	"stack.yaml", "name: demo\nnetworks: [extra]\n"

static const char *const v1[] = {
	"api.yaml", "image: shipd-test/app:1\n" CHECK, NULL
};
static const char *const v2_sick[] = {
	"api.yaml", "image: shipd-test/sick:1\n" CHECK
	    "update: {healthy_deadline: 500ms}\n", NULL
};
static const char *const v2[] = {
	"api.yaml", "image: shipd-test/app:2\n" CHECK, NULL
};

static void
images(struct rig *g, char *id1)
{
	struct fake_image sick = { -1, -1, 0, false, 0 };

	fakedocker_image(g->fd, "shipd-test/app:1", NULL, id1);
	fakedocker_image(g->fd, "shipd-test/app:2", NULL, NULL);
	fakedocker_image(g->fd, "shipd-test/sick:1", &sick, NULL);
}

static void
assert_trace(struct rig *g, int from, const char *want)
{
	char *t = fakedocker_trace(g->fd, from, STEPS, "demo-api");

	assert_string_equal(t, want);
	free(t);
}

static const char *
doc_str(struct rig *g, int rev, const char *key)
{
	const char *s = json_string_value(json_object_get(store_revision_get(
	    g->sd.store, "demo", rev), key));

	return s ? s : "";
}

/*
 * Revision 2's replica never becomes healthy: the deploy fails and rolls
 * back to revision 1's kept container, the very one it stopped.
 */
static void
test_rollback_auto(void **state)
{
	struct rig	 g;
	struct cap	*c;
	json_t		*ev, *e;
	char		 id1[72], now[72], *t;
	int		 mark;

	(void)state;
	rig_open(&g);
	images(&g, NULL);
	rig_deploy_ok(&g, v1);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", id1), 0);
	mark = fakedocker_ncalls(g.fd);

	c = rig_deploy(&g, v2_sick, NULL, true);
	assert_string_equal(cap_code(c), PROTO_E_FAILED);
	/* The failure and the way back, in one sentence. */
	assert_non_null(strstr(cap_message(c), "demo-api-1 did not become "
	    "healthy within 500ms"));
	assert_non_null(strstr(cap_message(c), "; rolled back to revision 1 "
	    "in "));
	ev = cap_events(c, "rollback");
	assert_int_equal(json_array_size(ev), 1);
	e = json_array_get(ev, 0);
	assert_int_equal(json_integer_value(json_object_get(e, "from")), 2);
	assert_int_equal(json_integer_value(json_object_get(e, "to")), 1);
	assert_non_null(strstr(json_string_value(json_object_get(e,
	    "reason")), "did not become healthy"));
	json_decref(ev);
	rig_settle(&g);

	assert_trace(&g, mark,
	    /* revision 2, stop-first */
	    "disconnect demo_default demo-api-1\n"
	    "stop demo-api-1\n"
	    "rename demo-api-1 demo-api-1-r1\n"
	    "create demo-api-1\n"
	    "start demo-api-1\n"
	    /* the way back: the failed one removed, the kept one back */
	    "disconnect demo_default demo-api-1\n"
	    "stop demo-api-1\n"
	    "remove demo-api-1\n"
	    "connect demo_default demo-api-1-r1 api\n"
	    "rename demo-api-1-r1 demo-api-1\n"
	    "start demo-api-1\n");
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", now), 0);
	assert_string_equal(now, id1);
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 1\n");
	free(t);

	assert_string_equal(rig_result(&g, "demo", 2), "failed");
	assert_non_null(strstr(doc_str(&g, 2, "reason"), "rolled back to "
	    "revision 1"));
	assert_int_equal(store_current(g.sd.store, "demo"), 1);
	cap_free(c);
	rig_close(&g);
}

/*
 * on_failure: pause leaves things as they are for a human: no rollback,
 * the failed replica stays, the kept one stays kept.
 */
static void
test_rollback_paused(void **state)
{
	static const char *const v2_pause[] = {
		"api.yaml", "image: shipd-test/sick:1\n" CHECK
		    "update: {healthy_deadline: 300ms, on_failure: pause}\n",
		NULL
	};
	struct rig	 g;
	struct cap	*c;
	json_t		*ev;
	char		*t;

	(void)state;
	rig_open(&g);
	images(&g, NULL);
	rig_deploy_ok(&g, v1);
	c = rig_deploy(&g, v2_pause, NULL, true);
	assert_string_equal(cap_code(c), PROTO_E_FAILED);
	assert_null(strstr(cap_message(c), "rolled back"));
	ev = cap_events(c, "rollback");
	assert_int_equal(json_array_size(ev), 0);
	json_decref(ev);
	rig_settle(&g);
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 2\n"
	    "demo-api-1-r1 exited 1\n");
	free(t);
	assert_string_equal(rig_result(&g, "demo", 2), "failed");
	assert_int_equal(store_current(g.sd.store, "demo"), 1);
	cap_free(c);
	rig_close(&g);
}

static struct cap *
rollback(struct rig *g, int to, bool with_data)
{
	struct cap *c = cap_new(g, "rollback");

	ops_rollback(&g->sd, c->req, "demo", to, with_data);
	rig_wait(g, c);
	return c;
}

/*
 * shipctl rollback: revision 1 comes back as revision 3, by renaming its
 * kept container back; revision 2's is kept in turn.
 */
static void
test_rollback_manual(void **state)
{
	struct rig	 g;
	struct cap	*c;
	const json_t	*doc;
	char		 id1[72], now[72], *t;
	int		 mark;

	(void)state;
	rig_open(&g);
	images(&g, NULL);
	rig_deploy_ok(&g, v1);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", id1), 0);
	rig_deploy_ok(&g, v2);
	mark = fakedocker_ncalls(g.fd);

	c = rollback(&g, 0, false);
	cap_assert_ok(c);
	assert_int_equal(json_integer_value(json_object_get(cap_result(c),
	    "revision")), 3);
	rig_settle(&g);
	assert_trace(&g, mark,
	    "disconnect demo_default demo-api-1\n"
	    "stop demo-api-1\n"
	    "rename demo-api-1 demo-api-1-r2\n"
	    "connect demo_default demo-api-1-r1 api\n"
	    "rename demo-api-1-r1 demo-api-1\n"
	    "start demo-api-1\n");
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", now), 0);
	assert_string_equal(now, id1);
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 1\n"
	    "demo-api-1-r2 exited 2\n");
	free(t);

	assert_int_equal(store_current(g.sd.store, "demo"), 3);
	doc = store_revision_get(g.sd.store, "demo", 3);
	assert_string_equal(doc_str(&g, 3, "result"), "committed");
	assert_string_equal(doc_str(&g, 3, "kind"), "rollback");
	assert_int_equal(json_integer_value(json_object_get(doc,
	    "rollback_of")), 1);
	cap_free(c);

	/* And back again to 2, the committed revision before 3. */
	mark = fakedocker_ncalls(g.fd);
	c = rollback(&g, 2, false);
	cap_assert_ok(c);
	rig_settle(&g);
	t = fakedocker_trace(g.fd, mark, "create", NULL);
	assert_string_equal(t, "");
	free(t);
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 2\n"
	    "demo-api-1-r3 exited 1\n");
	free(t);
	cap_free(c);
	rig_close(&g);
}

/*
 * The kept container is gone and the tag has moved on: the rollback
 * creates the replica again from the image ID revision 1 recorded.
 */
static void
test_rollback_recreates_pinned(void **state)
{
	struct rig	 g;
	struct cap	*c;
	json_t		*info;
	char		 id1[72], *t;
	int		 mark;

	(void)state;
	rig_open(&g);
	images(&g, id1);
	rig_deploy_ok(&g, v1);
	rig_deploy_ok(&g, v2);
	assert_int_equal(fakedocker_remove(g.fd, "demo-api-1-r1"), 0);
	fakedocker_image(g.fd, "shipd-test/app:1", NULL, NULL);
	mark = fakedocker_ncalls(g.fd);

	c = rollback(&g, 1, false);
	cap_assert_ok(c);
	rig_settle(&g);
	assert_trace(&g, mark,
	    "disconnect demo_default demo-api-1\n"
	    "stop demo-api-1\n"
	    "rename demo-api-1 demo-api-1-r2\n"
	    "create demo-api-1\n"
	    "start demo-api-1\n");
	info = fakedocker_inspect(g.fd, "demo-api-1");
	assert_string_equal(json_string_value(json_object_get(info, "Image")),
	    id1);
	json_decref(info);
	t = fakedocker_trace(g.fd, mark, "pull image", NULL);
	assert_string_equal(t, "");
	free(t);
	cap_free(c);
	rig_close(&g);
}

/*
 * After a rollback (revision 3 brings 1's container back, keeping 2's as
 * demo-api-1-r2), a deploy of revision 2's units again restores that kept
 * container and keeps 3's as demo-api-1-r3; when that deploy fails (here
 * a new service never becomes healthy) its rollback must take api back
 * to demo-api-1-r3.  The outgoing container is revision 2's: it goes back
 * to the name it had, not to -r3, which would supersede (remove) the very
 * container the rollback is about to rename back.
 */
static void
test_rollback_after_restore(void **state)
{
	static const char *const v2_more[] = {
		"api.yaml", "image: shipd-test/app:2\n" CHECK,
		"extra.yaml", "image: shipd-test/sick:1\n" CHECK
		    "depends_on: {api: healthy}\n"
		    "update: {healthy_deadline: 300ms}\n", NULL
	};
	struct rig	 g;
	struct cap	*c;
	char		 id1[72], id2[72], now[72], *t;
	int		 mark;

	(void)state;
	rig_open(&g);
	images(&g, NULL);
	rig_deploy_ok(&g, v1);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", id1), 0);
	rig_deploy_ok(&g, v2);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", id2), 0);
	c = rollback(&g, 1, false);
	cap_assert_ok(c);
	cap_free(c);
	rig_settle(&g);

	mark = fakedocker_ncalls(g.fd);
	c = rig_deploy(&g, v2_more, NULL, true);
	assert_string_equal(cap_code(c), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(c), "; rolled back to revision 3 "
	    "in "));
	cap_free(c);
	rig_settle(&g);
	assert_string_equal(rig_result(&g, "demo", 4), "failed");
	assert_int_equal(store_current(g.sd.store, "demo"), 3);
	/* extra waits for api: revision 4 renamed api's kept container back
	 * before it failed, and the rollback undid that. */
	assert_trace(&g, mark,
	    "disconnect demo_default demo-api-1\n"
	    "stop demo-api-1\n"
	    "rename demo-api-1 demo-api-1-r3\n"
	    "connect demo_default demo-api-1-r2 api\n"
	    "rename demo-api-1-r2 demo-api-1\n"
	    "start demo-api-1\n"
	    "disconnect demo_default demo-api-1\n"
	    "stop demo-api-1\n"
	    "rename demo-api-1 demo-api-1-r2\n"
	    "connect demo_default demo-api-1-r3 api\n"
	    "rename demo-api-1-r3 demo-api-1\n"
	    "start demo-api-1\n");
	/* Revision 1's container serves again, revision 2's is kept. */
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", now), 0);
	assert_string_equal(now, id1);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1-r2", now), 0);
	assert_string_equal(now, id2);
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 1\n"
	    "demo-api-1-r2 exited 2\n");
	free(t);
	rig_close(&g);
}

/*
 * The stack's networks exist, with its label: a deploy, a rollback and
 * a failed deploy's rollback use them as they are, with no create asked
 * of the engine (under load each would be one more call that may pass
 * its deadline and fail the rollback).  One removed behind shipd's back
 * is created again, alone.
 */
static void
test_rollback_reuses_networks(void **state)
{
	static const char *const n1[] = {
		NETS, "api.yaml", "image: shipd-test/app:1\n" CHECK, NULL
	};
	static const char *const n2[] = {
		NETS, "api.yaml", "image: shipd-test/app:2\n" CHECK, NULL
	};
	static const char *const n2_sick[] = {
		NETS, "api.yaml", "image: shipd-test/sick:1\n" CHECK
		    "update: {healthy_deadline: 300ms}\n", NULL
	};
	struct rig	 g;
	struct cap	*c;
	char		*t;
	int		 mark;

	(void)state;
	rig_open(&g);
	images(&g, NULL);
	rig_deploy_ok(&g, n1);
	/* The first deploy makes both, in either order. */
	t = fakedocker_trace(g.fd, 0, "netcreate", "demo_default");
	assert_string_equal(t, "netcreate demo_default\n");
	free(t);
	t = fakedocker_trace(g.fd, 0, "netcreate", "demo_extra");
	assert_string_equal(t, "netcreate demo_extra\n");
	free(t);
	mark = fakedocker_ncalls(g.fd);
	rig_deploy_ok(&g, n2);
	c = rollback(&g, 1, false);
	cap_assert_ok(c);
	cap_free(c);
	rig_settle(&g);
	c = rig_deploy(&g, n2_sick, NULL, true);
	assert_string_equal(cap_code(c), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(c), "; rolled back to revision 3 "
	    "in "));
	cap_free(c);
	rig_settle(&g);
	t = fakedocker_trace(g.fd, mark, "netcreate", NULL);
	assert_string_equal(t, "");
	free(t);

	assert_int_equal(fakedocker_remove_network(g.fd, "demo_extra"), 0);
	mark = fakedocker_ncalls(g.fd);
	c = rollback(&g, 2, false);
	cap_assert_ok(c);
	cap_free(c);
	rig_settle(&g);
	t = fakedocker_trace(g.fd, mark, "netcreate", NULL);
	assert_string_equal(t, "netcreate demo_extra\n");
	free(t);
	rig_close(&g);
}

/* Nothing to go back to, or no data to bring back: refused, untouched. */
static void
test_rollback_refused(void **state)
{
	struct rig	 g;
	struct cap	*c;
	char		*t;
	int		 mark;

	(void)state;
	rig_open(&g);
	images(&g, NULL);
	c = rollback(&g, 0, false);
	assert_string_equal(cap_code(c), PROTO_E_NOT_FOUND);
	cap_free(c);
	rig_deploy_ok(&g, v1);
	mark = fakedocker_ncalls(g.fd);
	c = rollback(&g, 0, false);
	assert_string_equal(cap_code(c), PROTO_E_NOT_FOUND);
	assert_non_null(strstr(cap_message(c), "no committed revision before "
	    "1"));
	cap_free(c);
	rig_deploy_ok(&g, v2);
	mark = fakedocker_ncalls(g.fd);
	c = rollback(&g, 1, true);
	assert_string_equal(cap_code(c), PROTO_E_NOT_FOUND);
	assert_non_null(strstr(cap_message(c), "revision 2 took no backup"));
	cap_free(c);
	t = fakedocker_trace(g.fd, mark, NULL, NULL);
	assert_string_equal(t, "");
	free(t);
	assert_int_equal(store_current(g.sd.store, "demo"), 2);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rollback_auto),
		cmocka_unit_test(test_rollback_paused),
		cmocka_unit_test(test_rollback_manual),
		cmocka_unit_test(test_rollback_recreates_pinned),
		cmocka_unit_test(test_rollback_after_restore),
		cmocka_unit_test(test_rollback_reuses_networks),
		cmocka_unit_test(test_rollback_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
