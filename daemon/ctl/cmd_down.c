/*
 * down: remove a stack's containers, dependents first, then its networks,
 * and its volumes only with `volumes`.
 */
#include "ctl/ctl.h"
#include "ctl/known.h"
#include "ops/ops.h"
#include "proto.h"

static void
down_run(struct shipd *sd, struct ctl_req *r)
{
	ops_down(sd, r, ctl_str(r, "stack"), ctl_bool(r, "volumes", false));
}

/* An unknown stack is not_found, not an empty answer. */
static void
cmd_down(struct shipd *sd, struct ctl_req *r)
{
	ctl_known_stack(sd, r, down_run);
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, true },
	{ "volumes", JSON_TRUE, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_down = {
	PROTO_CMD_DOWN, true, true, cmd_down, args
};
