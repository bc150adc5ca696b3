/*
 * shipctl backups: the good backups of one stack or of every stack, oldest
 * first, with what they hold and when they were last verified.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

void	cli_fmt_size(char *, size_t, uint64_t);

/* "512 B", "3.1 KiB", "1.0 GiB". */
void
cli_fmt_size(char *dst, size_t len, uint64_t n)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double	v = (double)n;
	size_t	u = 0;

	while (v >= 1024 && u + 1 < nitems(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(dst, len, "%llu B", (unsigned long long)n);
	else
		snprintf(dst, len, "%.1f %s", v, units[u]);
}

static const char *
s(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

int
cmd_backups(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stack", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const hdr[] = { "STACK", "ID", "TIME", "SERVICES",
	    "SIZE", "REV", "REASON", "VERIFIED" };
	const char	*stack = getenv("SHIPD_STACK");
	struct table	*t;
	struct buf	 svcs;
	json_t		*args, *res, *row, *v, *ver;
	char		 size[32], rev[16], verified[48];
	size_t		 i, k;
	int		 ch, rc;

	if (stack != NULL && *stack == '\0')
		stack = NULL;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'S')
			return cli_usage_error("backups", "unknown option");
		stack = optarg;
	}
	if (optind < argc)
		return cli_usage_error("backups", "too many arguments");
	args = stack ? json_pack("{s:s}", "stack", stack) : json_object();
	if ((rc = cli_call(cli, "backups", args, NULL, NULL, &res)) != EXIT_OK)
		return rc;
	if (cli->json) {
		cli_print_json(res);
		json_decref(res);
		return EXIT_OK;
	}
	t = table_new(8, hdr);
	buf_init(&svcs);
	json_array_foreach(json_object_get(res, "backups"), i, row) {
		buf_reset(&svcs);
		json_array_foreach(json_object_get(row, "services"), k, v)
			buf_printf(&svcs, "%s%s", k ? "," : "",
			    json_string_value(v));
		cli_fmt_size(size, sizeof size, (uint64_t)json_integer_value(
		    json_object_get(row, "size")));
		snprintf(rev, sizeof rev, "%lld", (long long)
		    json_integer_value(json_object_get(row, "revision")));
		ver = json_object_get(row, "verified");
		if (!json_is_object(ver))
			snprintf(verified, sizeof verified, "never");
		else
			snprintf(verified, sizeof verified, "%s %s",
			    json_is_true(json_object_get(ver, "ok")) ? "ok" :
			    "DAMAGED", s(ver, "time"));
		const char *cells[] = { s(row, "stack"), s(row, "id"),
		    s(row, "finished"), svcs.data ? svcs.data : "", size, rev,
		    s(row, "reason"), verified };
		table_add(t, cells);
	}
	if (json_array_size(json_object_get(res, "backups")) == 0)
		printf("no backups%s%s\n", stack ? " of " : "",
		    stack ? stack : "");
	else
		table_print(t);
	table_free(t);
	buf_free(&svcs);
	json_decref(res);
	return EXIT_OK;
}
