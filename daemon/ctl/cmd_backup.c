/*
 * backup: back up the data of a stack's services.
 */
#include "ctl/ctl.h"
#include "backup/backup.h"
#include "proto.h"

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, false },
	{ "services", JSON_ARRAY, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_backup = {
	PROTO_CMD_BACKUP, true, true, ctl_handle_backup, args
};
