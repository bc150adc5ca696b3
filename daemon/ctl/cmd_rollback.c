/*
 * rollback: back to an earlier committed revision.
 */
#include "ctl/ctl.h"
#include "ops/deploy.h"
#include "proto.h"

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, true },
	{ "to", JSON_INTEGER, false },
	{ "with_data", JSON_TRUE, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_rollback = {
	PROTO_CMD_ROLLBACK, true, true, ctl_handle_rollback, args
};
