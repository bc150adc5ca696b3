/*
 * shipctl: the operator's command line.  Global options, then one command
 * from the table below; each command lives in its own cmd_*.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "proto.h"
#include "util.h"

const struct cli_cmd cli_cmds[] = {
	{ "backup", "[--stack NAME] [--quiet] [SERVICE...] | --verify ID",
	    "back up the services that declare backup: (every stack's if "
	    "none is named)", cmd_backup,
	    "  Streams each backup: path of replica 1 to the state dir with\n"
	    "  its sha256; services with stop: true (and their dependents)\n"
	    "  are stopped for the copy and started again, gated on health.\n"
	    "  --quiet prints nothing on success; a failure always prints and\n"
	    "  exits non-zero, so cron can run it.  --verify ID re-reads a\n"
	    "  stored backup and checks every sha256.\n" },
	{ "backups", "[--stack NAME]",
	    "list stored backups: id, time, services, size, revision",
	    cmd_backups, NULL },
	{ "deploy", "[--wait] [--no-backup] [--skip-check NAME]... [DIR]",
	    "deploy the unit directory (default .) in dependency order",
	    cmd_deploy,
	    "  Loads and validates DIR with your environment, sends the\n"
	    "  resolved stack to shipd and shows each step: the plan,\n"
	    "  pre-flight checks, then each service as it starts.  Services\n"
	    "  whose spec and image are unchanged keep their containers.\n"
	    "  A failed gate rolls back to the current revision by starting\n"
	    "  the kept containers.  Exits 0 when every service is up and\n"
	    "  healthy, 1 when the deploy failed (rolled back or not).\n"
	    "\n"
	    "  --wait             queue behind another operation on the stack\n"
	    "                     instead of failing at once\n"
	    "  --no-backup        do not back up the services about to change\n"
	    "                     (those with backup:) before applying\n"
	    "  --skip-check NAME  skip a pre-flight check: images, pull,\n"
	    "                     ports, disk, networks, volumes\n" },
	{ "down", "[--stack NAME] [--volumes] [DIR]",
	    "stop and remove a stack's containers and networks", cmd_down,
	    "  Dependents go first.  Named volumes stay unless --volumes.\n" },
	{ "events", "[--stack NAME] [DIR]",
	    "show the stack's engine events as they happen", cmd_events,
	    NULL },
	{ "help", "[COMMAND]", "show help for shipctl or one command",
	    cmd_help, NULL },
	{ "history", "[--stack NAME] [DIR]",
	    "list a stack's revisions (* marks the current one)", cmd_history,
	    NULL },
	{ "logs", "[--stack NAME] [-f] [--tail N] [--since DUR|TIME] SERVICE",
	    "show a service's output, every replica, through shipd", cmd_logs,
	    "  -f, --follow   keep following until interrupted\n"
	    "  -n, --tail N   only the last N lines of each replica\n"
	    "  --since 10m    only lines newer than that (or a unix time)\n" },
	{ "plan", "[DIR]",
	    "show what a deploy of DIR would change, and why", cmd_plan,
	    "  Per service: create, recreate, scale, remove or unchanged,\n"
	    "  with the reason.  Exit 0: no change; 1: changes; 2: error.\n" },
	{ "restore", "[--stack NAME] [--quiet] ID [SERVICE...]",
	    "put a backup's data back, after a safety backup of what it "
	    "replaces", cmd_restore,
	    "  Verifies the backup, stops the services (and their dependents)\n"
	    "  in reverse dependency order, backs up what is there now, puts\n"
	    "  the archives back and starts everything again in order, gated\n"
	    "  on health.  The reply names the safety backup, which restore\n"
	    "  takes back if this was the wrong one.\n" },
	{ "rollback", "[--stack NAME] [--to N] [--with-data] [DIR]",
	    "deploy an older revision again (default: the one before)",
	    cmd_rollback,
	    "  Containers kept from that revision are renamed back and\n"
	    "  started (no create, no pull); others are recreated from the\n"
	    "  revision's snapshot, pinned to its image IDs.  The result is\n"
	    "  a new revision.  --with-data also restores the backup taken\n"
	    "  before the deploy being rolled back.\n" },
	{ "scale", "[--stack NAME] SERVICE=N...",
	    "change replica counts, gating new replicas on health", cmd_scale,
	    "  Scale-down stops the highest-numbered replicas with the unit's\n"
	    "  stop_grace.  The count persists across deploys until the unit\n"
	    "  file's own replicas value changes.\n" },
	{ "status", "[--stack NAME]",
	    "show the containers of a stack: service, replica, state, health",
	    cmd_status,
	    "  --stack NAME  only this stack (default: every stack)\n" },
	{ "validate", "[DIR]",
	    "check a unit directory and print the start order (no daemon "
	    "needed)", cmd_validate,
	    "  DIR defaults to the current directory.  Every error is listed\n"
	    "  as FILE:LINE:COL: message; the exit status is 2 when any.\n" },
	{ "version", "", "print shipctl, shipd, engine and API versions",
	    cmd_version, NULL },
};
const size_t cli_ncmds = nitems(cli_cmds);

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: shipctl [-s SOCKET] [--json] COMMAND [ARGS]\n\n"
	    "Commands (a unique prefix is enough):\n");
	for (i = 0; i < cli_ncmds; i++)
		fprintf(f, "  %-10s %s\n", cli_cmds[i].name,
		    cli_cmds[i].summary);
	fprintf(f, "\nOptions:\n"
	    "  -s, --socket SOCKET  shipd's control socket (default "
	    "$SHIPD_SOCKET,\n"
	    "                       else " SHIPD_DEFAULT_SOCKET ")\n"
	    "  -j, --json           machine-readable output (JSON lines)\n"
	    "  -h, --help           this help; `shipctl help COMMAND` for "
	    "one command\n"
	    "\nExit status: 0 ok, 1 failed, 2 usage or invalid input, "
	    "3 shipd unreachable,\n"
	    "4 permission denied, 5 engine unreachable.\n");
}

const struct cli_cmd *
cli_cmd_find(const char *name, const char **why)
{
	const struct cli_cmd	*found = NULL;
	size_t			 i, len = strlen(name);

	*why = NULL;
	for (i = 0; i < cli_ncmds; i++) {
		if (strcmp(cli_cmds[i].name, name) == 0)
			return &cli_cmds[i];
		if (len > 0 && strncmp(cli_cmds[i].name, name, len) == 0) {
			if (found != NULL) {
				*why = "ambiguous";
				return NULL;
			}
			found = &cli_cmds[i];
		}
	}
	if (found == NULL)
		*why = "unknown";
	return found;
}

int
cmd_help(struct cli *cli, int argc, char **argv)
{
	const struct cli_cmd	*cmd;
	const char		*why;

	(void)cli;
	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	if ((cmd = cli_cmd_find(argv[1], &why)) == NULL) {
		cli_err("%s command '%s'", why, argv[1]);
		return EXIT_USAGE;
	}
	printf("usage: shipctl %s %s\n\n%s.\n", cmd->name, cmd->usage,
	    cmd->summary);
	if (cmd->help != NULL)
		printf("\n%s", cmd->help);
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket",	required_argument, NULL, 's' },
		{ "json",	no_argument,	   NULL, 'j' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cli_cmd	*cmd;
	struct cli		 cli;
	const char		*why;
	int			 ch;

	memset(&cli, 0, sizeof cli);
	cli.socket = getenv("SHIPD_SOCKET");
	if (cli.socket == NULL || *cli.socket == '\0')
		cli.socket = SHIPD_DEFAULT_SOCKET;
	/* "+": stop at the command, so its own options stay its own. */
	while ((ch = getopt_long(argc, argv, "+s:jh", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			cli.socket = optarg;
			break;
		case 'j':
			cli.json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cli.color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	if ((cmd = cli_cmd_find(argv[optind], &why)) == NULL) {
		cli_err("%s command '%s' (see shipctl --help)", why,
		    argv[optind]);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	/* Every command takes --help after its name. */
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		char *hargv[] = { "help", (char *)cmd->name, NULL };

		return cmd_help(&cli, 2, hargv);
	}
	optind = 0;	/* glibc: re-initialise getopt for the command */
	return cmd->exec(&cli, argc, argv);
}
