/*
 * shipctl plan: what a deploy of the unit directory would do, per service,
 * with the reason, in the order it would run.  Exit 0: no change; 1:
 * changes; 2: error.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "proto.h"
#include "unit.h"

static int	cmd_plan_exec(struct cli_ctx *);

const struct cli_cmd cli_cmd_plan = {
	.name = "plan",
	.usage = CLI_COMPOSE_USAGE " [DIR]",
	.summary = "show what a deploy of DIR would change, and why",
	.help =
	    "  Per service: create, recreate, scale, remove or unchanged,\n"
	    "  with the reason.  remove is a service whose unit file is no\n"
	    "  longer in DIR: deploy removes it only with --remove-orphans.\n"
	    "  Exit 0: no change; 1: changes; 2: error.\n" CLI_COMPOSE_HELP,
	.flags = CLI_DIR | CLI_UNITS | CLI_COMPOSE,
	.exec = cmd_plan_exec,
};

static int
cmd_plan_exec(struct cli_ctx *c)
{
	json_t	*res, *row;
	size_t	 i, changes = 0, removes = 0;

	/* plan's own contract: 2 for any error */
	if (cli_request(c, PROTO_CMD_PLAN, json_pack("{s:o}", "stack",
	    stack_to_json(c->st)), NULL, NULL, &res) != EXIT_OK)
		return EXIT_USAGE;
	json_array_foreach(json_object_get(res, "services"), i, row) {
		if (strcmp(cli_str(row, "action"), "unchanged") != 0)
			changes++;
		if (strcmp(cli_str(row, "action"), "remove") == 0)
			removes++;
	}
	if (c->cli->json)
		cli_print_json(res);
	else {
		printf("plan for %s (current revision %lld):\n", c->st->name,
		    cli_int(res, "current"));
		json_array_foreach(json_object_get(res, "services"), i, row)
			printf("  %-16s %-10s %s\n", cli_str(row, "service"),
			    cli_str(row, "action"), cli_str(row, "reason"));
		printf("%zu change%s\n", changes, changes == 1 ? "" : "s");
		if (removes > 0)
			printf("%zu service%s to remove: deploy needs "
			    "--remove-orphans\n", removes, removes == 1 ? "" :
			    "s");
	}
	json_decref(res);
	return changes > 0 ? 1 : 0;
}
