/*
 * plan: what a deploy of the sent stack would change, and why; changes
 * nothing and takes no lock.  It accepts deploy's arguments, so that
 * `shipctl plan` and `shipctl deploy` can send the same request.
 */
#include "ctl/ctl.h"
#include "ctl/stackarg.h"
#include "ops/ops.h"
#include "proto.h"

static void
cmd_plan(struct shipd *sd, struct ctl_req *r)
{
	struct stack	*st;
	struct graph	*g;

	if (ctl_stack_arg(r, &st, &g) < 0)
		return;
	ops_plan(sd, r, st, g);
}

const struct ctl_cmd ctl_cmd_plan = {
	PROTO_CMD_PLAN, false, true, cmd_plan, ctl_stack_args
};
