/*
 * shipctl export TARGET: the resolved stack (the one deploy sends) written
 * for another engine.  Each target is one row of the table below and its
 * own export_<target>*.c; what they share (loading, -o, warnings, the YAML
 * writer) is here and in export_yaml.c.  Needs no daemon.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export.h"
#include "unit.h"
#include "util.h"

static int	cmd_export_exec(struct cli_ctx *);

/* Sorted by name. */
static const struct export_target targets[] = {
	{ "kubernetes", "Kubernetes manifests (docs/export.md)",
	    export_kubernetes },
	{ "swarm", "a stack file for docker stack deploy (docs/export.md)",
	    export_swarm },
};

static const struct option options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "namespace", required_argument, NULL, 'n' },
	{ "service-type", required_argument, NULL, 'T' },
	{ "wait-image", required_argument, NULL, 'W' },
	{ "kubectl-image", required_argument, NULL, 'K' },
	{ "probe-tool", required_argument, NULL, EXPORT_OPT_PROBE_TOOL },
	{ "wave", required_argument, NULL, EXPORT_OPT_WAVE },
	{ NULL, 0, NULL, 0 }
};

const struct cli_cmd cli_cmd_export = {
	.name = "export",
	.usage = "TARGET " CLI_COMPOSE_USAGE " [-o OUT] "
	    "[TARGET OPTIONS] [DIR]",
	.summary = "write the resolved stack for another engine (no daemon "
	    "needed)",
	.help =
	    "  Loads DIR (default .) as deploy does and writes it for\n"
	    "  another engine.  What the target cannot express is a warning\n"
	    "  on stderr naming the service and the key (docs/export.md).\n"
	    "  TARGET is one of:\n"
	    "  kubernetes: one multi-document YAML stream of manifests (a\n"
	    "  Namespace, ConfigMaps, Secrets, Deployments or StatefulSets,\n"
	    "  Jobs for one-shots, HorizontalPodAutoscalers for autoscale,\n"
	    "  Services, CronJob skeletons for backups; probes from health\n"
	    "  and on_unhealthy),\n"
	    "  to stdout, or to OUT/NS.yaml with -o.\n"
	    "  swarm: a compose-format stack file for `docker stack deploy\n"
	    "  --resolve-image never -c FILE STACK`, to stdout or to the\n"
	    "  file OUT with -o.  Swarm ignores dependencies, so services\n"
	    "  are numbered in deploy waves (the file's header lists them):\n"
	    "  deploy --wave 1, wait until it has converged, then --wave 2,\n"
	    "  and so on.\n"
	    "  -o, --output OUT         kubernetes: write OUT/NS.yaml (a\n"
	    "                           directory; the file atomically);\n"
	    "                           swarm: write the file OUT atomically\n"
	    "  kubernetes options:\n"
	    "  --namespace NS           the namespace (default: the stack)\n"
	    "  --service-type T         Service type for host ports:\n"
	    "                           LoadBalancer (default) or NodePort\n"
	    "  --wait-image IMG         image of the init containers that wait\n"
	    "                           for dependencies (default busybox:1.36)\n"
	    "  --kubectl-image IMG      image of those waiting for a Job to\n"
	    "                           complete (default bitnami/kubectl:1.30)\n"
	    "  swarm options:\n"
	    "  --probe-tool TOOL        the images have TOOL (wget, curl, nc):\n"
	    "                           http and tcp checks become command\n"
	    "                           checks running it; again for more\n"
	    "                           tools.  Without one, such checks are\n"
	    "                           left out, with a warning\n"
	    "  --wave N                 only the services of wave N\n"
	    CLI_COMPOSE_HELP,
	.shortopts = "o:",
	.longopts = options,
	.flags = CLI_COMPOSE,
	.exec = cmd_export_exec,
};

const char *
export_target_name(size_t i)
{
	return i < nitems(targets) ? targets[i].name : NULL;
}

static int
cmd_export_exec(struct cli_ctx *c)
{
	struct export_ctx	 x;
	const struct export_target *t = NULL;
	size_t			 i;
	int			 rc;

	if (c->argc < 1)
		return cli_usage_error(c, "export needs a target (shipctl help "
		    "export)");
	for (i = 0; i < nitems(targets); i++)
		if (strcmp(targets[i].name, c->argv[0]) == 0)
			t = &targets[i];
	if (t == NULL)
		return cli_usage_error(c, "unknown export target: %s",
		    c->argv[0]);
	if (c->argc > 2)
		return cli_usage_error(c, "export %s takes one DIR", t->name);
	c->argv++;
	c->argc--;
	c->dir = c->argc > 0 ? c->argv[0] : ".";
	if ((rc = cli_load(c)) != EXIT_OK)
		return rc;
	memset(&x, 0, sizeof x);
	x.c = c;
	x.st = c->st;
	x.outdir = cli_opt_get(c, 'o');
	rc = t->run(&x);
	if (x.nwarn > 0)
		fprintf(stderr, "shipctl: export: %d warning%s: what %s cannot "
		    "express (docs/export.md)\n", x.nwarn, x.nwarn == 1 ? "" :
		    "s", t->name);
	return rc;
}
