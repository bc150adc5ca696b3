/*
 * shipctl: the operator's command line.  Global options, then one command
 * from the table in commands.c; each command lives in its own cmd_*.c.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "proto.h"

/*
 * --json (-j) may come after the command too, as `shipctl status --json`;
 * it is seen before anything is parsed, so that every error, a bad
 * option's too, is printed as JSON.  Nothing after "--" counts.
 */
static bool
wants_json(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--json") == 0 ||
		    strcmp(argv[i], "-j") == 0)
			return true;
	}
	return false;
}

static int
usage_error(struct cli *cli, const char *why)
{
	if (cli->json)
		cli_fail(PROTO_E_USAGE, "%s (see shipctl --help)", why);
	else
		cli_usage(cli->cmds, stderr);
	return EXIT_USAGE;
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
	cli.cmds = cli_cmds;
	cli.socket = getenv("SHIPD_SOCKET");
	if (cli.socket == NULL || *cli.socket == '\0')
		cli.socket = SHIPD_DEFAULT_SOCKET;
	/* Hidden: the shell's completion asks with the words it has. */
	if (argc > 1 && strcmp(argv[1], "__complete") == 0)
		return cli_complete(&cli, argc - 2, argv + 2);
	cli.json = wants_json(argc, argv);
	cli_json_errors(cli.json);
	opterr = !cli.json;
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
			cli_usage(cli.cmds, stdout);
			return EXIT_OK;
		default:
			return usage_error(&cli, "unknown option");
		}
	}
	if (optind >= argc)
		return usage_error(&cli, "no command");
	cli.color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	if ((cmd = cli_cmd_find(cli.cmds, argv[optind], &why)) == NULL) {
		cli_fail(PROTO_E_USAGE, "%s command '%s' (see shipctl --help)",
		    why, argv[optind]);
		return EXIT_USAGE;
	}
	return cli_cmd_run(&cli, cmd, argc - optind, argv + optind);
}
