/*
 * restore: put a backup's data back into a stack's containers.
 */
#include "ctl/ctl.h"
#include "backup/backup.h"
#include "proto.h"

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, false },
	{ "id", JSON_STRING, true },
	{ "services", JSON_ARRAY, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_restore = {
	PROTO_CMD_RESTORE, true, true, ctl_handle_restore, args
};
