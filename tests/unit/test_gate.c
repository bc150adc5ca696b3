/*
 * Gates in a deploy, against the dockerd model: a replica that never
 * becomes healthy fails the deploy once update.healthy_deadline passes,
 * naming the container, its state and the last check; a dependency that
 * must complete passes on exit code 0 only; a start the engine refuses
 * fails at once.  What depends on a failed service is skipped.
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

static void
image(struct rig *g, const char *ref, int healthy_after_ms, int exit_after,
    int code)
{
	struct fake_image k = { healthy_after_ms, exit_after, code, false, 0 };

	fakedocker_image(g->fd, ref, &k, NULL);
}

/* The status of a service in the failure's summary event. */
static const char *
summary_status(const struct cap *c, const char *svc)
{
	json_t		*ev = cap_events(c, "summary"), *s;
	const char	*st = NULL;
	size_t		 i;

	json_array_foreach(json_object_get(json_array_get(ev, 0), "services"),
	    i, s)
		if (strcmp(json_string_value(json_object_get(s, "service")),
		    svc) == 0)
			st = json_string_value(json_object_get(s, "status"));
	json_decref(ev);
	return st ? st : "";
}

static bool
skipped(const struct cap *c, const char *svc)
{
	json_t	*ev = cap_events(c, "service"), *e;
	size_t	 i;
	bool	 hit = false;

	json_array_foreach(ev, i, e)
		if (strcmp(json_string_value(json_object_get(e, "service")),
		    svc) == 0 && strcmp(json_string_value(json_object_get(e,
		    "status")), "skipped") == 0)
			hit = true;
	json_decref(ev);
	return hit;
}

/*
 * Never healthy, on a first deploy (nothing to roll back to): the deploy
 * fails when the 500 ms deadline passes, not before and not much after,
 * with the container's state, health and last probe output; web, which
 * needs it healthy, is never created.
 */
static void
test_gate_deadline(void **state)
{
	static const char *const files[] = {
		"api.yaml", "image: shipd-test/sick:1\n" CHECK
		    "update: {healthy_deadline: 500ms}\n",
		"web.yaml", "image: shipd-test/web:1\n"
		    "depends_on: {api: healthy}\n",
		NULL
	};
	struct rig	 g;
	struct cap	*c;
	uint64_t	 t0, took;
	char		*t;
	int		 start;

	(void)state;
	rig_open(&g);
	image(&g, "shipd-test/sick:1", -1, -1, 0);
	image(&g, "shipd-test/web:1", 0, -1, 0);
	t0 = now_ms();
	c = rig_deploy(&g, files, NULL, true);
	took = c->done_at - t0;
	assert_string_equal(cap_code(c), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(c), "demo-api-1 did not become "
	    "healthy within 500ms (state running, health starting)"));
	/* shipd probed it itself (exec), and says what the probe said. */
	assert_non_null(strstr(cap_message(c), "last check: not healthy "
	    "yet"));
	start = fakedocker_find(g.fd, 0, "start demo-api-1");
	assert_true(start >= 0);
	assert_true(fakedocker_find(g.fd, start, "execstart demo-api-1 1") >
	    start);
	assert_true(took >= 500);
	assert_true(took < 20000);
	assert_string_equal(summary_status(c, "api"), "failed");
	assert_true(skipped(c, "web"));
	rig_settle(&g);
	t = fakedocker_trace(g.fd, 0, "create", NULL);
	assert_string_equal(t, "create demo-api-1\n");
	free(t);
	assert_string_equal(rig_result(&g, "demo", 1), "failed");
	assert_int_equal(store_current(g.sd.store, "demo"), 0);
	assert_non_null(strstr(json_string_value(json_object_get(
	    store_revision_get(g.sd.store, "demo", 1), "reason")),
	    "did not become healthy"));
	cap_free(c);
	rig_close(&g);
}

/* A health check that passes a while after start opens the gate. */
static void
test_gate_healthy_later(void **state)
{
	static const char *const files[] = {
		"api.yaml", "image: shipd-test/slow:1\n" CHECK
		    "update: {healthy_deadline: 10s}\n",
		"web.yaml", "image: shipd-test/web:1\n"
		    "depends_on: {api: healthy}\n",
		NULL
	};
	struct rig	 g;
	struct cap	*c;
	int		 start, healthy, create_web;

	(void)state;
	rig_open(&g);
	image(&g, "shipd-test/slow:1", 400, -1, 0);
	image(&g, "shipd-test/web:1", 0, -1, 0);
	c = rig_deploy(&g, files, NULL, true);
	cap_assert_ok(c);
	start = fakedocker_find(g.fd, 0, "start demo-api-1");
	healthy = fakedocker_find(g.fd, 0, "healthy demo-api-1");
	create_web = fakedocker_find(g.fd, 0, "create demo-web-1");
	assert_true(start >= 0 && start < healthy && healthy < create_web);
	assert_true(fakedocker_at(g.fd, healthy) -
	    fakedocker_at(g.fd, start) >= 390);
	/* Probes failed until then. */
	assert_true(fakedocker_find(g.fd, start, "execstart demo-api-1 1") <
	    healthy);
	rig_settle(&g);
	cap_free(c);
	rig_close(&g);
}

static const char *const oneshot[] = {
	"api.yaml", "image: shipd-test/app:1\n"
	    "depends_on: {migrate: completed}\n",
	"migrate.yaml", "image: shipd-test/migrate:1\nrestart: \"no\"\n",
	NULL
};

/* completed: api starts only once migrate has exited 0. */
static void
test_gate_completed(void **state)
{
	struct rig	 g;
	struct cap	*c;
	char		*t;
	int		 exited, create;

	(void)state;
	rig_open(&g);
	image(&g, "shipd-test/migrate:1", 0, 300, 0);
	image(&g, "shipd-test/app:1", 0, -1, 0);
	c = rig_deploy(&g, oneshot, NULL, true);
	cap_assert_ok(c);
	exited = fakedocker_find(g.fd, 0, "exited demo-migrate-1 0");
	create = fakedocker_find(g.fd, 0, "create demo-api-1");
	assert_true(exited >= 0);
	assert_true(exited < create);
	rig_settle(&g);
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 1\n"
	    "demo-migrate-1 exited 1\n");
	free(t);
	cap_free(c);

	/* Deployed again unchanged: a finished one-shot is not run again,
	 * and still counts as completed. */
	c = rig_deploy(&g, oneshot, NULL, true);
	cap_assert_ok(c);
	rig_settle(&g);
	t = fakedocker_trace(g.fd, create, "start create", "demo-migrate");
	assert_string_equal(t, "");
	free(t);
	cap_free(c);
	rig_close(&g);
}

/* ...and a non-zero exit fails the deploy; api is never created. */
static void
test_gate_completed_fails(void **state)
{
	struct rig	 g;
	struct cap	*c;
	char		*t;

	(void)state;
	rig_open(&g);
	image(&g, "shipd-test/migrate:1", 0, 100, 3);
	image(&g, "shipd-test/app:1", 0, -1, 0);
	c = rig_deploy(&g, oneshot, NULL, true);
	assert_string_equal(cap_code(c), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(c), "demo-migrate-1 exited with "
	    "code 3"));
	assert_true(skipped(c, "api"));
	rig_settle(&g);
	t = fakedocker_trace(g.fd, 0, "create", NULL);
	assert_string_equal(t, "create demo-migrate-1\n");
	free(t);
	assert_string_equal(rig_result(&g, "demo", 1), "failed");
	cap_free(c);
	rig_close(&g);
}

/* A start the engine refuses fails the replica with the engine's word. */
static void
test_start_refused(void **state)
{
	static const char *const files[] = {
		"api.yaml", "image: shipd-test/broken:1\n", NULL
	};
	struct fake_image	 k = { 0, -1, 0, true, 0 };
	struct rig		 g;
	struct cap		*c;

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, "shipd-test/broken:1", &k, NULL);
	c = rig_deploy(&g, files, NULL, true);
	assert_string_equal(cap_code(c), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(c), "demo-api-1: start: fake: "
	    "cannot start container demo-api-1"));
	rig_settle(&g);
	assert_string_equal(rig_result(&g, "demo", 1), "failed");
	cap_free(c);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gate_deadline),
		cmocka_unit_test(test_gate_healthy_later),
		cmocka_unit_test(test_gate_completed),
		cmocka_unit_test(test_gate_completed_fails),
		cmocka_unit_test(test_start_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
