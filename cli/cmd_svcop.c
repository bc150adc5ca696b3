/*
 * shipctl stop|start|restart [--wait] SERVICE...: services of the current
 * revision stopped, started or restarted in place, dependency-aware, with
 * no new revision (shipd's ops/svcop.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "proto.h"
#include "util.h"

static int	cmd_svcop_exec(struct cli_ctx *);

static const struct option options[] = {
	{ "wait", no_argument, NULL, 'w' },
	{ NULL, 0, NULL, 0 }
};

#define SVCOP_WAIT_HELP "\n" \
	"  --wait   queue behind another operation on the stack instead of\n" \
	"           being refused busy\n"

const struct cli_cmd cli_cmd_stop = {
	.name = "stop",
	.usage = "[--stack NAME] [--wait] SERVICE...",
	.summary = "stop services, their dependents first",
	.help =
	    "  Every service that depends on one named (directly or not) is\n"
	    "  stopped first, in reverse dependency order, and named in the\n"
	    "  output.  The containers stay; what was stopped stays stopped\n"
	    "  across shipd restarts and deploys until `shipctl start`.  No\n"
	    "  revision is made; history lists the stop.\n"
	    SVCOP_WAIT_HELP,
	.shortopts = "w",
	.longopts = options,
	.flags = CLI_STACK | CLI_STACK_NEED,
	.exec = cmd_svcop_exec,
};

const struct cli_cmd cli_cmd_start = {
	.name = "start",
	.usage = "[--stack NAME] [--wait] SERVICE...",
	.summary = "start stopped services in dependency order, gated",
	.help =
	    "  Starts the named services, the stopped services they depend\n"
	    "  on, and the stopped services that depend on them, dependencies\n"
	    "  first, each replica gated on health as a deploy's is.  No\n"
	    "  revision is made; history lists the start.\n"
	    SVCOP_WAIT_HELP,
	.shortopts = "w",
	.longopts = options,
	.flags = CLI_STACK | CLI_STACK_NEED,
	.exec = cmd_svcop_exec,
};

const struct cli_cmd cli_cmd_restart = {
	.name = "restart",
	.usage = "[--stack NAME] [--wait] SERVICE...",
	.summary = "restart services in place, then their dependents",
	.help =
	    "  Each replica is stopped and started again (update.parallelism\n"
	    "  at a time) and gated on health; then the running services that\n"
	    "  depend on them, in dependency order.  The same containers: no\n"
	    "  new revision; history lists the restart.\n"
	    SVCOP_WAIT_HELP,
	.shortopts = "w",
	.longopts = options,
	.flags = CLI_STACK | CLI_STACK_NEED,
	.exec = cmd_svcop_exec,
};

struct svcop_ui {
	struct cli_progress	 p;
	json_t			*plan;		/* the plan event's rows */
};

/* The plan in the order it runs, with what each comes along for. */
static void
show_plan(json_t *ev)
{
	json_t	*row;
	size_t	 i;

	json_array_foreach(json_object_get(ev, "services"), i, row) {
		const char *why = cli_str(row, "reason");

		if (strcmp(why, "named") == 0)
			printf("  %-16s %s\n", cli_str(row, "service"),
			    cli_str(row, "action"));
		else
			printf("  %-16s %-8s %s\n", cli_str(row, "service"),
			    cli_str(row, "action"), why);
	}
}

static int
on_event(json_t *ev, void *arg)
{
	struct svcop_ui *ui = arg;

	if (!ui->p.cli->json && strcmp(cli_str(ev, "event"),
	    PROTO_EV_PLAN) == 0) {
		json_decref(ui->plan);
		ui->plan = json_incref(json_object_get(ev, "services"));
		show_plan(ev);
		fflush(stdout);
		return 0;
	}
	return cli_progress_deploy(ev, &ui->p);
}

/* "stopped db of demo in 1.20s; stopped first, as they depend on it: web" */
static void
show_done(struct cli_ctx *c, struct svcop_ui *ui, json_t *res)
{
	struct buf	 named, more;
	json_t		*row;
	size_t		 i;
	const char	*verb = strcmp(c->cmd->name, "stop") == 0 ? "stopped" :
	    strcmp(c->cmd->name, "start") == 0 ? "started" : "restarted";

	buf_init(&named);
	buf_init(&more);
	json_array_foreach(ui->plan, i, row) {
		struct buf *b = strcmp(cli_str(row, "reason"), "named") == 0 ?
		    &named : &more;

		buf_printf(b, "%s%s", b->len ? ", " : "", cli_str(row,
		    "service"));
	}
	printf("%s %s of %s in %.2fs", verb, named.data ? named.data : "",
	    c->stack, cli_secs(res, "elapsed_ms"));
	if (more.len > 0) {
		if (strcmp(c->cmd->name, "stop") == 0)
			printf("; their dependents were stopped first: %s",
			    more.data);
		else if (strcmp(c->cmd->name, "start") == 0)
			printf("; with the stopped services they need or that "
			    "need them: %s", more.data);
		else
			printf("; then their dependents: %s", more.data);
	}
	printf("\n");
	buf_free(&named);
	buf_free(&more);
}

static int
cmd_svcop_exec(struct cli_ctx *c)
{
	struct svcop_ui	 ui;
	json_t		*names, *res, *args;
	int		 i, rc;

	if (c->argc < 1)
		return cli_usage_error(c, "name at least one SERVICE");
	names = json_array();
	for (i = 0; i < c->argc; i++)
		json_array_append_new(names, json_string(c->argv[i]));
	args = json_pack("{s:o}", "services", names);
	if (cli_opt_has(c, 'w'))
		json_object_set_new(args, "wait", json_true());
	memset(&ui, 0, sizeof ui);
	ui.p.cli = c->cli;
	rc = cli_request(c, c->cmd->name, args, on_event, &ui, &res);
	cli_progress_free(&ui.p);
	if (rc != EXIT_OK) {
		json_decref(ui.plan);
		return rc;
	}
	if (c->cli->json)
		cli_print_json(res);
	else
		show_done(c, &ui, res);
	json_decref(ui.plan);
	json_decref(res);
	return EXIT_OK;
}
