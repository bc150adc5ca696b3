/*
 * shipctl backups: the good backups of one stack or of every stack, oldest
 * first, with what they hold, their class (manual, safety, deploy: what
 * retention counts apart) and when they were last verified.
 */
#include <stdio.h>

#include "cli.h"
#include "proto.h"
#include "util.h"

static int	cmd_backups_exec(struct cli_ctx *);

const struct cli_cmd cli_cmd_backups = {
	.name = "backups",
	.usage = "[--stack NAME]",
	.summary = "list backups: id, time, services, size, revision, class",
	.flags = CLI_STACK | CLI_STACK_ENV,
	.help =
	    "  CLASS is manual (shipctl backup, cron, timers), safety (taken\n"
	    "  by a restore) or deploy (a deploy's backup phase).  Each\n"
	    "  service keeps its backup.keep newest of each class, so\n"
	    "  restores and deploys never push out a manual backup; a\n"
	    "  backup a kept revision names (rollback --with-data) is never\n"
	    "  removed.\n",
	.exec = cmd_backups_exec,
};

static void
add_row(struct table *t, json_t *row, struct buf *svcs)
{
	json_t	*v, *ver = json_object_get(row, "verified");
	char	 size[32], rev[16], verified[48];
	size_t	 k;

	buf_reset(svcs);
	json_array_foreach(json_object_get(row, "services"), k, v)
		buf_printf(svcs, "%s%s", k ? "," : "", json_string_value(v));
	cli_fmt_size(size, sizeof size, (uint64_t)cli_int(row, "size"));
	snprintf(rev, sizeof rev, "%lld", cli_int(row, "revision"));
	if (!json_is_object(ver))
		snprintf(verified, sizeof verified, "never");
	else
		snprintf(verified, sizeof verified, "%s %s",
		    json_is_true(json_object_get(ver, "ok")) ? "ok" :
		    "DAMAGED", cli_str(ver, "time"));
	const char *cells[] = { cli_str(row, "stack"), cli_str(row, "id"),
	    cli_str(row, "finished"), svcs->data ? svcs->data : "", size, rev,
	    cli_str(row, "class"), verified };
	table_add(t, cells);
}

static int
cmd_backups_exec(struct cli_ctx *c)
{
	static const char *const hdr[] = { "STACK", "ID", "TIME", "SERVICES",
	    "SIZE", "REV", "CLASS", "VERIFIED" };
	struct table	*t;
	struct buf	 svcs;
	json_t		*res, *row;
	size_t		 i;
	int		 rc;

	if (c->argc > 0)
		return cli_usage_error(c, "too many arguments");
	if ((rc = cli_request(c, PROTO_CMD_BACKUPS, NULL, NULL, NULL,
	    &res)) != EXIT_OK)
		return rc;
	if (c->cli->json) {
		cli_print_json(res);
		json_decref(res);
		return EXIT_OK;
	}
	t = table_new(nitems(hdr), hdr);
	buf_init(&svcs);
	json_array_foreach(json_object_get(res, "backups"), i, row)
		add_row(t, row, &svcs);
	if (json_array_size(json_object_get(res, "backups")) == 0)
		printf("no backups%s%s\n", c->stack ? " of " : "",
		    c->stack ? c->stack : "");
	else
		table_print(t);
	table_free(t);
	buf_free(&svcs);
	json_decref(res);
	return EXIT_OK;
}
