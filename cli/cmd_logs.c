/*
 * shipctl logs [SERVICE]: the replicas' output through shipd, every
 * service's when none is named, each line prefixed with its replica like
 * compose does; -f follows until interrupted or the stack is removed,
 * replicas a deploy starts meanwhile included.
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
	{ "timestamps", no_argument, NULL, 't' },
	{ "since", required_argument, NULL, 's' },
	{ "until", required_argument, NULL, 'u' },
	{ NULL, 0, NULL, 0 }
};

const struct cli_cmd cli_cmd_logs = {
	.name = "logs",
	.usage = "[--stack NAME] [-f] [-t] [--tail N] [--since WHEN] "
	    "[--until WHEN] [SERVICE]",
	.summary = "show the services' output, every replica, through shipd",
	.help =
	    "  Without SERVICE, every service of the stack.  Lines come as\n"
	    "  \"SERVICE-N | line\", the prefixes aligned; without -f the\n"
	    "  lines of all replicas are merged in time order, with -f they\n"
	    "  are shown as they come.\n"
	    "  -f, --follow      keep following until interrupted or the\n"
	    "                    stack is removed (shipctl down); replicas\n"
	    "                    a deploy or a restart starts are followed\n"
	    "                    too\n"
	    "  -t, --timestamps  the engine's time of each line (RFC 3339)\n"
	    "  -n, --tail N      only the last N lines of each replica\n"
	    "  --since WHEN      only lines from then on\n"
	    "  --until WHEN      only lines before then (not with -f)\n"
	    "  WHEN is a duration ago (10m, 1h30m), an RFC 3339 time\n"
	    "  (2026-11-23T10:00:00Z, 2026-11-23T11:00:00+01:00) or unix\n"
	    "  seconds.\n",
	.shortopts = "fn:t",
	.longopts = options,
	.flags = CLI_STACK | CLI_STACK_NEED,
	.exec = cmd_logs_exec,
};

struct logs_out {
	struct cli	*cli;
	bool		 timestamps;
	int		 width;		/* of the widest "service-N" */
};

static int
on_event(json_t *ev, void *arg)
{
	struct logs_out	*o = arg;
	const char	*kind = cli_str(ev, "event");
	const char	*line = json_string_value(json_object_get(ev, "line"));
	char		 name[256];
	FILE		*out;
	int		 n;

	if (o->cli->json) {
		cli_print_json(ev);
		return 0;
	}
	n = snprintf(name, sizeof name, "%s-%lld", cli_str(ev, "service"),
	    cli_int(ev, "replica"));
	if (strcmp(kind, PROTO_EV_FOLLOW) == 0) {
		if (n > o->width)
			o->width = n;
		if (json_is_true(json_object_get(ev, "new")))
			fprintf(stderr, "(following %s, container %s, "
			    "started since)\n", name,
			    cli_str(ev, "container"));
		return 0;
	}
	if (strcmp(kind, PROTO_EV_LOG) != 0 || line == NULL)
		return 0;
	if (n > o->width)
		o->width = n;
	out = strcmp(cli_str(ev, "stream"), "stderr") == 0 ? stderr : stdout;
	if (o->timestamps)
		fprintf(out, "%-*s | %s %s\n", o->width, name,
		    cli_str(ev, "time"), line);
	else
		fprintf(out, "%-*s | %s\n", o->width, name, line);
	fflush(out);
	return 0;
}

/* A duration ago, an RFC 3339 time, or unix seconds. */
static int
parse_when(const char *s, long long *out)
{
	uint64_t	 ms;
	long		 ns;
	char		*end;
	size_t		 n;
	long long	 v;

	if (parse_duration_ms(s, &ms) == 0) {
		*out = (long long)time(NULL) - (long long)(ms / 1000);
		return 0;
	}
	if ((n = parse_rfc3339(s, &v, &ns)) > 0 && s[n] == '\0') {
		*out = v;
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

/* The options, checked in the order given. */
static int
logs_args(struct cli_ctx *c, json_t *args, struct logs_out *o)
{
	const struct cli_opt	*opt;
	long long		 v, since = -1, until = -1;
	char			*end;
	size_t			 i;

	for (i = 0; i < c->nopts; i++) {
		opt = &c->opts[i];
		if (opt->ch == 'f')
			json_object_set_new(args, "follow", json_true());
		else if (opt->ch == 't')
			o->timestamps = true;
		else if (opt->ch == 'n') {
			v = strtoll(opt->arg, &end, 10);
			if (*end != '\0' || end == opt->arg || v < 0)
				return cli_usage_error(c, "--tail takes a "
				    "number of lines");
			json_object_set_new(args, "tail", json_integer(v));
		} else if (opt->ch == 's' || opt->ch == 'u') {
			const char *what = opt->ch == 's' ? "since" : "until";

			if (parse_when(opt->arg, &v) < 0)
				return cli_usage_error(c, "--%s %s: not a "
				    "duration (10m), an RFC 3339 time "
				    "(2026-11-23T10:00:00Z) or unix seconds",
				    what, opt->arg);
			if (v == 0)	/* the engine reads 0 as "not set" */
				v = 1;
			json_object_set_new(args, what, json_integer(v));
			*(opt->ch == 's' ? &since : &until) = v;
		}
	}
	if (until >= 0 && cli_opt_has(c, 'f'))
		return cli_usage_error(c, "--until and --follow do not go "
		    "together: a follow has no end time");
	if (since >= 0 && until >= 0 && until <= since)
		return cli_usage_error(c, "--until must be later than "
		    "--since");
	if (c->argc > 1)
		return cli_usage_error(c, "name one SERVICE, or none for "
		    "every service");
	if (c->argc == 1)
		json_object_set_new(args, "service", json_string(c->argv[0]));
	return EXIT_OK;
}

static int
cmd_logs_exec(struct cli_ctx *c)
{
	struct logs_out	 o = { c->cli, false, 0 };
	json_t		*args = json_object(), *res = NULL;
	const char	*why;
	int		 rc;

	if ((rc = logs_args(c, args, &o)) != EXIT_OK) {
		json_decref(args);
		return rc;
	}
	rc = cli_request(c, PROTO_CMD_LOGS, args, on_event, &o, &res);
	why = json_string_value(json_object_get(res, "ended"));
	if (rc == EXIT_OK && c->cli->json)
		cli_print_json(res);
	else if (rc == EXIT_OK && why != NULL)
		fprintf(stderr, "logs: following ended: %s %s\n",
		    strcmp(why, "stack removed") == 0 ? "shipctl down removed "
		    "stack" : why, c->stack);
	json_decref(res);
	return rc;
}
