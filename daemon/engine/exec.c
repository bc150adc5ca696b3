/*
 * The exec sequence, written once: create the exec, start it attached and
 * keep the tail of its demultiplexed output, then inspect it until the
 * engine has recorded the exit code, which can lag the output's end.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "engine/docker.h"
#include "engine/exec.h"
#include "util.h"

#define EXEC_RECHECK_MS	10
#define EXEC_RECHECKS	400	/* 4 s for the engine to record the exit */

struct exec {
	struct shipd		*sd;
	struct docker_req	*req;		/* the engine call under way */
	char			*id;		/* the exec's, once created */
	uv_timer_t		 recheck;	/* the next inspect */
	uv_timer_t		 deadline;
	uint64_t		 timeout_ms;
	int			 rechecks;
	int			 open;		/* timers not yet closed */
	bool			 starting;	/* inside exec_run() */
	bool			 done;
	struct buf		 output;
	exec_cb			*cb;
	void			*arg;
};

static void	on_inspect(const struct docker_result *, void *);

static void
on_closed(uv_handle_t *h)
{
	struct exec *x = h->data;

	if (--x->open > 0)
		return;
	buf_free(&x->output);
	free(x->id);
	free(x);
}

/* Stop everything.  The memory goes when both timers have closed, which
 * is after any callback running now has returned. */
static void
end(struct exec *x)
{
	x->done = true;
	x->cb = NULL;
	/* Once the engine client has closed, its requests are gone. */
	if (x->sd->docker != NULL)
		docker_cancel(x->req);
	x->req = NULL;
	uv_close((uv_handle_t *)&x->recheck, on_closed);
	uv_close((uv_handle_t *)&x->deadline, on_closed);
}

static void
report(struct exec *x, int err, int code, const char *msg)
{
	struct exec_result	 r;
	exec_cb			*cb = x->cb;
	void			*arg = x->arg;

	/* The callback contract (docker.h): never from inside exec_run(). */
	assert(!x->starting);
	assert(err <= 0);
	if (x->done)
		return;
	memset(&r, 0, sizeof r);
	r.err = err;
	r.message = err != 0 && msg != NULL ? msg : "";
	r.exit_code = code;
	r.output = x->output.data ? x->output.data : "";
	r.len = x->output.len;
	end(x);
	if (cb != NULL)
		cb(&r, arg);
}

void
exec_cancel(struct exec *x)
{
	if (x != NULL && !x->done)
		end(x);
}

static void
on_recheck(uv_timer_t *t)
{
	struct exec *x = t->data;

	if (x->done || x->sd->docker == NULL)
		return;
	x->req = docker_exec_inspect(x->sd->docker, x->id, on_inspect, x);
}

static void
on_inspect(const struct docker_result *res, void *arg)
{
	struct exec	*x = arg;
	json_t		*code;

	x->req = NULL;
	if (res->err != 0) {
		report(x, res->err, 0, res->message);
		return;
	}
	if (json_is_true(json_object_get(res->body, "Running"))) {
		if (x->rechecks++ < EXEC_RECHECKS)
			uv_timer_start(&x->recheck, on_recheck,
			    EXEC_RECHECK_MS, 0);
		else
			report(x, -EBUSY, 0, "still running after its output "
			    "ended");
		return;
	}
	code = json_object_get(res->body, "ExitCode");
	if (!json_is_integer(code)) {
		report(x, -EPROTO, 0, "no exit code in the engine's reply");
		return;
	}
	report(x, 0, (int)json_integer_value(code), NULL);
}

static void
on_output(const char *data, size_t len, void *arg)
{
	struct exec	*x = arg;
	size_t		 drop;

	/* Keep the tail, which is where the reason usually is. */
	if (x->output.len + len > EXEC_OUTPUT_MAX) {
		drop = x->output.len + len - EXEC_OUTPUT_MAX;
		if (drop >= x->output.len) {
			buf_reset(&x->output);
			if (len > EXEC_OUTPUT_MAX) {
				data += len - EXEC_OUTPUT_MAX;
				len = EXEC_OUTPUT_MAX;
			}
		} else
			buf_consume(&x->output, drop);
	}
	buf_append(&x->output, data, len);
}

static void
on_started(const struct docker_result *res, void *arg)
{
	struct exec *x = arg;

	/* The output has ended: the command has, or is about to. */
	x->req = NULL;
	if (res->err != 0) {
		report(x, res->err, 0, res->message);
		return;
	}
	x->req = docker_exec_inspect(x->sd->docker, x->id, on_inspect, x);
}

static void
on_created(const struct docker_result *res, void *arg)
{
	struct exec	*x = arg;
	const char	*id;

	x->req = NULL;
	if (res->err != 0) {
		/* -EEXIST while the container is not running. */
		report(x, res->err, 0, res->message);
		return;
	}
	id = json_string_value(json_object_get(res->body, "Id"));
	if (id == NULL) {
		report(x, -EPROTO, 0, "no exec ID in the engine's reply");
		return;
	}
	x->id = xstrdup(id);
	x->req = docker_exec_start(x->sd->docker, x->id, on_output,
	    on_started, x);
}

static void
on_deadline(uv_timer_t *t)
{
	struct exec	*x = t->data;
	char		 msg[64], dur[32];

	if (x->sd->docker == NULL)
		return;
	fmt_duration_ms(dur, sizeof dur, x->timeout_ms);
	snprintf(msg, sizeof msg, "did not finish within %s", dur);
	report(x, -ETIMEDOUT, 0, msg);
}

/* A failure found in exec_run(), reported on the loop's next turn. */
static void
on_bad_argv(uv_timer_t *t)
{
	struct exec *x = t->data;

	if (x->sd->docker != NULL)
		report(x, -EINVAL, 0, "no command to run");
}

static bool
argv_ok(json_t *argv)
{
	json_t	*v;
	size_t	 i;

	if (json_array_size(argv) == 0)
		return false;
	json_array_foreach(argv, i, v)
		if (!json_is_string(v))
			return false;
	return true;
}

struct exec *
exec_run(struct shipd *sd, const char *container, json_t *argv,
    uint64_t timeout_ms, exec_cb *cb, void *arg)
{
	struct exec	*x = xcalloc(1, sizeof *x);
	json_t		*spec;

	x->sd = sd;
	x->timeout_ms = timeout_ms;
	x->cb = cb;
	x->arg = arg;
	buf_init(&x->output);
	uv_timer_init(sd->loop, &x->recheck);
	uv_timer_init(sd->loop, &x->deadline);
	x->recheck.data = x->deadline.data = x;
	x->open = 2;
	x->starting = true;
	if (!argv_ok(argv))
		uv_timer_start(&x->recheck, on_bad_argv, 0, 0);
	else if (sd->docker != NULL) {
		spec = json_pack("{s:b, s:b, s:O}", "AttachStdout", 1,
		    "AttachStderr", 1, "Cmd", argv);
		x->req = docker_exec_create(sd->docker, container, spec,
		    on_created, x);
		json_decref(spec);
		if (timeout_ms > 0)
			uv_timer_start(&x->deadline, on_deadline, timeout_ms,
			    0);
	}
	x->starting = false;
	return x;
}
