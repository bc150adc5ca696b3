/*
 * down: remove a stack, dependents first.
 */
#include "ctl/ctl.h"
#include "ops/down.h"
#include "proto.h"

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, true },
	{ "volumes", JSON_TRUE, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_down = {
	PROTO_CMD_DOWN, true, true, ctl_handle_down, args
};
