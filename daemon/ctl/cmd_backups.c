/*
 * backups: list the backups on disk, one stack's or every stack's, with
 * the outcome of their last verification.
 */
#include "backup/backup.h"
#include "core/shipd.h"
#include "ctl/ctl.h"
#include "ctl/known.h"
#include "proto.h"

static void
on_listed(int err, const char *msg, const json_t *out, void *arg)
{
	struct ctl_req *r = arg;

	if (err < 0)
		ctl_req_err(r, PROTO_E_INTERNAL, "listing backups: %s", msg);
	else
		ctl_req_ok(r, json_pack("{s:O}", "backups", (json_t *)out));
}

static void
on_cancel(struct ctl_req *r, void *arg)
{
	(void)r;
	backup_query_cancel(arg);
}

static void
backups_run(struct shipd *sd, struct ctl_req *r)
{
	ctl_req_on_cancel(r, on_cancel, backup_list(sd, ctl_str(r, "stack"),
	    on_listed, r));
}

/* An unknown stack is not_found, not an empty answer. */
static void
cmd_backups(struct shipd *sd, struct ctl_req *r)
{
	ctl_known_stack(sd, r, backups_run);
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_backups = {
	PROTO_CMD_BACKUPS, false, false, cmd_backups, args
};
