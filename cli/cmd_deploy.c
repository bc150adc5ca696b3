/*
 * shipctl deploy: load and validate a unit directory with the caller's
 * environment and permissions, send the resolved stack to shipd, and show
 * each step as it happens.
 */
#include <getopt.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stackgraph.h"
#include "util.h"

extern char **environ;

static const char *
s(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

static double
secs(json_t *o, const char *key)
{
	return (double)json_integer_value(json_object_get(o, key)) / 1000.0;
}

int	cli_deploy_event(json_t *, void *);

/* Services the current plan leaves unchanged: not shown step by step. */
static json_t	*quiet;

static bool
is_quiet(json_t *ev)
{
	return json_object_get(quiet, s(ev, "service")) != NULL;
}

/* Progress of deploy, scale and rollback.  Services the plan leaves
 * unchanged are not shown step by step. */
int
cli_deploy_event(json_t *ev, void *arg)
{
	struct cli	*cli = arg;
	const char	*kind = s(ev, "event");
	json_t		*row;
	size_t		 i;

	if (cli->json) {
		cli_print_json(ev);
		return 0;
	}
	if (strcmp(kind, "plan") == 0) {
		printf("plan (revision %lld):\n", (long long)json_integer_value(
		    json_object_get(ev, "revision")));
		json_decref(quiet);
		quiet = json_object();
		json_array_foreach(json_object_get(ev, "services"), i, row) {
			printf("  %-16s %-10s %s\n", s(row, "service"),
			    s(row, "action"), s(row, "reason"));
			if (strcmp(s(row, "action"), "unchanged") == 0)
				json_object_set_new(quiet, s(row, "service"),
				    json_true());
		}
	} else if ((strcmp(kind, "service") == 0 ||
	    strcmp(kind, "step") == 0) && is_quiet(ev) &&
	    strcmp(s(ev, "status"), "failed") != 0) {
		return 0;
	} else if (strcmp(kind, "service") == 0) {
		const char *st = s(ev, "status");

		printf("[%6.2fs] %-16s %s%s%s\n", secs(ev, "elapsed_ms"),
		    s(ev, "service"), strcmp(st, "begin") == 0 ?
		    s(ev, "action") : st, *s(ev, "message") ? ": " : "",
		    s(ev, "message"));
	} else if (strcmp(kind, "step") == 0) {
		const char *st = s(ev, "step");

		if (strcmp(st, "kept") == 0 || strcmp(st, "failed") == 0)
			return 0;
		printf("[%6.2fs] %-16s   replica %lld %s\n",
		    secs(ev, "elapsed_ms"), s(ev, "service"),
		    (long long)json_integer_value(json_object_get(ev,
		    "replica")), st);
	} else if (strcmp(kind, "preflight") == 0) {
		if (!json_is_true(json_object_get(ev, "passed")))
			printf("pre-flight %s: FAILED: %s\n", s(ev, "check"),
			    s(ev, "message"));
	} else if (strcmp(kind, "phase") == 0) {
		printf("[%6.2fs] %s%s%s\n", secs(ev, "elapsed_ms"),
		    s(ev, "phase"), *s(ev, "backup") ? " of backup " : "",
		    s(ev, "backup"));
	} else if (strcmp(kind, "backup") == 0) {
		printf("[%6.2fs] backup %s taken\n", secs(ev, "elapsed_ms"),
		    s(ev, "backup"));
	} else if (strcmp(kind, "waiting") == 0) {
		printf("waiting: %s\n", s(ev, "message"));
	} else if (strcmp(kind, "rollback") == 0) {
		if (*s(ev, "reason"))
			printf("revision %lld failed: %s\nrolling back to "
			    "revision %lld\n", (long long)json_integer_value(
			    json_object_get(ev, "from")), s(ev, "reason"),
			    (long long)json_integer_value(json_object_get(ev,
			    "to")));
		else
			printf("rolling back from revision %lld to %lld\n",
			    (long long)json_integer_value(json_object_get(ev,
			    "from")), (long long)json_integer_value(
			    json_object_get(ev, "to")));
	} else if (strcmp(kind, "summary") == 0) {
		printf("summary:\n");
		json_array_foreach(json_object_get(ev, "services"), i, row)
			printf("  %-16s %-10s %s\n", s(row, "service"),
			    s(row, "action"), s(row, "status"));
	}
	fflush(stdout);
	return 0;
}

int
cmd_deploy(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "skip-check", required_argument, NULL, 'k' },
		{ "wait", no_argument, NULL, 'w' },
		{ "no-backup", no_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 }
	};
	struct diag_list	 errs;
	struct stack		*st;
	struct graph		*g;
	const char		*dir = ".";
	json_t			*res, *row, *args, *skip = json_array();
	size_t			 i, changed = 0;
	int			 ch, rc, wait = 0, nobackup = 0;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'k')
			json_array_append_new(skip, json_string(optarg));
		else if (ch == 'w')
			wait = 1;
		else if (ch == 'B')
			nobackup = 1;
		else {
			json_decref(skip);
			return cli_usage_error("deploy", "unknown option");
		}
	}
	if (argc - optind > 1) {
		json_decref(skip);
		return cli_usage_error("deploy", "too many arguments");
	}
	if (argc - optind == 1)
		dir = argv[optind];
	diag_init(&errs);
	if (stack_load_checked(dir, environ, &st, &g, &errs) != 0) {
		cli_print_diags(cli, &errs, dir);
		diag_free(&errs);
		json_decref(skip);
		return EXIT_USAGE;
	}
	diag_free(&errs);
	graph_free(g);
	args = json_pack("{s:o, s:o}", "stack", stack_to_json(st),
	    "skip_checks", skip);
	if (wait)
		json_object_set_new(args, "wait", json_true());
	if (nobackup)
		json_object_set_new(args, "no_backup", json_true());
	rc = cli_call(cli, "deploy", args, cli_deploy_event, cli, &res);
	if (rc != EXIT_OK) {
		json_decref(quiet);
		quiet = NULL;
		stack_free(st);
		return rc;
	}
	if (cli->json)
		cli_print_json(res);
	else {
		json_array_foreach(json_object_get(res, "services"), i, row)
			if (strcmp(s(row, "action"), "unchanged") != 0)
				changed++;
		printf("deployed %s revision %lld in %.2fs (%zu of %zu "
		    "services changed)\n", st->name,
		    (long long)json_integer_value(json_object_get(res,
		    "revision")), secs(res, "elapsed_ms"), changed,
		    json_array_size(json_object_get(res, "services")));
	}
	json_decref(res);
	json_decref(quiet);
	quiet = NULL;
	stack_free(st);
	return EXIT_OK;
}
