/*
 * backup: back up the data of one stack's services, or of every deployed
 * stack (what cron and the systemd timer run), streaming each step.
 */
#include <errno.h>
#include <stdbool.h>

#include "backup/backup.h"
#include "core/shipd.h"
#include "ctl/ctl.h"
#include "ctl/known.h"
#include "proto.h"

static void
on_done(int err, const char *msg, const json_t *out, void *arg)
{
	struct ctl_req *r = arg;

	if (err < 0)
		ctl_req_err(r, err == -EBUSY ? PROTO_E_BUSY : PROTO_E_FAILED,
		    "%s", msg);
	else
		ctl_req_ok(r, json_pack("{s:O}", "backups", (json_t *)out));
}

static void
on_cancel(struct ctl_req *r, void *arg)
{
	(void)r;
	backup_run_detach(arg);
}

static bool
strings_ok(const json_t *a)
{
	const json_t	*v;
	size_t		 i;

	json_array_foreach(a, i, v)
		if (!json_is_string(v))
			return false;
	return true;
}

static void
cmd_backup_known(struct shipd *sd, struct ctl_req *r)
{
	const char	*stack = ctl_str(r, "stack");
	json_t		*svcs = json_object_get(r->args, "services");
	struct backup_run *b;

	if (svcs != NULL && (!strings_ok(svcs) || stack == NULL)) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "services must be names of "
		    "one stack's services, with the stack named");
		return;
	}
	b = backup_run(sd, r, stack, svcs, on_done, r);
	ctl_req_on_cancel(r, on_cancel, b);
}

/* An unknown stack is not_found, like everywhere else. */
static void
cmd_backup(struct shipd *sd, struct ctl_req *r)
{
	ctl_known_stack(sd, r, cmd_backup_known);
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, false },
	{ "services", JSON_ARRAY, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_backup = {
	PROTO_CMD_BACKUP, true, true, cmd_backup, args
};
