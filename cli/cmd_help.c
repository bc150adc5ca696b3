/*
 * shipctl help [COMMAND]: the list of commands and global options, or one
 * command's usage and help text.
 */
#include <stdio.h>

#include "cli.h"
#include "proto.h"

static int	cmd_help_exec(struct cli_ctx *);

const struct cli_cmd cli_cmd_help = {
	.name = "help",
	.usage = "[COMMAND]",
	.summary = "show help for shipctl or one command",
	.exec = cmd_help_exec,
};

static int
cmd_help_exec(struct cli_ctx *c)
{
	const struct cli_cmd	*cmd;
	const char		*why;

	if (c->argc < 1) {
		cli_usage(c->cli->cmds, stdout);
		return EXIT_OK;
	}
	if ((cmd = cli_cmd_find(c->cli->cmds, c->argv[0], &why)) == NULL) {
		cli_fail(PROTO_E_USAGE, "%s command '%s'", why, c->argv[0]);
		return EXIT_USAGE;
	}
	cli_cmd_print_help(cmd);
	return EXIT_OK;
}
