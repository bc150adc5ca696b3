/*
 * Lifetimes in backup/: a callback never runs from inside the call that
 * started the work, an owner may drop a quiesce from inside the quiesce's
 * own callback or while its engine calls are in flight, and a backup or
 * restore command cancelled at shutdown leaves nothing behind.  Run under
 * ASan and valgrind, a use after free or a leak fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backup/backup.h"
#include "backup/backup_int.h"
#include "core/req.h"
#include "core/shipd.h"
#include "ctl/commands.h"
#include "engine/docker.h"
#include "helper_fakeengine.h"
#include "proto.h"
#include "stackgraph.h"
#include "state/store.h"
#include "util.h"

#define WATCHDOG_MS	20000

struct rig {
	uv_loop_t		 loop;
	struct shipd		 sd;
	uv_timer_t		 watchdog;
	uv_timer_t		 later;
	int			 expired;
	char			 dir[64];
	struct stack		*st;
	struct graph		*g;
	struct fake_engine	*fe;
	int			 closed;
};

static void
on_watchdog(uv_timer_t *t)
{
	struct rig *g = t->data;

	g->expired = 1;
	uv_stop(&g->loop);
}

static void
rig_wait(struct rig *g, const int *flag)
{
	uv_timer_start(&g->watchdog, on_watchdog, WATCHDOG_MS, 0);
	while (!*flag && !g->expired)
		uv_run(&g->loop, UV_RUN_ONCE);
	uv_timer_stop(&g->watchdog);
	assert_false(g->expired);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char	*p;
	FILE	*f;

	xasprintf(&p, "%s/%s", dir, name);
	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
	free(p);
}

/* db, and api depending on it. */
static void
load_stack(struct rig *g)
{
	struct diag_list	 errs;
	char			*udir;
	char			*envp[] = { NULL };

	xasprintf(&udir, "%s/units", g->dir);
	assert_int_equal(mkdir_p(udir, 0755), 0);
	write_file(udir, "stack.yaml", "name: life\n");
	write_file(udir, "db.yaml", "image: x/db:1\n"
	    "backup: {paths: [\"/data\"], stop: true}\n");
	write_file(udir, "api.yaml", "image: x/api:1\n"
	    "depends_on: {db: started}\n");
	diag_init(&errs);
	assert_int_equal(stack_load_dir(udir, envp, &g->st, &errs), 0);
	assert_int_equal(stack_graph_build(g->st, &g->g, &errs), 0);
	diag_free(&errs);
	free(udir);
}

static void
rig_open(struct rig *g, fake_handler *h, void *harg)
{
	char *state;

	memset(g, 0, sizeof *g);
	assert_int_equal(uv_loop_init(&g->loop), 0);
	uv_timer_init(&g->loop, &g->watchdog);
	uv_timer_init(&g->loop, &g->later);
	g->watchdog.data = g->later.data = g;
	snprintf(g->dir, sizeof g->dir, "/tmp/shipd-test-life-XXXXXX");
	assert_non_null(mkdtemp(g->dir));
	xasprintf(&state, "%s/state", g->dir);
	assert_int_equal(mkdir_p(state, 0750), 0);
	g->sd.loop = &g->loop;
	g->sd.cfg.state_dir = state;
	assert_int_equal(store_open(&g->loop, state, &g->sd.store), 0);
	if (h != NULL) {
		assert_int_equal(fake_engine_start(h, harg, &g->fe), 0);
		assert_int_equal(docker_new(&g->loop, fake_engine_path(g->fe),
		    &g->sd.docker), 0);
	}
	load_stack(g);
}

static void
on_docker_closed(void *arg)
{
	struct rig *g = arg;

	g->sd.docker = NULL;
	g->closed = 1;
}

static void
on_store_closed(void *arg)
{
	struct rig *g = arg;

	g->sd.store = NULL;
	g->closed = 1;
}

/* As shipd does at shutdown: engine client, store, then what is left. */
static void
rig_close(struct rig *g)
{
	char *cmd;

	if (g->sd.docker != NULL) {
		g->closed = 0;
		docker_close(g->sd.docker, on_docker_closed, g);
		rig_wait(g, &g->closed);
	}
	g->closed = 0;
	store_close(g->sd.store, on_store_closed, g);
	rig_wait(g, &g->closed);
	tasks_free_all(&g->sd);
	if (g->fe != NULL)
		fake_engine_stop(g->fe);
	uv_close((uv_handle_t *)&g->watchdog, NULL);
	uv_close((uv_handle_t *)&g->later, NULL);
	/* Close callbacks and the pool's last after-work callbacks. */
	uv_run(&g->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&g->loop), 0);
	graph_free(g->g);
	stack_free(g->st);
	xasprintf(&cmd, "rm -rf '%s'", g->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free((char *)g->sd.cfg.state_dir);
}

/* ---- quiesce ------------------------------------------------------------- */

struct qrun {
	struct rig	*g;
	struct quiesce	*q;
	int		 stopped;
	int		 started;
	int		 in_call;	/* a callback came from inside a call */
	int		 calling;
	char		 msg[256];
};

/* The engine's list: replica 1 of db and of api, both running. */
static json_t *
containers(void)
{
	return json_pack("[{s:s, s:[s], s:s, s:{s:s}}, {s:s, s:[s], s:s, "
	    "s:{s:s}}]",
	    "Id", "c-db", "Names", "/life-db-1", "State", "running",
	    "Labels", LABEL_SERVICE, "db",
	    "Id", "c-api", "Names", "/life-api-1", "State", "running",
	    "Labels", LABEL_SERVICE, "api");
}

static struct quiesce *
qnew(struct rig *g, json_t *list, struct qrun *r)
{
	unsigned char	*mark = xcalloc(graph_count(g->g) + 1, 1);
	struct quiesce	*q;

	mark[graph_index(g->g, "db")] = 1;
	q = quiesce_new(&g->sd, g->st, g->g, mark, list, NULL, r);
	free(mark);
	return q;
}

static void
on_started_drop(const char *msg, void *arg)
{
	struct qrun *r = arg;

	r->in_call += r->calling;
	snprintf(r->msg, sizeof r->msg, "%s", msg ? msg : "");
	r->started = 1;
	/* The last reference, from inside the quiesce's own callback. */
	quiesce_unref(r->q);
	r->q = NULL;
}

static void
on_stopped_restart(const char *msg, void *arg)
{
	struct qrun *r = arg;

	r->in_call += r->calling;
	snprintf(r->msg, sizeof r->msg, "%s", msg ? msg : "");
	r->stopped = 1;
	/* The other sequence, from inside this one's callback. */
	r->calling = 1;
	quiesce_start(r->q, on_started_drop, r);
	r->calling = 0;
}

static void
test_quiesce_nothing_running(void **state)
{
	struct rig	 g;
	struct qrun	 r;
	json_t		*none = json_array();

	(void)state;
	rig_open(&g, NULL, NULL);
	memset(&r, 0, sizeof r);
	r.g = &g;
	r.q = qnew(&g, none, &r);
	json_decref(none);
	/* Nothing runs, so nothing to stop: still not from inside. */
	r.calling = 1;
	quiesce_stop(r.q, on_stopped_restart, &r);
	r.calling = 0;
	assert_false(r.stopped);
	rig_wait(&g, &r.started);
	assert_true(r.stopped);
	assert_int_equal(r.in_call, 0);
	assert_string_equal(r.msg, "");
	rig_close(&g);
}

/* Stops and starts at once; db and api inspect as running, unchecked. */
static void
quick_handler(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	(void)arg;
	if (strcmp(rq->method, "POST") == 0 && (strstr(rq->target, "/stop") ||
	    strstr(rq->target, "/start"))) {
		fake_reply(c, 204, NULL, NULL);
		return;
	}
	if (strcmp(rq->method, "GET") == 0 && strstr(rq->target,
	    "/containers/c-") != NULL && strstr(rq->target, "/json")) {
		fake_reply(c, 200, NULL, "{\"Id\":\"c\",\"State\":{\"Status\":"
		    "\"running\",\"Running\":true},\"Config\":{}}");
		return;
	}
	fake_reply(c, 404, NULL, "{\"message\":\"no such thing\"}");
}

/* The number (from 1) of the first request starting with want, or 0. */
static unsigned
seen(struct rig *g, const char *want)
{
	unsigned	 i, n = fake_engine_nrequests(g->fe), found = 0;
	char		*rq;

	for (i = 1; i <= n && found == 0; i++) {
		rq = fake_engine_request(g->fe, i);
		if (rq != NULL && strncmp(rq, want, strlen(want)) == 0)
			found = i;
		free(rq);
	}
	return found;
}

static void
test_quiesce_cycle_dropped_in_callback(void **state)
{
	struct rig	 g;
	struct qrun	 r;
	json_t		*list = containers();

	(void)state;
	rig_open(&g, quick_handler, NULL);
	memset(&r, 0, sizeof r);
	r.g = &g;
	r.q = qnew(&g, list, &r);
	json_decref(list);
	r.calling = 1;
	quiesce_stop(r.q, on_stopped_restart, &r);
	r.calling = 0;
	assert_false(r.stopped);
	rig_wait(&g, &r.started);
	assert_int_equal(r.in_call, 0);
	assert_string_equal(r.msg, "");
	/* Dependents first on the way down, dependencies first back up. */
	assert_true(seen(&g, "POST /v1.41/containers/c-api/stop") > 0);
	assert_true(seen(&g, "POST /v1.41/containers/c-api/stop") <
	    seen(&g, "POST /v1.41/containers/c-db/stop"));
	assert_true(seen(&g, "POST /v1.41/containers/c-db/stop") <
	    seen(&g, "POST /v1.41/containers/c-db/start"));
	assert_true(seen(&g, "POST /v1.41/containers/c-db/start") <
	    seen(&g, "POST /v1.41/containers/c-api/start"));
	rig_close(&g);
}

/* A stop that takes its time: the test lets go meanwhile. */
static void
slow_handler(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	(void)arg;
	if (strcmp(rq->method, "POST") == 0 && strstr(rq->target, "/stop")) {
		if (fake_sleep(c, 10000) == 0)
			fake_reply(c, 204, NULL, NULL);
		return;
	}
	fake_reply(c, 404, NULL, "{\"message\":\"no such thing\"}");
}

static void
on_stopped_never(const char *msg, void *arg)
{
	struct qrun *r = arg;

	(void)msg;
	r->stopped = 1;
}

static void
on_later_drop(uv_timer_t *t)
{
	struct qrun *r = t->data;

	quiesce_unref(r->q);
	r->q = NULL;
	r->g->closed = 2;
}

static void
on_idle_over(uv_timer_t *t)
{
	uv_stop(t->loop);
}

static void
test_quiesce_dropped_in_flight(void **state)
{
	struct rig	 g;
	struct qrun	 r;
	json_t		*list = containers();

	(void)state;
	rig_open(&g, slow_handler, NULL);
	memset(&r, 0, sizeof r);
	r.g = &g;
	r.q = qnew(&g, list, &r);
	json_decref(list);
	quiesce_stop(r.q, on_stopped_never, &r);
	/* Let the first stop reach the engine, then let go of it all. */
	g.later.data = &r;
	uv_timer_start(&g.later, on_later_drop, 200, 0);
	rig_wait(&g, &g.closed);
	assert_true(seen(&g, "POST /v1.41/containers/c-api/stop") > 0);
	/* No callback follows, however long the loop runs on. */
	uv_timer_start(&g.later, on_idle_over, 300, 0);
	uv_run(&g.loop, UV_RUN_DEFAULT);
	assert_false(r.stopped);
	g.later.data = &g;
	rig_close(&g);
}

/* ---- commands at shutdown ------------------------------------------------ */

struct reply {
	int	 lines;
	int	 finals;
	char	 last[1024];
};

static bool
on_send(struct ctl_req *r, json_t *msg, bool final)
{
	struct reply	*rp = r->owner;
	char		*text = json_dumps(msg, JSON_COMPACT);

	rp->lines++;
	snprintf(rp->last, sizeof rp->last, "%s", text ? text : "");
	free(text);
	if (final) {
		rp->finals++;
		ctl_req_free(r);
	}
	return true;
}

static struct ctl_req *
request(struct reply *rp, const char *cmd, json_t *args)
{
	memset(rp, 0, sizeof *rp);
	return ctl_req_new(NULL, cmd, args, on_send, rp);
}

static void
test_backup_answers_from_the_loop(void **state)
{
	struct rig	 g;
	struct reply	 rp;
	struct ctl_req	*r;

	(void)state;
	rig_open(&g, NULL, NULL);
	/* No stack deployed: nothing to do, still answered from the loop. */
	r = request(&rp, PROTO_CMD_BACKUP, NULL);
	ctl_cmd_backup.handler(&g.sd, r);
	assert_int_equal(rp.finals, 0);
	rig_wait(&g, &rp.finals);
	assert_non_null(strstr(rp.last, "\"ok\":true"));
	assert_non_null(strstr(rp.last, "\"backups\":[]"));

	r = request(&rp, PROTO_CMD_BACKUP, json_pack("{s:s}", "stack", "life"));
	ctl_cmd_backup.handler(&g.sd, r);
	assert_int_equal(rp.finals, 0);
	rig_wait(&g, &rp.finals);
	assert_non_null(strstr(rp.last, "no deployed revision"));
	rig_close(&g);
}

static void
test_commands_cancelled_at_shutdown(void **state)
{
	struct rig	 g;
	struct reply	 b, v, rs, l;
	struct ctl_req	*rb, *rv, *rr, *rl;

	(void)state;
	rig_open(&g, NULL, NULL);
	rb = request(&b, PROTO_CMD_BACKUP, NULL);
	ctl_cmd_backup.handler(&g.sd, rb);
	rv = request(&v, PROTO_CMD_VERIFY, json_pack("{s:s}", "id",
	    "20260101-000000-000"));
	ctl_cmd_verify.handler(&g.sd, rv);
	rr = request(&rs, PROTO_CMD_RESTORE, json_pack("{s:s}", "id",
	    "20260101-000000-000"));
	ctl_cmd_restore.handler(&g.sd, rr);
	rl = request(&l, PROTO_CMD_BACKUPS, NULL);
	ctl_cmd_backups.handler(&g.sd, rl);
	/* What ctl_close() does to every open request, before any of them
	 * has had a turn of the loop; then the daemon's own shutdown. */
	ctl_req_cancel(rb);
	ctl_req_cancel(rv);
	ctl_req_cancel(rr);
	ctl_req_cancel(rl);
	rig_close(&g);
	assert_int_equal(b.lines + v.lines + rs.lines + l.lines, 0);
}

static void
test_restore_missing(void **state)
{
	struct rig	 g;
	struct reply	 rp;
	struct ctl_req	*r;

	(void)state;
	rig_open(&g, NULL, NULL);
	r = request(&rp, PROTO_CMD_RESTORE, json_pack("{s:s}", "id",
	    "20260101-000000-000"));
	ctl_cmd_restore.handler(&g.sd, r);
	assert_int_equal(rp.finals, 0);
	rig_wait(&g, &rp.finals);
	assert_non_null(strstr(rp.last, "\"code\":\"failed\""));
	assert_non_null(strstr(rp.last, "no backup 20260101-000000-000"));
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quiesce_nothing_running),
		cmocka_unit_test(test_quiesce_cycle_dropped_in_callback),
		cmocka_unit_test(test_quiesce_dropped_in_flight),
		cmocka_unit_test(test_backup_answers_from_the_loop),
		cmocka_unit_test(test_commands_cancelled_at_shutdown),
		cmocka_unit_test(test_restore_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
