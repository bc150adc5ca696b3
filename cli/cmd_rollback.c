/*
 * shipctl rollback [--to N]: deploy an older revision's snapshot as a new
 * revision, bringing back the containers kept from it where they exist.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int	cli_deploy_event(json_t *, void *);	/* cmd_deploy.c */

int
cmd_rollback(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stack", required_argument, NULL, 'S' },
		{ "to", required_argument, NULL, 't' },
		{ "with-data", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*stack_opt = NULL;
	json_t		*args = json_object(), *res;
	char		*stack, *end;
	long		 to;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			stack_opt = optarg;
			break;
		case 't':
			to = strtol(optarg, &end, 10);
			if (*end != '\0' || to <= 0) {
				json_decref(args);
				return cli_usage_error("rollback", "--to takes "
				    "a revision number");
			}
			json_object_set_new(args, "to", json_integer(to));
			break;
		case 'd':
			json_object_set_new(args, "with_data", json_true());
			break;
		default:
			json_decref(args);
			return cli_usage_error("rollback", "unknown option");
		}
	}
	if ((stack = cli_stack_name(stack_opt, argv[optind])) == NULL) {
		json_decref(args);
		return EXIT_USAGE;
	}
	json_object_set_new(args, "stack", json_string(stack));
	rc = cli_call(cli, "rollback", args, cli_deploy_event, cli, &res);
	if (rc == EXIT_OK) {
		if (cli->json)
			cli_print_json(res);
		else
			printf("rolled back %s: revision %lld in %.2fs\n",
			    stack, (long long)json_integer_value(
			    json_object_get(res, "revision")),
			    (double)json_integer_value(json_object_get(res,
			    "elapsed_ms")) / 1000);
		json_decref(res);
	}
	free(stack);
	return rc;
}
