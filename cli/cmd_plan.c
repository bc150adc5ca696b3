/*
 * shipctl plan: what a deploy of the unit directory would do, per service,
 * with the reason, in the order it would run.  Exit 0: no change; 1:
 * changes; 2: error.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "stackgraph.h"

extern char **environ;

static const char *
s(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

int
cmd_plan(struct cli *cli, int argc, char **argv)
{
	struct diag_list	 errs;
	struct stack		*st;
	struct graph		*g;
	const char		*dir = argc > 1 ? argv[1] : ".";
	json_t			*res, *row;
	size_t			 i, changes = 0;
	int			 rc;

	if (argc > 2)
		return cli_usage_error("plan", "too many arguments");
	diag_init(&errs);
	if (stack_load_checked(dir, environ, &st, &g, &errs) != 0) {
		cli_print_diags(cli, &errs, dir);
		diag_free(&errs);
		return EXIT_USAGE;
	}
	diag_free(&errs);
	graph_free(g);
	rc = cli_call(cli, "plan", json_pack("{s:o}", "stack",
	    stack_to_json(st)), NULL, NULL, &res);
	if (rc != EXIT_OK) {
		stack_free(st);
		/* plan's own contract: 2 for any error */
		return EXIT_USAGE;
	}
	json_array_foreach(json_object_get(res, "services"), i, row)
		if (strcmp(s(row, "action"), "unchanged") != 0)
			changes++;
	if (cli->json)
		cli_print_json(res);
	else {
		printf("plan for %s (current revision %lld):\n", st->name,
		    (long long)json_integer_value(json_object_get(res,
		    "current")));
		json_array_foreach(json_object_get(res, "services"), i, row)
			printf("  %-16s %-10s %s\n", s(row, "service"),
			    s(row, "action"), s(row, "reason"));
		printf("%zu change%s\n", changes, changes == 1 ? "" : "s");
	}
	json_decref(res);
	stack_free(st);
	return changes > 0 ? 1 : 0;
}
