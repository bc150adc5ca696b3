/*
 * rollback: back to an earlier committed revision (the newest before
 * current that deploys something else, unless `to` names one), from its
 * kept containers; `with_data` restores the backup the undone deploy took
 * first.
 */
#include "ctl/ctl.h"
#include "ops/ops.h"
#include "proto.h"

static void
cmd_rollback(struct shipd *sd, struct ctl_req *r)
{
	json_int_t to = ctl_int(r, "to", 0);

	if (to < 0 || to > 1000000000) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "rollback: 'to' must be a "
		    "revision number");
		return;
	}
	ops_rollback(sd, r, ctl_str(r, "stack"), (int)to,
	    ctl_bool(r, "with_data", false));
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, true },
	{ "to", JSON_INTEGER, false },
	{ "with_data", JSON_TRUE, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_rollback = {
	PROTO_CMD_ROLLBACK, true, true, cmd_rollback, args
};
