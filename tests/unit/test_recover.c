/*
 * Recovery at start, against the dockerd model: the journal on disk says
 * what was under way when shipd stopped.  A deploy whose commit was not
 * recorded is undone (its revision marked failed, the revision before it
 * brought back from its kept containers); one whose commit was recorded
 * stands; a first deploy interrupted has what it made removed.  The
 * journal is written through the store, then shipd "starts" on it.
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
#include "proto.h"
#include "state/journal.h"
#include "state/store.h"
#include "unit.h"
#include "util.h"

#define CHECK	"health: {test: [CMD, /bin/check]}\n"
#define MUTATING "create start stop kill rename remove connect disconnect"

static const char *const v1[] = {
	"api.yaml", "image: shipd-test/app:1\n" CHECK
	    "environment: {V: \"1\"}\n", NULL
};
static const char *const v2[] = {
	"api.yaml", "image: shipd-test/app:1\n" CHECK
	    "environment: {V: \"2\"}\n", NULL
};

/* Replica 1 of api as files' revision rev would have made it. */
static void
seed_api(struct rig *g, const char *const *files, const char *name,
    int rev, bool running)
{
	struct stack	*st;
	struct graph	*gr;
	json_t		*spec;

	rig_stack(g, files, &st, &gr);
	spec = spec_container(st, stack_unit(st, "api"), 1, rev, true, true);
	assert_int_equal(fakedocker_seed(g->fd, name, spec, running), 0);
	json_decref(spec);
	graph_free(gr);
	stack_free(st);
}

/* Revision rev of files, as commit_begin records it, with result. */
static void
put_revision(struct rig *g, const char *const *files, int rev,
    const char *result)
{
	struct stack	*st;
	struct graph	*gr;
	const json_t	*prev = store_revision_get(g->sd.store, "demo", 1);
	json_t		*doc;
	int		 done = 0;

	rig_stack(g, files, &st, &gr);
	doc = prev ? json_deep_copy(prev) : json_pack("{s:s, s:{}}", "kind",
	    "deploy", "images");
	json_object_set_new(doc, "revision", json_integer(rev));
	json_object_set_new(doc, "result", json_string(result));
	json_object_set_new(doc, "stack", stack_to_json(st));
	store_revision_put(g->sd.store, "demo", rev, doc, rig_store_cb, &done);
	rig_store_wait(g, &done);
	json_decref(doc);
	graph_free(gr);
	stack_free(st);
}

/* begin (and the steps and commit named) of a deploy, fsync'd: the
 * store writes in order, so the last one's callback says all are on
 * disk. */
static void
journal(struct rig *g, int rev, int prev, const char *const *steps,
    bool commit)
{
	size_t	i, n = 0;
	int	done = 0;

	while (steps != NULL && steps[n] != NULL)
		n++;
	journal_op(g->sd.store, "begin", "demo", "deploy", rev, prev,
	    n == 0 && !commit ? rig_store_cb : NULL, &done);
	for (i = 0; i < n; i++)
		journal_step(g->sd.store, "demo", "deploy", rev, "api", 1,
		    steps[i], i == n - 1 && !commit ? rig_store_cb : NULL,
		    &done);
	if (commit)
		journal_op(g->sd.store, "commit", "demo", "deploy", rev, prev,
		    rig_store_cb, &done);
	rig_store_wait(g, &done);
}

/* How many records of event for revision rev the journal holds. */
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
		    json_object_get(r, "stack")), "demo") == 0)
			n++;
	json_decref(j);
	return n;
}

static bool
probed(struct rig *g, void *arg)
{
	return fakedocker_find(g->fd, *(int *)arg, "execstart demo-api-1 1") >=
	    0;
}

static bool
recovered(struct rig *g, void *arg)
{
	(void)arg;
	return g->sd.recovered;
}

/* shipd stops and starts again; it recovers once the engine answers. */
static void
restart(struct rig *g)
{
	rig_down(g);
	g->recover = true;
	rig_up(g);
	rig_until(g, recovered, NULL, "recovery");
	rig_settle(g);
}

static const char *
reason(struct rig *g, int rev)
{
	const char *s = json_string_value(json_object_get(store_revision_get(
	    g->sd.store, "demo", rev), "reason"));

	return s ? s : "";
}

static void
assert_journal_empty(struct rig *g)
{
	json_t *j = rig_journal(g);

	assert_int_equal(json_array_size(j), 0);
	json_decref(j);
}

/*
 * Revision 2 got as far as starting its replica (the journal has its
 * begin and steps, no commit): it is marked failed and revision 1's kept
 * container, the very one, is back under the name; revision 2's is gone.
 */
static void
test_recover_interrupted(void **state)
{
	static const char *const steps[] = { "leave", "stop", "keep",
	    "create", "start", NULL };
	struct rig	 g;
	char		 id1[72], now[72], *t;
	int		 mark;

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, "shipd-test/app:1", NULL, NULL);
	rig_deploy_ok(&g, v1);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", id1), 0);

	/* Where revision 2 was when shipd went away. */
	assert_int_equal(fakedocker_exit(g.fd, "demo-api-1", 143), 0);
	assert_int_equal(fakedocker_rename(g.fd, "demo-api-1",
	    "demo-api-1-r1"), 0);
	seed_api(&g, v2, "demo-api-1", 2, true);
	put_revision(&g, v2, 2, "in_progress");
	journal(&g, 2, 1, steps, false);
	mark = fakedocker_ncalls(g.fd);

	restart(&g);
	assert_string_equal(rig_result(&g, "demo", 2), "failed");
	assert_string_equal(reason(&g, 2), "interrupted (shipd stopped during "
	    "deploy); revision 1 brought back");
	assert_int_equal(store_current(g.sd.store, "demo"), 1);
	t = fakedocker_trace(g.fd, mark, MUTATING, NULL);
	assert_string_equal(t,
	    "disconnect demo_default demo-api-1\n"
	    "stop demo-api-1\n"
	    "remove demo-api-1\n"
	    "connect demo_default demo-api-1-r1 api\n"
	    "rename demo-api-1-r1 demo-api-1\n"
	    "start demo-api-1\n");
	free(t);
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 1\n");
	free(t);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", now), 0);
	assert_string_equal(now, id1);
	/* What the journal held is history now. */
	assert_journal_empty(&g);

	/* A second start finds nothing to do. */
	mark = fakedocker_ncalls(g.fd);
	restart(&g);
	t = fakedocker_trace(g.fd, mark, MUTATING, NULL);
	assert_string_equal(t, "");
	free(t);
	rig_close(&g);
}

/*
 * Revision 3 rolled back to 1 (2's container kept as demo-api-1-r2);
 * revision 4, 2's units again, had kept 3's container as demo-api-1-r3
 * and renamed 2's back when shipd went away.  Recovery brings 3 back:
 * 2's container goes back to -r2, not to -r3, which would supersede
 * (remove) the very container it is to rename back.
 */
static void
test_recover_after_restore(void **state)
{
	static const char *const steps[] = { "leave", "stop", "keep",
	    "join", "restore", NULL };
	struct rig	 g;
	struct cap	*c;
	char		 id1[72], id2[72], now[72], *t;

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, "shipd-test/app:1", NULL, NULL);
	rig_deploy_ok(&g, v1);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", id1), 0);
	rig_deploy_ok(&g, v2);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", id2), 0);
	c = cap_new(&g, "rollback");
	ops_rollback(&g.sd, c->req, "demo", 1, false);
	rig_wait(&g, c);
	cap_assert_ok(c);
	cap_free(c);
	rig_settle(&g);

	assert_int_equal(fakedocker_exit(g.fd, "demo-api-1", 143), 0);
	assert_int_equal(fakedocker_rename(g.fd, "demo-api-1",
	    "demo-api-1-r3"), 0);
	assert_int_equal(fakedocker_rename(g.fd, "demo-api-1-r2",
	    "demo-api-1"), 0);
	put_revision(&g, v2, 4, "in_progress");
	journal(&g, 4, 3, steps, false);

	restart(&g);
	assert_string_equal(rig_result(&g, "demo", 4), "failed");
	assert_string_equal(reason(&g, 4), "interrupted (shipd stopped during "
	    "deploy); revision 3 brought back");
	assert_int_equal(store_current(g.sd.store, "demo"), 3);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", now), 0);
	assert_string_equal(now, id1);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1-r2", now), 0);
	assert_string_equal(now, id2);
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 1\n"
	    "demo-api-1-r2 exited 2\n");
	free(t);
	assert_journal_empty(&g);
	rig_close(&g);
}

/*
 * Killed right after revision 2's stop of revision 1's replica was
 * recorded (and, for all recovery can tell, sent): the replica may still
 * be running with that stop under way.  Recovery asks for the stop again
 * and waits for it before it plans, then brings the very container back.
 */
static void
test_recover_stop_in_flight(void **state)
{
	static const char *const steps[] = { "leave", "stop", NULL };
	struct rig	 g;
	char		 id1[72], now[72], *t;
	int		 mark;

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, "shipd-test/app:1", NULL, NULL);
	rig_deploy_ok(&g, v1);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", id1), 0);
	put_revision(&g, v2, 2, "in_progress");
	journal(&g, 2, 1, steps, false);
	mark = fakedocker_ncalls(g.fd);

	restart(&g);
	t = fakedocker_trace(g.fd, mark, MUTATING, NULL);
	assert_non_null(strstr(t, "stop demo-api-1\n"));
	assert_true(strstr(t, "stop demo-api-1\n") == t);
	free(t);
	assert_string_equal(reason(&g, 2), "interrupted (shipd stopped during "
	    "deploy); revision 1 brought back");
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 1\n");
	free(t);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", now), 0);
	assert_string_equal(now, id1);
	assert_journal_empty(&g);
	rig_close(&g);
}

/*
 * Killed with a remove of revision 2's replica sent (its gate failed and
 * the rollback was taking it away): the engine lists it "removing" and
 * answers a remove with 409 "already in progress".  Recovery waits for
 * it to go, then brings revision 1's kept container back; before, the
 * remove's 409 failed the recovery and the journal stayed.
 */
static void
test_recover_remove_in_flight(void **state)
{
	static const char *const steps[] = { "leave", "stop", "keep",
	    "create", "start", "gate", "stop", "remove", NULL };
	struct rig	 g;
	char		 id1[72], now[72], *t;
	int		 mark;

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, "shipd-test/app:1", NULL, NULL);
	rig_deploy_ok(&g, v1);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", id1), 0);
	assert_int_equal(fakedocker_exit(g.fd, "demo-api-1", 143), 0);
	assert_int_equal(fakedocker_rename(g.fd, "demo-api-1",
	    "demo-api-1-r1"), 0);
	seed_api(&g, v2, "demo-api-1", 2, false);
	assert_int_equal(fakedocker_removing(g.fd, "demo-api-1"), 0);
	put_revision(&g, v2, 2, "in_progress");
	journal(&g, 2, 1, steps, false);
	mark = fakedocker_ncalls(g.fd);

	restart(&g);
	assert_string_equal(rig_result(&g, "demo", 2), "failed");
	assert_string_equal(reason(&g, 2), "interrupted (shipd stopped during "
	    "deploy); revision 1 brought back");
	assert_int_equal(store_current(g.sd.store, "demo"), 1);
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 1\n");
	free(t);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", now), 0);
	assert_string_equal(now, id1);
	assert_journal_empty(&g);
	t = fakedocker_trace(g.fd, mark, MUTATING " wait", NULL);
	assert_non_null(strstr(t, "wait demo-api-1\n"));
	free(t);
	rig_close(&g);
}

/*
 * Revision 2's commit was recorded but current had not moved yet: the
 * revision stands, current moves to it, the engine is not touched.
 */
static void
test_recover_committed(void **state)
{
	static const char *const steps[] = { "leave", "stop", "keep",
	    "create", "start", NULL };
	struct rig	 g;
	char		*t;
	int		 mark;

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, "shipd-test/app:1", NULL, NULL);
	rig_deploy_ok(&g, v1);
	assert_int_equal(fakedocker_exit(g.fd, "demo-api-1", 143), 0);
	assert_int_equal(fakedocker_rename(g.fd, "demo-api-1",
	    "demo-api-1-r1"), 0);
	seed_api(&g, v2, "demo-api-1", 2, true);
	put_revision(&g, v2, 2, "committed");
	journal(&g, 2, 1, steps, true);
	assert_int_equal(store_current(g.sd.store, "demo"), 1);
	mark = fakedocker_ncalls(g.fd);

	restart(&g);
	assert_int_equal(store_current(g.sd.store, "demo"), 2);
	assert_string_equal(rig_result(&g, "demo", 2), "committed");
	t = fakedocker_trace(g.fd, mark, MUTATING, NULL);
	assert_string_equal(t, "");
	free(t);
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 2\n"
	    "demo-api-1-r1 exited 1\n");
	free(t);
	assert_journal_empty(&g);
	rig_close(&g);
}

/*
 * A first deploy interrupted has nothing to go back to: what it made is
 * removed (and only that: another stack's containers stay), and its
 * revision is marked failed.
 */
static void
test_recover_first_deploy(void **state)
{
	static const char *const steps[] = { "create", "start", NULL };
	static const char *const other[] = {
		"stack.yaml", "name: other\n",
		"api.yaml", "image: shipd-test/app:1\n", NULL
	};
	struct rig	 g;
	char		*t;

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, "shipd-test/app:1", NULL, NULL);
	fakedocker_seed_network(g.fd, "demo_default", "demo");
	seed_api(&g, v1, "demo-api-1", 1, true);
	rig_deploy_ok(&g, other);
	put_revision(&g, v1, 1, "in_progress");
	journal(&g, 1, 0, steps, false);

	restart(&g);
	assert_string_equal(rig_result(&g, "demo", 1), "failed");
	assert_string_equal(reason(&g, 1), "interrupted (shipd stopped); its "
	    "containers were removed");
	assert_int_equal(store_current(g.sd.store, "demo"), 0);
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "other-api-1 running 1\n");
	free(t);
	assert_journal_empty(&g);
	rig_close(&g);
}

/*
 * The real thing: shipd shuts down while revision 2's new replica waits
 * for its gate.  The journal it leaves behind is enough to come back to
 * revision 1.
 */
static void
test_recover_after_shutdown(void **state)
{
	static const char *const sick[] = {
		"api.yaml", "image: shipd-test/sick:1\n" CHECK
		    "update: {healthy_deadline: 60s}\n", NULL
	};
	struct fake_image	 k = { -1, -1, 0, false, 0 };
	struct rig		 g;
	struct cap		*c;
	char			 id1[72], now[72], *t, *path, *doc;
	size_t			 len;
	int			 mark;

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, "shipd-test/app:1", NULL, NULL);
	fakedocker_image(g.fd, "shipd-test/sick:1", &k, NULL);
	rig_deploy_ok(&g, v1);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", id1), 0);
	mark = fakedocker_ncalls(g.fd);
	c = rig_deploy(&g, sick, NULL, false);
	rig_until(&g, probed, &mark, "revision 2's replica under its gate");
	assert_false(c->done);
	rig_down(&g);

	/* In flight at the end: begun, never committed or ended. */
	assert_int_equal(journal_count(&g, "begin", 2), 1);
	assert_true(journal_count(&g, "step", 2) >= 5);
	assert_int_equal(journal_count(&g, "commit", 2), 0);
	assert_int_equal(journal_count(&g, "end", 2), 0);
	xasprintf(&path, "%s/stacks/demo/revisions/2.json", g.state);
	assert_int_equal(file_read_all(path, 1 << 20, &doc, &len), 0);
	assert_non_null(strstr(doc, "\"result\": \"in_progress\""));
	free(doc);
	free(path);

	mark = fakedocker_ncalls(g.fd);
	g.recover = true;
	rig_up(&g);
	rig_until(&g, recovered, NULL, "recovery");
	rig_settle(&g);
	assert_string_equal(rig_result(&g, "demo", 2), "failed");
	assert_int_equal(store_current(g.sd.store, "demo"), 1);
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 1\n");
	free(t);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", now), 0);
	assert_string_equal(now, id1);
	t = fakedocker_trace(g.fd, mark, "create", NULL);
	assert_string_equal(t, "");
	free(t);
	cap_free(c);
	rig_close(&g);
}

static bool
probed_both(struct rig *g, void *arg)
{
	int from = *(int *)arg;

	return fakedocker_find(g->fd, from, "execstart demo-api-1 1") >= 0 &&
	    fakedocker_find(g->fd, from, "execstart other-api-1 1") >= 0;
}

/*
 * Two stacks interrupted at once: recovery brings each back, to its
 * end, and both take operations again afterwards.
 */
static void
test_recover_two_stacks(void **state)
{
	static const char *const sick[] = {
		"api.yaml", "image: shipd-test/sick:1\n" CHECK
		    "update: {healthy_deadline: 60s}\n", NULL
	};
	static const char *const o1[] = {
		"stack.yaml", "name: other\n",
		"api.yaml", "image: shipd-test/app:1\n" CHECK, NULL
	};
	static const char *const osick[] = {
		"stack.yaml", "name: other\n",
		"api.yaml", "image: shipd-test/sick:1\n" CHECK
		    "update: {healthy_deadline: 60s}\n", NULL
	};
	struct fake_image	 k = { -1, -1, 0, false, 0 };
	struct rig		 g;
	struct cap		*c1, *c2;
	char			*t;
	int			 mark;

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, "shipd-test/app:1", NULL, NULL);
	fakedocker_image(g.fd, "shipd-test/sick:1", &k, NULL);
	rig_deploy_ok(&g, v1);
	rig_deploy_ok(&g, o1);
	mark = fakedocker_ncalls(g.fd);
	c1 = rig_deploy(&g, sick, NULL, false);
	c2 = rig_deploy(&g, osick, NULL, false);
	rig_until(&g, probed_both, &mark, "both new replicas under their gates");
	rig_down(&g);

	g.recover = true;
	rig_up(&g);
	rig_until(&g, recovered, NULL, "recovery");
	rig_settle(&g);
	assert_string_equal(rig_result(&g, "demo", 2), "failed");
	assert_string_equal(rig_result(&g, "other", 2), "failed");
	assert_int_equal(store_current(g.sd.store, "demo"), 1);
	assert_int_equal(store_current(g.sd.store, "other"), 1);
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 1\nother-api-1 running 1\n");
	free(t);
	assert_journal_empty(&g);
	cap_free(c1);
	cap_free(c2);
	rig_deploy_ok(&g, v2);
	rig_deploy_ok(&g, o1);
	rig_close(&g);
}

/* Where revision rev (v2) was when shipd went away: revision 1's
 * container kept, rev's started in its place, begin and steps on disk. */
static void
interrupt(struct rig *g, int rev)
{
	static const char *const steps[] = { "leave", "stop", "keep",
	    "create", "start", NULL };

	assert_int_equal(fakedocker_exit(g->fd, "demo-api-1", 143), 0);
	assert_int_equal(fakedocker_rename(g->fd, "demo-api-1",
	    "demo-api-1-r1"), 0);
	seed_api(g, v2, "demo-api-1", rev, true);
	put_revision(g, v2, rev, "in_progress");
	journal(g, rev, 1, steps, false);
}

/* How many records of stack (any revision) the journal holds. */
static int
journal_of(struct rig *g, const char *stack)
{
	json_t	*j = rig_journal(g), *r;
	size_t	 i;
	int	 n = 0;

	json_array_foreach(j, i, r)
		if (strcmp(json_string_value(json_object_get(r, "stack")),
		    stack) == 0)
			n++;
	json_decref(j);
	return n;
}

/*
 * The recovery itself fails before apply (the stack's network was
 * removed while shipd was down, and the engine refuses to make it
 * again): it still runs to its end, recovery finishes, and the
 * interrupted revision is recorded failed with the reason.  The journal
 * keeps that stack's records (the next start tries again) and drops
 * another stack's, whose operation had ended; a scale of the failed
 * stack is refused naming the failed recovery.  The next start, with the
 * engine willing, brings revision 1 back and empties the journal.
 */
static void
test_recover_refused(void **state)
{
	struct rig	 g;
	struct cap	*c;
	json_t		*want;
	int		 done = 0;

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, "shipd-test/app:1", NULL, NULL);
	rig_deploy_ok(&g, v1);
	interrupt(&g, 2);
	/* Another stack's finished operation. */
	journal_op(g.sd.store, "begin", "other", "deploy", 1, 0, NULL, NULL);
	journal_op(g.sd.store, "commit", "other", "deploy", 1, 0, NULL, NULL);
	journal_op(g.sd.store, "end", "other", "deploy", 1, 0, rig_store_cb,
	    &done);
	rig_store_wait(&g, &done);
	assert_int_equal(journal_of(&g, "other"), 3);

	assert_int_equal(fakedocker_remove_network(g.fd, "demo_default"), 0);
	setenv("SHIPD_TEST_REFUSE_NETWORK", "demo_default", 1);
	restart(&g);
	unsetenv("SHIPD_TEST_REFUSE_NETWORK");
	assert_string_equal(rig_result(&g, "demo", 2), "failed");
	assert_non_null(strstr(reason(&g, 2), "bringing back revision 1 "
	    "failed: creating the stack's networks and volumes"));
	assert_null(g.sd.locks);
	/* Not truncated: revision 2's begin and steps are still there, the
	 * other stack's records are gone. */
	assert_int_equal(journal_count(&g, "begin", 2), 1);
	assert_int_equal(journal_count(&g, "step", 2), 5);
	assert_int_equal(journal_count(&g, "end", 2), 0);
	assert_int_equal(journal_of(&g, "other"), 0);
	assert_non_null(journal_held(&g.sd, "demo"));
	assert_null(journal_held(&g.sd, "other"));

	/* A scale would build on a half-reverted stack. */
	c = cap_new(&g, "scale");
	want = json_pack("{s:i}", "api", 2);
	ops_scale(&g.sd, c->req, "demo", want, NULL, false);
	json_decref(want);
	rig_wait(&g, c);
	assert_string_equal(cap_code(c), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(c), "recovery after shipd "
	    "restarted failed"));
	cap_free(c);
	rig_settle(&g);
	/* Ending that refusal did not let the records go either. */
	assert_int_equal(journal_count(&g, "begin", 2), 1);

	/* The next start tries again, and this time it works. */
	restart(&g);
	assert_string_equal(reason(&g, 2), "interrupted (shipd stopped during "
	    "deploy); revision 1 brought back");
	assert_int_equal(store_current(g.sd.store, "demo"), 1);
	assert_null(journal_held(&g.sd, "demo"));
	assert_journal_empty(&g);
	rig_close(&g);
}

/*
 * After a failed recovery, a down of the stack leaves nothing for the
 * next start to bring back: the hold ends and the records leave the
 * journal (a restart then finds nothing to do).
 */
static bool	journal_empty(struct rig *, void *);

static void
test_recover_failed_down(void **state)
{
	struct rig	 g;
	struct cap	*c;
	char		*t;
	int		 mark;

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, "shipd-test/app:1", NULL, NULL);
	rig_deploy_ok(&g, v1);
	interrupt(&g, 2);
	assert_int_equal(fakedocker_remove_network(g.fd, "demo_default"), 0);
	setenv("SHIPD_TEST_REFUSE_NETWORK", "demo_default", 1);
	restart(&g);
	unsetenv("SHIPD_TEST_REFUSE_NETWORK");
	assert_non_null(journal_held(&g.sd, "demo"));
	assert_int_equal(journal_count(&g, "begin", 2), 1);

	c = cap_new(&g, "down");
	ops_down(&g.sd, c->req, "demo", false);
	rig_wait(&g, c);
	cap_assert_ok(c);
	cap_free(c);
	rig_settle(&g);
	assert_null(journal_held(&g.sd, "demo"));
	rig_until(&g, journal_empty, NULL, "the journal to be emptied");

	mark = fakedocker_ncalls(g.fd);
	restart(&g);
	t = fakedocker_trace(g.fd, mark, MUTATING, NULL);
	assert_string_equal(t, "");
	free(t);
	rig_close(&g);
}

/*
 * Two open records for one stack: revision 2 began and recorded no end
 * (an early failure, before every end was recorded), then revision 3
 * was interrupted.  The stack is recovered once, for revision 3; both
 * revisions are recorded failed; nothing is refused busy.
 */
static void
test_recover_two_records(void **state)
{
	struct rig	 g;
	char		 id1[72], now[72];

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, "shipd-test/app:1", NULL, NULL);
	rig_deploy_ok(&g, v1);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", id1), 0);
	put_revision(&g, v2, 2, "in_progress");
	journal(&g, 2, 1, NULL, false);
	interrupt(&g, 3);

	restart(&g);
	assert_string_equal(rig_result(&g, "demo", 2), "failed");
	assert_string_equal(reason(&g, 2), "did not finish (no end was "
	    "recorded before the next operation on the stack began)");
	assert_string_equal(rig_result(&g, "demo", 3), "failed");
	assert_string_equal(reason(&g, 3), "interrupted (shipd stopped during "
	    "deploy); revision 1 brought back");
	assert_int_equal(store_current(g.sd.store, "demo"), 1);
	assert_int_equal(fakedocker_id(g.fd, "demo-api-1", now), 0);
	assert_string_equal(now, id1);
	assert_journal_empty(&g);
	rig_close(&g);
}

static bool
journal_empty(struct rig *g, void *arg)
{
	json_t	*j = rig_journal(g);
	bool	 empty = json_array_size(j) == 0;

	(void)arg;
	json_decref(j);
	return empty;
}

/*
 * A deploy that comes in while its stack is being recovered waits for
 * the recovery (saying so) instead of being refused busy, then runs.
 */
static void
test_recover_deploy_waits(void **state)
{
	struct rig	 g;
	struct cap	*c;
	json_t		*w;

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, "shipd-test/app:1", NULL, NULL);
	rig_deploy_ok(&g, v1);
	interrupt(&g, 2);

	/* Recovery starts as main.c starts it once the engine answers, and
	 * the deploy comes in before the loop turns again. */
	rig_down(&g);
	rig_up(&g);
	ops_recover(&g.sd);
	assert_non_null(g.sd.locks);
	c = rig_deploy(&g, v2, NULL, true);
	cap_assert_ok(c);
	w = cap_events(c, PROTO_EV_WAITING);
	assert_int_equal(json_array_size(w), 1);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_array_get(w, 0), "message")), "stack demo is being "
	    "recovered"));
	json_decref(w);
	rig_until(&g, recovered, NULL, "recovery");
	rig_settle(&g);
	assert_string_equal(rig_result(&g, "demo", 2), "failed");
	assert_string_equal(rig_result(&g, "demo", 3), "committed");
	assert_int_equal(store_current(g.sd.store, "demo"), 3);
	/* Emptied once the deploy, the last under way, ended (the store
	 * writes it after the deploy's own records). */
	rig_until(&g, journal_empty, NULL, "the journal to be emptied");
	cap_free(c);
	rig_close(&g);
}

/*
 * A first deploy interrupted: what it made is removed under the stack's
 * lock, and a deploy that comes in meanwhile waits for that, then finds
 * nothing of the interrupted revision in its way.
 */
static void
test_recover_first_deploy_waits(void **state)
{
	static const char *const steps[] = { "create", "start", NULL };
	struct rig	 g;
	struct cap	*c;
	json_t		*w;
	char		*t;

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, "shipd-test/app:1", NULL, NULL);
	fakedocker_seed_network(g.fd, "demo_default", "demo");
	seed_api(&g, v1, "demo-api-1", 1, true);
	put_revision(&g, v1, 1, "in_progress");
	journal(&g, 1, 0, steps, false);

	/* Recovery starts as main.c starts it once the engine answers, and
	 * the deploy comes in before the loop turns again. */
	rig_down(&g);
	rig_up(&g);
	ops_recover(&g.sd);
	assert_non_null(g.sd.locks);
	c = rig_deploy(&g, v2, NULL, true);
	cap_assert_ok(c);
	w = cap_events(c, PROTO_EV_WAITING);
	assert_int_equal(json_array_size(w), 1);
	json_decref(w);
	rig_until(&g, recovered, NULL, "recovery");
	rig_settle(&g);
	assert_string_equal(rig_result(&g, "demo", 1), "failed");
	assert_string_equal(rig_result(&g, "demo", 2), "committed");
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 2\n");
	free(t);
	cap_free(c);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recover_interrupted),
		cmocka_unit_test(test_recover_after_restore),
		cmocka_unit_test(test_recover_stop_in_flight),
		cmocka_unit_test(test_recover_remove_in_flight),
		cmocka_unit_test(test_recover_committed),
		cmocka_unit_test(test_recover_first_deploy),
		cmocka_unit_test(test_recover_after_shutdown),
		cmocka_unit_test(test_recover_two_stacks),
		cmocka_unit_test(test_recover_refused),
		cmocka_unit_test(test_recover_failed_down),
		cmocka_unit_test(test_recover_two_records),
		cmocka_unit_test(test_recover_deploy_waits),
		cmocka_unit_test(test_recover_first_deploy_waits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
