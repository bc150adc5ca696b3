/*
 * plan: what a deploy of the sent stack would change, and why.
 */
#include "ctl/ctl.h"
#include "ops/deploy.h"
#include "proto.h"

static const struct ctl_arg args[] = {
	{ "stack", JSON_OBJECT, true },
	{ "skip_checks", JSON_ARRAY, false },
	{ "no_backup", JSON_TRUE, false },
	{ "wait", JSON_TRUE, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_plan = {
	PROTO_CMD_PLAN, false, true, ctl_handle_plan, args
};
