/*
 * shipctl events: a stack's engine events as they happen, until
 * interrupted.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static const char *
s(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

static int
on_event(json_t *ev, void *arg)
{
	struct cli	*cli = arg;
	char		 when[32];

	if (cli->json) {
		cli_print_json(ev);
		return 0;
	}
	if (strcmp(s(ev, "event"), "subscribed") == 0) {
		fprintf(stderr, "watching stack %s\n", s(ev, "stack"));
		return 0;
	}
	if (strcmp(s(ev, "event"), "resync") == 0) {
		printf("(engine connection restored; events may have been "
		    "missed)\n");
		return 0;
	}
	fmt_time_utc(when, sizeof when, (long long)json_integer_value(
	    json_object_get(ev, "time")));
	printf("%s  %-24s %s%s%s\n", when, s(ev, "name"), s(ev, "action"),
	    *s(ev, "exit_code") ? " exit code " : "", s(ev, "exit_code"));
	fflush(stdout);
	return 0;
}

int
cmd_events(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stack", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*stack_opt = NULL;
	json_t		*res;
	char		*stack;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'S')
			return cli_usage_error("events", "unknown option");
		stack_opt = optarg;
	}
	if ((stack = cli_stack_name(stack_opt, argv[optind])) == NULL)
		return EXIT_USAGE;
	rc = cli_call(cli, "events", json_pack("{s:s}", "stack", stack),
	    on_event, cli, &res);
	free(stack);
	json_decref(res);
	return rc;
}
