/*
 * shipctl down: stop and remove a stack's containers in reverse
 * dependency order, then its networks; its volumes only with --volumes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int
cmd_down(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stack", required_argument, NULL, 'S' },
		{ "volumes", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*stack_opt = NULL;
	json_t		*res;
	char		*stack;
	int		 ch, volumes = 0, rc;

	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		if (ch == 'S')
			stack_opt = optarg;
		else if (ch == 'v')
			volumes = 1;
		else
			return cli_usage_error("down", "unknown option");
	}
	if (argc - optind > 1)
		return cli_usage_error("down", "too many arguments");
	if ((stack = cli_stack_name(stack_opt, argv[optind])) == NULL)
		return EXIT_USAGE;
	rc = cli_call(cli, "down", json_pack("{s:s, s:b}", "stack", stack,
	    "volumes", volumes), NULL, NULL, &res);
	if (rc == EXIT_OK) {
		if (cli->json)
			cli_print_json(res);
		else
			printf("removed %lld containers of %s in %.2fs\n",
			    (long long)json_integer_value(json_object_get(res,
			    "removed")), stack, (double)json_integer_value(
			    json_object_get(res, "elapsed_ms")) / 1000);
		json_decref(res);
	}
	free(stack);
	return rc;
}
