/*
 * shipctl down: stop and remove a stack's containers in reverse
 * dependency order, then its networks; its volumes only with --volumes.
 */
#include <stdio.h>

#include "cli.h"
#include "proto.h"

static int	cmd_down_exec(struct cli_ctx *);

static const struct option options[] = {
	{ "volumes", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 }
};

const struct cli_cmd cli_cmd_down = {
	.name = "down",
	.usage = "[--stack NAME] [--volumes] [DIR]",
	.summary = "stop and remove a stack's containers and networks",
	.help =
	    "  Dependents go first.  Named volumes stay unless --volumes.\n"
	    "  What described the containers goes too: the marks of\n"
	    "  shipctl stop and the supervisor's restart counts and crash\n"
	    "  loops.  Revisions, scale overrides and history stay.\n",
	.shortopts = "v",
	.longopts = options,
	.flags = CLI_STACK | CLI_STACK_NEED | CLI_DIR,
	.exec = cmd_down_exec,
};

static int
cmd_down_exec(struct cli_ctx *c)
{
	json_t	*res;
	int	 rc;

	if ((rc = cli_request(c, PROTO_CMD_DOWN, json_pack("{s:b}", "volumes",
	    cli_opt_has(c, 'v')), NULL, NULL, &res)) != EXIT_OK)
		return rc;
	if (c->cli->json)
		cli_print_json(res);
	else
		printf("removed %lld containers of %s in %.2fs\n",
		    cli_int(res, "removed"), c->stack, cli_secs(res,
		    "elapsed_ms"));
	json_decref(res);
	return EXIT_OK;
}
