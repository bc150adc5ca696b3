/*
 * shipctl history: a stack's revisions, newest last.
 */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

int
cmd_history(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stack", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const hdr[] = { "REV", "STARTED", "USER", "KIND",
	    "RESULT", "CHANGES" };
	const char	*stack_opt = NULL;
	struct table	*t;
	struct buf	 ch;
	json_t		*res, *row, *c;
	char		*stack, rev[32], uid[32];
	size_t		 i, k;
	int		 opt, rc;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt != 'S')
			return cli_usage_error("history", "unknown option");
		stack_opt = optarg;
	}
	if ((stack = cli_stack_name(stack_opt, argv[optind])) == NULL)
		return EXIT_USAGE;
	rc = cli_call(cli, "history", json_pack("{s:s}", "stack", stack),
	    NULL, NULL, &res);
	free(stack);
	if (rc != EXIT_OK)
		return rc;
	if (cli->json) {
		cli_print_json(res);
		json_decref(res);
		return EXIT_OK;
	}
	t = table_new(6, hdr);
	buf_init(&ch);
	json_array_foreach(json_object_get(res, "revisions"), i, row) {
		const char *result = json_string_value(json_object_get(row,
		    "result"));

		snprintf(rev, sizeof rev, "%lld%s",
		    (long long)json_integer_value(json_object_get(row,
		    "revision")), json_is_true(json_object_get(row,
		    "current")) ? "*" : "");
		{
			json_int_t u = json_integer_value(json_object_get(row,
			    "uid"));
			struct passwd *pw = getpwuid((uid_t)u);

			if (pw != NULL)
				snprintf(uid, sizeof uid, "%s", pw->pw_name);
			else
				snprintf(uid, sizeof uid, "%lld", (long long)u);
		}
		buf_reset(&ch);
		json_array_foreach(json_object_get(row, "changes"), k, c)
			buf_printf(&ch, "%s%s %s", k ? ", " : "",
			    json_string_value(json_object_get(c, "action")),
			    json_string_value(json_object_get(c, "service")));
		if (json_object_get(row, "reason") != NULL)
			buf_printf(&ch, "%s(%s)", ch.len ? " " : "",
			    json_string_value(json_object_get(row, "reason")));
		const char *cells[] = { rev, json_string_value(
		    json_object_get(row, "started")), uid, json_string_value(
		    json_object_get(row, "kind")), result, ch.data ? ch.data :
		    "" };
		table_add(t, cells);
	}
	table_print(t);
	table_free(t);
	buf_free(&ch);
	json_decref(res);
	return EXIT_OK;
}
