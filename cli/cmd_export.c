/*
 * shipctl export TARGET: the stack DIR resolves to, as deploy would send
 * it, written for another engine (docs/export.md).  Needs no daemon.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export.h"
#include "util.h"

static int	cmd_export_exec(struct cli_ctx *);

static const struct option options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "probe-tool", required_argument, NULL, EXPORT_OPT_PROBE_TOOL },
	{ "wave", required_argument, NULL, EXPORT_OPT_WAVE },
	{ NULL, 0, NULL, 0 }
};

static const struct {
	const char	*name;
	int		(*run)(struct cli_ctx *);
} targets[] = {
	{ "kubernetes", NULL },
	{ "swarm", export_swarm },
};

const struct cli_cmd cli_cmd_export = {
	.name = "export",
	.usage = "TARGET " CLI_COMPOSE_USAGE " [-o FILE] [--probe-tool TOOL]"
	    "... [--wave N] [DIR]",
	.summary = "write the resolved stack for another engine: swarm "
	    "(no daemon needed)",
	.help =
	    "  Loads and checks DIR (default .) as deploy does and writes\n"
	    "  the stack for TARGET, to stdout or to -o FILE.  What the\n"
	    "  target cannot express is a warning on stderr naming the\n"
	    "  service and the key (docs/export.md).\n"
	    "  swarm: a compose-format stack file for `docker stack deploy\n"
	    "  --resolve-image never -c FILE STACK`.  Swarm ignores\n"
	    "  dependencies, so services are numbered in deploy waves (the\n"
	    "  file's header lists them): deploy --wave 1, wait until it has\n"
	    "  converged, then --wave 2, and so on.\n"
	    "  -o, --output FILE   write FILE (atomically) instead of stdout\n"
	    "  --probe-tool TOOL   the images have TOOL (wget, curl, nc): http\n"
	    "                      and tcp checks become command checks\n"
	    "                      running it; again for more tools.  Without\n"
	    "                      one, such checks are left out, with a\n"
	    "                      warning\n"
	    "  --wave N            only the services of wave N\n"
	    CLI_COMPOSE_HELP,
	.shortopts = "o:",
	.longopts = options,
	.flags = CLI_COMPOSE,
	.exec = cmd_export_exec,
};

static int
cmd_export_exec(struct cli_ctx *c)
{
	const char	*target;
	size_t		 i;
	int		 rc;

	if (c->argc < 1)
		return cli_usage_error(c, "which target? (kubernetes, swarm)");
	if (c->argc > 2)
		return cli_usage_error(c, "too many arguments");
	target = c->argv[0];
	c->argc--;
	c->argv++;
	if (c->argc >= 1)
		c->dir = c->argv[0];
	for (i = 0; i < nitems(targets); i++)
		if (strcmp(targets[i].name, target) == 0)
			break;
	if (i == nitems(targets))
		return cli_usage_error(c, "unknown target %s (kubernetes, "
		    "swarm)", target);
	if (targets[i].run == NULL) {
		cli_err("export %s: not built into this shipctl", target);
		return EXIT_USAGE;
	}
	if ((rc = cli_load(c)) != EXIT_OK)
		return rc;
	return targets[i].run(c);
}
