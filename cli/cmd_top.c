/*
 * shipctl top: CPU, memory, network, health, restarts and uptime of every
 * replica, from the engine's stats streams shipd keeps.  On a terminal it
 * redraws in place every interval until interrupted; otherwise (or with
 * --json) it prints one snapshot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "proto.h"
#include "util.h"

#define TOP_INTERVAL_MS	2000

static int	cmd_top_exec(struct cli_ctx *);

static const struct option options[] = {
	{ "once", no_argument, NULL, '1' },
	{ NULL, 0, NULL, 0 }
};

/* Without --stack every stack: $SHIPD_STACK does not narrow it. */
const struct cli_cmd cli_cmd_top = {
	.name = "top",
	.usage = "[--stack NAME] [--once]",
	.summary = "show every replica's CPU, memory, network and health, live",
	.help =
	    "  --stack NAME  only this stack (default: every stack)\n"
	    "  --once        one snapshot, even on a terminal\n"
	    "\n"
	    "CPU% is as docker stats counts it: 100 per CPU, so a replica\n"
	    "busy on two CPUs shows 200.  MEM is the memory in use less the\n"
	    "inactive file cache, against the limit (the host's memory when\n"
	    "the unit sets none).  NET RX/TX are bytes on every network\n"
	    "since the container started.  HEALTH is shipd's own verdict for\n"
	    "http and tcp checks, else the engine's; RESTARTS the engine's\n"
	    "restart count of the container.  A replica whose first sample\n"
	    "has not arrived yet shows \"-\".\n"
	    "\n"
	    "On a terminal the table is redrawn every 2 seconds until ^C;\n"
	    "piped, or with --json (the protocol's top reply), one snapshot.\n",
	.shortopts = "",
	.longopts = options,
	.flags = CLI_STACK,
	.exec = cmd_top_exec,
};

static void
show(json_t *res)
{
	static const char *const hdr[] = { "STACK", "SERVICE", "REPLICA",
	    "CPU%", "MEM / LIMIT", "NET RX / TX", "HEALTH", "RESTARTS",
	    "UPTIME" };
	json_t		*reps = json_object_get(res, "containers"), *o;
	struct table	*t;
	char		 rep[48], cpu[32], mem[64], net[64], rs[16], up[32];
	char		 a[24], b[24];
	size_t		 i;

	if (!json_is_true(json_object_get(res, "engine_reachable")))
		printf("(the engine is not reachable: no new samples)\n");
	if (json_array_size(reps) == 0) {
		printf("no running replicas\n");
		return;
	}
	t = table_new(nitems(hdr), hdr);
	json_array_foreach(reps, i, o) {
		bool have = json_is_true(json_object_get(o, "sampled"));

		if (json_is_true(json_object_get(o, "kept")))
			snprintf(rep, sizeof rep, "kept");
		else
			snprintf(rep, sizeof rep, "%lld", cli_int(o,
			    "replica"));
		snprintf(cpu, sizeof cpu, "%.1f", json_real_value(
		    json_object_get(o, "cpu_percent")));
		cli_fmt_size(a, sizeof a, (uint64_t)cli_int(o,
		    "memory_bytes"));
		cli_fmt_size(b, sizeof b, (uint64_t)cli_int(o,
		    "memory_limit_bytes"));
		snprintf(mem, sizeof mem, "%s / %s", a, b);
		cli_fmt_size(a, sizeof a, (uint64_t)cli_int(o, "rx_bytes"));
		cli_fmt_size(b, sizeof b, (uint64_t)cli_int(o, "tx_bytes"));
		snprintf(net, sizeof net, "%s / %s", a, b);
		snprintf(rs, sizeof rs, "%lld", cli_int(o, "restarts"));
		if (json_is_integer(json_object_get(o, "uptime_ms")))
			fmt_duration_ms(up, sizeof up, (uint64_t)cli_int(o,
			    "uptime_ms"));
		else
			snprintf(up, sizeof up, "-");
		const char *row[] = { cli_str(o, "stack"),
		    cli_str(o, "service"), rep, have ? cpu : "-",
		    have ? mem : "-", have ? net : "-",
		    *cli_str(o, "health") ? cli_str(o, "health") : "-", rs,
		    up };
		table_add(t, row);
	}
	table_print(t);
	table_free(t);
}

static int
cmd_top_exec(struct cli_ctx *c)
{
	struct timespec	 ts = { TOP_INTERVAL_MS / 1000,
			    (TOP_INTERVAL_MS % 1000) * 1000000L };
	json_t		*res;
	bool		 live;
	int		 rc;

	if (c->argc > 0)
		return cli_usage_error(c, "unexpected argument '%s'",
		    c->argv[0]);
	live = !c->cli->json && !cli_opt_has(c, '1') &&
	    isatty(STDOUT_FILENO);
	for (;;) {
		if ((rc = cli_request(c, PROTO_CMD_TOP, NULL, NULL, NULL,
		    &res)) != EXIT_OK)
			return rc;
		if (c->cli->json)
			cli_print_json(res);
		else {
			/* Home, then clear below: the table redrawn in
			 * place, however its height changed. */
			if (live)
				printf("\033[H\033[J");
			show(res);
			fflush(stdout);
		}
		json_decref(res);
		if (!live)
			return EXIT_OK;
		nanosleep(&ts, NULL);
	}
}
