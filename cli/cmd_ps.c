/*
 * shipctl ps: the compact per-service view of a stack, as compose users
 * expect it, from the same reply as `status` (read-only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "proto.h"
#include "util.h"

static int	cmd_ps_exec(struct cli_ctx *);

const struct cli_cmd cli_cmd_ps = {
	.name = "ps",
	.usage = "[--stack NAME] [DIR]",
	.summary = "list a stack's services: image, replicas, health, ports, "
	    "status",
	.help =
	    "  One line per service: REPLICAS running/desired, HEALTH\n"
	    "  ready/desired (running and healthy, or with no check; a\n"
	    "  completed one-shot counts), PORTS published on the host, and\n"
	    "  STATUS: \"up 3m\" (the engine's uptime of a running replica,\n"
	    "  with how many are down when some are), \"stopped\" (shipctl\n"
	    "  stop left it so), \"exited (1)\", \"created\", or \"missing\"\n"
	    "  (no container).  `status` is the full view, one row a\n"
	    "  container.  --json: {stack, current, services: [{service,\n"
	    "  image, desired, running, ready, ports, stopped, stopped_since,\n"
	    "  engine_status, status}]}.\n",
	.flags = CLI_STACK | CLI_STACK_NEED | CLI_DIR,
	.exec = cmd_ps_exec,
};

/* "Up 3 minutes (healthy)" -> "3m"; NULL when s is not a duration. */
static const char *
compact(const char *s, char *buf, size_t len)
{
	static const struct { const char *word; const char *unit; } u[] = {
		{ "second", "s" }, { "minute", "m" }, { "hour", "h" },
		{ "day", "d" }, { "week", "w" }, { "month", "mo" },
		{ "year", "y" },
	};
	char	*end;
	long	 n;
	size_t	 i;

	if (strncmp(s, "Less than a second", 18) == 0)
		return "0s";
	if (strncmp(s, "About a minute", 14) == 0)
		return "1m";
	if (strncmp(s, "About an hour", 13) == 0)
		return "1h";
	n = strtol(s, &end, 10);
	if (end == s || *end != ' ')
		return NULL;
	for (i = 0; i < nitems(u); i++)
		if (strncmp(end + 1, u[i].word, strlen(u[i].word)) == 0) {
			snprintf(buf, len, "%ld%s", n, u[i].unit);
			return buf;
		}
	return NULL;
}

/* STATUS, from the service's row of status's reply. */
static void
ps_status(json_t *sv, char *out, size_t len)
{
	const char	*st = cli_str(sv, "engine_status"), *d, *p;
	char		 buf[32];
	long long	 running = cli_int(sv, "running");
	long long	 desired = cli_int(sv, "desired");

	if (json_is_true(json_object_get(sv, "stopped"))) {
		snprintf(out, len, "stopped");
		return;
	}
	if (*st == '\0') {
		snprintf(out, len, "missing");
		return;
	}
	if (strncmp(st, "Up ", 3) == 0) {
		d = compact(st + 3, buf, sizeof buf);
		snprintf(out, len, "up %s", d ? d : st + 3);
		if (running < desired)
			snprintf(out + strlen(out), len - strlen(out),
			    " (%lld down)", desired - running);
		return;
	}
	if (strncmp(st, "Exited (", 8) == 0 && (p = strchr(st, ')')) != NULL) {
		snprintf(out, len, "exited %.*s", (int)(p - st - 6), st + 7);
		return;
	}
	snprintf(out, len, "%s", st);
	if (*out >= 'A' && *out <= 'Z')
		*out = (char)(*out - 'A' + 'a');
}

static void
show(json_t *res)
{
	static const char *const hdr[] = { "SERVICE", "IMAGE", "REPLICAS",
	    "HEALTH", "PORTS", "STATUS" };
	struct table	*t = table_new(nitems(hdr), hdr);
	struct buf	 ports;
	json_t		*sv, *p;
	char		 reps[32], health[32], status[96];
	size_t		 i, k;

	buf_init(&ports);
	json_array_foreach(json_object_get(res, "services"), i, sv) {
		snprintf(reps, sizeof reps, "%lld/%lld", cli_int(sv,
		    "running"), cli_int(sv, "desired"));
		snprintf(health, sizeof health, "%lld/%lld", cli_int(sv,
		    "ready"), cli_int(sv, "desired"));
		buf_reset(&ports);
		json_array_foreach(json_object_get(sv, "ports"), k, p)
			buf_printf(&ports, "%s%s", k ? "," : "",
			    json_string_value(p));
		ps_status(sv, status, sizeof status);
		const char *row[] = { cli_str(sv, "service"), cli_str(sv,
		    "image"), reps, health, ports.data ? ports.data : "",
		    status };
		table_add(t, row);
	}
	table_print(t);
	table_free(t);
	buf_free(&ports);
}

static int
cmd_ps_exec(struct cli_ctx *c)
{
	json_t	*res;
	int	 rc;

	if ((rc = cli_request(c, PROTO_CMD_STATUS, NULL, NULL, NULL,
	    &res)) != EXIT_OK)
		return rc;
	if (c->cli->json) {
		json_t *out = json_pack("{s:O, s:O, s:[]}", "stack",
		    json_object_get(res, "stack"), "current",
		    json_object_get(res, "current"), "services"), *sv;
		char status[96];
		size_t i;

		json_array_foreach(json_object_get(res, "services"), i, sv) {
			ps_status(sv, status, sizeof status);
			json_object_set_new(sv, "status", json_string(status));
			json_array_append(json_object_get(out, "services"), sv);
		}
		cli_print_json(out);
		json_decref(out);
	} else
		show(res);
	json_decref(res);
	return EXIT_OK;
}
