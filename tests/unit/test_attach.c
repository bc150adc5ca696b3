/*
 * Following an operation from another request (`attach`): with nothing
 * under way it is not_found; attached to a deploy it gets where the
 * deploy is, its plan, every event from then on and the deploy's own
 * answer, through the automatic rollback a failure brings; one attached
 * client that goes away stops only itself.  Also the `phase` event at
 * each phase change.
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
#include "ops/op.h"
#include "proto.h"
#include "state/lock.h"
#include "state/store.h"
#include "util.h"

#define CHECK	"health: {test: [CMD, /bin/check]}\n"

static const char *const v1[] = {
	"api.yaml", "image: shipd-test/api:1\n" CHECK
	    "update: {healthy_deadline: 10m}\n",
	NULL
};
/* Healthy after a while: the gate is under way long enough to attach. */
static const char *const v2[] = {
	"api.yaml", "image: shipd-test/slow:1\n" CHECK
	    "update: {healthy_deadline: 10m}\n",
	NULL
};
/* Never healthy, and fails its gate quickly. */
static const char *const v3[] = {
	"api.yaml", "image: shipd-test/sick:1\n" CHECK
	    "update: {healthy_deadline: 1500ms}\n",
	NULL
};

static void
image(struct rig *g, const char *ref, int healthy_after_ms)
{
	struct fake_image k = { healthy_after_ms, -1, 0, false, 0 };

	fakedocker_image(g->fd, ref, &k, NULL);
}

static void
open_v1(struct rig *g)
{
	rig_open(g);
	image(g, "shipd-test/api:1", 0);
	image(g, "shipd-test/slow:1", 1500);
	image(g, "shipd-test/sick:1", -1);
	rig_deploy_ok(g, v1);
}

static bool
gating(struct rig *g, void *arg)
{
	struct op	*op;
	size_t		 i, j;

	(void)arg;
	for (op = g->sd.ops; op != NULL; op = op->next)
		for (i = 0; op->kind->id == OP_DEPLOY && !op->ended &&
		    op->svcs != NULL && i < op->stack->nunits; i++)
			for (j = 0; j < op->svcs[i].nreps; j++)
				if (op->svcs[i].reps[j].gate != NULL)
					return true;
	return false;
}

static struct cap *
attach(struct rig *g, const char *stack)
{
	struct cap *c = cap_new(g, "attach");

	ops_attach(&g->sd, c->req, stack);
	return c;
}

/* The phases named by a capture's phase events, joined by spaces. */
static char *
phases(const struct cap *c)
{
	json_t		*ev = cap_events(c, PROTO_EV_PHASE), *e;
	struct buf	 b;
	size_t		 i;

	buf_init(&b);
	buf_puts(&b, "");
	json_array_foreach(ev, i, e)
		buf_printf(&b, "%s%s", i ? " " : "",
		    json_string_value(json_object_get(e, "phase")));
	json_decref(ev);
	return buf_steal(&b);
}

static void
test_attach_nothing(void **state)
{
	struct rig	 g;
	struct cap	*c;

	(void)state;
	open_v1(&g);
	c = attach(&g, "demo");
	rig_wait(&g, c);
	assert_string_equal(cap_code(c), PROTO_E_NOT_FOUND);
	assert_non_null(strstr(cap_message(c), "no operation under way on "
	    "stack demo"));
	cap_free(c);
	c = attach(&g, "other");
	rig_wait(&g, c);
	assert_string_equal(cap_code(c), PROTO_E_NOT_FOUND);
	cap_free(c);
	rig_close(&g);
}

/* Two attach to a deploy at its gate; one goes; the other gets the end. */
static void
test_attach_commit(void **state)
{
	struct rig	 g;
	struct cap	*d, *a, *b;
	json_t		*ev;
	char		*ph;

	(void)state;
	open_v1(&g);
	d = rig_deploy(&g, v2, NULL, false);
	rig_until(&g, gating, NULL, "the deploy's gate");
	a = attach(&g, "demo");
	b = attach(&g, "demo");
	ev = cap_events(b, PROTO_EV_ATTACHED);
	assert_int_equal(json_array_size(ev), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    ev, 0), "kind")), "deploy");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    ev, 0), "phase")), "apply");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    ev, 0), "revision")), 2);
	json_decref(ev);
	ev = cap_events(b, PROTO_EV_PLAN);
	assert_int_equal(json_array_size(ev), 1);
	json_decref(ev);
	/* a's client goes: it is answered, and only it stops. */
	ctl_req_peer_gone(a->req);
	assert_true(a->done);
	rig_wait(&g, d);
	cap_assert_ok(d);
	rig_wait(&g, b);
	cap_assert_ok(b);
	assert_true(json_equal(cap_result(b), cap_result(d)));
	ph = phases(b);
	assert_string_equal(ph, "verify commit");
	free(ph);
	ph = phases(d);
	assert_string_equal(ph, "images plan checks begin apply verify "
	    "commit");
	free(ph);
	rig_settle(&g);
	assert_int_equal(store_current(g.sd.store, "demo"), 2);
	cap_free(a);
	cap_free(b);
	cap_free(d);
	rig_close(&g);
}

/* A failed gate: the attached client follows the rollback to its end and
 * gets the deploy's error. */
static void
test_attach_rollback(void **state)
{
	struct rig	 g;
	struct cap	*d, *b;
	json_t		*ev;
	char		*pd, *pb;

	(void)state;
	open_v1(&g);
	d = rig_deploy(&g, v3, NULL, false);
	rig_until(&g, gating, NULL, "the deploy's gate");
	b = attach(&g, "demo");
	rig_wait(&g, d);
	rig_wait(&g, b);
	assert_string_equal(cap_code(d), PROTO_E_FAILED);
	assert_string_equal(cap_code(b), PROTO_E_FAILED);
	assert_string_equal(cap_message(b), cap_message(d));
	assert_non_null(strstr(cap_message(b), "rolled back to revision 1"));
	ev = cap_events(b, PROTO_EV_ROLLBACK);
	assert_int_equal(json_array_size(ev), 1);
	json_decref(ev);
	/* What the rollback did, b saw as d did: the same events from the
	 * point b attached on. */
	pd = phases(d);
	pb = phases(b);
	print_message("deploy: %s\nattached: %s\n", pd, pb);
	assert_non_null(strstr(pb, "rollback plan begin apply"));
	assert_true(strlen(pb) <= strlen(pd) &&
	    strcmp(pd + strlen(pd) - strlen(pb), pb) == 0);
	free(pd);
	free(pb);
	/* The commit recording the failure says so. */
	ev = cap_events(b, PROTO_EV_PHASE);
	assert_true(json_is_true(json_object_get(json_array_get(ev, 0),
	    "failed")));
	json_decref(ev);
	rig_settle(&g);
	assert_null(lock_holder(&g.sd, "demo"));
	cap_free(b);
	cap_free(d);
	rig_close(&g);
}

/* Shutdown with a client attached: its request is dropped with the
 * others, and the operation is freed after (no watcher left). */
static void
test_attach_shutdown(void **state)
{
	struct rig	 g;
	struct cap	*d, *b;

	(void)state;
	open_v1(&g);
	d = rig_deploy(&g, v2, NULL, false);
	rig_until(&g, gating, NULL, "the deploy's gate");
	b = attach(&g, "demo");
	rig_down(&g);
	rig_up(&g);
	rig_settle(&g);
	cap_free(b);
	cap_free(d);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_nothing),
		cmocka_unit_test(test_attach_commit),
		cmocka_unit_test(test_attach_rollback),
		cmocka_unit_test(test_attach_shutdown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
