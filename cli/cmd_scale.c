/*
 * shipctl scale SERVICE=N...: change replica counts through the same
 * gated path as deploy.  The count persists across deploys until the unit
 * file's own count changes.  SERVICE=MIN:MAX: an autoscaled service's
 * bounds.
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
	.usage = "[--stack NAME] SERVICE=N|SERVICE=MIN:MAX...",
	.summary = "change replica counts, gating new replicas on health",
	.help =
	    "  Scale-down stops the highest-numbered replicas with the unit's\n"
	    "  stop_grace.  The count persists across deploys until the unit\n"
	    "  file's own replicas value changes.  A count the unit files\n"
	    "  could not say (a fixed host port, a completed dependency on\n"
	    "  the service, the range) is refused, exit 2, with nothing\n"
	    "  changed.\n"
	    "  An autoscaled service (autoscale: in its unit) has its count\n"
	    "  set by shipd: SERVICE=N is refused for it, exit 2, naming\n"
	    "  its bounds; SERVICE=MIN:MAX sets new bounds (the count moves\n"
	    "  into them at once, gated as any scale) that hold across\n"
	    "  deploys until the unit file's own min or max changes.\n"
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

/* A whole number from lo to hi, all of s. */
static int
count_of(const char *s, long lo, long hi, long *out)
{
	char	*end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno != 0 || *end != '\0' || end == s || *out < lo ||
	    *out > hi ? -1 : 0;
}

/* SERVICE=N, N from 0 to UNIT_REPLICAS_MAX, into want; SERVICE=MIN:MAX
 * into bounds. */
static int
parse_want(struct cli_ctx *c, char *arg, json_t *want, json_t *bounds)
{
	char	*eq = strchr(arg, '='), *colon;
	long	 n, min, max;

	if (eq == NULL || eq == arg)
		return cli_usage_error(c, "'%s': expected SERVICE=N or "
		    "SERVICE=MIN:MAX", arg);
	*eq = '\0';
	if ((colon = strchr(eq + 1, ':')) != NULL) {
		*colon = '\0';
		if (count_of(eq + 1, 1, UNIT_REPLICAS_MAX, &min) < 0 ||
		    count_of(colon + 1, 1, UNIT_REPLICAS_MAX, &max) < 0 ||
		    max < min)
			return cli_usage_error(c, "%s: autoscale bounds are "
			    "MIN:MAX with 1 <= MIN <= MAX <= %d", arg,
			    UNIT_REPLICAS_MAX);
		json_object_set_new(bounds, arg, json_pack("{s:i, s:i}",
		    "min", (int)min, "max", (int)max));
		return EXIT_OK;
	}
	if (count_of(eq + 1, 0, UNIT_REPLICAS_MAX, &n) < 0)
		return cli_usage_error(c, "%s: replicas must be a whole "
		    "number from 0 to %d", arg, UNIT_REPLICAS_MAX);
	json_object_set_new(want, arg, json_integer(n));
	return EXIT_OK;
}

static int
cmd_scale_exec(struct cli_ctx *c)
{
	json_t	*want, *bounds, *args, *res;
	int	 i, rc;

	if (c->argc < 1)
		return cli_usage_error(c, "name at least one SERVICE=N or "
		    "SERVICE=MIN:MAX");
	want = json_object();
	bounds = json_object();
	for (i = 0; i < c->argc; i++) {
		if ((rc = parse_want(c, c->argv[i], want, bounds)) !=
		    EXIT_OK) {
			json_decref(want);
			json_decref(bounds);
			return rc;
		}
	}
	args = json_pack("{s:o}", "replicas", want);
	if (json_object_size(bounds) > 0)
		json_object_set(args, "bounds", bounds);
	json_decref(bounds);
	if ((rc = cli_request(c, PROTO_CMD_SCALE, args, on_event, c->cli,
	    &res)) != EXIT_OK)
		return rc;
	if (c->cli->json)
		cli_print_json(res);
	else
		printf("scaled %s in %.2fs\n", c->stack, cli_secs(res,
		    "elapsed_ms"));
	json_decref(res);
	return EXIT_OK;
}
