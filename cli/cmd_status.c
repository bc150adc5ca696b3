/*
 * shipctl status: the containers shipd manages, found by their labels;
 * with --stack, that stack's services and lock first; the operations
 * under way or queued, with their phase and age, before the containers.
 */
#include <stdio.h>

#include "cli.h"
#include "proto.h"
#include "util.h"

static int	cmd_status_exec(struct cli_ctx *);

/* Without --stack it shows every stack: $SHIPD_STACK does not narrow it. */
const struct cli_cmd cli_cmd_status = {
	.name = "status",
	.usage = "[--stack NAME]",
	.summary = "show the containers of a stack: service, replica, state, "
	    "health",
	.help = "  --stack NAME  only this stack (default: every stack)\n"
	    "\n"
	    "HEALTH is the engine's health state of a running container, or\n"
	    "for an http or tcp check shipd's own verdict: shipd probes those\n"
	    "at their interval for as long as the container runs.  A replica\n"
	    "is READY when it runs and is healthy or has no check.  RUNNING\n"
	    "says \"(stopped)\" for a service `shipctl stop` left stopped.\n"
	    "\n"
	    "Operations under way or queued (--wait) are listed first: kind,\n"
	    "revision, phase (queued, images, plan, checks, backup, begin,\n"
	    "apply, verify, commit, rollback), time in that phase and in all,\n"
	    "and the uid that started it.  `shipctl cancel` stops them.\n"
	    "\n"
	    "With --stack, a stack whose recovery failed after shipd\n"
	    "restarted says so with the reason; its journal records stay\n"
	    "for the next start, and scale is refused until a deploy or\n"
	    "rollback brings the stack to one revision.\n",
	.flags = CLI_STACK,
	.exec = cmd_status_exec,
};

static void
show_services(json_t *res)
{
	static const char *const hdr[] = { "SERVICE", "READY", "RUNNING" };
	json_t		*lock = json_object_get(res, "lock"), *sv;
	struct table	*t;
	char		 ready[32], running[32];
	size_t		 i;

	printf("stack %s: revision %lld", cli_str(res, "stack"),
	    cli_int(res, "current"));
	if (json_is_object(lock))
		printf("; locked by %s (uid %lld, pid %lld) since %s",
		    cli_str(lock, "kind"), cli_int(lock, "uid"),
		    cli_int(lock, "pid"), cli_str(lock, "since"));
	printf("\n");
	if (json_is_string(json_object_get(res, "recovery_failed")))
		printf("recovery after shipd restarted FAILED: %s\n"
		    "(restart shipd to try again, or deploy or roll back the "
		    "stack)\n", cli_str(res, "recovery_failed"));
	printf("\n");
	t = table_new(nitems(hdr), hdr);
	json_array_foreach(json_object_get(res, "services"), i, sv) {
		snprintf(ready, sizeof ready, "%lld/%lld", cli_int(sv,
		    "ready"), cli_int(sv, "desired"));
		snprintf(running, sizeof running, "%lld%s", cli_int(sv,
		    "running"), json_is_true(json_object_get(sv, "stopped")) ?
		    " (stopped)" : "");
		const char *row[] = { cli_str(sv, "service"), ready, running };
		table_add(t, row);
	}
	table_print(t);
	table_free(t);
	printf("\n");
}

static void
show_containers(json_t *res)
{
	static const char *const hdr[] = { "STACK", "SERVICE", "REPLICA",
	    "NAME", "STATE", "HEALTH", "IMAGE", "STATUS" };
	struct table	*t = table_new(nitems(hdr), hdr);
	json_t		*c;
	size_t		 i;

	json_array_foreach(json_object_get(res, "containers"), i, c) {
		const char *row[] = { cli_str(c, "stack"),
		    cli_str(c, "service"), cli_str(c, "replica"),
		    cli_str(c, "name"), cli_str(c, "state"),
		    cli_str(c, "health"), cli_str(c, "image"),
		    cli_str(c, "status") };

		table_add(t, row);
	}
	table_print(t);
	table_free(t);
}

static void
show_operations(json_t *res)
{
	static const char *const hdr[] = { "STACK", "OPERATION", "REVISION",
	    "PHASE", "IN PHASE", "TOTAL", "UID" };
	json_t		*ops = json_object_get(res, "operations"), *o;
	struct table	*t;
	char		 rev[16], inph[32], total[32], uid[16];
	size_t		 i;

	if (json_array_size(ops) == 0)
		return;
	t = table_new(nitems(hdr), hdr);
	json_array_foreach(ops, i, o) {
		snprintf(rev, sizeof rev, "%lld", cli_int(o, "revision"));
		fmt_duration_ms(inph, sizeof inph, (uint64_t)cli_int(o,
		    "phase_ms"));
		fmt_duration_ms(total, sizeof total, (uint64_t)cli_int(o,
		    "elapsed_ms"));
		snprintf(uid, sizeof uid, "%lld", cli_int(o, "uid"));
		const char *row[] = { cli_str(o, "stack"), cli_str(o, "kind"),
		    cli_int(o, "revision") > 0 ? rev : "-",
		    cli_str(o, "phase"), inph, total, uid };
		table_add(t, row);
	}
	table_print(t);
	table_free(t);
	printf("\n");
}

static int
cmd_status_exec(struct cli_ctx *c)
{
	json_t	*res;
	int	 rc;

	if (c->argc > 0)
		return cli_usage_error(c, "unexpected argument '%s'",
		    c->argv[0]);
	if ((rc = cli_request(c, PROTO_CMD_STATUS, NULL, NULL, NULL,
	    &res)) != EXIT_OK)
		return rc;
	if (c->cli->json)
		cli_print_json(res);
	else {
		if (json_array_size(json_object_get(res, "services")) > 0)
			show_services(res);
		show_operations(res);
		show_containers(res);
	}
	json_decref(res);
	return EXIT_OK;
}
