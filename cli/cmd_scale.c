/*
 * shipctl scale SERVICE=N...: change replica counts through the same
 * gated path as deploy.  The count persists across deploys until the unit
 * file's own count changes.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "unit.h"
#include "util.h"

static int
on_event(json_t *ev, void *arg)
{
	struct cli	*cli = arg;
	const char	*kind = json_string_value(json_object_get(ev, "event"));

	if (cli->json) {
		cli_print_json(ev);
		return 0;
	}
	if (kind != NULL && strcmp(kind, "step") == 0)
		printf("[%6.2fs] %s replica %lld %s\n",
		    (double)json_integer_value(json_object_get(ev,
		    "elapsed_ms")) / 1000,
		    json_string_value(json_object_get(ev, "service")),
		    (long long)json_integer_value(json_object_get(ev,
		    "replica")),
		    json_string_value(json_object_get(ev, "step")));
	fflush(stdout);
	return 0;
}

int
cmd_scale(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stack", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*stack_opt = NULL;
	json_t		*want, *res;
	char		*stack, *eq, *end;
	long		 n;
	int		 ch, i, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'S')
			return cli_usage_error("scale", "unknown option");
		stack_opt = optarg;
	}
	if (optind >= argc)
		return cli_usage_error("scale", "name at least one "
		    "SERVICE=N");
	want = json_object();
	for (i = optind; i < argc; i++) {
		eq = strchr(argv[i], '=');
		if (eq == NULL || eq == argv[i]) {
			json_decref(want);
			return cli_usage_error("scale", "'%s': expected "
			    "SERVICE=N", argv[i]);
		}
		*eq = '\0';
		errno = 0;
		n = strtol(eq + 1, &end, 10);
		if (errno != 0 || *end != '\0' || end == eq + 1 || n < 0 ||
		    n > UNIT_REPLICAS_MAX) {
			json_decref(want);
			return cli_usage_error("scale", "%s: replicas must be "
			    "a whole number from 0 to %d", argv[i],
			    UNIT_REPLICAS_MAX);
		}
		json_object_set_new(want, argv[i], json_integer(n));
	}
	if ((stack = cli_stack_name(stack_opt, NULL)) == NULL) {
		json_decref(want);
		return EXIT_USAGE;
	}
	rc = cli_call(cli, "scale", json_pack("{s:s, s:o}", "stack", stack,
	    "replicas", want), on_event, cli, &res);
	if (rc == EXIT_OK) {
		if (cli->json)
			cli_print_json(res);
		else
			printf("scaled %s in %.2fs\n", stack,
			    (double)json_integer_value(json_object_get(res,
			    "elapsed_ms")) / 1000);
		json_decref(res);
	}
	free(stack);
	return rc;
}
