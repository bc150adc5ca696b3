/*
 * shipctl attach: follow the operation under way on a stack (a deploy,
 * rollback or scale, started by another client or by one that detached
 * with Ctrl-C) to its end, with the progress lines deploy shows, and exit
 * as that operation does.
 */
#include <stdio.h>

#include "cli.h"
#include "proto.h"

static int	cmd_attach_exec(struct cli_ctx *);

const struct cli_cmd cli_cmd_attach = {
	.name = "attach",
	.usage = "[--stack NAME] [DIR]",
	.summary = "follow the deploy, rollback or scale under way on a stack "
	    "to its end",
	.help =
	    "  Shows where the operation is (its kind, revision, who started\n"
	    "  it, its phase), its plan once it has one, then the progress\n"
	    "  lines its own client sees from now on, and its outcome: the\n"
	    "  exit status is the operation's (0 it succeeded, 1 it failed\n"
	    "  or was cancelled).  When nothing is under way on the stack,\n"
	    "  exit 1 with \"no operation under way\" (a backup or restore\n"
	    "  holding the lock is named but not followed).  Changes nothing:\n"
	    "  allowed on the read-only socket.  Ctrl-C detaches (exit 130);\n"
	    "  the operation goes on.\n",
	.flags = CLI_STACK | CLI_STACK_NEED | CLI_STACK_ENV | CLI_DIR |
	    CLI_DETACH,
	.exec = cmd_attach_exec,
};

static int
cmd_attach_exec(struct cli_ctx *c)
{
	struct cli_progress	 p = { .cli = c->cli };
	json_t			*res;
	int			 rc;

	rc = cli_request(c, PROTO_CMD_ATTACH, NULL, cli_progress_deploy, &p,
	    &res);
	if (rc != EXIT_DETACHED)
		cli_progress_end(&p, rc == EXIT_OK);
	cli_progress_free(&p);
	if (rc != EXIT_OK)
		return rc;
	if (c->cli->json)
		cli_print_json(res);
	else if (json_object_get(res, "revision") != NULL)
		printf("done: %s revision %lld in %.2fs\n", c->stack,
		    cli_int(res, "revision"), cli_secs(res, "elapsed_ms"));
	else
		printf("done: %s in %.2fs\n", c->stack, cli_secs(res,
		    "elapsed_ms"));
	json_decref(res);
	return EXIT_OK;
}
