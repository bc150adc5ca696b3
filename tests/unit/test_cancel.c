/*
 * Stopping an operation before its end: `cancel` in each place an
 * operation can be (a gate, the lock queue, an automatic rollback, nothing
 * under way), a phase's deadline passing, the phase and age `status`
 * reports, and clients that go away (queued: dropped; under way: the
 * operation goes on to its end and lets the lock go).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"
#include "graph.h"
#include "helper_opsrig.h"
#include "ops/op.h"
#include "proto.h"
#include "state/lock.h"
#include "state/store.h"
#include "util.h"

#define CHECK	"health: {test: [CMD, /bin/check]}\n"
#define UID	4242

static const char *const v1[] = {
	"api.yaml", "image: shipd-test/api:1\n" CHECK
	    "update: {healthy_deadline: 10m}\n",
	NULL
};
/* Never healthy, and its gate would wait ten minutes. */
static const char *const v2[] = {
	"api.yaml", "image: shipd-test/sick:1\n" CHECK
	    "update: {healthy_deadline: 10m}\n",
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
	image(g, "shipd-test/sick:1", -1);
	rig_deploy_ok(g, v1);
}

static struct op *
find_op(struct rig *g, enum op_kind_id kind)
{
	struct op *op;

	for (op = g->sd.ops; op != NULL; op = op->next)
		if (op->kind->id == kind && !op->ended)
			return op;
	return NULL;
}

/* The deploy's replica is waiting at its gate. */
static bool
gating(struct rig *g, void *arg)
{
	struct op	*op = find_op(g, OP_DEPLOY);
	size_t		 i, j;

	(void)arg;
	for (i = 0; op != NULL && op->svcs != NULL &&
	    i < op->stack->nunits; i++)
		for (j = 0; j < op->svcs[i].nreps; j++)
			if (op->svcs[i].reps[j].gate != NULL)
				return true;
	return false;
}

static bool
rolling_back(struct rig *g, void *arg)
{
	(void)arg;
	return find_op(g, OP_ROLLBACK_AUTO) != NULL;
}

static struct cap *
cancel(struct rig *g, const char *stack)
{
	struct cap *c = cap_new(g, "cancel");

	c->req->uid = UID;
	ops_cancel(&g->sd, c->req, stack);
	rig_wait(g, c);
	return c;
}

static void
assert_rolled_back(struct rig *g, struct cap *d, int rev)
{
	rig_wait(g, d);
	assert_string_equal(cap_code(d), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(d), "cancelled by uid 4242"));
	assert_non_null(strstr(cap_message(d), "rolled back to revision 1"));
	rig_settle(g);
	assert_null(lock_holder(&g->sd, "demo"));
	assert_string_equal(rig_result(g, "demo", rev), "failed");
	assert_int_equal(store_current(g->sd.store, "demo"), 1);
}

/*
 * Cancel while the deploy waits at a gate that would take ten minutes:
 * status shows it in phase apply; cancel answers what it stopped, the
 * deploy fails with the canceller named and rolls back to revision 1.
 */
static void
test_cancel_gate(void **state)
{
	struct rig	 g;
	struct cap	*d, *c;
	json_t		*st, *o;
	char		*t;

	(void)state;
	open_v1(&g);
	d = rig_deploy(&g, v2, NULL, false);
	rig_until(&g, gating, NULL, "the deploy's gate");

	st = ops_status(&g.sd, "demo");
	assert_int_equal(json_array_size(st), 1);
	o = json_array_get(st, 0);
	assert_string_equal(json_string_value(json_object_get(o, "kind")),
	    "deploy");
	assert_string_equal(json_string_value(json_object_get(o, "phase")),
	    "apply");
	assert_int_equal(json_integer_value(json_object_get(o, "revision")),
	    2);
	assert_true(json_integer_value(json_object_get(o, "elapsed_ms")) >=
	    json_integer_value(json_object_get(o, "phase_ms")));
	json_decref(st);

	c = cancel(&g, "demo");
	cap_assert_ok(c);
	o = json_array_get(json_object_get(cap_result(c), "cancelled"), 0);
	assert_string_equal(json_string_value(json_object_get(o, "kind")),
	    "deploy");
	assert_string_equal(json_string_value(json_object_get(o, "phase")),
	    "apply");
	assert_rolled_back(&g, d, 2);
	t = fakedocker_containers(g.fd);
	assert_string_equal(t, "demo-api-1 running 1\n");
	free(t);
	cap_free(c);
	cap_free(d);
	rig_close(&g);
}

/* Nothing under way: an error, and nothing else happens. */
static void
test_cancel_nothing(void **state)
{
	struct rig	 g;
	struct cap	*c;

	(void)state;
	open_v1(&g);
	c = cancel(&g, "demo");
	assert_string_equal(cap_code(c), PROTO_E_NOT_FOUND);
	assert_non_null(strstr(cap_message(c), "no operation under way on "
	    "stack demo"));
	cap_free(c);
	c = cancel(&g, "other");
	assert_string_equal(cap_code(c), PROTO_E_NOT_FOUND);
	cap_free(c);
	rig_close(&g);
}

/*
 * A deploy queued (--wait) behind one at its gate: cancel stops both;
 * the queued one is answered at once, took no revision number, and
 * nothing starts for it when the lock comes free.
 */
static void
test_cancel_queued(void **state)
{
	struct deploy_opts	 w = { .wait = true };
	struct rig		 g;
	struct cap		*d, *q, *c;

	(void)state;
	open_v1(&g);
	d = rig_deploy(&g, v2, NULL, false);
	rig_until(&g, gating, NULL, "the deploy's gate");
	q = rig_deploy(&g, v1, &w, false);
	assert_non_null(g.sd.ops);
	assert_int_equal(g.sd.ops->phase, PH_QUEUED);
	c = cancel(&g, "demo");
	cap_assert_ok(c);
	assert_int_equal(json_array_size(json_object_get(cap_result(c),
	    "cancelled")), 2);
	rig_wait(&g, q);
	assert_string_equal(cap_code(q), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(q), "cancelled by uid 4242 (it "
	    "was queued; nothing was changed)"));
	assert_rolled_back(&g, d, 2);
	assert_null(g.sd.ops);
	assert_null(store_revision_get(g.sd.store, "demo", 3));
	cap_free(q);
	cap_free(c);
	cap_free(d);
	rig_close(&g);
}

/*
 * The client of a queued deploy hangs up: it leaves the queue then (and
 * is answered into the void), so when the deploy ahead ends no deploy
 * runs for nobody.
 */
static void
test_gone_queued(void **state)
{
	struct deploy_opts	 w = { .wait = true };
	struct rig		 g;
	struct cap		*d, *q, *c;

	(void)state;
	open_v1(&g);
	d = rig_deploy(&g, v2, NULL, false);
	rig_until(&g, gating, NULL, "the deploy's gate");
	q = rig_deploy(&g, v1, &w, false);
	ctl_req_peer_gone(q->req);
	rig_wait(&g, q);
	assert_non_null(strstr(cap_message(q), "the client went away"));
	c = cancel(&g, "demo");
	cap_assert_ok(c);
	assert_int_equal(json_array_size(json_object_get(cap_result(c),
	    "cancelled")), 1);
	assert_rolled_back(&g, d, 2);
	assert_null(g.sd.ops);
	assert_null(store_revision_get(g.sd.store, "demo", 3));
	cap_free(q);
	cap_free(c);
	cap_free(d);
	rig_close(&g);
}

/*
 * The client of a deploy under way hangs up at its gate: the deploy goes
 * on, commits, and lets the lock go.
 */
static void
test_gone_under_way(void **state)
{
	static const char *const slow[] = {
		"api.yaml", "image: shipd-test/slow:1\n" CHECK,
		NULL
	};
	struct rig	 g;
	struct cap	*d;

	(void)state;
	open_v1(&g);
	image(&g, "shipd-test/slow:1", 500);
	d = rig_deploy(&g, slow, NULL, false);
	rig_until(&g, gating, NULL, "the deploy's gate");
	ctl_req_peer_gone(d->req);
	rig_wait(&g, d);
	cap_assert_ok(d);
	rig_settle(&g);
	assert_null(lock_holder(&g.sd, "demo"));
	assert_string_equal(rig_result(&g, "demo", 2), "committed");
	assert_int_equal(store_current(g.sd.store, "demo"), 2);
	cap_free(d);
	rig_close(&g);
}

/*
 * Cancel during the automatic rollback of a failed deploy is refused:
 * it is the way back.  The rollback goes on and succeeds.
 */
static void
test_cancel_rollback_refused(void **state)
{
	static const char *const v1slow[] = {
		"api.yaml", "image: shipd-test/api:1\n" CHECK
		    "update: {healthy_deadline: 300ms}\n",
		NULL
	};
	static const char *const v2fast[] = {
		"api.yaml", "image: shipd-test/sick:1\n" CHECK
		    "update: {healthy_deadline: 300ms}\n",
		NULL
	};
	struct fake_image	 k = { 800, -1, 0, false, 0 };
	struct rig		 g;
	struct cap		*d, *c;
	json_t			*st;

	(void)state;
	rig_open(&g);
	image(&g, "shipd-test/api:1", 0);
	image(&g, "shipd-test/sick:1", -1);
	rig_deploy_ok(&g, v1slow);
	/* The kept container takes 800 ms to be healthy again. */
	fakedocker_image_knobs(g.fd, "shipd-test/api:1", &k);
	d = rig_deploy(&g, v2fast, NULL, false);
	rig_until(&g, rolling_back, NULL, "the automatic rollback");
	st = ops_status(&g.sd, "demo");
	assert_int_equal(json_array_size(st), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    st, 0), "phase")), "rollback");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    st, 1), "kind")), "rollback-auto");
	json_decref(st);
	c = cancel(&g, "demo");
	assert_string_equal(cap_code(c), PROTO_E_BUSY);
	assert_non_null(strstr(cap_message(c), "automatic rollback"));
	rig_wait(&g, d);
	assert_non_null(strstr(cap_message(d), "rolled back to revision 1"));
	rig_settle(&g);
	assert_null(lock_holder(&g.sd, "demo"));
	cap_free(c);
	cap_free(d);
	rig_close(&g);
}

/*
 * Apply's deadline passes (shortened for the test) while a gate would
 * wait ten minutes: the deploy fails naming the phase and the deadline,
 * and rolls back.
 */
static void
test_apply_deadline(void **state)
{
	struct rig	 g;
	struct cap	*d;

	(void)state;
	open_v1(&g);
	setenv("SHIPD_TEST_PHASE_DEADLINE", "apply:400", 1);
	d = rig_deploy(&g, v2, NULL, true);
	unsetenv("SHIPD_TEST_PHASE_DEADLINE");
	assert_string_equal(cap_code(d), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(d), "the apply phase passed its "
	    "deadline of 400ms"));
	assert_non_null(strstr(cap_message(d), "rolled back to revision 1"));
	rig_settle(&g);
	assert_null(lock_holder(&g.sd, "demo"));
	assert_string_equal(rig_result(&g, "demo", 2), "failed");
	assert_int_equal(store_current(g.sd.store, "demo"), 1);
	cap_free(d);
	rig_close(&g);
}

/*
 * update.deadline sets apply's deadline: loaded from YAML, carried
 * through the stack's JSON (absent when unset, so older revisions still
 * compare equal), and it fails the deploy when it passes.
 */
static void
test_apply_deadline_knob(void **state)
{
	static const char *const v3[] = {
		"api.yaml", "image: shipd-test/sick:1\n" CHECK
		    "update: {healthy_deadline: 10m, deadline: 400ms}\n",
		NULL
	};
	struct diag_list	 errs;
	struct rig		 g;
	struct stack		*st, *back;
	struct graph		*gr;
	struct cap		*d;
	json_t			*j;
	char			*text;

	(void)state;
	open_v1(&g);
	rig_stack(&g, v3, &st, &gr);
	j = stack_to_json(st);
	text = json_dumps(j, 0);
	assert_non_null(strstr(text, "\"deadline_ms\": 400"));
	free(text);
	diag_init(&errs);
	assert_int_equal(stack_from_json(j, &back, &errs), 0);
	assert_int_equal(back->units[0]->update.deadline_ms, 400);
	stack_free(back);
	diag_free(&errs);
	json_decref(j);
	stack_free(st);
	graph_free(gr);
	rig_stack(&g, v1, &st, &gr);
	j = stack_to_json(st);
	text = json_dumps(j, 0);
	assert_null(strstr(text, "\"deadline_ms\""));
	free(text);
	json_decref(j);
	stack_free(st);
	graph_free(gr);

	d = rig_deploy(&g, v3, NULL, true);
	assert_string_equal(cap_code(d), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(d), "the apply phase passed its "
	    "deadline of 400ms"));
	assert_non_null(strstr(cap_message(d), "rolled back to revision 1"));
	rig_settle(&g);
	assert_null(lock_holder(&g.sd, "demo"));
	cap_free(d);
	rig_close(&g);
}

/*
 * Cancel while the engine's container list is on its way (phase images):
 * the pipeline stops at its next stage, before anything changed and
 * before a revision number was taken.
 */
static void
test_cancel_early(void **state)
{
	struct rig	 g;
	struct cap	*d, *c;
	json_t		*st;

	(void)state;
	open_v1(&g);
	d = rig_deploy(&g, v2, NULL, false);
	st = ops_status(&g.sd, "demo");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    st, 0), "phase")), "images");
	json_decref(st);
	c = cancel(&g, "demo");
	cap_assert_ok(c);
	rig_wait(&g, d);
	assert_string_equal(cap_code(d), PROTO_E_FAILED);
	assert_string_equal(cap_message(d), "cancelled by uid 4242");
	rig_settle(&g);
	assert_null(lock_holder(&g.sd, "demo"));
	assert_null(store_revision_get(g.sd.store, "demo", 2));
	assert_int_equal(store_current(g.sd.store, "demo"), 1);
	cap_free(c);
	cap_free(d);
	rig_close(&g);
}

/* The scale's new replica is waiting at its gate. */
static bool
scale_gating(struct rig *g, void *arg)
{
	struct op	*op = find_op(g, OP_SCALE);
	size_t		 i, j;

	(void)arg;
	for (i = 0; op != NULL && op->svcs != NULL &&
	    i < op->stack->nunits; i++)
		for (j = 0; j < op->svcs[i].nreps; j++)
			if (op->svcs[i].reps[j].gate != NULL)
				return true;
	return false;
}

/* A scale stopped at the new replica's gate fails as a scale fails, with
 * the canceller named, and lets the lock go. */
static void
test_cancel_scale(void **state)
{
	struct fake_image	 k = { -1, -1, 0, false, 0 };
	struct rig		 g;
	struct cap		*s, *c;
	json_t			*n = json_pack("{s:i}", "api", 2);

	(void)state;
	open_v1(&g);
	fakedocker_image_knobs(g.fd, "shipd-test/api:1", &k);
	s = cap_new(&g, "scale");
	ops_scale(&g.sd, s->req, "demo", n, NULL, false);
	rig_until(&g, scale_gating, NULL, "the scale's gate");
	c = cancel(&g, "demo");
	cap_assert_ok(c);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(cap_result(c), "cancelled"), 0), "kind")),
	    "scale");
	rig_wait(&g, s);
	assert_string_equal(cap_code(s), PROTO_E_FAILED);
	assert_non_null(strstr(cap_message(s), "cancelled by uid 4242"));
	rig_settle(&g);
	assert_null(lock_holder(&g.sd, "demo"));
	assert_null(g.sd.ops);
	json_decref(n);
	cap_free(c);
	cap_free(s);
	rig_close(&g);
}

static bool
verifying(struct rig *g, void *arg)
{
	struct op *op = find_op(g, OP_DEPLOY);

	(void)arg;
	return op != NULL && op->phase == PH_VERIFY && op->verify != NULL;
}

/* Cancel during a ten-minute monitor period: the monitor is let go of,
 * the deploy fails and rolls back. */
static void
test_cancel_verify(void **state)
{
	static const char *const mon[] = {
		"api.yaml", "image: shipd-test/api:1\n" CHECK
		    "environment: {X: 1}\n"
		    "update: {healthy_deadline: 10m, monitor: 10m}\n",
		NULL
	};
	struct rig	 g;
	struct cap	*d, *c;

	(void)state;
	open_v1(&g);
	d = rig_deploy(&g, mon, NULL, false);
	rig_until(&g, verifying, NULL, "the monitor period");
	c = cancel(&g, "demo");
	cap_assert_ok(c);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(cap_result(c), "cancelled"), 0), "phase")),
	    "verify");
	assert_rolled_back(&g, d, 2);
	cap_free(c);
	cap_free(d);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cancel_gate),
		cmocka_unit_test(test_cancel_nothing),
		cmocka_unit_test(test_cancel_queued),
		cmocka_unit_test(test_gone_queued),
		cmocka_unit_test(test_gone_under_way),
		cmocka_unit_test(test_cancel_rollback_refused),
		cmocka_unit_test(test_apply_deadline),
		cmocka_unit_test(test_apply_deadline_knob),
		cmocka_unit_test(test_cancel_early),
		cmocka_unit_test(test_cancel_scale),
		cmocka_unit_test(test_cancel_verify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
