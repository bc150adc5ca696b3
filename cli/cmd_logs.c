/*
 * shipctl logs SERVICE: every replica's output through shipd, each line
 * prefixed with its replica; -f follows until interrupted.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "util.h"

static int
on_event(json_t *ev, void *arg)
{
	struct cli	*cli = arg;
	const char	*line = json_string_value(json_object_get(ev, "line"));
	FILE		*out;

	if (cli->json) {
		cli_print_json(ev);
		return 0;
	}
	if (line == NULL)
		return 0;
	out = strcmp(json_string_value(json_object_get(ev, "stream")) ?
	    json_string_value(json_object_get(ev, "stream")) : "",
	    "stderr") == 0 ? stderr : stdout;
	fprintf(out, "%s-%lld | %s\n",
	    json_string_value(json_object_get(ev, "service")),
	    (long long)json_integer_value(json_object_get(ev, "replica")),
	    line);
	fflush(out);
	return 0;
}

/* "10m" ago, or a unix timestamp. */
static int
parse_since(const char *s, long long *out)
{
	uint64_t	 ms;
	char		*end;
	long long	 v;

	if (parse_duration_ms(s, &ms) == 0) {
		*out = (long long)time(NULL) - (long long)(ms / 1000);
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int
cmd_logs(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stack", required_argument, NULL, 'S' },
		{ "follow", no_argument, NULL, 'f' },
		{ "tail", required_argument, NULL, 't' },
		{ "since", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*stack_opt = NULL;
	json_t		*args = json_object(), *res;
	long long	 v;
	char		*stack, *end;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "fn:", opts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			stack_opt = optarg;
			break;
		case 'f':
			json_object_set_new(args, "follow", json_true());
			break;
		case 'n':
		case 't':
			v = strtoll(optarg, &end, 10);
			if (*end != '\0' || end == optarg || v < 0) {
				json_decref(args);
				return cli_usage_error("logs", "--tail takes "
				    "a number of lines");
			}
			json_object_set_new(args, "tail", json_integer(v));
			break;
		case 's':
			if (parse_since(optarg, &v) < 0) {
				json_decref(args);
				return cli_usage_error("logs", "--since takes "
				    "a duration (10m) or a unix time");
			}
			json_object_set_new(args, "since", json_integer(v));
			break;
		default:
			json_decref(args);
			return cli_usage_error("logs", "unknown option");
		}
	}
	if (argc - optind != 1) {
		json_decref(args);
		return cli_usage_error("logs", "name one SERVICE");
	}
	if ((stack = cli_stack_name(stack_opt, NULL)) == NULL) {
		json_decref(args);
		return EXIT_USAGE;
	}
	json_object_set_new(args, "stack", json_string(stack));
	json_object_set_new(args, "service", json_string(argv[optind]));
	free(stack);
	rc = cli_call(cli, "logs", args, on_event, cli, &res);
	json_decref(res);
	return rc;
}
