/*
 * attach: follow the operation under way on a stack (a deploy, rollback or
 * scale some other client started, or one whose client detached) to its
 * end: its events from now on, then its answer.  Changes nothing.
 */
#include "ctl/ctl.h"
#include "ops/ops.h"
#include "proto.h"

static void
cmd_attach(struct shipd *sd, struct ctl_req *r)
{
	ops_attach(sd, r, ctl_str(r, "stack"));
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, true },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_attach = {
	PROTO_CMD_ATTACH, false, false, cmd_attach, args
};
