/*
 * restore: put a backup's data back into a stack's containers, after a
 * safety backup of what it overwrites, streaming each step.
 */
#include <errno.h>

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
		ctl_req_ok(r, json_deep_copy(out));
}

static void
on_cancel(struct ctl_req *r, void *arg)
{
	(void)r;
	restore_run_detach(arg);
}

static void
cmd_restore_known(struct shipd *sd, struct ctl_req *r)
{
	json_t		*svcs = json_object_get(r->args, "services"), *v;
	const char	*id = ctl_str(r, "id");
	size_t		 i;

	if (!backup_id_valid(id)) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "'%s' is not a backup ID", id);
		return;
	}
	json_array_foreach(svcs, i, v)
		if (!json_is_string(v)) {
			ctl_req_err(r, PROTO_E_BAD_ARGS, "services must be "
			    "names");
			return;
		}
	ctl_req_on_cancel(r, on_cancel, restore_run(sd, r, ctl_str(r,
	    "stack"), id, svcs, on_done, r));
}

/* An unknown stack is not_found, like everywhere else. */
static void
cmd_restore(struct shipd *sd, struct ctl_req *r)
{
	ctl_known_stack(sd, r, cmd_restore_known);
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, false },
	{ "id", JSON_STRING, true },
	{ "services", JSON_ARRAY, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_restore = {
	PROTO_CMD_RESTORE, true, true, cmd_restore, args
};
