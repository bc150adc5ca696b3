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
	    "REPLICA is the replica number, or `kept (rev N)` for a container\n"
	    "kept from revision N for rollback or draining (not counted in\n"
	    "READY or RUNNING).  IMAGE is the reference the revision names,\n"
	    "also for a container a rollback recreated pinned to an image ID.\n"
	    "\n"
	    "With --stack, the stack's revision and the lock holder come\n"
	    "first, even while it has no container; an unknown stack is an\n"
	    "error (not_found, exit 1).\n"
	    "\n"
	    "With --stack, a stack whose recovery failed after shipd\n"
	    "restarted says so with the reason; its journal records stay\n"
	    "for the next start, and scale is refused until a deploy or\n"
	    "rollback brings the stack to one revision.\n"
	    "\n"
	    "An autoscaled service has a line of its own after the table:\n"
	    "its bounds, the count, each target with the average of the last\n"
	    "window, and the last decision with its reason and time.\n",
	.flags = CLI_STACK,
	.exec = cmd_status_exec,
};

/* An autoscaled service: its bounds, targets, what it saw and did. */
static void
show_autoscale(json_t *sv)
{
	json_t	*a = json_object_get(sv, "autoscale");

	if (!json_is_object(a))
		return;
	printf("%s: autoscaled %lld to %lld, at %lld", cli_str(sv, "service"),
	    cli_int(a, "min_replicas"), cli_int(a, "max_replicas"),
	    cli_int(a, "replicas"));
	if (json_is_integer(json_object_get(a, "cpu_target")))
		printf("; cpu %lld%% target", cli_int(a, "cpu_target"));
	if (json_is_number(json_object_get(a, "cpu_average")))
		printf(" (%.0f%% now)", json_number_value(json_object_get(a,
		    "cpu_average")));
	if (json_is_integer(json_object_get(a, "memory_target")))
		printf("; memory %lld%% target", cli_int(a, "memory_target"));
	if (json_is_number(json_object_get(a, "memory_average")))
		printf(" (%.0f%% now)", json_number_value(json_object_get(a,
		    "memory_average")));
	if (json_is_true(json_object_get(a, "scaling")))
		printf("; scaling");
	printf("\n");
	if (json_is_string(json_object_get(a, "last_decision")))
		printf("  last decision %s: %s\n", cli_str(a,
		    "last_decision_time"), cli_str(a, "last_decision"));
	else if (json_is_string(json_object_get(a, "last_evaluation")))
		printf("  no decision yet; now: %s\n", cli_str(a,
		    "last_evaluation"));
}

static void
show_services(json_t *res)
{
	static const char *const hdr[] = { "SERVICE", "READY", "RUNNING" };
	json_t		*lock = json_object_get(res, "lock"), *sv;
	struct table	*t;
	char		 ready[32], running[32];
	size_t		 i;

	if (cli_int(res, "current") > 0)
		printf("stack %s: revision %lld", cli_str(res, "stack"),
		    cli_int(res, "current"));
	else
		printf("stack %s: no revision yet", cli_str(res, "stack"));
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
	if (json_array_size(json_object_get(res, "services")) == 0)
		return;
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
	json_array_foreach(json_object_get(res, "services"), i, sv)
		show_autoscale(sv);
	printf("\n");
}

static void
show_containers(json_t *res)
{
	static const char *const hdr[] = { "STACK", "SERVICE", "REPLICA",
	    "NAME", "STATE", "HEALTH", "IMAGE", "STATUS" };
	struct table	*t;
	json_t		*c;
	char		 rep[48];
	size_t		 i;

	if (json_array_size(json_object_get(res, "containers")) == 0) {
		printf("no containers\n");
		return;
	}
	t = table_new(nitems(hdr), hdr);

	json_array_foreach(json_object_get(res, "containers"), i, c) {
		/* A container kept for rollback is not a live replica. */
		if (json_is_true(json_object_get(c, "kept")))
			snprintf(rep, sizeof rep, "kept (rev %lld)",
			    cli_int(c, "revision"));
		else
			snprintf(rep, sizeof rep, "%lld", cli_int(c,
			    "replica"));
		const char *row[] = { cli_str(c, "stack"),
		    cli_str(c, "service"), rep,
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
		/* With --stack: its revision and lock holder, even when it
		 * has no container (yet, or any more). */
		if (json_is_string(json_object_get(res, "stack")))
			show_services(res);
		show_operations(res);
		show_containers(res);
	}
	json_decref(res);
	return EXIT_OK;
}
