/*
 * shipctl restore: put a backup's data back into a stack's services,
 * stopping them and their dependents around it, after a safety backup of
 * what is overwritten.
 */
#include <stdio.h>

#include "cli.h"
#include "proto.h"

static int	cmd_restore_exec(struct cli_ctx *);

static const struct option options[] = {
	{ "quiet", no_argument, NULL, 'q' },
	{ NULL, 0, NULL, 0 }
};

const struct cli_cmd cli_cmd_restore = {
	.name = "restore",
	.usage = "[--stack NAME] [--quiet] ID [SERVICE...]",
	.summary = "put a backup's data back, after a safety backup of what "
	    "it replaces",
	.help =
	    "  Verifies the backup, stops the services (and their dependents)\n"
	    "  in reverse dependency order, backs up what is there now, puts\n"
	    "  the archives back and starts everything again in order, gated\n"
	    "  on health.  The reply names the safety backup, which restore\n"
	    "  takes back if this was the wrong one.  If shipd dies meanwhile,\n"
	    "  its next start brings back what was stopped, and finishes a\n"
	    "  restore that had put every archive back.\n",
	.shortopts = "q",
	.longopts = options,
	.flags = CLI_STACK | CLI_STACK_ENV,
	.exec = cmd_restore_exec,
};

static void
show_restored(json_t *res)
{
	json_t	*v;
	size_t	 i;

	printf("restored %s into %s (", json_string_value(json_object_get(res,
	    "id")), json_string_value(json_object_get(res, "stack")));
	json_array_foreach(json_object_get(res, "services"), i, v)
		printf("%s%s", i ? ", " : "", json_string_value(v));
	printf(") in %.2fs; the data it replaced is in safety backup %s\n",
	    cli_secs(res, "elapsed_ms"), json_string_value(json_object_get(
	    res, "safety")) ?: "(none)");
}

static int
cmd_restore_exec(struct cli_ctx *c)
{
	struct cli_progress	 p = { .cli = c->cli };
	json_t			*args, *svcs, *res;
	int			 i, rc;

	p.quiet = cli_opt_has(c, 'q');
	if (c->argc < 1)
		return cli_usage_error(c, "which backup? (see shipctl "
		    "backups)");
	args = json_pack("{s:s}", "id", c->argv[0]);
	if (c->argc > 1) {
		svcs = json_array();
		for (i = 1; i < c->argc; i++)
			json_array_append_new(svcs, json_string(c->argv[i]));
		json_object_set_new(args, "services", svcs);
	}
	if ((rc = cli_request(c, PROTO_CMD_RESTORE, args, cli_progress_backup,
	    &p, &res)) != EXIT_OK)
		return rc;
	if (c->cli->json)
		cli_print_json(res);
	else if (!p.quiet)
		show_restored(res);
	json_decref(res);
	return EXIT_OK;
}
