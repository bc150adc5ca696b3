/*
 * shipctl history: a stack's revisions, newest last.
 */
#include <pwd.h>
#include <stdio.h>

#include "cli.h"
#include "proto.h"
#include "util.h"

static int	cmd_history_exec(struct cli_ctx *);

const struct cli_cmd cli_cmd_history = {
	.name = "history",
	.usage = "[--stack NAME] [DIR]",
	.summary = "list a stack's revisions (* marks the current one)",
	.help =
	    "  KIND is deploy, scale or rollback; a rollback says which\n"
	    "  revision it went back to (\"rollback to 2\"; \"to\" with\n"
	    "  --json).  Rows with REV - are stop, start and restart\n"
	    "  operations and the autoscaler's scales (kind autoscale, with\n"
	    "  the decision's reason), which record no revision: they ran on\n"
	    "  the revision before them.  An unknown stack is an error\n"
	    "  (not_found).\n",
	.flags = CLI_STACK | CLI_STACK_NEED | CLI_DIR | CLI_DIR_EXTRA,
	.exec = cmd_history_exec,
};

/* The user's name where this host knows the uid. */
static void
user_name(char *dst, size_t len, json_t *row)
{
	long long	 u = cli_int(row, "uid");
	struct passwd	*pw = getpwuid((uid_t)u);

	if (pw != NULL)
		snprintf(dst, len, "%s", pw->pw_name);
	else
		snprintf(dst, len, "%lld", u);
}

static void
add_row(struct table *t, json_t *row, struct buf *ch)
{
	json_t	*c;
	char	 rev[32], uid[32], kind[64];
	size_t	 k;

	/* stop, start, restart: no revision of their own */
	if (json_is_true(json_object_get(row, "operation")))
		snprintf(rev, sizeof rev, "-");
	else
		snprintf(rev, sizeof rev, "%lld%s", cli_int(row, "revision"),
		    json_is_true(json_object_get(row, "is_current")) ? "*" : "");
	user_name(uid, sizeof uid, row);
	/* A rollback says where it went: "rollback to 2". */
	if (json_is_integer(json_object_get(row, "to")))
		snprintf(kind, sizeof kind, "%s to %lld", cli_str(row, "kind"),
		    cli_int(row, "to"));
	else
		snprintf(kind, sizeof kind, "%s", cli_str(row, "kind"));
	buf_reset(ch);
	json_array_foreach(json_object_get(row, "changes"), k, c)
		buf_printf(ch, "%s%s %s", k ? ", " : "",
		    json_string_value(json_object_get(c, "action")),
		    json_string_value(json_object_get(c, "service")));
	if (json_object_get(row, "reason") != NULL)
		buf_printf(ch, "%s(%s)", ch->len ? " " : "",
		    json_string_value(json_object_get(row, "reason")));
	const char *cells[] = { rev, json_string_value(json_object_get(row,
	    "started")), uid, kind,
	    json_string_value(json_object_get(row, "result")),
	    ch->data ? ch->data : "" };
	table_add(t, cells);
}

static int
cmd_history_exec(struct cli_ctx *c)
{
	static const char *const hdr[] = { "REV", "STARTED", "USER", "KIND",
	    "RESULT", "CHANGES" };
	struct table	*t;
	struct buf	 ch;
	json_t		*res, *row;
	size_t		 i;
	int		 rc;

	if ((rc = cli_request(c, PROTO_CMD_HISTORY, NULL, NULL, NULL,
	    &res)) != EXIT_OK)
		return rc;
	if (c->cli->json) {
		cli_print_json(res);
		json_decref(res);
		return EXIT_OK;
	}
	t = table_new(nitems(hdr), hdr);
	buf_init(&ch);
	json_array_foreach(json_object_get(res, "revisions"), i, row)
		add_row(t, row, &ch);
	table_print(t);
	table_free(t);
	buf_free(&ch);
	json_decref(res);
	return EXIT_OK;
}
