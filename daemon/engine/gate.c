/*
 * Health gates for one container.  The engine's events say when it starts,
 * dies or changes health; an inspect at the start (and after the event
 * stream reconnects) catches what happened before we watched.  Startup
 * probing (exec of the health test, or shipd's own HTTP/TCP probe) runs
 * until the first success.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/docker.h"
#include "engine/exec.h"
#include "engine/gate.h"
#include "log.h"
#include "engine/probe.h"
#include "core/shipd.h"
#include "engine/spec.h"
#include "util.h"
#include "engine/watch.h"

#define GATE_OUTPUT_MAX	 240
#define GATE_PROBE_MIN	 20	/* ms; never spin faster than this */

struct gate {
	struct shipd		*sd;
	const struct unit	*unit;
	char			*id;
	char			*name;
	enum gate_goal		 goal;
	uint64_t		 deadline_ms;
	gate_cb			*cb;
	void			*arg;

	struct watch		*watch;
	struct docker_req	*inspect;
	struct exec		*exec;		/* a health-test probe */
	struct probe		*probe;
	json_t			*probe_argv;	/* exec Cmd, or NULL */
	char			*ip;
	uv_timer_t		 deadline;
	uv_timer_t		 tick;		/* next startup probe */
	int			 open;		/* timers not yet closed */
	bool			 starting;	/* inside gate_start() */
	bool			 running;
	bool			 probing;	/* a probe is in flight */
	bool			 done;
	char			 state[32];
	char			 health[32];
	char			 last[GATE_OUTPUT_MAX + 1];
};

static void	probe_next(struct gate *, uint64_t);
static void	inspect_now(struct gate *);

const char *
gate_goal_name(enum gate_goal g)
{
	switch (g) {
	case GATE_RUNNING:	return "running";
	case GATE_HEALTHY:	return "healthy";
	case GATE_COMPLETED:	return "completed";
	}
	return "?";
}

static void
on_timer_closed(uv_handle_t *h)
{
	struct gate *g = h->data;

	if (--g->open > 0)
		return;
	json_decref(g->probe_argv);
	free(g->ip);
	free(g->id);
	free(g->name);
	free(g);
}

/* Stop everything; report unless cancelled; free once the timers close. */
static void
finish(struct gate *g, int ok, const char *why)
{
	gate_cb	*cb = g->cb;

	if (g->done)
		return;
	/* The callback contract (docker.h): never from inside gate_start(). */
	assert(cb == NULL || !g->starting);
	g->done = true;
	watch_cancel(g->watch);
	/* Once the engine client has closed (shutdown), its requests are
	 * gone already. */
	if (g->sd->docker != NULL)
		docker_cancel(g->inspect);
	exec_cancel(g->exec);
	probe_cancel(g->probe);
	g->watch = NULL;
	g->inspect = NULL;
	g->exec = NULL;
	g->probe = NULL;
	uv_timer_stop(&g->deadline);
	uv_timer_stop(&g->tick);
	uv_close((uv_handle_t *)&g->deadline, on_timer_closed);
	uv_close((uv_handle_t *)&g->tick, on_timer_closed);
	if (cb != NULL)
		cb(ok, why, g->arg);
}

/* "<container> <what>; last check: <output>" */
static void
fail(struct gate *g, const char *what)
{
	char msg[512];

	snprintf(msg, sizeof msg, "%s %s", g->name, what);
	if (g->last[0] != '\0') {
		size_t n = strlen(msg);

		snprintf(msg + n, sizeof msg - n, "; last check: %s", g->last);
	}
	finish(g, 0, msg);
}

static void
set_last(struct gate *g, const char *s, size_t len)
{
	size_t i, n = 0;

	/* One line for the operator: fold newlines, drop control bytes. */
	for (i = 0; i < len && n < GATE_OUTPUT_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		if (c < ' ')
			continue;
		g->last[n++] = (char)c;
	}
	while (n > 0 && g->last[n - 1] == ' ')
		n--;
	g->last[n] = '\0';
}

static bool
has_own_probe(const struct gate *g)
{
	return g->unit->health.kind == HEALTH_HTTP ||
	    g->unit->health.kind == HEALTH_TCP;
}

static uint64_t
probe_interval(const struct gate *g)
{
	uint64_t ms = g->unit->health.start_interval_ms;

	/* http/tcp have no engine check behind them: keep probing at the
	 * steady interval when fast probing is off. */
	if (ms == 0 && has_own_probe(g))
		ms = g->unit->health.interval_ms ? g->unit->health.interval_ms :
		    1000;
	return ms < GATE_PROBE_MIN && ms != 0 ? GATE_PROBE_MIN : ms;
}

static void
passed(struct gate *g)
{
	char msg[256];

	snprintf(msg, sizeof msg, "%s is %s", g->name,
	    gate_goal_name(g->goal));
	finish(g, 1, msg);
}

/* ---- startup probes ------------------------------------------------------ */

static void
probe_result(struct gate *g, int ok)
{
	g->probing = false;
	if (g->done)
		return;
	if (ok) {
		passed(g);
		return;
	}
	probe_next(g, probe_interval(g));
}

static void
on_probe(int ok, const char *detail, void *arg)
{
	struct gate *g = arg;

	g->probe = NULL;
	if (detail != NULL)
		set_last(g, detail, strlen(detail));
	probe_result(g, ok);
}

static void
on_exec(const struct exec_result *r, void *arg)
{
	struct gate *g = arg;

	g->exec = NULL;
	if (r->err != 0)
		set_last(g, r->message, strlen(r->message));
	else if (r->len > 0)
		set_last(g, r->output, r->len);
	else
		snprintf(g->last, sizeof g->last, "exit code %d",
		    r->exit_code);
	probe_result(g, r->err == 0 && r->exit_code == 0);
}

static void
probe_run(struct gate *g)
{
	const struct unit_health	*h = &g->unit->health;
	uint64_t			 to = h->timeout_ms ? h->timeout_ms : 3000;

	g->probing = true;
	if (h->kind == HEALTH_HTTP || h->kind == HEALTH_TCP) {
		if (g->ip == NULL) {
			set_last(g, "no address yet", 14);
			probe_result(g, 0);
			return;
		}
		g->probe = h->kind == HEALTH_HTTP ?
		    probe_http(g->sd->loop, g->ip, h->port, h->http_path, to,
			on_probe, g) :
		    probe_tcp(g->sd->loop, g->ip, h->port, to, on_probe, g);
		return;
	}
	/* No timeout: as before, the deadline bounds a hung test. */
	g->exec = exec_run(g->sd, g->id, g->probe_argv, 0, on_exec, g);
}

static void
on_tick(uv_timer_t *t)
{
	struct gate *g = t->data;

	if (!g->done && !g->probing && g->running)
		probe_run(g);
}

static void
probe_next(struct gate *g, uint64_t delay)
{
	if (g->done || g->probing || g->goal != GATE_HEALTHY)
		return;
	if (!has_own_probe(g) && (g->probe_argv == NULL ||
	    probe_interval(g) == 0))
		return;		/* the engine's events alone decide */
	uv_timer_start(&g->tick, on_tick, delay, 0);
}

/* ---- engine state -------------------------------------------------------- */

static void
note_address(struct gate *g, json_t *info)
{
	json_t		*nets, *n;
	const char	*key, *ip;

	nets = json_object_get(json_object_get(info, "NetworkSettings"),
	    "Networks");
	json_object_foreach(nets, key, n) {
		ip = json_string_value(json_object_get(n, "IPAddress"));
		if (ip != NULL && *ip != '\0') {
			free(g->ip);
			g->ip = xstrdup(ip);
			return;
		}
	}
}

/* The exec argv for startup probing: the unit's test, or the image's. */
static void
note_probe_argv(struct gate *g, json_t *info)
{
	json_t		*test, *v;
	const char	*kind;

	if (g->probe_argv != NULL)
		return;
	if (g->unit->health.kind == HEALTH_CMD) {
		g->probe_argv = spec_health_argv(g->unit->health.test);
		return;
	}
	if (g->unit->health.kind != HEALTH_IMAGE)
		return;
	test = json_object_get(json_object_get(json_object_get(info,
	    "Config"), "Healthcheck"), "Test");
	kind = json_string_value(json_array_get(test, 0));
	if (kind == NULL)
		return;
	if (strcmp(kind, "CMD-SHELL") == 0 &&
	    (v = json_array_get(test, 1)) != NULL && json_is_string(v))
		g->probe_argv = json_pack("[s, s, O]", "/bin/sh", "-c", v);
	else if (strcmp(kind, "CMD") == 0 && json_array_size(test) > 1) {
		size_t i;

		g->probe_argv = json_array();
		for (i = 1; i < json_array_size(test); i++)
			json_array_append(g->probe_argv,
			    json_array_get(test, i));
	}
}

/* Does the container have any health check at all? */
static bool
checked(const struct gate *g, json_t *info)
{
	json_t *test;

	if (has_own_probe(g) || g->unit->health.kind == HEALTH_CMD)
		return true;
	if (g->unit->health.kind == HEALTH_DISABLED)
		return false;
	test = json_object_get(json_object_get(json_object_get(info,
	    "Config"), "Healthcheck"), "Test");
	return json_array_size(test) > 0 && json_is_string(json_array_get(
	    test, 0)) && strcmp(json_string_value(json_array_get(test, 0)),
	    "NONE") != 0;
}

static void
last_engine_output(struct gate *g, json_t *health)
{
	json_t		*log = json_object_get(health, "Log");
	const char	*out;

	out = json_string_value(json_object_get(json_array_get(log,
	    json_array_size(log) - 1), "Output"));
	if (out != NULL && *out != '\0')
		set_last(g, out, strlen(out));
}

static void
evaluate(struct gate *g, json_t *info)
{
	json_t		*st = json_object_get(info, "State");
	json_t		*health = json_object_get(st, "Health");
	const char	*status = json_string_value(json_object_get(st,
	    "Status"));
	const char	*hs = json_string_value(json_object_get(health,
	    "Status"));
	json_int_t	 code = json_integer_value(json_object_get(st,
	    "ExitCode"));
	char		 d[64];

	snprintf(g->state, sizeof g->state, "%s", status ? status : "?");
	snprintf(g->health, sizeof g->health, "%s", hs ? hs : "none");
	if (health != NULL)
		last_engine_output(g, health);
	note_address(g, info);
	note_probe_argv(g, info);

	if (status != NULL && (strcmp(status, "exited") == 0 ||
	    strcmp(status, "dead") == 0)) {
		if (g->goal == GATE_COMPLETED && code == 0) {
			passed(g);
			return;
		}
		snprintf(d, sizeof d, "exited with code %lld",
		    (long long)code);
		fail(g, d);
		return;
	}
	g->running = status != NULL && strcmp(status, "running") == 0;
	if (!g->running)
		return;		/* created, restarting: wait for events */
	if (g->goal == GATE_RUNNING ||
	    (g->goal == GATE_HEALTHY && !checked(g, info))) {
		passed(g);
		return;
	}
	if (g->goal == GATE_HEALTHY && hs != NULL) {
		if (strcmp(hs, "healthy") == 0) {
			passed(g);
			return;
		}
		if (strcmp(hs, "unhealthy") == 0) {
			fail(g, "is unhealthy");
			return;
		}
	}
	if (!g->probing && !uv_is_active((uv_handle_t *)&g->tick))
		probe_next(g, 0);
}

static void
on_inspect(const struct docker_result *res, void *arg)
{
	struct gate *g = arg;

	g->inspect = NULL;
	if (res->err == DOCKER_E_NOT_FOUND) {
		fail(g, "was removed");
		return;
	}
	if (res->err != 0) {
		/* The engine went away; the resync after it returns will
		 * inspect again, and the deadline still holds. */
		log_debug("gate %s: inspect: %s", g->name, res->message);
		return;
	}
	evaluate(g, res->body);
}

static void
inspect_now(struct gate *g)
{
	if (g->inspect != NULL || g->done)
		return;
	g->inspect = docker_container_inspect(g->sd->docker, g->id,
	    on_inspect, g);
}

static void
on_event(const char *id, const char *action, json_t *ev, void *arg)
{
	struct gate	*g = arg;
	const char	*code;
	char		 d[64];

	(void)id;
	if (strcmp(action, WATCH_RESYNC) == 0 ||
	    strncmp(action, "health_status", 13) == 0) {
		/* Health changes carry no output: inspect for it. */
		if (strstr(action, "unhealthy") != NULL ||
		    strcmp(action, WATCH_RESYNC) == 0)
			inspect_now(g);
		else if (strstr(action, "healthy") != NULL &&
		    g->goal == GATE_HEALTHY)
			passed(g);
		return;
	}
	if (strcmp(action, "start") == 0) {
		g->running = true;
		if (g->goal == GATE_RUNNING)
			passed(g);
		else
			inspect_now(g);		/* address, image check */
		return;
	}
	if (strcmp(action, "die") == 0) {
		code = json_string_value(json_object_get(json_object_get(
		    json_object_get(ev, "Actor"), "Attributes"), "exitCode"));
		g->running = false;
		if (g->goal == GATE_COMPLETED && code != NULL &&
		    strcmp(code, "0") == 0) {
			passed(g);
			return;
		}
		snprintf(d, sizeof d, "exited with code %s", code ? code : "?");
		fail(g, d);
	}
}

static void
on_deadline(uv_timer_t *t)
{
	struct gate	*g = t->data;
	char		 d[160], dur[32];

	fmt_duration_ms(dur, sizeof dur, g->deadline_ms);
	snprintf(d, sizeof d, "did not become %s within %s (state %s, "
	    "health %s)", gate_goal_name(g->goal), dur,
	    g->state[0] ? g->state : "unknown",
	    g->health[0] ? g->health : "unknown");
	fail(g, d);
}

struct gate *
gate_start(struct shipd *sd, const struct unit *u, const char *id,
    const char *name, enum gate_goal goal, uint64_t deadline_ms,
    gate_cb *cb, void *arg)
{
	struct gate *g = xcalloc(1, sizeof *g);

	g->sd = sd;
	g->unit = u;
	g->id = xstrdup(id);
	g->name = xstrdup(name);
	g->goal = goal;
	g->deadline_ms = deadline_ms;
	g->cb = cb;
	g->arg = arg;
	uv_timer_init(sd->loop, &g->deadline);
	uv_timer_init(sd->loop, &g->tick);
	g->deadline.data = g->tick.data = g;
	g->open = 2;
	g->starting = true;
	g->watch = watch_container(sd, id, on_event, g);
	if (deadline_ms > 0)
		uv_timer_start(&g->deadline, on_deadline, deadline_ms, 0);
	inspect_now(g);
	g->starting = false;
	return g;
}

void
gate_cancel(struct gate *g)
{
	if (g == NULL)
		return;
	g->cb = NULL;
	finish(g, 0, NULL);
}
