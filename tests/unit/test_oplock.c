/*
 * The stack lock as operations take it, against the dockerd model: a
 * second deploy of a busy stack is refused at once naming the holder; with
 * --wait it queues and runs after, in the order of waiting; a plan needs
 * no lock; a deploy that fails and rolls back holds the lock until its
 * rollback has ended.
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

static const char *const v[][3] = {
	{ "api.yaml", "image: shipd-test/slow:1\n" CHECK
	    "environment: {V: \"1\"}\n", NULL },
	{ "api.yaml", "image: shipd-test/slow:1\n" CHECK
	    "environment: {V: \"2\"}\n", NULL },
	{ "api.yaml", "image: shipd-test/slow:1\n" CHECK
	    "environment: {V: \"3\"}\n", NULL },
};

static void
images(struct rig *g)
{
	struct fake_image slow = { 600, -1, 0, false, 0 };
	struct fake_image sick = { -1, -1, 0, false, 0 };

	fakedocker_image(g->fd, "shipd-test/slow:1", &slow, NULL);
	fakedocker_image(g->fd, "shipd-test/sick:1", &sick, NULL);
}

/* Deploy files as uid/pid, not waiting for the reply. */
static struct cap *
deploy_as(struct rig *g, const char *const *files, uid_t uid, pid_t pid,
    bool wait)
{
	struct deploy_opts	 o = { .wait = wait };
	struct stack		*st;
	struct graph		*gr;
	struct cap		*c;

	rig_stack(g, files, &st, &gr);
	c = cap_new(g, "deploy");
	c->req->uid = uid;
	c->req->pid = pid;
	ops_deploy(&g->sd, c->req, st, gr, &o);
	return c;
}

static int
revision_of(const struct cap *c)
{
	return (int)json_integer_value(json_object_get(cap_result(c),
	    "revision"));
}

/*
 * Busy: refused at once, with the holder's kind, uid, pid and since;
 * nothing of it reaches the engine.  A plan meanwhile is answered.
 */
static void
test_busy(void **state)
{
	struct rig		 g;
	struct cap		*a, *b, *p;
	struct stack		*st;
	struct graph		*gr;
	const struct stack_lock	*h;
	char			*t;

	(void)state;
	rig_open(&g);
	images(&g);
	a = deploy_as(&g, v[0], 1234, 5678, false);
	h = lock_holder(&g.sd, "demo");
	assert_non_null(h);
	assert_string_equal(h->kind, "deploy");
	assert_int_equal(h->uid, 1234);
	assert_int_equal(h->pid, 5678);

	b = deploy_as(&g, v[1], 42, 43, false);
	/* Refused at once: while a is still under way. */
	rig_wait(&g, b);
	assert_false(a->done);
	assert_string_equal(cap_code(b), PROTO_E_BUSY);
	assert_non_null(strstr(cap_message(b), "stack demo is busy: deploy "
	    "by uid 1234 (pid 5678) since "));

	rig_stack(&g, v[1], &st, &gr);
	p = cap_new(&g, "plan");
	ops_plan(&g.sd, p->req, st, gr);
	rig_wait(&g, p);
	cap_assert_ok(p);

	rig_wait(&g, a);
	cap_assert_ok(a);
	assert_int_equal(revision_of(a), 1);
	rig_settle(&g);
	/* a's list, the plan's and the prune's after a's commit: none
	 * for b. */
	t = fakedocker_trace(g.fd, 0, "list", NULL);
	assert_string_equal(t, "list\nlist\nlist\n");
	free(t);
	assert_null(store_revision_get(g.sd.store, "demo", 2));
	assert_null(lock_holder(&g.sd, "demo"));

	/* The lock is free again: the next deploy goes through. */
	cap_free(b);
	b = deploy_as(&g, v[1], 42, 43, false);
	rig_wait(&g, b);
	cap_assert_ok(b);
	assert_int_equal(revision_of(b), 2);
	rig_settle(&g);
	cap_free(a);
	cap_free(b);
	cap_free(p);
	rig_close(&g);
}

/* A deploy's image inspect at or after from: it has begun (a prune
 * lists containers too, but never inspects images). */
static int
first_call(struct rig *g, int from)
{
	int i = fakedocker_find(g->fd, from, "image shipd-test/slow:1");

	assert_true(i >= 0);
	return i;
}

/*
 * --wait: b and c queue behind a, are told whom they wait for, and run
 * one after the other once the lock is free, in the order they came.
 */
static void
test_wait_queues(void **state)
{
	struct rig	 g;
	struct cap	*a, *b, *c;
	json_t		*ev;
	int		 ib, ic;
	char		*t;

	(void)state;
	rig_open(&g);
	images(&g);
	a = deploy_as(&g, v[0], 1234, 5678, false);
	b = deploy_as(&g, v[1], 42, 43, true);
	c = deploy_as(&g, v[2], 44, 45, true);
	assert_false(b->done);
	assert_false(c->done);
	ev = cap_events(b, "waiting");
	assert_int_equal(json_array_size(ev), 1);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_array_get(ev, 0), "message")), "busy: deploy by uid 1234 "
	    "(pid 5678)"));
	json_decref(ev);

	rig_wait(&g, a);
	cap_assert_ok(a);
	assert_false(b->done);
	rig_wait(&g, b);
	cap_assert_ok(b);
	rig_wait(&g, c);
	cap_assert_ok(c);
	assert_int_equal(revision_of(a), 1);
	assert_int_equal(revision_of(b), 2);
	assert_int_equal(revision_of(c), 3);
	/* b began only after a had answered, c after b. */
	ib = first_call(&g, fakedocker_find(g.fd, 0, "healthy demo-api-1"));
	assert_true(fakedocker_at(g.fd, ib) >= a->done_at);
	ic = first_call(&g, fakedocker_find(g.fd, ib, "healthy demo-api-1"));
	assert_true(ic > ib);
	assert_true(fakedocker_at(g.fd, ic) >= b->done_at);
	assert_true(b->done_at <= c->done_at);
	rig_settle(&g);
	assert_int_equal(store_current(g.sd.store, "demo"), 3);
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 3\n"
	    "demo-api-1-r1 exited 1\ndemo-api-1-r2 exited 2\n");
	free(t);
	cap_free(a);
	cap_free(b);
	cap_free(c);
	rig_close(&g);
}

/*
 * A deploy that fails rolls back under the lock it holds: a deploy
 * waiting for the stack begins only once the rollback has ended.
 */
static void
test_wait_behind_rollback(void **state)
{
	static const char *const sick[] = {
		"api.yaml", "image: shipd-test/sick:1\n" CHECK
		    "update: {healthy_deadline: 300ms}\n", NULL
	};
	struct rig	 g;
	struct cap	*a, *b;
	int		 back, ib;

	(void)state;
	rig_open(&g);
	images(&g);
	a = deploy_as(&g, v[0], 1, 1, false);
	rig_wait(&g, a);
	cap_assert_ok(a);
	cap_free(a);

	a = deploy_as(&g, sick, 1, 2, false);
	b = deploy_as(&g, v[1], 1, 3, true);
	rig_wait(&g, a);
	assert_string_equal(cap_code(a), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(a), "rolled back to revision 1"));
	rig_wait(&g, b);
	cap_assert_ok(b);
	assert_int_equal(revision_of(b), 3);
	/* The rollback's last call (revision 1's container started again)
	 * came before b's first. */
	back = fakedocker_find(g.fd, fakedocker_find(g.fd, 0,
	    "rename demo-api-1-r1 demo-api-1"), "start demo-api-1");
	ib = first_call(&g, back);
	assert_true(back >= 0 && ib > back);
	assert_true(fakedocker_at(g.fd, ib) >= a->done_at);
	rig_settle(&g);
	assert_string_equal(rig_result(&g, "demo", 2), "failed");
	assert_int_equal(store_current(g.sd.store, "demo"), 3);
	cap_free(a);
	cap_free(b);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_wait_queues),
		cmocka_unit_test(test_wait_behind_rollback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
