/*
 * backups: list the backups on disk.
 */
#include "ctl/ctl.h"
#include "backup/backup.h"
#include "proto.h"

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_backups = {
	PROTO_CMD_BACKUPS, false, false, ctl_handle_backups, args
};
