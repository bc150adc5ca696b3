/*
 * deploy: plan, pre-flight, backup, apply, verify and commit a stack.
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

const struct ctl_cmd ctl_cmd_deploy = {
	PROTO_CMD_DEPLOY, true, true, ctl_handle_deploy, args
};
