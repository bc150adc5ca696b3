/*
 * down and the state that described a stack's containers (ops/down.c):
 * the stop marks of svcstate.json and the supervisor's counts of
 * heal.json are gone, in memory and on disk, by the time down answers,
 * so that a deploy sent right after it starts every service afresh; a
 * write that fails makes down's reply a failure.
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
#include "ops/heal.h"
#include "state/store.h"
#include "util.h"

#define APP	"shipd-test/app:1"
#define CHECK	"health: {test: [CMD, /bin/check]}\n"

static const char *const files[] = {
	"db.yaml", "image: " APP "\n" CHECK,
	"api.yaml", "image: " APP "\n" CHECK "depends_on: {db: healthy}\n",
	"web.yaml", "image: " APP "\n" CHECK "depends_on: {api: started}\n",
	NULL
};

static const char *const all_running = "demo-api-1 running 2\n"
    "demo-db-1 running 2\ndemo-web-1 running 2\n";

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

static void
svcop_ok(struct rig *g, const char *kind, const char *svc)
{
	struct cap	*c = cap_new(g, kind);
	json_t		*names = json_pack("[s]", svc);

	ops_svcop(&g->sd, c->req, kind, "demo", names, false);
	json_decref(names);
	rig_wait(g, c);
	cap_assert_ok(c);
	cap_free(c);
	rig_settle(g);
}

/* down, up to its reply and no further: what the next command sees. */
static struct cap *
down(struct rig *g)
{
	struct cap *c = cap_new(g, "down");

	ops_down(&g->sd, c->req, "demo", false);
	rig_wait(g, c);
	return c;
}

/* <state>/stacks/demo/NAME as it is on disk, parsed; NULL when absent. */
static json_t *
on_disk(struct rig *g, const char *name)
{
	char	*path;
	json_t	*j;

	xasprintf(&path, "%s/stacks/demo/%s", g->state, name);
	j = json_load_file(path, 0, NULL);
	free(path);
	return j;
}

static size_t
nstopped(const json_t *doc)
{
	return json_object_size(json_object_get(doc, "stopped"));
}

/*
 * stop db marks db, api and web; down answers with the marks already
 * gone from the store's memory and from svcstate.json, so a deploy sent
 * the moment down answered starts all three.  (Before, down answered
 * first and only then queued the write, whose result the cache took
 * later: a deploy in between still saw the marks.)
 */
static void
test_marks_cleared_before_reply(void **state)
{
	struct rig	 g;
	struct cap	*c;
	json_t		*disk;

	(void)state;
	open_deployed(&g);
	svcop_ok(&g, "stop", "db");
	assert_int_equal(nstopped(store_svcstate_get(g.sd.store, "demo")), 3);

	c = down(&g);
	cap_assert_ok(c);
	/* At the reply, before the loop turns again. */
	assert_int_equal(nstopped(store_svcstate_get(g.sd.store, "demo")), 0);
	disk = on_disk(&g, "svcstate.json");
	assert_non_null(disk);
	assert_int_equal(nstopped(disk), 0);
	/* The history of the stop stays. */
	assert_int_equal(json_array_size(json_object_get(disk, "ops")), 1);
	json_decref(disk);
	cap_free(c);

	rig_deploy_ok(&g, files);
	assert_str(fakedocker_containers(g.fd), all_running);
	rig_close(&g);
}

static bool
heal_loaded(struct rig *g, void *arg)
{
	json_t	*st = heal_status(&g->sd, "demo");
	bool	 some = st != NULL;

	(void)arg;
	json_decref(st);
	return some;
}

static int
restarts_of(struct rig *g, const char *svc)
{
	json_t	*st = heal_status(&g->sd, "demo");
	int	 n;

	n = (int)json_integer_value(json_object_get(json_object_get(st, svc),
	    "restarts"));
	json_decref(st);
	return n;
}

/*
 * heal.json says web was restarted 3 times and is in a crash loop.  down
 * forgets it: the supervisor's memory at the reply, heal.json on disk
 * (a shipd started afterwards reads nothing back), and the next deploy
 * starts with no count.
 */
static void
test_heal_cleared(void **state)
{
	struct rig	 g;
	struct cap	*c;
	json_t		*doc, *disk;
	int		 done = 0;

	(void)state;
	open_deployed(&g);
	doc = json_pack("{s:{s:i, s:{s:i}, s:s, s:s, s:b}}", "web",
	    "restarts", 3, "reasons", "unhealthy", 3, "last_reason",
	    "unhealthy: the engine's health check", "last_time",
	    "2026-12-01T10:00:00Z", "crash_loop", 1);
	store_heal_set(g.sd.store, "demo", doc, rig_store_cb, &done);
	json_decref(doc);
	rig_store_wait(&g, &done);
	heal_start(&g.sd);
	rig_until(&g, heal_loaded, NULL, "heal.json read back");
	assert_int_equal(restarts_of(&g, "web"), 3);

	c = down(&g);
	cap_assert_ok(c);
	assert_false(heal_loaded(&g, NULL));
	assert_int_equal(json_object_size(store_heal_get(g.sd.store, "demo")),
	    0);
	disk = on_disk(&g, "heal.json");
	assert_non_null(disk);
	assert_int_equal(json_object_size(disk), 0);
	json_decref(disk);
	cap_free(c);
	rig_settle(&g);

	/* A shipd started now has nothing to read back. */
	rig_down(&g);
	rig_up(&g);
	heal_start(&g.sd);
	rig_deploy_ok(&g, files);
	assert_int_equal(restarts_of(&g, "web"), 0);
	assert_false(heal_loaded(&g, NULL));
	assert_str(fakedocker_containers(g.fd), all_running);
	rig_close(&g);
}

/*
 * svcstate.json cannot be replaced (a directory stands in its place):
 * the containers go, but down answers failed, naming the file, and the
 * marks stay as the disk still has them.
 */
static void
test_clear_fails(void **state)
{
	struct rig	 g;
	struct cap	*c;
	char		*path, *cmd;

	(void)state;
	open_deployed(&g);
	svcop_ok(&g, "stop", "db");
	xasprintf(&path, "%s/stacks/demo/svcstate.json", g.state);
	xasprintf(&cmd, "rm -f '%s' && mkdir -p '%s/x'", path, path);
	assert_int_equal(system(cmd), 0);

	c = down(&g);
	assert_string_equal(cap_code(c), "failed");
	assert_non_null(strstr(cap_message(c), "svcstate.json"));
	assert_int_equal(nstopped(store_svcstate_get(g.sd.store, "demo")), 3);
	assert_str(fakedocker_containers(g.fd), "");
	cap_free(c);
	free(cmd);
	xasprintf(&cmd, "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marks_cleared_before_reply),
		cmocka_unit_test(test_heal_cleared),
		cmocka_unit_test(test_clear_fails),
	};

	return cmocka_run_group_tests_name("down", tests, NULL, NULL);
}
