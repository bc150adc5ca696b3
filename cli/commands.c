/*
 * shipctl's one command table.  Each entry lives in its own cmd_<name>.c;
 * a new command is that file plus a line in each list below.
 */
#include <stddef.h>

#include "cli.h"

extern const struct cli_cmd cli_cmd_attach;
extern const struct cli_cmd cli_cmd_backup;
extern const struct cli_cmd cli_cmd_backups;
extern const struct cli_cmd cli_cmd_build;
extern const struct cli_cmd cli_cmd_cancel;
extern const struct cli_cmd cli_cmd_config;
extern const struct cli_cmd cli_cmd_deploy;
extern const struct cli_cmd cli_cmd_down;
extern const struct cli_cmd cli_cmd_events;
extern const struct cli_cmd cli_cmd_exec;
extern const struct cli_cmd cli_cmd_export;
extern const struct cli_cmd cli_cmd_help;
extern const struct cli_cmd cli_cmd_history;
extern const struct cli_cmd cli_cmd_import;
extern const struct cli_cmd cli_cmd_logs;
extern const struct cli_cmd cli_cmd_plan;
extern const struct cli_cmd cli_cmd_ps;
extern const struct cli_cmd cli_cmd_pull;
extern const struct cli_cmd cli_cmd_restart;
extern const struct cli_cmd cli_cmd_restore;
extern const struct cli_cmd cli_cmd_rollback;
extern const struct cli_cmd cli_cmd_scale;
extern const struct cli_cmd cli_cmd_start;
extern const struct cli_cmd cli_cmd_status;
extern const struct cli_cmd cli_cmd_top;
extern const struct cli_cmd cli_cmd_stop;
extern const struct cli_cmd cli_cmd_validate;
extern const struct cli_cmd cli_cmd_version;

/* Sorted by name: help lists them in this order.  NULL ends it. */
const struct cli_cmd *const cli_cmds[] = {
	&cli_cmd_attach,
	&cli_cmd_backup,
	&cli_cmd_backups,
	&cli_cmd_build,
	&cli_cmd_cancel,
	&cli_cmd_config,
	&cli_cmd_deploy,
	&cli_cmd_down,
	&cli_cmd_events,
	&cli_cmd_exec,
	&cli_cmd_export,
	&cli_cmd_help,
	&cli_cmd_history,
	&cli_cmd_import,
	&cli_cmd_logs,
	&cli_cmd_plan,
	&cli_cmd_ps,
	&cli_cmd_pull,
	&cli_cmd_restart,
	&cli_cmd_restore,
	&cli_cmd_rollback,
	&cli_cmd_scale,
	&cli_cmd_start,
	&cli_cmd_status,
	&cli_cmd_stop,
	&cli_cmd_top,
	&cli_cmd_validate,
	&cli_cmd_version,
	NULL
};
