/*
 * shipctl cancel: stop the operation under way on a stack, and those
 * queued for its lock.  Each fails as it would on its own failure: a
 * deploy stopped after it changed something rolls back.
 */
#include <stdio.h>

#include "cli.h"
#include "proto.h"

static int	cmd_cancel_exec(struct cli_ctx *);

const struct cli_cmd cli_cmd_cancel = {
	.name = "cancel",
	.usage = "[--stack NAME] [DIR]",
	.summary = "stop the operation under way on a stack (deploy, scale, ...)",
	.help =
	    "  The operation fails with \"cancelled by uid U\" and takes its\n"
	    "  failure path: a deploy rolls back what it touched (the\n"
	    "  rollback is automatic, as after a failed gate), one stopped\n"
	    "  before it changed anything just ends.  Operations queued for\n"
	    "  the stack's lock (--wait) are removed from the queue.  Their\n"
	    "  own clients get the error; cancel prints what it stopped.\n"
	    "  An automatic rollback or a recovery is not cancelled (it is\n"
	    "  the way back), nor an operation already recording its\n"
	    "  outcome.  Nothing under way on the stack: exit 1.\n",
	.flags = CLI_STACK | CLI_STACK_NEED | CLI_DIR,
	.exec = cmd_cancel_exec,
};

static int
cmd_cancel_exec(struct cli_ctx *c)
{
	json_t	*res, *o;
	size_t	 i;
	int	 rc;

	if ((rc = cli_request(c, PROTO_CMD_CANCEL, NULL, NULL, NULL,
	    &res)) != EXIT_OK)
		return rc;
	if (c->cli->json)
		cli_print_json(res);
	else
		json_array_foreach(json_object_get(res, "cancelled"), i, o) {
			printf("cancelled %s of %s", cli_str(o, "kind"),
			    c->stack);
			if (cli_int(o, "revision") > 0)
				printf(" (revision %lld)", cli_int(o,
				    "revision"));
			printf(" %s %s\n", json_is_true(json_object_get(o,
			    "queued")) ? "while" : "in phase",
			    json_is_true(json_object_get(o, "queued")) ?
			    "queued" : cli_str(o, "phase"));
		}
	json_decref(res);
	return EXIT_OK;
}
