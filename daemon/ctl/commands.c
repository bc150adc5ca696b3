/*
 * The command table: one row per command, each defined in its own
 * ctl/cmd_<name>.c.  Adding a command is adding that file and a row here
 * (docs/architecture.md).  Kept sorted by name.
 */
#include "ctl/ctl.h"
#include "ctl/commands.h"
#include "util.h"

const struct ctl_cmd *const ctl_cmds[] = {
	&ctl_cmd_attach,
	&ctl_cmd_backup,
	&ctl_cmd_backups,
	&ctl_cmd_build,
	&ctl_cmd_cancel,
	&ctl_cmd_deploy,
	&ctl_cmd_down,
	&ctl_cmd_events,
	&ctl_cmd_exec,
	&ctl_cmd_exec_resize,
	&ctl_cmd_history,
	&ctl_cmd_logs,
	&ctl_cmd_ping,
	&ctl_cmd_plan,
	&ctl_cmd_pull,
	&ctl_cmd_restart,
	&ctl_cmd_restore,
	&ctl_cmd_rollback,
	&ctl_cmd_scale,
	&ctl_cmd_start,
	&ctl_cmd_status,
	&ctl_cmd_stop,
	&ctl_cmd_top,
	&ctl_cmd_verify,
	&ctl_cmd_version,
};
const size_t ctl_ncmds = nitems(ctl_cmds);
