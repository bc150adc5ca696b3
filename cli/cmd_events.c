/*
 * shipctl events: a stack's engine events as they happen, until
 * interrupted.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "proto.h"
#include "util.h"

static int	cmd_events_exec(struct cli_ctx *);

const struct cli_cmd cli_cmd_events = {
	.name = "events",
	.usage = "[--stack NAME] [DIR]",
	.summary = "show the stack's engine events as they happen",
	.flags = CLI_STACK | CLI_STACK_NEED | CLI_DIR | CLI_DIR_EXTRA,
	.exec = cmd_events_exec,
};

static int
on_event(json_t *ev, void *arg)
{
	struct cli	*cli = arg;
	const char	*kind = cli_str(ev, "event");
	char		 when[32];

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
	fmt_time_utc(when, sizeof when, cli_int(ev, "time"));
	printf("%s  %-24s %s%s%s\n", when, cli_str(ev, "name"),
	    cli_str(ev, "action"), *cli_str(ev, "exit_code") ?
	    " exit code " : "", cli_str(ev, "exit_code"));
	fflush(stdout);
	return 0;
}

static int
cmd_events_exec(struct cli_ctx *c)
{
	json_t	*res;
	int	 rc;

	rc = cli_request(c, PROTO_CMD_EVENTS, NULL, on_event, c->cli, &res);
	json_decref(res);
	return rc;
}
