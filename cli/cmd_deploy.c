/*
 * shipctl deploy: load and validate a unit directory with the caller's
 * environment and permissions (the prologue does), send the resolved
 * stack to shipd, and show each step as it happens.
 */
#include <stdio.h>
#include <string.h>

#include "buildctx.h"
#include "cli.h"
#include "proto.h"
#include "unit.h"

static int	cmd_deploy_exec(struct cli_ctx *);

static const struct option options[] = {
	{ "skip-check", required_argument, NULL, 'k' },
	{ "wait", no_argument, NULL, 'w' },
	{ "no-backup", no_argument, NULL, 'B' },
	{ "remove-orphans", no_argument, NULL, 'R' },
	{ "no-build", no_argument, NULL, 'N' },
	{ NULL, 0, NULL, 0 }
};

const struct cli_cmd cli_cmd_deploy = {
	.name = "deploy",
	.usage = "[--wait] [--no-backup] [--no-build] [--remove-orphans] "
	    "[--skip-check NAME]... " CLI_COMPOSE_USAGE " [DIR]",
	.summary = "deploy the unit directory (default .) in dependency order",
	.help =
	    "  Loads and validates DIR with your environment, sends the\n"
	    "  resolved stack to shipd and shows each step: the plan,\n"
	    "  pre-flight checks, then each service as it starts.  Services\n"
	    "  whose spec and image are unchanged keep their containers;\n"
	    "  when nothing at all would change, no revision is recorded\n"
	    "  (\"nothing to change: revision N stands\").\n"
	    "  A failed gate rolls back to the current revision by starting\n"
	    "  the kept containers.  Only the services the deploy changes,\n"
	    "  those that depend on them and those they wait on are gated:\n"
	    "  an unrelated unhealthy service does not fail it.  Exits 0 when\n"
	    "  those are up and healthy, 1 when the deploy failed (rolled\n"
	    "  back or not).\n"
	    "  An engine that stops answering fails the deploy at the call's\n"
	    "  deadline (30 s; a container stop: its stop_grace + 30 s) with\n"
	    "  an error naming the call, and the stack's lock is released.\n"
	    "  A deploy that would remove services whose unit files are no\n"
	    "  longer in DIR is refused, naming them, with nothing changed\n"
	    "  (exit 2), unless --remove-orphans is given.\n"
	    "  Each phase ends with a line of its own, with its result and\n"
	    "  time: [1/6] plan, [2/6] pre-flight, [3/6] backup, [4/6] apply,\n"
	    "  [5/6] verify, [6/6] commit (\"skipped\" for one the deploy\n"
	    "  did not need; a rollback's phases follow as \"rollback ...\").\n"
	    "  Ctrl-C detaches: the deploy goes on in shipd, shipctl says how\n"
	    "  to follow it (shipctl attach --stack S) or stop it (shipctl\n"
	    "  cancel --stack S), and exits 130.  A deploy still queued for\n"
	    "  the lock (--wait) is dropped instead, with nothing changed.\n"
	    "  Ctrl-C never cancels, so there is no second one to press.\n"
	    "\n"
	    "  --wait             queue behind another operation on the stack\n"
	    "                     instead of failing at once (a stack shipd is\n"
	    "                     recovering after a restart is waited for\n"
	    "                     without it)\n"
	    "  --no-backup        do not back up the services about to change\n"
	    "                     (those with backup:) before applying\n"
	    "  --no-build         do not build the services with build:\n"
	    "                     first (by default each is built as\n"
	    "                     `shipctl build` does, before anything is\n"
	    "                     stopped; an unchanged context is reused)\n"
	    "  --remove-orphans   remove the services no longer in DIR (after\n"
	    "                     everything else is up)\n"
	    "  --skip-check NAME  skip a pre-flight check: images, pull,\n"
	    "                     ports, disk, dependencies, networks,\n"
	    "                     volumes (never the policy of shipd's\n"
	    "                     configuration: see shipd(8))\n"
	    CLI_COMPOSE_HELP,
	.longopts = options,
	.flags = CLI_DIR | CLI_UNITS | CLI_DETACH | CLI_COMPOSE,
	.exec = cmd_deploy_exec,
};

static json_t *
deploy_args(struct cli_ctx *c)
{
	json_t	*args, *skip = json_array();
	size_t	 i;

	for (i = 0; i < c->nopts; i++)
		if (c->opts[i].ch == 'k')
			json_array_append_new(skip,
			    json_string(c->opts[i].arg));
	args = json_pack("{s:o, s:o}", "stack", stack_to_json(c->st),
	    "skip_checks", skip);
	if (cli_opt_has(c, 'w'))
		json_object_set_new(args, "wait", json_true());
	if (cli_opt_has(c, 'B'))
		json_object_set_new(args, "no_backup", json_true());
	if (cli_opt_has(c, 'R'))
		json_object_set_new(args, "remove_orphans", json_true());
	return args;
}

static int
cmd_deploy_exec(struct cli_ctx *c)
{
	struct cli_progress	 p = { .cli = c->cli };
	json_t			*res, *row;
	size_t			 i, changed = 0, removed = 0, n;
	const char		*act;
	int			 rc;

	/* Before the stack goes: a failed build changes nothing. */
	if (!cli_opt_has(c, 'N') &&
	    (rc = cli_build_stack(c->cli, c->st, NULL, 0, false)) != EXIT_OK)
		return rc;
	rc = cli_request(c, PROTO_CMD_DEPLOY, deploy_args(c),
	    cli_progress_deploy, &p, &res);
	if (rc != EXIT_DETACHED)
		cli_progress_end(&p, rc == EXIT_OK);
	cli_progress_free(&p);
	if (rc != EXIT_OK)
		return rc;
	if (c->cli->json)
		cli_print_json(res);
	else if (json_is_true(json_object_get(res, "unchanged")))
		printf("nothing to change: revision %lld stands\n",
		    cli_int(res, "revision"));
	else {
		json_array_foreach(json_object_get(res, "services"), i, row) {
			act = cli_str(row, "action");
			if (strcmp(act, "remove") == 0)
				removed++;
			else if (strcmp(act, "unchanged") != 0)
				changed++;
		}
		/* Removed services are no longer the stack's: not in "of N". */
		n = json_array_size(json_object_get(res, "services")) - removed;
		printf("deployed %s revision %lld in %.2fs (%zu of %zu "
		    "services changed", c->st->name, cli_int(res, "revision"),
		    cli_secs(res, "elapsed_ms"), changed, n);
		if (removed > 0)
			printf(", %zu removed", removed);
		printf(")\n");
	}
	json_decref(res);
	return EXIT_OK;
}
