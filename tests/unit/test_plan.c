/*
 * The planner: what a deploy would do to each service, diffed against the
 * labelled containers the engine has, and per replica which container is
 * kept, replaced, brought back or removed, with the steps that follow.
 * Once through ops_plan against the dockerd model (the reply and the
 * engine calls), once through plan_compute and steps_plan on containers
 * written by hand.
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
#include "ops/op.h"
#include "ops/steps.h"
#include "proto.h"
#include "state/store.h"
#include "unit.h"
#include "util.h"

#define APP	"shipd-test/app:1"
#define IMG	"shipd-test/img:1"

/* What shipd may call while it only plans: reads. */
#define MUTATING "create start stop kill rename remove connect disconnect " \
	"netcreate volcreate pull exec"

static const char *const stack_a[] = {
	"changed.yaml", "image: " APP "\nenvironment: {MODE: a}\n",
	"gone.yaml", "image: " APP "\n",
	"img.yaml", "image: " IMG "\n",
	"same.yaml", "image: " APP "\ncommand: [/bin/app, serve]\n",
	"scaled.yaml", "image: " APP "\n",
	NULL
};

static const char *const stack_b[] = {
	"changed.yaml", "image: " APP "\nenvironment: {MODE: b}\n",
	"img.yaml", "image: " IMG "\n",
	"new.yaml", "image: " APP "\ndepends_on: {same: started}\n",
	"same.yaml", "image: " APP "\ncommand: [/bin/app, serve]\n",
	"scaled.yaml", "image: " APP "\nreplicas: 3\n",
	NULL
};

static json_t *
find_service(json_t *services, const char *name)
{
	json_t	*s;
	size_t	 i;

	json_array_foreach(services, i, s)
		if (strcmp(json_string_value(json_object_get(s, "service")),
		    name) == 0)
			return s;
	fail_msg("the plan has no entry for %s", name);
	return NULL;
}

static void
assert_entry(json_t *services, const char *name, const char *action,
    const char *reason, int replicas)
{
	json_t *s = find_service(services, name);

	assert_string_equal(json_string_value(json_object_get(s, "action")),
	    action);
	assert_string_equal(json_string_value(json_object_get(s, "reason")),
	    reason);
	assert_int_equal(json_integer_value(json_object_get(s, "replicas")),
	    replicas);
}

/*
 * Revision 1 deployed for real; then the image tag moves, one service
 * changes its environment, one its count, one is added and one dropped.
 * The plan names each with its reason, in dependency order with removals
 * last, and touches nothing.
 */
static void
test_plan_reply(void **state)
{
	struct rig	 g;
	struct cap	*c;
	struct stack	*st;
	struct graph	*gr;
	json_t		*svcs, *s;
	char		 newid[72], reason[160], *t;
	const char	*order[] = { "changed", "img", "same", "new", "scaled",
	    "gone" };
	size_t		 i;
	int		 mark;

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, APP, NULL, NULL);
	fakedocker_image(g.fd, IMG, NULL, NULL);
	c = rig_deploy(&g, stack_a, NULL, true);
	cap_assert_ok(c);
	rig_settle(&g);
	assert_string_equal(rig_result(&g, "demo", 1), "committed");

	/* The tag now names another image. */
	fakedocker_image(g.fd, IMG, NULL, newid);
	mark = fakedocker_ncalls(g.fd);
	rig_stack(&g, stack_b, &st, &gr);
	c = cap_new(&g, "plan");
	ops_plan(&g.sd, c->req, st, gr);
	assert_false(c->done);		/* never from inside the call */
	rig_wait(&g, c);
	cap_assert_ok(c);
	assert_int_equal(json_integer_value(json_object_get(cap_result(c),
	    "current")), 1);
	svcs = json_object_get(cap_result(c), "services");
	assert_int_equal(json_array_size(svcs), 6);
	assert_entry(svcs, "changed", "recreate", "changed: environment", 1);
	snprintf(reason, sizeof reason, "image " IMG " now resolves to %.19s",
	    newid);
	assert_entry(svcs, "img", "recreate", reason, 1);
	assert_entry(svcs, "new", "create", "new service, 1 replica", 1);
	assert_entry(svcs, "same", "unchanged", "up to date", 1);
	assert_entry(svcs, "scaled", "scale", "replicas 1 -> 3", 3);
	assert_entry(svcs, "gone", "remove", "no longer in the stack", 0);
	/* Dependencies first (new once same is placed), ties by name,
	 * removals last. */
	json_array_foreach(svcs, i, s)
		assert_string_equal(json_string_value(json_object_get(s,
		    "service")), order[i]);

	/* Read-only: the containers, the images; nothing else. */
	t = fakedocker_trace(g.fd, mark, MUTATING, NULL);
	assert_string_equal(t, "");
	free(t);
	t = fakedocker_trace(g.fd, mark, "list", NULL);
	assert_string_equal(t, "list\n");
	free(t);
	/* Inspected concurrently: in either order, once each. */
	t = fakedocker_trace(g.fd, mark, "image", NULL);
	assert_int_equal(strlen(t), strlen("image " APP "\nimage " IMG "\n"));
	assert_non_null(strstr(t, "image " APP "\n"));
	assert_non_null(strstr(t, "image " IMG "\n"));
	free(t);
	assert_null(store_revision_get(g.sd.store, "demo", 2));
	assert_int_equal(store_current(g.sd.store, "demo"), 1);
	assert_int_equal(fakedocker_unknown(g.fd), 0);
	rig_close(&g);
}

/* A plan needs the images: a missing one is a pre-flight failure that
 * names it and the services (with their files) that use it, and nothing
 * is pulled for a plan. */
static void
test_plan_missing_image(void **state)
{
	static const char *const files[] = {
		"api.yaml", "image: shipd-test/nowhere:9\n",
		"web.yaml", "image: shipd-test/nowhere:9\n", NULL
	};
	struct rig	 g;
	struct cap	*c;
	struct stack	*st;
	struct graph	*gr;
	char		*t;

	(void)state;
	rig_open(&g);
	rig_stack(&g, files, &st, &gr);
	c = cap_new(&g, "plan");
	ops_plan(&g.sd, c->req, st, gr);
	rig_wait(&g, c);
	assert_string_equal(cap_code(c), PROTO_E_PREFLIGHT);
	assert_non_null(strstr(cap_message(c), "shipd-test/nowhere:9"));
	assert_non_null(strstr(cap_message(c), "not present on the engine"));
	assert_non_null(strstr(cap_message(c), "; used by api ("));
	assert_non_null(strstr(cap_message(c), "/api.yaml), web ("));
	t = fakedocker_trace(g.fd, 0, MUTATING, NULL);
	assert_string_equal(t, "");
	free(t);
	rig_settle(&g);
	rig_close(&g);
}

/*
 * A service whose unit file is gone: one plan row however many
 * containers it has, a deploy refused naming it before anything is
 * touched or recorded, then with remove_orphans removed and counted in the
 * result.
 */
static void
test_orphans(void **state)
{
	static const char *const before[] = {
		"api.yaml", "image: " APP "\n",
		"gone.yaml", "image: " APP "\nreplicas: 2\n",
		NULL
	};
	static const char *const after[] = {
		"api.yaml", "image: " APP "\n",
		NULL
	};
	struct deploy_opts	 o = { .remove_orphans = true };
	struct rig		 g;
	struct cap		*c;
	json_t			*svcs, *row, *ev;
	char			*t;
	int			 mark;

	(void)state;
	rig_open(&g);
	fakedocker_image(g.fd, APP, NULL, NULL);
	rig_deploy_ok(&g, before);

	mark = fakedocker_ncalls(g.fd);
	c = rig_deploy(&g, after, NULL, true);
	assert_string_equal(cap_code(c), PROTO_E_BAD_ARGS);
	assert_string_equal(cap_message(c), "deploy would remove a service "
	    "no longer in the stack: gone (2 containers); nothing was changed "
	    "(put the unit file back, or deploy with --remove-orphans)");
	/* The plan it showed: one row for the service. */
	ev = cap_events(c, PROTO_EV_PLAN);
	svcs = json_object_get(json_array_get(ev, 0), "services");
	assert_int_equal(json_array_size(svcs), 2);
	assert_entry(svcs, "gone", "remove", "no longer in the stack", 0);
	assert_int_equal(json_integer_value(json_object_get(find_service(svcs,
	    "gone"), "remove_containers")), 2);
	json_decref(ev);
	t = fakedocker_trace(g.fd, mark, MUTATING, NULL);
	assert_string_equal(t, "");
	free(t);
	rig_settle(&g);
	assert_string_equal(rig_result(&g, "demo", 2), "");
	assert_int_equal(store_current(g.sd.store, "demo"), 1);

	c = rig_deploy(&g, after, &o, true);
	cap_assert_ok(c);
	svcs = json_object_get(cap_result(c), "services");
	assert_int_equal(json_array_size(svcs), 2);
	row = find_service(svcs, "gone");
	assert_string_equal(json_string_value(json_object_get(row, "action")),
	    "remove");
	assert_string_equal(json_string_value(json_object_get(row, "status")),
	    "done");
	rig_settle(&g);
	t = fakedocker_containers(g.fd);
	assert_null(strstr(t, "demo-gone-"));
	assert_non_null(strstr(t, "demo-api-1 running"));
	free(t);
	/* The revision remembers what it removed. */
	svcs = json_object_get(store_revision_get(g.sd.store, "demo",
	    store_current(g.sd.store, "demo")), "changes");
	assert_entry(svcs, "gone", "remove", "no longer in the stack", 0);
	rig_close(&g);
}

/* ---- plan_compute on containers written by hand ------------------------- */

static const struct op_kind kind_test = {
	OP_PLAN, "plan-test", 0, NULL, NULL, NULL
};

static json_t *
container(const char *id, const char *name, const char *svc, int n,
    int rev, const char *hash, const char *image, const char *state)
{
	char r[16], nn[16];

	snprintf(r, sizeof r, "%d", rev);
	snprintf(nn, sizeof nn, "%d", n);
	return json_pack("{s:s, s:[s+], s:s, s:s, s:{s:s, s:s, s:s, s:s, "
	    "s:s}}", "Id", id, "Names", "/", name, "ImageID", image, "State",
	    state, "Labels", LABEL_STACK, "demo", LABEL_SERVICE, svc,
	    LABEL_REPLICA, nn, LABEL_REVISION, r, LABEL_HASH, hash);
}

static void
put_revision(struct rig *g, int rev, const char *result)
{
	json_t	*doc = json_pack("{s:i, s:s, s:s}", "revision", rev, "result",
	    result, "stack_name", "demo");
	int	 done = 0;

	store_revision_put(g->sd.store, "demo", rev, doc, rig_store_cb,
	    &done);
	json_decref(doc);
	rig_store_wait(g, &done);
}

static const char *
steps_str(const struct replica *r, char *buf, size_t len)
{
	size_t	n = 0;
	int	i;

	buf[0] = '\0';
	for (i = 0; i < r->nsteps; i++)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
		    i ? " " : "", step_name(r->steps[i]));
	return buf;
}

static char *
hash_of(struct rig *g, const char *const *files, const char *svc)
{
	struct stack	*st;
	struct graph	*gr;
	char		 h[65];

	rig_stack(g, files, &st, &gr);
	unit_spec_hash(stack_unit(st, svc), h);
	graph_free(gr);
	stack_free(st);
	return xstrdup(h);
}

/*
 * api: two replicas wanted, three exist.  Replica 1's successor was kept
 * from revision 1 (same spec and image): it is brought back by rename,
 * not created.  Replica 2 has no such luck: replaced, the old one kept
 * since revision 2 was committed.  Replica 3 is beyond the count.  A
 * container of a failed revision is not worth keeping.
 */
static void
test_plan_compute_replicas(void **state)
{
	static const char *const v1[] = { "api.yaml", "image: " APP
	    "\nenvironment: {V: \"1\"}\nreplicas: 2\n", NULL };
	static const char *const v2[] = { "api.yaml", "image: " APP
	    "\nenvironment: {V: \"2\"}\nreplicas: 2\n", NULL };
	struct rig	 g;
	struct stack	*st;
	struct graph	*gr;
	struct op	*op;
	struct svc	*s;
	char		*h1, *h2, buf[256];
	const char	*img = "sha256:aaaa";

	(void)state;
	rig_open(&g);
	put_revision(&g, 1, "committed");
	put_revision(&g, 2, "committed");
	put_revision(&g, 3, "failed");
	h1 = hash_of(&g, v1, "api");
	h2 = hash_of(&g, v2, "api");
	rig_stack(&g, v1, &st, &gr);
	op = op_create(&g.sd, &kind_test, NULL, st, gr);
	op->keep_rev = 2;
	json_object_set_new(op->images, APP, json_string(img));
	op->containers = json_array();
	json_array_append_new(op->containers, container("c1", "demo-api-1",
	    "api", 1, 2, h2, img, "running"));
	json_array_append_new(op->containers, container("k1", "demo-api-1-r1",
	    "api", 1, 1, h1, img, "exited"));
	json_array_append_new(op->containers, container("c2", "demo-api-2",
	    "api", 2, 2, h2, img, "running"));
	json_array_append_new(op->containers, container("c3", "demo-api-3",
	    "api", 3, 3, h1, img, "running"));
	assert_int_equal(plan_compute(op, NULL), 0);

	s = &op->svcs[0];
	assert_int_equal(s->action, ACT_RECREATE);
	assert_string_equal(s->reason, "restore 1 kept container of "
	    "revision 1");
	assert_int_equal(s->want, 2);
	assert_int_equal(s->nreps, 3);

	assert_int_equal(s->reps[0].n, 1);
	assert_string_equal(s->reps[0].old_id, "c1");
	assert_string_equal(s->reps[0].restore_id, "k1");
	assert_true(s->reps[0].old_keep);
	assert_false(s->reps[0].reuse);
	steps_plan(&s->reps[0], NULL);
	assert_string_equal(steps_str(&s->reps[0], buf, sizeof buf),
	    "leave stop keep join restore start gate");

	assert_int_equal(s->reps[1].n, 2);
	assert_string_equal(s->reps[1].old_id, "c2");
	assert_null(s->reps[1].restore_id);
	assert_true(s->reps[1].old_keep);
	steps_plan(&s->reps[1], NULL);
	assert_string_equal(steps_str(&s->reps[1], buf, sizeof buf),
	    "leave stop keep create start gate");
	assert_false(s->reps[1].unaliased);

	/* Beyond the count, of failed revision 3: removed, after a drain
	 * since others keep serving. */
	assert_int_equal(s->reps[2].n, 3);
	assert_true(s->reps[2].remove);
	assert_false(s->reps[2].old_keep);
	steps_plan(&s->reps[2], NULL);
	assert_string_equal(steps_str(&s->reps[2], buf, sizeof buf),
	    "leave stop remove");
	assert_true(s->reps[2].drain);
	assert_int_equal(json_array_size(op->removals), 0);

	op_unref(op);
	defer_flush(&g.sd);
	free(h1);
	free(h2);
	rig_close(&g);
}

/*
 * start-first: the occupant is renamed aside and serves on until its
 * successor, created without the service's name, is healthy; then the
 * successor takes the name and the occupant leaves, drains and stops.
 * One that is not running is simply replaced stop-first.  A container
 * that is what we want is reused: started (and gated) if it is not
 * running, not run again if it is a finished one-shot, gated only when
 * the operation judges its service.
 */
static void
test_steps_start_first_and_reuse(void **state)
{
	static const char *const files[] = {
		"api.yaml", "image: " APP "\nupdate: {order: start-first}\n",
		"job.yaml", "image: " APP "\nrestart: \"no\"\n",
		NULL
	};
	struct rig	 g;
	struct stack	*st;
	struct graph	*gr;
	struct op	*op;
	struct svc	*api, *job;
	char		 buf[256], *h;
	const char	*img = "sha256:bbbb";

	(void)state;
	rig_open(&g);
	put_revision(&g, 4, "committed");
	h = hash_of(&g, files, "job");
	rig_stack(&g, files, &st, &gr);
	op = op_create(&g.sd, &kind_test, NULL, st, gr);
	op->keep_rev = 4;
	json_object_set_new(op->images, APP, json_string(img));
	op->containers = json_array();
	json_array_append_new(op->containers, container("a1", "demo-api-1",
	    "api", 1, 4, "old-hash", img, "running"));
	json_array_append_new(op->containers, container("j1", "demo-job-1",
	    "job", 1, 4, h, img, "exited"));
	json_array_append_new(op->containers, container("x1", "demo-gone-1",
	    "gone", 1, 4, "old-hash", img, "running"));
	assert_int_equal(plan_compute(op, NULL), 0);

	api = &op->svcs[0];
	job = &op->svcs[1];
	assert_string_equal(job->unit->name, "job");
	assert_int_equal(api->action, ACT_RECREATE);
	assert_false(steps_plan(&api->reps[0], NULL));
	assert_string_equal(steps_str(&api->reps[0], buf, sizeof buf),
	    "keep create start gate unname name leave stop");
	assert_true(api->reps[0].unaliased);
	assert_true(api->reps[0].drain);

	/* The same occupant, stopped: nothing serves, so stop-first. */
	api->reps[0].old_running = false;
	steps_plan(&api->reps[0], NULL);
	assert_string_equal(steps_str(&api->reps[0], buf, sizeof buf),
	    "leave stop keep create start gate");
	assert_false(api->reps[0].unaliased);

	/* A finished one-shot that is what we want: not rerun, and, since
	 * nothing this deploy touches depends on it, not judged either. */
	assert_int_equal(job->action, ACT_UNCHANGED);
	assert_true(job->reps[0].reuse);
	assert_string_equal(job->reps[0].id, "j1");
	assert_true(api->touched && api->judged);
	assert_false(job->touched || job->judged || job->needed);
	assert_true(steps_plan(&job->reps[0], container_state(op, "j1")));
	assert_string_equal(steps_str(&job->reps[0], buf, sizeof buf), "");
	/* ...gated when a touched service waits on it (completed). */
	job->needed = true;
	assert_true(steps_plan(&job->reps[0], container_state(op, "j1")));
	assert_string_equal(steps_str(&job->reps[0], buf, sizeof buf),
	    "gate");
	job->needed = false;
	/* ...but a stopped long-running service is started again. */
	assert_false(steps_plan(&job->reps[0], "created"));
	assert_string_equal(steps_str(&job->reps[0], buf, sizeof buf),
	    "start gate");

	/* A service gone from the stack: its containers go at the end. */
	assert_int_equal(json_array_size(op->removals), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    op->removals, 0), "Id")), "x1");

	op_unref(op);
	defer_flush(&g.sd);
	free(h);
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_reply),
		cmocka_unit_test(test_plan_missing_image),
		cmocka_unit_test(test_orphans),
		cmocka_unit_test(test_plan_compute_replicas),
		cmocka_unit_test(test_steps_start_first_and_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
