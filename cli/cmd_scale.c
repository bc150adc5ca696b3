/*
 * shipctl scale SERVICE=N...: change replica counts through the same
 * gated path as deploy.  The count persists across deploys until the unit
 * file's own count changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "proto.h"
#include "unit.h"

static int	cmd_scale_exec(struct cli_ctx *);

const struct cli_cmd cli_cmd_scale = {
	.name = "scale",
	.usage = "[--stack NAME] SERVICE=N...",
	.summary = "change replica counts, gating new replicas on health",
	.help =
	    "  Scale-down stops the highest-numbered replicas with the unit's\n"
	    "  stop_grace.  The count persists across deploys until the unit\n"
	    "  file's own replicas value changes.  A count the unit files\n"
	    "  could not say (a fixed host port, a completed dependency on\n"
	    "  the service, the range) is refused, exit 2, with nothing\n"
	    "  changed.\n"
	    "  Ctrl-C detaches as it does from deploy (exit 130; the scale\n"
	    "  goes on: shipctl attach, shipctl cancel).\n",
	.flags = CLI_STACK | CLI_STACK_NEED | CLI_DETACH,
	.exec = cmd_scale_exec,
};

static int
on_event(json_t *ev, void *arg)
{
	struct cli *cli = arg;

	if (cli->json) {
		cli_print_json(ev);
		return 0;
	}
	if (strcmp(cli_str(ev, "event"), PROTO_EV_STEP) == 0)
		printf("[%6.2fs] %s replica %lld %s\n", cli_secs(ev,
		    "elapsed_ms"), json_string_value(json_object_get(ev,
		    "service")), cli_int(ev, "replica"),
		    json_string_value(json_object_get(ev, "step")));
	fflush(stdout);
	return 0;
}

/* SERVICE=N, N from 0 to UNIT_REPLICAS_MAX, into want. */
static int
parse_want(struct cli_ctx *c, char *arg, json_t *want)
{
	char	*eq = strchr(arg, '='), *end;
	long	 n;

	if (eq == NULL || eq == arg)
		return cli_usage_error(c, "'%s': expected SERVICE=N", arg);
	*eq = '\0';
	errno = 0;
	n = strtol(eq + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == eq + 1 || n < 0 ||
	    n > UNIT_REPLICAS_MAX)
		return cli_usage_error(c, "%s: replicas must be a whole "
		    "number from 0 to %d", arg, UNIT_REPLICAS_MAX);
	json_object_set_new(want, arg, json_integer(n));
	return EXIT_OK;
}

static int
cmd_scale_exec(struct cli_ctx *c)
{
	json_t	*want, *res;
	int	 i, rc;

	if (c->argc < 1)
		return cli_usage_error(c, "name at least one SERVICE=N");
	want = json_object();
	for (i = 0; i < c->argc; i++) {
		if ((rc = parse_want(c, c->argv[i], want)) != EXIT_OK) {
			json_decref(want);
			return rc;
		}
	}
	if ((rc = cli_request(c, PROTO_CMD_SCALE, json_pack("{s:o}",
	    "replicas", want), on_event, c->cli, &res)) != EXIT_OK)
		return rc;
	if (c->cli->json)
		cli_print_json(res);
	else
		printf("scaled %s in %.2fs\n", c->stack, cli_secs(res,
		    "elapsed_ms"));
	json_decref(res);
	return EXIT_OK;
}
