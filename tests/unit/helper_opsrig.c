/*
 * The operations layer's test rig (helper_opsrig.h): shipd's context on a
 * loop of the test's own, wired and shut down in main.c's order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/docker.h"
#include "engine/supervise.h"
#include "engine/watch.h"
#include "helper_opsrig.h"
#include "log.h"
#include "ops/ops.h"
#include "stackgraph.h"
#include "state/journal.h"
#include "state/store.h"
#include "unit.h"
#include "util.h"

#define POKE_MS		5

static void
on_deadline(uv_timer_t *t)
{
	struct rig *g = t->data;

	g->expired = true;
}

/* Conditions may watch the fake engine's threads: look again often. */
static void
on_poke(uv_timer_t *t)
{
	(void)t;
}

void
rig_until(struct rig *g, rig_cond *cond, void *arg, const char *what)
{
	g->expired = false;
	uv_timer_start(&g->deadline, on_deadline, RIG_WAIT_MS, 0);
	uv_timer_start(&g->poke, on_poke, POKE_MS, POKE_MS);
	while (!cond(g, arg) && !g->expired)
		uv_run(&g->loop, UV_RUN_ONCE);
	uv_timer_stop(&g->deadline);
	uv_timer_stop(&g->poke);
	if (!cond(g, arg))
		fail_msg("%s: not within %d ms", what, RIG_WAIT_MS);
}

static bool
cap_done(struct rig *g, void *arg)
{
	(void)g;
	return ((struct cap *)arg)->done;
}

void
rig_wait(struct rig *g, struct cap *c)
{
	rig_until(g, cap_done, c, "the reply");
}

static bool
settled(struct rig *g, void *arg)
{
	(void)arg;
	return g->sd.ops == NULL && g->sd.tasks == NULL &&
	    g->sd.deferred == NULL;
}

void
rig_settle(struct rig *g)
{
	rig_until(g, settled, NULL, "operations and tasks to end");
}

void
rig_store_cb(int err, void *arg)
{
	assert_int_equal(err, 0);
	*(int *)arg = 1;
}

static bool
flag_set(struct rig *g, void *arg)
{
	(void)g;
	return *(int *)arg != 0;
}

void
rig_store_wait(struct rig *g, int *flag)
{
	rig_until(g, flag_set, flag, "a store write");
}

/* ---- up and down ------------------------------------------------------- */

static void
on_engine_ready(struct shipd *sd)
{
	if (sd->recovery_started)
		return;
	sd->recovery_started = true;
	ops_recover(sd);
}

static bool
engine_up(struct rig *g, void *arg)
{
	(void)arg;
	return g->sd.engine_ok && g->sd.events_up;
}

void
rig_up(struct rig *g)
{
	struct shipd *sd = &g->sd;

	assert_int_equal(uv_loop_init(&g->loop), 0);
	memset(sd, 0, sizeof *sd);
	sd->loop = &g->loop;
	sd->cfg.state_dir = g->state;
	sd->cfg.engine_path = fakedocker_path(g->fd);
	sd->cfg.socket_path = "/nonexistent/shipd.sock";
	sd->cfg.gid = (gid_t)-1;
	defer_init(sd);
	uv_timer_init(&g->loop, &sd->engine_retry);
	sd->engine_retry.data = sd;
	uv_timer_init(&g->loop, &g->deadline);
	uv_timer_init(&g->loop, &g->poke);
	g->deadline.data = g->poke.data = g;
	assert_int_equal(store_open(&g->loop, g->state, &sd->store), 0);
	assert_int_equal(docker_new(&g->loop, sd->cfg.engine_path,
	    &sd->docker), 0);
	if (g->recover)
		sd->engine_ready = on_engine_ready;
	engine_connect(sd);
	watch_start(sd);
	g->up = true;
	rig_until(g, engine_up, NULL, "the engine and its event stream");
}

static void
on_store_closed(void *arg)
{
	struct rig *g = arg;

	g->sd.store = NULL;
	ops_free_all(&g->sd);
	tasks_free_all(&g->sd);
	g->closed = 2;
}

static void
on_docker_closed(void *arg)
{
	struct rig *g = arg;

	g->sd.docker = NULL;
	g->closed = 1;
	store_close(g->sd.store, on_store_closed, g);
}

static bool
closed(struct rig *g, void *arg)
{
	(void)arg;
	return g->closed == 2;
}

void
rig_down(struct rig *g)
{
	struct shipd	*sd = &g->sd;
	struct cap	*c;

	if (!g->up)
		return;
	g->up = false;
	sd->stopping = true;
	/* The control server goes first: requests still open are
	 * cancelled, which tells their operations. */
	for (c = g->caps; c != NULL; c = c->next)
		if (c->req != NULL) {
			ctl_req_cancel(c->req);
			c->req = NULL;
		}
	uv_timer_stop(&sd->engine_retry);
	ops_stop(sd);
	watch_stop(sd);
	g->closed = 0;
	docker_close(sd->docker, on_docker_closed, g);
	rig_until(g, closed, NULL, "the engine client and the store to close");
	uv_close((uv_handle_t *)&sd->engine_retry, NULL);
	uv_close((uv_handle_t *)&g->deadline, NULL);
	uv_close((uv_handle_t *)&g->poke, NULL);
	defer_close(sd);
	uv_run(&g->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&g->loop), 0);
	assert_null(sd->locks);
	assert_null(sd->lock_waiters);
	/* A new daemon knows nothing of the last one's holds. */
	journal_holds_free(sd);
	json_decref(sd->engine_version);
	free(sd->engine_error);
	sd->engine_version = NULL;
	sd->engine_error = NULL;
}

void
rig_open(struct rig *g)
{
	const char *lvl = getenv("SHIPD_TEST_LOG");

	memset(g, 0, sizeof *g);
	log_init("test", lvl && strcmp(lvl, "debug") == 0 ? LOG_LVL_DEBUG :
	    lvl ? LOG_LVL_INFO : LOG_LVL_ERR, 0);
	snprintf(g->dir, sizeof g->dir, "/tmp/shipd-opstest-XXXXXX");
	assert_non_null(mkdtemp(g->dir));
	xasprintf(&g->state, "%s/state", g->dir);
	assert_int_equal(mkdir_p(g->state, 0750), 0);
	assert_int_equal(fakedocker_start(&g->fd), 0);
	rig_up(g);
}

void
rig_close(struct rig *g)
{
	char *cmd;

	rig_down(g);
	while (g->caps != NULL)
		cap_free(g->caps);
	fakedocker_stop(g->fd);
	xasprintf(&cmd, "rm -rf '%s'", g->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(g->state);
}

/* ---- stacks --------------------------------------------------------------- */

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

void
rig_stack(struct rig *g, const char *const *files, struct stack **st,
    struct graph **gr)
{
	struct diag_list	 errs;
	char			*dir, *envp[] = { NULL };
	bool			 named = false;
	size_t			 i;

	xasprintf(&dir, "%s/units%d", g->dir, ++g->nstacks);
	assert_int_equal(mkdir_p(dir, 0755), 0);
	for (i = 0; files[i] != NULL; i += 2) {
		write_file(dir, files[i], files[i + 1]);
		if (strcmp(files[i], "stack.yaml") == 0)
			named = true;
	}
	if (!named)
		write_file(dir, "stack.yaml", "name: demo\n");
	diag_init(&errs);
	if (stack_load_checked(dir, envp, st, gr, &errs) != 0)
		fail_msg("units: %s", errs.n ? errs.v[0].msg : "?");
	diag_free(&errs);
	free(dir);
}

struct cap *
rig_deploy(struct rig *g, const char *const *files,
    const struct deploy_opts *o, bool wait)
{
	static const struct deploy_opts none;
	struct stack	*st;
	struct graph	*gr;
	struct cap	*c;

	rig_stack(g, files, &st, &gr);
	c = cap_new(g, "deploy");
	ops_deploy(&g->sd, c->req, st, gr, o ? o : &none);
	if (wait)
		rig_wait(g, c);
	return c;
}

const char *
rig_result(struct rig *g, const char *stack, int rev)
{
	const char *s = json_string_value(json_object_get(store_revision_get(
	    g->sd.store, stack, rev), "result"));

	return s ? s : "";
}

json_t *
rig_journal(struct rig *g)
{
	json_t	*arr = json_array(), *j;
	char	*path, *data, *p, *nl;
	size_t	 len;

	xasprintf(&path, "%s/journal", g->state);
	if (file_read_all(path, 16 << 20, &data, &len) == 0) {
		for (p = data; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
			*nl = '\0';
			if ((j = json_loads(p, 0, NULL)) != NULL)
				json_array_append_new(arr, j);
		}
		free(data);
	}
	free(path);
	return arr;
}

/* ---- requests ------------------------------------------------------------- */

static bool
cap_send(struct ctl_req *r, json_t *msg, bool final)
{
	struct cap *c = r->owner;

	json_array_append_new(c->lines, json_deep_copy(msg));
	if (final) {
		assert_false(c->done);
		c->done = true;
		c->done_at = now_ms();
		c->req = NULL;
		ctl_req_free(r);
	}
	return true;
}

struct cap *
cap_new(struct rig *g, const char *cmd)
{
	struct cap	*c = xcalloc(1, sizeof *c);
	json_t		*id = json_integer(g->nstacks + 100);

	c->g = g;
	c->lines = json_array();
	c->req = ctl_req_new(id, cmd, NULL, cap_send, c);
	json_decref(id);
	c->req->mutating = true;
	c->next = g->caps;
	g->caps = c;
	return c;
}

void
cap_free(struct cap *c)
{
	struct cap **cp;

	for (cp = &c->g->caps; *cp != NULL; cp = &(*cp)->next)
		if (*cp == c) {
			*cp = c->next;
			break;
		}
	if (c->req != NULL)
		ctl_req_cancel(c->req);
	json_decref(c->lines);
	free(c);
}

json_t *
cap_final(const struct cap *c)
{
	return c->done ? json_array_get(c->lines,
	    json_array_size(c->lines) - 1) : NULL;
}

const char *
cap_code(const struct cap *c)
{
	return json_string_value(json_object_get(json_object_get(cap_final(c),
	    "error"), "code"));
}

const char *
cap_message(const struct cap *c)
{
	return json_string_value(json_object_get(json_object_get(cap_final(c),
	    "error"), "message"));
}

json_t *
cap_result(const struct cap *c)
{
	return json_object_get(cap_final(c), "result");
}

json_t *
cap_events(const struct cap *c, const char *event)
{
	json_t	*arr = json_array(), *l;
	size_t	 i;

	json_array_foreach(c->lines, i, l) {
		const char *e = json_string_value(json_object_get(l, "event"));

		if (e != NULL && strcmp(e, event) == 0)
			json_array_append(arr, l);
	}
	return arr;
}

void
cap_assert_ok(const struct cap *c)
{
	if (!c->done)
		fail_msg("no reply yet");
	if (!json_is_true(json_object_get(cap_final(c), "ok")))
		fail_msg("%s: %s", cap_code(c) ? cap_code(c) : "?",
		    cap_message(c) ? cap_message(c) : "?");
}

void
rig_deploy_ok(struct rig *g, const char *const *files)
{
	struct cap *c = rig_deploy(g, files, NULL, true);

	cap_assert_ok(c);
	rig_settle(g);
	cap_free(c);
}
