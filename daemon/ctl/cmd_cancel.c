/*
 * cancel: stop the operation under way on a stack (and those queued for
 * its lock) by its failure path; a deploy rolls back what it touched.
 */
#include "ctl/ctl.h"
#include "ctl/known.h"
#include "ops/ops.h"
#include "proto.h"

static void
cancel_run(struct shipd *sd, struct ctl_req *r)
{
	ops_cancel(sd, r, ctl_str(r, "stack"));
}

/* An unknown stack is not_found, not an empty answer. */
static void
cmd_cancel(struct shipd *sd, struct ctl_req *r)
{
	ctl_known_stack(sd, r, cancel_run);
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, true },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_cancel = {
	PROTO_CMD_CANCEL, true, false, cmd_cancel, args
};
