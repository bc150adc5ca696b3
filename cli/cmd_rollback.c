/*
 * shipctl rollback [--to N]: deploy an older revision's snapshot as a new
 * revision, bringing back the containers kept from it where they exist.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "proto.h"

static int	cmd_rollback_exec(struct cli_ctx *);

static const struct option options[] = {
	{ "to", required_argument, NULL, 't' },
	{ "with-data", no_argument, NULL, 'd' },
	{ NULL, 0, NULL, 0 }
};

const struct cli_cmd cli_cmd_rollback = {
	.name = "rollback",
	.usage = "[--stack NAME] [--to N] [--with-data] [DIR]",
	.summary = "deploy an older revision again (default: the last that differs)",
	.help =
	    "  Without --to, the revision is the newest committed one\n"
	    "  before current that deploys something different (a redeploy\n"
	    "  or rollback that repeated current does not count).\n"
	    "  Containers kept from that revision are renamed back and\n"
	    "  started (no create, no pull); others are recreated from the\n"
	    "  revision's snapshot, pinned to its image IDs.  The result is\n"
	    "  a new revision.  --with-data also restores the backup taken\n"
	    "  before the deploy being rolled back.\n"
	    "  Its phases are shown as deploy shows them, and Ctrl-C\n"
	    "  detaches as it does from deploy (exit 130; the rollback goes\n"
	    "  on: shipctl attach, shipctl cancel).\n",
	.longopts = options,
	.flags = CLI_STACK | CLI_STACK_NEED | CLI_DIR | CLI_DIR_EXTRA |
	    CLI_DETACH,
	.exec = cmd_rollback_exec,
};

/* The options, checked in the order given. */
static int
rollback_args(struct cli_ctx *c, json_t *args)
{
	char	*end;
	long	 to;
	size_t	 i;

	for (i = 0; i < c->nopts; i++) {
		if (c->opts[i].ch == 'd') {
			json_object_set_new(args, "with_data", json_true());
			continue;
		}
		to = strtol(c->opts[i].arg, &end, 10);
		if (*end != '\0' || to <= 0)
			return cli_usage_error(c, "--to takes a revision "
			    "number");
		json_object_set_new(args, "to", json_integer(to));
	}
	return EXIT_OK;
}

static int
cmd_rollback_exec(struct cli_ctx *c)
{
	struct cli_progress	 p = { .cli = c->cli };
	json_t			*args = json_object(), *res;
	int			 rc;

	if ((rc = rollback_args(c, args)) != EXIT_OK) {
		json_decref(args);
		return rc;
	}
	rc = cli_request(c, PROTO_CMD_ROLLBACK, args, cli_progress_deploy, &p,
	    &res);
	if (rc != EXIT_DETACHED)
		cli_progress_end(&p, rc == EXIT_OK);
	cli_progress_free(&p);
	if (rc != EXIT_OK)
		return rc;
	if (c->cli->json)
		cli_print_json(res);
	else
		printf("rolled back %s: revision %lld in %.2fs\n", c->stack,
		    cli_int(res, "revision"), cli_secs(res, "elapsed_ms"));
	json_decref(res);
	return EXIT_OK;
}
