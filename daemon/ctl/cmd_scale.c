/*
 * scale: change replica counts of the current revision, gated like a deploy.
 */
#include "ctl/ctl.h"
#include "ops/deploy.h"
#include "proto.h"

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, true },
	{ "replicas", JSON_OBJECT, true },
	{ "wait", JSON_TRUE, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_scale = {
	PROTO_CMD_SCALE, true, true, ctl_handle_scale, args
};
