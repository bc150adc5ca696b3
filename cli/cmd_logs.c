/*
 * shipctl logs SERVICE: every replica's output through shipd, each line
 * prefixed with its replica; -f follows until interrupted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "proto.h"
#include "util.h"

static int	cmd_logs_exec(struct cli_ctx *);

static const struct option options[] = {
	{ "follow", no_argument, NULL, 'f' },
	{ "tail", required_argument, NULL, 'n' },
	{ "since", required_argument, NULL, 's' },
	{ NULL, 0, NULL, 0 }
};

const struct cli_cmd cli_cmd_logs = {
	.name = "logs",
	.usage = "[--stack NAME] [-f] [--tail N] [--since DUR|TIME] SERVICE",
	.summary = "show a service's output, every replica, through shipd",
	.help =
	    "  -f, --follow   keep following until interrupted\n"
	    "  -n, --tail N   only the last N lines of each replica\n"
	    "  --since 10m    only lines newer than that (or a unix time)\n",
	.shortopts = "fn:",
	.longopts = options,
	.flags = CLI_STACK | CLI_STACK_NEED,
	.exec = cmd_logs_exec,
};

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
	out = strcmp(cli_str(ev, "stream"), "stderr") == 0 ? stderr : stdout;
	fprintf(out, "%s-%lld | %s\n", json_string_value(json_object_get(ev,
	    "service")), cli_int(ev, "replica"), line);
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

/* The options, checked in the order given. */
static int
logs_args(struct cli_ctx *c, json_t *args)
{
	const struct cli_opt	*o;
	long long		 v;
	char			*end;
	size_t			 i;

	for (i = 0; i < c->nopts; i++) {
		o = &c->opts[i];
		if (o->ch == 'f')
			json_object_set_new(args, "follow", json_true());
		else if (o->ch == 'n') {
			v = strtoll(o->arg, &end, 10);
			if (*end != '\0' || end == o->arg || v < 0)
				return cli_usage_error(c, "--tail takes a "
				    "number of lines");
			json_object_set_new(args, "tail", json_integer(v));
		} else if (o->ch == 's') {
			if (parse_since(o->arg, &v) < 0)
				return cli_usage_error(c, "--since takes a "
				    "duration (10m) or a unix time");
			json_object_set_new(args, "since", json_integer(v));
		}
	}
	if (c->argc != 1)
		return cli_usage_error(c, "name one SERVICE");
	json_object_set_new(args, "service", json_string(c->argv[0]));
	return EXIT_OK;
}

static int
cmd_logs_exec(struct cli_ctx *c)
{
	json_t	*args = json_object(), *res;
	int	 rc;

	if ((rc = logs_args(c, args)) != EXIT_OK) {
		json_decref(args);
		return rc;
	}
	rc = cli_request(c, PROTO_CMD_LOGS, args, on_event, c->cli, &res);
	json_decref(res);
	return rc;
}
