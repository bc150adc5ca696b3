/*
 * shipctl help [COMMAND | json]: the list of commands and global options,
 * one command's usage and help text, or what --json prints.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "proto.h"

static int	cmd_help_exec(struct cli_ctx *);

const struct cli_cmd cli_cmd_help = {
	.name = "help",
	.usage = "[COMMAND | json]",
	.summary = "show help for shipctl or one command",
	.help = "  `shipctl help json`: what --json prints, and the exit "
	    "status.\n"
	    "  With --json: {\"commands\":[{name, usage, summary, help}]}, or\n"
	    "  one command's object.\n",
	.exec = cmd_help_exec,
};

/* Kept in step with docs/protocol.md, "shipctl --json" and "Types". */
static const char json_help[] =
    "shipctl --json (or -j, before or after the command) prints JSON lines "
    "on stdout,\n"
    "one object a line, and nothing else there:\n"
    "\n"
    "  - the events of a command that streams (deploy, rollback, scale, "
    "backup,\n"
    "    restore, logs, events), as shipd sends them: each has \"event\";\n"
    "  - then one final line that carries \"ok\": the command's result "
    "with\n"
    "    \"ok\":true added, or on any failure, shipd's or shipctl's own,\n"
    "    {\"ok\":false,\"error\":{\"code\":\"..\",\"message\":\"..\"}}.\n"
    "\n"
    "events and logs -f have no final line when interrupted (logs -f ends "
    "with\n"
    "{\"ended\":\"stack removed\",...,\"ok\":true} after a down).  "
    "plan exits 1 when it\n"
    "would change something, with \"ok\":true all the same; so does import compose\n"
    "for a lossy project (\"class\":\"lossy\").\n"
    "\n"
    "Every member has one type everywhere: replica, revision, uid, pid, "
    "counts and\n"
    "sizes are integers; IDs are strings; times (time, since, started, "
    "finished,\n"
    "created) are RFC 3339 in UTC; durations are integers of "
    "milliseconds named\n"
    "*_ms; what may be missing is null.  docs/protocol.md lists every "
    "member and\n"
    "each command's result.\n"
    "\n"
    "Exit status and error codes:\n"
    "  0  ok\n"
    "  1  failed, or not found          failed, not_found, "
    "preflight_failed, ...\n"
    "  2  bad command line or input     usage, bad_args, invalid_stack, "
    "too_large\n"
    "  3  shipd not reached, or lost    no_daemon\n"
    "  4  permission denied             permission_denied\n"
    "  5  engine unreachable            engine_unavailable\n"
    "  6  busy: the stack is locked     busy\n"
    "\n"
    "An unknown stack is not_found (exit 1) for every command that names "
    "one.\n";

static json_t *
cmd_json(const struct cli_cmd *cmd)
{
	return json_pack("{s:s, s:s, s:s, s:s?}", "name", cmd->name, "usage",
	    cmd->usage, "summary", cmd->summary, "help", cmd->help);
}

/* help --json: the command table, or one command's entry. */
static int
help_json(struct cli_ctx *c)
{
	const struct cli_cmd	*cmd;
	const char		*why;
	json_t			*o, *a;
	size_t			 i;

	if (c->argc >= 1) {
		if ((cmd = cli_cmd_find(c->cli->cmds, c->argv[0], &why)) ==
		    NULL) {
			cli_fail(PROTO_E_USAGE, "%s command '%s'", why,
			    c->argv[0]);
			return EXIT_USAGE;
		}
		o = cmd_json(cmd);
	} else {
		a = json_array();
		for (i = 0; c->cli->cmds[i] != NULL; i++)
			json_array_append_new(a, cmd_json(c->cli->cmds[i]));
		o = json_pack("{s:o}", "commands", a);
	}
	json_object_set_new(o, "ok", json_true());
	cli_print_json(o);
	json_decref(o);
	return EXIT_OK;
}

static int
cmd_help_exec(struct cli_ctx *c)
{
	const struct cli_cmd	*cmd;
	const char		*why;

	if (c->cli->json && (c->argc < 1 || strcmp(c->argv[0], "json") != 0))
		return help_json(c);
	if (c->argc < 1) {
		cli_usage(c->cli->cmds, stdout);
		return EXIT_OK;
	}
	if (strcmp(c->argv[0], "json") == 0) {
		fputs(json_help, stdout);
		return EXIT_OK;
	}
	if ((cmd = cli_cmd_find(c->cli->cmds, c->argv[0], &why)) == NULL) {
		cli_fail(PROTO_E_USAGE, "%s command '%s'", why, c->argv[0]);
		return EXIT_USAGE;
	}
	cli_cmd_print_help(cmd);
	return EXIT_OK;
}
