/*
 * The entries of the command table, one per ctl/cmd_<name>.c.
 */
#ifndef SHIPD_COMMANDS_H
#define SHIPD_COMMANDS_H

#include "ctl/ctl.h"

extern const struct ctl_cmd ctl_cmd_attach;
extern const struct ctl_cmd ctl_cmd_backup;
extern const struct ctl_cmd ctl_cmd_backups;
extern const struct ctl_cmd ctl_cmd_build;
extern const struct ctl_cmd ctl_cmd_cancel;
extern const struct ctl_cmd ctl_cmd_deploy;
extern const struct ctl_cmd ctl_cmd_down;
extern const struct ctl_cmd ctl_cmd_events;
extern const struct ctl_cmd ctl_cmd_exec;
extern const struct ctl_cmd ctl_cmd_exec_resize;
extern const struct ctl_cmd ctl_cmd_history;
extern const struct ctl_cmd ctl_cmd_logs;
extern const struct ctl_cmd ctl_cmd_ping;
extern const struct ctl_cmd ctl_cmd_plan;
extern const struct ctl_cmd ctl_cmd_pull;
extern const struct ctl_cmd ctl_cmd_restart;
extern const struct ctl_cmd ctl_cmd_restore;
extern const struct ctl_cmd ctl_cmd_rollback;
extern const struct ctl_cmd ctl_cmd_scale;
extern const struct ctl_cmd ctl_cmd_start;
extern const struct ctl_cmd ctl_cmd_status;
extern const struct ctl_cmd ctl_cmd_stop;
extern const struct ctl_cmd ctl_cmd_top;
extern const struct ctl_cmd ctl_cmd_verify;
extern const struct ctl_cmd ctl_cmd_version;

#endif
