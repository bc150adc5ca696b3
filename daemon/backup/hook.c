/*
 * A backup hook: one command run in a container (engine/exec.c), reported
 * as its exit status and the tail of its output.  One still running after
 * backup.timeout fails (the engine cannot stop it: it runs on, but the
 * backup no longer waits for it).
 */
#include <stdio.h>
#include <stdlib.h>

#include "backup/backup_int.h"
#include "core/shipd.h"
#include "engine/exec.h"
#include "util.h"

#define HOOK_OUTPUT_MAX		2048

struct hook {
	struct exec	*exec;
	hook_cb		*cb;
	void		*arg;
	int		 reporting;	/* inside cb: freed after it */
};

void
hook_cancel(struct hook *k)
{
	if (k == NULL || k->reporting)
		return;
	exec_cancel(k->exec);
	free(k);
}

static void
on_exec(const struct exec_result *r, void *arg)
{
	struct hook	*k = arg;
	const char	*out = r->output;
	size_t		 len = r->len;
	char		 why[64];

	/* Keep the tail, which is where the reason usually is. */
	if (len > HOOK_OUTPUT_MAX) {
		out += len - HOOK_OUTPUT_MAX;
		len = HOOK_OUTPUT_MAX;
	}
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		len--;
	k->exec = NULL;
	k->reporting = 1;
	if (r->err != 0)
		k->cb(-1, r->message, out, len, k->arg);
	else {
		snprintf(why, sizeof why, "exit %d", r->exit_code);
		k->cb(r->exit_code, why, out, len, k->arg);
	}
	/* Like the exec, the hook is gone once it has reported. */
	free(k);
}

struct hook *
hook_run(struct shipd *sd, const char *cid, char *const *argv,
    uint64_t timeout_ms, hook_cb *cb, void *arg)
{
	struct hook	*k = xcalloc(1, sizeof *k);
	json_t		*cmd = json_array();
	size_t		 i;

	k->cb = cb;
	k->arg = arg;
	for (i = 0; argv[i] != NULL; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	k->exec = exec_run(sd, cid, cmd, timeout_ms, on_exec, k);
	json_decref(cmd);
	return k;
}
