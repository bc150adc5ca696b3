/*
 * verify: check a backup's archives against its manifest.
 */
#include "ctl/ctl.h"
#include "backup/backup.h"
#include "proto.h"

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, false },
	{ "id", JSON_STRING, true },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_verify = {
	PROTO_CMD_VERIFY, true, false, ctl_handle_verify, args
};
