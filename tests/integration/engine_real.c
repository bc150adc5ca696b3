/*
 * The engine client against the real dockerd: negotiation, the container,
 * network, volume and exec calls shipd makes, and the event stream, on
 * objects labelled with a stack name unique to this run and removed at the
 * end even on failure.  Skipped unless SHIPD_TEST_ENGINE=1; the dockerd
 * restart case also wants SHIPD_TEST_DOCKERD_RESTART=1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/docker.h"
#include "util.h"

#define IMAGE		"shipd-test/svc:1"
#define CALL_MS		30000
#define EVENT_MS	20000
#define RESTART_MS	90000
#define MAX_EVENTS	64

/* The restart the brief describes; SHIPD_TEST_DOCKERD_RESTART_CMD may
 * name another (for a private engine). */
#define RESTART_CMD \
	"kill -TERM $(pidof dockerd) || exit 1; " \
	"while pidof dockerd >/dev/null; do sleep 0.2; done; " \
	"if [ -x scripts/engine.sh ]; then exec scripts/engine.sh; fi; " \
	"setsid dockerd >>/var/log/shipd-dockerd.log 2>&1 </dev/null &"

struct call {
	int	 done;
	int	 err;
	long	 status;
	char	 msg[512];
	json_t	*body;
};

struct rig {
	uv_loop_t		 loop;
	struct docker		*d;
	struct docker_events	*ev;
	uv_timer_t		 deadline;
	int			 expired;
	char			 stack[64];
	char			 label[96];
	char			 states[32];	/* "1", "10", "101" ... */
	struct {
		char	 action[32];
		char	 id[72];
	}			 events[MAX_EVENTS];
	int			 nevents;
	char			*ids[8];	/* containers made, freed at the end */
	int			 nids;
	int			 closed;
};

/*
 * The loop the callbacks stop: a callback run from the timer phase of
 * uv_run(UV_RUN_ONCE) would otherwise leave it blocking for I/O until the
 * next timer, though what we wait for has happened.
 */
static uv_loop_t *cur_loop;

static const char *
engine_sock(void)
{
	const char *s = getenv("DOCKER_SOCK");

	return s && *s ? s : "/var/run/docker.sock";
}

static void
on_deadline(uv_timer_t *t)
{
	struct rig *g = t->data;

	g->expired = 1;
}

/* Run the loop until *flag is set or ms pass; 0 or -1. */
static int
wait_flag(struct rig *g, const int *flag, uint64_t ms)
{
	g->expired = 0;
	uv_timer_start(&g->deadline, on_deadline, ms, 0);
	while (!*flag && !g->expired)
		uv_run(&g->loop, UV_RUN_ONCE);
	uv_timer_stop(&g->deadline);
	return *flag ? 0 : -1;
}

static void
on_call(const struct docker_result *res, void *arg)
{
	struct call *c = arg;

	uv_stop(cur_loop);
	c->done = 1;
	c->err = res->err;
	c->status = res->status;
	snprintf(c->msg, sizeof c->msg, "%s", res->message);
	c->body = json_incref(res->body);
}

static void
call_reset(struct call *c)
{
	json_decref(c->body);
	memset(c, 0, sizeof *c);
}

/* Wait for a call made with on_call; fail the test if it never ends. */
static void
call_wait(struct rig *g, struct call *c, const char *what)
{
	uint64_t t0 = now_ms();

	if (wait_flag(g, &c->done, CALL_MS) < 0)
		fail_msg("%s: no answer within %d ms", what, CALL_MS);
	print_message("  %s: %s %ld (%llu ms) %s\n", what,
	    docker_strerror(c->err), c->status,
	    (unsigned long long)(now_ms() - t0), c->msg);
}

static void
on_event(json_t *ev, void *arg)
{
	struct rig	*g = arg;
	const char	*action = json_string_value(json_object_get(ev,
	    "Action"));
	const char	*id = json_string_value(json_object_get(
	    json_object_get(ev, "Actor"), "ID"));

	uv_stop(cur_loop);
	if (g->nevents == MAX_EVENTS || action == NULL)
		return;
	snprintf(g->events[g->nevents].action,
	    sizeof g->events[g->nevents].action, "%s", action);
	snprintf(g->events[g->nevents].id, sizeof g->events[g->nevents].id,
	    "%s", id ? id : "");
	g->nevents++;
}

static void
on_state(int up, void *arg)
{
	struct rig	*g = arg;
	size_t		 n = strlen(g->states);

	uv_stop(cur_loop);
	if (n + 1 < sizeof g->states)
		g->states[n] = up ? '1' : '0';
}

static int
saw_event(struct rig *g, const char *action, const char *id)
{
	int i;

	for (i = 0; i < g->nevents; i++)
		if (strcmp(g->events[i].action, action) == 0 &&
		    strcmp(g->events[i].id, id) == 0)
			return 1;
	return 0;
}

/* Run the loop until the event arrives or time is up. */
static void
wait_event(struct rig *g, const char *action, const char *id)
{
	uint64_t end = now_ms() + EVENT_MS;

	while (!saw_event(g, action, id) && now_ms() < end) {
		int never = 0;

		/* wakes at the latest every 100 ms to look again */
		wait_flag(g, &never, 100);
	}
	if (!saw_event(g, action, id))
		fail_msg("no \"%s\" event for %.12s within %d ms", action, id,
		    EVENT_MS);
}

static void
wait_states(struct rig *g, const char *want, uint64_t ms)
{
	uint64_t end = now_ms() + ms;

	while (strstr(g->states, want) == NULL && now_ms() < end) {
		int never = 0;

		wait_flag(g, &never, 100);
	}
	if (strstr(g->states, want) == NULL)
		fail_msg("event stream states \"%s\", wanted \"%s\"",
		    g->states, want);
}

static int
engine_wanted(void)
{
	const char *e = getenv("SHIPD_TEST_ENGINE");

	return e != NULL && strcmp(e, "1") == 0;
}

/* ---- set-up and the teardown that always runs ------------------------------ */

static int
rig_setup(void **state)
{
	struct rig *g = xcalloc(1, sizeof *g);

	snprintf(g->stack, sizeof g->stack, "shipdtest%ld-%ld",
	    (long)getpid(), (long)time(NULL) % 100000);
	snprintf(g->label, sizeof g->label, "io.shipd.stack=%s", g->stack);
	if (uv_loop_init(&g->loop) != 0 ||
	    docker_new(&g->loop, engine_sock(), &g->d) != 0)
		return -1;
	uv_timer_init(&g->loop, &g->deadline);
	g->deadline.data = g;
	cur_loop = &g->loop;
	*state = g;
	return 0;
}

static void
remove_listed(struct rig *g, json_t *list, const char *key, int kind)
{
	struct call	 c;
	json_t		*o;
	size_t		 i;

	json_array_foreach(list, i, o) {
		const char *id = json_string_value(json_object_get(o, key));

		if (id == NULL)
			continue;
		memset(&c, 0, sizeof c);
		if (kind == 0)
			docker_container_remove(g->d, id, 1, 1, on_call, &c);
		else if (kind == 1)
			docker_network_remove(g->d, id, on_call, &c);
		else
			docker_volume_remove(g->d, id, 1, on_call, &c);
		wait_flag(g, &c.done, CALL_MS);
		call_reset(&c);
	}
}

static void
on_rig_closed(void *arg)
{
	struct rig *g = arg;

	g->closed = 1;
}

/* Whatever happened, remove everything labelled with this run's stack. */
static int
rig_teardown(void **state)
{
	struct rig	*g = *state;
	struct call	 c;
	int		 rc;

	docker_events_stop(g->ev);
	g->ev = NULL;
	memset(&c, 0, sizeof c);
	if (!engine_wanted())
		goto out;
	docker_containers_list(g->d, g->label, 1, on_call, &c);
	if (wait_flag(g, &c.done, CALL_MS) == 0 && c.err == 0)
		remove_listed(g, c.body, "Id", 0);
	call_reset(&c);
	docker_networks_list(g->d, g->label, on_call, &c);
	if (wait_flag(g, &c.done, CALL_MS) == 0 && c.err == 0)
		remove_listed(g, c.body, "Id", 1);
	call_reset(&c);
	docker_volumes_list(g->d, g->label, on_call, &c);
	if (wait_flag(g, &c.done, CALL_MS) == 0 && c.err == 0)
		remove_listed(g, json_object_get(c.body, "Volumes"), "Name", 2);
	call_reset(&c);
out:
	docker_close(g->d, on_rig_closed, g);
	uv_close((uv_handle_t *)&g->deadline, NULL);
	uv_run(&g->loop, UV_RUN_DEFAULT);
	rc = uv_loop_close(&g->loop);
	while (g->nids > 0)
		free(g->ids[--g->nids]);
	free(g);
	return rc == 0 ? 0 : -1;
}

/* ---- helpers over the calls ------------------------------------------------ */

static void
negotiate(struct rig *g)
{
	struct call c;

	memset(&c, 0, sizeof c);
	docker_negotiate(g->d, on_call, &c);
	call_wait(g, &c, "negotiate");
	assert_int_equal(c.err, DOCKER_OK);
	call_reset(&c);
}

static void
events_up(struct rig *g)
{
	assert_int_equal(docker_events_start(g->d, g->label, on_event,
	    on_state, g, &g->ev), DOCKER_OK);
	wait_states(g, "1", EVENT_MS);
}

/* Create and start a labelled `sleep 300`; returns its ID, which the rig
 * owns.  No network: the test needs none, and the engine's bridge may be
 * in any state. */
static const char *
run_container(struct rig *g, const char *name)
{
	struct call	 c;
	json_t		*spec;
	char		*id;

	assert_true(g->nids < (int)(sizeof g->ids / sizeof g->ids[0]));
	spec = json_pack("{s:s, s:[s], s:[s], s:{s:s, s:s}, s:i, s:{s:s}}",
	    "Image", IMAGE, "Entrypoint", "sleep", "Cmd", "300",
	    "Labels", "io.shipd.stack", g->stack, "io.shipd.test", "1",
	    "StopTimeout", 1, "HostConfig", "NetworkMode", "none");
	memset(&c, 0, sizeof c);
	docker_container_create(g->d, name, spec, on_call, &c);
	json_decref(spec);
	call_wait(g, &c, "create");
	assert_int_equal(c.err, DOCKER_OK);
	assert_int_equal(c.status, 201);
	id = g->ids[g->nids++] = xstrdup(json_string_value(json_object_get(
	    c.body, "Id")));
	call_reset(&c);
	docker_container_start(g->d, id, on_call, &c);
	call_wait(g, &c, "start");
	assert_int_equal(c.err, DOCKER_OK);
	assert_int_equal(c.status, 204);
	call_reset(&c);
	return id;
}

/* ---- the tests -------------------------------------------------------------- */

static void
check_version_and_image(struct rig *g)
{
	struct call c;

	negotiate(g);
	assert_string_equal(docker_api_version(g->d), "1.41");
	memset(&c, 0, sizeof c);
	docker_ping(g->d, on_call, &c);
	call_wait(g, &c, "ping");
	assert_int_equal(c.err, DOCKER_OK);
	call_reset(&c);
	docker_image_inspect(g->d, IMAGE, on_call, &c);
	call_wait(g, &c, "image inspect");
	if (c.err != DOCKER_OK)
		fail_msg("image %s is not on the engine: %s", IMAGE, c.msg);
	call_reset(&c);
	docker_image_inspect(g->d, "shipd-test/no-such-image:0", on_call, &c);
	call_wait(g, &c, "image inspect missing");
	assert_int_equal(c.err, DOCKER_E_NOT_FOUND);
	call_reset(&c);
}

static void
check_exec(struct rig *g, const char *id)
{
	struct call	 c;
	json_t		*spec;
	char		*exec_id;

	spec = json_pack("{s:b, s:b, s:[s, s, s]}", "AttachStdout", 1,
	    "AttachStderr", 1, "Cmd", "sh", "-c",
	    "echo out; echo err >&2; exit 3");
	memset(&c, 0, sizeof c);
	docker_exec_create(g->d, id, spec, on_call, &c);
	json_decref(spec);
	call_wait(g, &c, "exec create");
	assert_int_equal(c.err, DOCKER_OK);
	exec_id = xstrdup(json_string_value(json_object_get(c.body, "Id")));
	call_reset(&c);
	docker_exec_start(g->d, exec_id, NULL, on_call, &c);
	call_wait(g, &c, "exec start");
	assert_int_equal(c.err, DOCKER_OK);
	call_reset(&c);
	docker_exec_inspect(g->d, exec_id, on_call, &c);
	call_wait(g, &c, "exec inspect");
	assert_int_equal(c.err, DOCKER_OK);
	assert_int_equal(json_integer_value(json_object_get(c.body,
	    "ExitCode")), 3);
	call_reset(&c);
	free(exec_id);
}

struct exec_out {
	struct call	 c;
	struct buf	 out;
};

static void
on_exec_out(const char *data, size_t len, void *arg)
{
	struct exec_out *x = arg;

	buf_append(&x->out, data, len);
}

static void
on_exec_done(const struct docker_result *res, void *arg)
{
	struct exec_out *x = arg;

	on_call(res, &x->c);
}

static void
check_exec_output(struct rig *g, const char *id)
{
	struct exec_out	 x;
	struct call	 c;
	json_t		*spec;
	char		*exec_id;

	spec = json_pack("{s:b, s:b, s:[s, s, s]}", "AttachStdout", 1,
	    "AttachStderr", 1, "Cmd", "sh", "-c",
	    "echo out; sleep 0.1; echo err >&2");
	memset(&c, 0, sizeof c);
	docker_exec_create(g->d, id, spec, on_call, &c);
	json_decref(spec);
	call_wait(g, &c, "exec create");
	assert_int_equal(c.err, DOCKER_OK);
	exec_id = xstrdup(json_string_value(json_object_get(c.body, "Id")));
	call_reset(&c);
	memset(&x, 0, sizeof x);
	docker_exec_start(g->d, exec_id, on_exec_out, on_exec_done, &x);
	call_wait(g, &x.c, "exec start");
	assert_int_equal(x.c.err, DOCKER_OK);
	/* Both streams, demuxed whole.  The engine reads stdout and stderr
	 * from two pipes, so under load their order is not kept. */
	assert_non_null(x.out.data);
	if (strcmp(x.out.data, "err\nout\n") != 0)
		assert_string_equal(x.out.data, "out\nerr\n");
	buf_free(&x.out);
	call_reset(&x.c);
	free(exec_id);
}

static void
test_containers(void **state)
{
	struct rig	*g = *state;
	struct call	 c;
	char		 name[2][96], renamed[112];
	const char	*id[2];
	json_t		*o;
	size_t		 i, k, found;

	if (!engine_wanted())
		skip();
	check_version_and_image(g);
	events_up(g);
	for (k = 0; k < 2; k++) {
		snprintf(name[k], sizeof name[k], "%s-svc-%zu", g->stack, k + 1);
		id[k] = run_container(g, name[k]);
	}

	/* Already running: 304, which counts as success. */
	memset(&c, 0, sizeof c);
	docker_container_start(g->d, id[0], on_call, &c);
	call_wait(g, &c, "start again");
	assert_int_equal(c.err, DOCKER_OK);
	assert_int_equal(c.status, 304);
	call_reset(&c);

	/* A second container of the same name is a conflict. */
	{
		json_t *spec = json_pack("{s:s}", "Image", IMAGE);

		docker_container_create(g->d, name[0], spec, on_call, &c);
		json_decref(spec);
		call_wait(g, &c, "create duplicate");
		assert_int_equal(c.err, DOCKER_E_CONFLICT);
		assert_true(c.msg[0] != '\0');
		call_reset(&c);
	}

	docker_container_inspect(g->d, id[0], on_call, &c);
	call_wait(g, &c, "inspect");
	assert_int_equal(c.err, DOCKER_OK);
	assert_true(json_is_true(json_object_get(json_object_get(c.body,
	    "State"), "Running")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(c.body, "Config"), "Labels"), "io.shipd.stack")),
	    g->stack);
	call_reset(&c);

	/* Listing by label finds exactly ours. */
	docker_containers_list(g->d, g->label, 1, on_call, &c);
	call_wait(g, &c, "list");
	assert_int_equal(c.err, DOCKER_OK);
	assert_int_equal(json_array_size(c.body), 2);
	found = 0;
	json_array_foreach(c.body, i, o) {
		const char *lid = json_string_value(json_object_get(o, "Id"));

		for (k = 0; k < 2; k++)
			if (lid != NULL && strcmp(lid, id[k]) == 0)
				found++;
	}
	assert_int_equal(found, 2);
	call_reset(&c);

	snprintf(renamed, sizeof renamed, "%s-r1", name[0]);
	docker_container_rename(g->d, id[0], renamed, on_call, &c);
	call_wait(g, &c, "rename");
	assert_int_equal(c.err, DOCKER_OK);
	call_reset(&c);
	docker_container_inspect(g->d, name[0], on_call, &c);
	call_wait(g, &c, "inspect old name");
	assert_int_equal(c.err, DOCKER_E_NOT_FOUND);
	call_reset(&c);
	docker_container_inspect(g->d, renamed, on_call, &c);
	call_wait(g, &c, "inspect new name");
	assert_int_equal(c.err, DOCKER_OK);
	assert_string_equal(json_string_value(json_object_get(c.body,
	    "Id")), id[0]);
	call_reset(&c);

	check_exec(g, id[0]);
	check_exec_output(g, id[1]);

	for (k = 0; k < 2; k++)
		wait_event(g, "start", id[k]);
	for (k = 0; k < 2; k++) {
		docker_container_stop(g->d, id[k], 1, on_call, &c);
		call_wait(g, &c, "stop");
		assert_int_equal(c.err, DOCKER_OK);
		call_reset(&c);
	}
	for (k = 0; k < 2; k++)
		wait_event(g, "die", id[k]);
	docker_container_stop(g->d, id[1], 1, on_call, &c);
	call_wait(g, &c, "stop again");
	assert_int_equal(c.err, DOCKER_OK);
	assert_int_equal(c.status, 304);
	call_reset(&c);
	docker_container_kill(g->d, id[1], "SIGKILL", on_call, &c);
	call_wait(g, &c, "kill stopped");
	assert_int_equal(c.err, DOCKER_E_CONFLICT);
	call_reset(&c);

	for (k = 0; k < 2; k++) {
		docker_container_remove(g->d, id[k], 0, 0, on_call, &c);
		call_wait(g, &c, "remove");
		assert_int_equal(c.err, DOCKER_OK);
		call_reset(&c);
	}
	docker_container_remove(g->d, id[0], 1, 0, on_call, &c);
	call_wait(g, &c, "remove again");
	assert_int_equal(c.err, DOCKER_E_NOT_FOUND);
	call_reset(&c);
	assert_string_equal(g->states, "1");
}

static void
test_networks_volumes(void **state)
{
	struct rig	*g = *state;
	struct call	 c;
	char		 name[96];
	json_t		*spec;

	if (!engine_wanted())
		skip();
	negotiate(g);
	snprintf(name, sizeof name, "%s-net", g->stack);
	spec = json_pack("{s:s, s:b, s:{s:s, s:s}}", "Name", name,
	    "CheckDuplicate", 1, "Labels", "io.shipd.stack", g->stack,
	    "io.shipd.test", "1");
	memset(&c, 0, sizeof c);
	docker_network_create(g->d, spec, on_call, &c);
	call_wait(g, &c, "network create");
	assert_int_equal(c.err, DOCKER_OK);
	assert_int_equal(c.status, 201);
	call_reset(&c);
	docker_network_create(g->d, spec, on_call, &c);
	json_decref(spec);
	call_wait(g, &c, "network create again");
	assert_int_equal(c.err, DOCKER_E_CONFLICT);
	call_reset(&c);
	docker_networks_list(g->d, g->label, on_call, &c);
	call_wait(g, &c, "networks list");
	assert_int_equal(c.err, DOCKER_OK);
	assert_int_equal(json_array_size(c.body), 1);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(c.body, 0), "Name")), name);
	call_reset(&c);
	docker_network_remove(g->d, name, on_call, &c);
	call_wait(g, &c, "network remove");
	assert_int_equal(c.err, DOCKER_OK);
	call_reset(&c);
	docker_network_remove(g->d, name, on_call, &c);
	call_wait(g, &c, "network remove again");
	assert_int_equal(c.err, DOCKER_E_NOT_FOUND);
	call_reset(&c);

	snprintf(name, sizeof name, "%s-vol", g->stack);
	spec = json_pack("{s:s, s:{s:s, s:s}}", "Name", name, "Labels",
	    "io.shipd.stack", g->stack, "io.shipd.test", "1");
	docker_volume_create(g->d, spec, on_call, &c);
	json_decref(spec);
	call_wait(g, &c, "volume create");
	assert_int_equal(c.err, DOCKER_OK);
	assert_int_equal(c.status, 201);
	call_reset(&c);
	docker_volumes_list(g->d, g->label, on_call, &c);
	call_wait(g, &c, "volumes list");
	assert_int_equal(c.err, DOCKER_OK);
	assert_int_equal(json_array_size(json_object_get(c.body, "Volumes")),
	    1);
	call_reset(&c);
	docker_volume_remove(g->d, name, 0, on_call, &c);
	call_wait(g, &c, "volume remove");
	assert_int_equal(c.err, DOCKER_OK);
	call_reset(&c);
	docker_volume_remove(g->d, name, 0, on_call, &c);
	call_wait(g, &c, "volume remove again");
	assert_int_equal(c.err, DOCKER_E_NOT_FOUND);
	call_reset(&c);
}

struct restart {
	uv_process_t	 proc;
	int		 exited;
	int64_t		 status;
};

static void
on_restart_exit(uv_process_t *p, int64_t status, int sig)
{
	struct restart *r = p->data;

	(void)sig;
	uv_stop(cur_loop);
	r->exited = 1;
	r->status = status;
	uv_close((uv_handle_t *)p, NULL);
}

static void
test_dockerd_restart(void **state)
{
	struct rig			*g = *state;
	const char			*cmd = getenv(
	    "SHIPD_TEST_DOCKERD_RESTART_CMD");
	const char			*e = getenv(
	    "SHIPD_TEST_DOCKERD_RESTART");
	char				*args[4], name[96];
	const char			*id;
	uv_process_options_t		 o;
	uv_stdio_container_t		 io[3];
	struct restart			 r;

	if (!engine_wanted() || e == NULL || strcmp(e, "1") != 0)
		skip();
	negotiate(g);
	events_up(g);
	snprintf(name, sizeof name, "%s-before-1", g->stack);
	id = run_container(g, name);
	wait_event(g, "start", id);

	args[0] = "/bin/sh";
	args[1] = "-c";
	args[2] = (char *)(cmd && *cmd ? cmd : RESTART_CMD);
	args[3] = NULL;
	memset(&o, 0, sizeof o);
	memset(&r, 0, sizeof r);
	io[0].flags = UV_IGNORE;
	io[1].flags = io[2].flags = UV_INHERIT_FD;
	io[1].data.fd = 1;
	io[2].data.fd = 2;
	o.file = args[0];
	o.args = args;
	o.exit_cb = on_restart_exit;
	o.stdio = io;
	o.stdio_count = 3;
	r.proc.data = &r;
	print_message("  restarting dockerd\n");
	assert_int_equal(uv_spawn(&g->loop, &r.proc, &o), 0);
	/* The stream must notice the loss, and come back by itself. */
	wait_states(g, "10", RESTART_MS);
	wait_states(g, "101", RESTART_MS);
	if (wait_flag(g, &r.exited, RESTART_MS) < 0)
		fail_msg("restart command did not finish");
	assert_int_equal(r.status, 0);
	negotiate(g);

	/* Events made after the restart still arrive. */
	snprintf(name, sizeof name, "%s-after-1", g->stack);
	id = run_container(g, name);
	wait_event(g, "start", id);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_containers, rig_setup,
		    rig_teardown),
		cmocka_unit_test_setup_teardown(test_networks_volumes,
		    rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_dockerd_restart,
		    rig_setup, rig_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
