/*
 * shipctl events: a stack's engine events as they happen, until
 * interrupted; the health checks' exec_* events only with --all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "proto.h"
#include "util.h"

static int	cmd_events_exec(struct cli_ctx *);

static const struct option options[] = {
	{ "all", no_argument, NULL, 'a' },
	{ "filter", required_argument, NULL, 'F' },
	{ NULL, 0, NULL, 0 }
};

const struct cli_cmd cli_cmd_events = {
	.name = "events",
	.usage = "[--stack NAME] [--all] [--filter KEY=VALUE[,...]] [DIR]",
	.summary = "show the stack's engine events as they happen",
	.help =
	    "  --all           the exec_create/exec_start/exec_die of\n"
	    "                  health checks too (left out by default)\n"
	    "  --filter K=V    only matching events; keys: service=NAME,\n"
	    "                  type=container (the engine's) or type=stack\n"
	    "                  (shipd's own \"stack removed\" after a down)\n"
	    "                  or type=heal (the supervisor restarting an\n"
	    "                  unhealthy service, or giving up on a crash\n"
	    "                  loop) or type=autoscale (the autoscaler\n"
	    "                  scaling a service: scale, done, failed).\n"
	    "                  Comma-separated or repeated: an event must\n"
	    "                  match one value of every key given\n",
	.shortopts = "a",
	.longopts = options,
	.flags = CLI_STACK | CLI_STACK_NEED | CLI_DIR | CLI_DIR_EXTRA,
	.exec = cmd_events_exec,
};

static int
on_event(json_t *ev, void *arg)
{
	struct cli	*cli = arg;
	const char	*kind = cli_str(ev, "event");
	const char	*when = cli_str(ev, "time");
	char		 code[32] = "";

	if (cli->json) {
		cli_print_json(ev);
		return 0;
	}
	if (strcmp(kind, PROTO_EV_SUBSCRIBED) == 0) {
		fprintf(stderr, "watching stack %s\n", cli_str(ev, "stack"));
		return 0;
	}
	if (strcmp(kind, PROTO_EV_RESYNC) == 0) {
		printf("(engine connection restored; events may have been "
		    "missed)\n");
		return 0;
	}
	if (strcmp(kind, PROTO_EV_HEAL) == 0) {
		printf("%s  %-24s heal %s (%lld restarts): %s\n", when,
		    cli_str(ev, "service"), cli_str(ev, "action"),
		    cli_int(ev, "restarts"), cli_str(ev, "reason"));
		fflush(stdout);
		return 0;
	}
	if (strcmp(kind, PROTO_EV_AUTOSCALE) == 0) {
		printf("%s  %-24s autoscale %s: %s\n", when, cli_str(ev,
		    "service"), cli_str(ev, "action"), cli_str(ev, "reason"));
		fflush(stdout);
		return 0;
	}
	if (strcmp(cli_str(ev, "type"), "stack") == 0) {
		printf("%s  %-24s stack removed\n", when, cli_str(ev, "name"));
		fflush(stdout);
		return 0;
	}
	if (json_is_integer(json_object_get(ev, "exit_code")))
		snprintf(code, sizeof code, " exit code %lld", cli_int(ev,
		    "exit_code"));
	printf("%s  %-24s %s%s\n", when, cli_str(ev, "name"),
	    cli_str(ev, "action"), code);
	fflush(stdout);
	return 0;
}

/* "service=web,type=container" into args' "services" and "types". */
static int
add_filter(struct cli_ctx *c, json_t *args, const char *spec)
{
	char	*copy = xstrdup(spec), *p = copy, *kv, *eq;
	json_t	*a;
	int	 rc = EXIT_OK;

	while (rc == EXIT_OK && (kv = strsep(&p, ",")) != NULL) {
		const char *key;

		if ((eq = strchr(kv, '=')) == NULL || eq[1] == '\0') {
			rc = cli_usage_error(c, "--filter %s: give KEY=VALUE",
			    kv);
			break;
		}
		*eq = '\0';
		if (strcmp(kv, "service") == 0)
			key = "services";
		else if (strcmp(kv, "type") == 0) {
			key = "types";
			if (strcmp(eq + 1, "container") != 0 &&
			    strcmp(eq + 1, "stack") != 0 &&
			    strcmp(eq + 1, "heal") != 0 &&
			    strcmp(eq + 1, "autoscale") != 0) {
				rc = cli_usage_error(c, "--filter type=%s: a "
				    "stack's events are of type container, "
				    "stack, heal or autoscale", eq + 1);
				break;
			}
		} else {
			rc = cli_usage_error(c, "--filter %s: the keys are "
			    "service and type", kv);
			break;
		}
		if ((a = json_object_get(args, key)) == NULL) {
			a = json_array();
			json_object_set_new(args, key, a);
		}
		json_array_append_new(a, json_string(eq + 1));
	}
	free(copy);
	return rc;
}

static int
cmd_events_exec(struct cli_ctx *c)
{
	json_t	*args = json_object(), *res = NULL;
	size_t	 i;
	int	 rc;

	for (i = 0; i < c->nopts; i++) {
		if (c->opts[i].ch == 'a')
			json_object_set_new(args, "all", json_true());
		else if (c->opts[i].ch == 'F' &&
		    (rc = add_filter(c, args, c->opts[i].arg)) != EXIT_OK) {
			json_decref(args);
			return rc;
		}
	}
	rc = cli_request(c, PROTO_CMD_EVENTS, args, on_event, c->cli, &res);
	if (rc == EXIT_OK && c->cli->json)
		cli_print_json(res);	/* the stack is gone: {"ok":true} */
	json_decref(res);
	return rc;
}
