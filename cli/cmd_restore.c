/*
 * shipctl restore: put a backup's data back into a stack's services,
 * stopping them and their dependents around it, after a safety backup of
 * what is overwritten.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int	cli_backup_event(json_t *, void *);		/* cmd_backup.c */
void	cli_backup_quiet(bool);

int
cmd_restore(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stack", required_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 }
	};
	bool		 quiet = false;
	const char	*stack = getenv("SHIPD_STACK");
	json_t		*args, *svcs, *res, *v;
	size_t		 i;
	int		 ch, rc;

	if (stack != NULL && *stack == '\0')
		stack = NULL;
	while ((ch = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		if (ch == 'S')
			stack = optarg;
		else if (ch == 'q')
			quiet = true;
		else
			return cli_usage_error("restore", "unknown option");
	}
	if (optind >= argc)
		return cli_usage_error("restore", "which backup? (see "
		    "shipctl backups)");
	args = json_pack("{s:s}", "id", argv[optind]);
	if (stack != NULL)
		json_object_set_new(args, "stack", json_string(stack));
	if (optind + 1 < argc) {
		svcs = json_array();
		for (i = (size_t)optind + 1; i < (size_t)argc; i++)
			json_array_append_new(svcs, json_string(argv[i]));
		json_object_set_new(args, "services", svcs);
	}
	cli_backup_quiet(quiet);
	rc = cli_call(cli, "restore", args, cli_backup_event, cli, &res);
	if (rc != EXIT_OK)
		return rc;
	if (cli->json)
		cli_print_json(res);
	else if (!quiet) {
		printf("restored %s into %s (", json_string_value(
		    json_object_get(res, "id")), json_string_value(
		    json_object_get(res, "stack")));
		json_array_foreach(json_object_get(res, "services"), i, v)
			printf("%s%s", i ? ", " : "", json_string_value(v));
		printf(") in %.2fs; the data it replaced is in safety backup "
		    "%s\n", (double)json_integer_value(json_object_get(res,
		    "elapsed_ms")) / 1000, json_string_value(json_object_get(
		    res, "safety")) ?: "(none)");
	}
	json_decref(res);
	return EXIT_OK;
}
