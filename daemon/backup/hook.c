/*
 * A backup hook: one command run in a container through the engine's exec
 * API, its output's tail kept for the report and its exit status read back
 * once the engine has recorded it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup_int.h"
#include "engine/docker.h"
#include "core/shipd.h"
#include "util.h"

#define HOOK_OUTPUT_MAX		2048
#define HOOK_RECHECKS		400	/* of 10 ms: an exec's exit lags */

struct hook {
	struct shipd		*sd;
	struct docker_req	*dreq;
	char			*exec_id;
	int			 rechecks;
	struct buf		 output;
	uv_timer_t		 timer;
	hook_cb			*cb;
	void			*arg;
};

static void	on_exec_inspect(const struct docker_result *, void *);

static void
on_closed(uv_handle_t *h)
{
	struct hook *k = h->data;

	buf_free(&k->output);
	free(k->exec_id);
	free(k);
}

void
hook_cancel(struct hook *k)
{
	if (k == NULL)
		return;
	/* Once the engine client is closed its requests are gone too. */
	if (k->sd->docker != NULL)
		docker_cancel(k->dreq);
	k->dreq = NULL;
	k->cb = NULL;
	uv_close((uv_handle_t *)&k->timer, on_closed);
}

static void
done(struct hook *k, int code, const char *why)
{
	size_t	 len = k->output.len;
	hook_cb	*cb = k->cb;

	while (len > 0 && (k->output.data[len - 1] == '\n' ||
	    k->output.data[len - 1] == '\r'))
		len--;
	k->cb = NULL;
	if (cb != NULL)
		cb(code, why, k->output.data ? k->output.data : "", len,
		    k->arg);
	hook_cancel(k);
}

static void
on_recheck(uv_timer_t *t)
{
	struct hook *k = t->data;

	k->dreq = docker_exec_inspect(k->sd->docker, k->exec_id,
	    on_exec_inspect, k);
}

static void
on_exec_inspect(const struct docker_result *res, void *arg)
{
	struct hook	*k = arg;
	json_t		*code;
	char		 why[64];

	k->dreq = NULL;
	/* The output can end a moment before the engine records the exit. */
	if (res->err == 0 && json_is_true(json_object_get(res->body,
	    "Running")) && k->rechecks++ < HOOK_RECHECKS) {
		uv_timer_start(&k->timer, on_recheck, 10, 0);
		return;
	}
	code = res->err ? NULL : json_object_get(res->body, "ExitCode");
	if (!json_is_integer(code)) {
		done(k, -1, res->err ? res->message : "no exit code");
		return;
	}
	snprintf(why, sizeof why, "exit %lld",
	    (long long)json_integer_value(code));
	done(k, (int)json_integer_value(code), why);
}

static void
on_output(const char *data, size_t len, void *arg)
{
	struct hook *k = arg;

	/* Keep the tail, which is where the reason usually is. */
	if (k->output.len + len > HOOK_OUTPUT_MAX) {
		size_t drop = k->output.len + len - HOOK_OUTPUT_MAX;

		if (drop >= k->output.len) {
			buf_reset(&k->output);
			if (len > HOOK_OUTPUT_MAX) {
				data += len - HOOK_OUTPUT_MAX;
				len = HOOK_OUTPUT_MAX;
			}
		} else
			buf_consume(&k->output, drop);
	}
	buf_append(&k->output, data, len);
}

static void
on_exec_done(const struct docker_result *res, void *arg)
{
	struct hook *k = arg;

	k->dreq = NULL;
	if (res->err != 0) {
		done(k, -1, res->message);
		return;
	}
	k->dreq = docker_exec_inspect(k->sd->docker, k->exec_id,
	    on_exec_inspect, k);
}

static void
on_exec_created(const struct docker_result *res, void *arg)
{
	struct hook	*k = arg;
	const char	*id;

	k->dreq = NULL;
	id = res->err ? NULL : json_string_value(json_object_get(res->body,
	    "Id"));
	if (id == NULL) {
		done(k, -1, res->err ? res->message : "no exec ID");
		return;
	}
	k->exec_id = xstrdup(id);
	k->dreq = docker_exec_start(k->sd->docker, k->exec_id, on_output,
	    on_exec_done, k);
}

struct hook *
hook_run(struct shipd *sd, const char *cid, char *const *argv, hook_cb *cb,
    void *arg)
{
	struct hook	*k = xcalloc(1, sizeof *k);
	json_t		*spec, *cmd = json_array();
	size_t		 i;

	k->sd = sd;
	k->cb = cb;
	k->arg = arg;
	buf_init(&k->output);
	uv_timer_init(sd->loop, &k->timer);
	k->timer.data = k;
	for (i = 0; argv[i] != NULL; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	spec = json_pack("{s:b, s:b, s:o}", "AttachStdout", 1,
	    "AttachStderr", 1, "Cmd", cmd);
	k->dreq = docker_exec_create(sd->docker, cid, spec, on_exec_created,
	    k);
	json_decref(spec);
	return k;
}
