/*
 * shipctl status: the containers shipd manages, found by their labels.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *
s(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

int
cmd_status(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stack", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const hdr[] = { "STACK", "SERVICE", "REPLICA",
	    "NAME", "STATE", "HEALTH", "IMAGE", "STATUS" };
	json_t		*args = json_object(), *res, *c;
	struct table	*t;
	size_t		 i;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'S') {
			json_decref(args);
			return cli_usage_error("status", "bad option");
		}
		json_object_set_new(args, "stack", json_string(optarg));
	}
	if (optind != argc) {
		json_decref(args);
		return cli_usage_error("status", "unexpected argument '%s'",
		    argv[optind]);
	}
	if ((rc = cli_call(cli, "status", args, NULL, NULL, &res)) != 0)
		return rc;
	if (cli->json) {
		cli_print_json(res);
		json_decref(res);
		return EXIT_OK;
	}
	if (json_array_size(json_object_get(res, "services")) > 0) {
		static const char *const shdr[] = { "SERVICE", "READY",
		    "RUNNING" };
		json_t *lock = json_object_get(res, "lock"), *sv;
		char ready[32], running[16];

		printf("stack %s: revision %lld", s(res, "stack"),
		    (long long)json_integer_value(json_object_get(res,
		    "current")));
		if (json_is_object(lock))
			printf("; locked by %s (uid %lld, pid %lld) since %s",
			    s(lock, "kind"), (long long)json_integer_value(
			    json_object_get(lock, "uid")),
			    (long long)json_integer_value(json_object_get(lock,
			    "pid")), s(lock, "since"));
		printf("\n\n");
		t = table_new(3, shdr);
		json_array_foreach(json_object_get(res, "services"), i, sv) {
			snprintf(ready, sizeof ready, "%lld/%lld",
			    (long long)json_integer_value(json_object_get(sv,
			    "ready")), (long long)json_integer_value(
			    json_object_get(sv, "desired")));
			snprintf(running, sizeof running, "%lld",
			    (long long)json_integer_value(json_object_get(sv,
			    "running")));
			const char *row[] = { s(sv, "service"), ready,
			    running };
			table_add(t, row);
		}
		table_print(t);
		table_free(t);
		printf("\n");
	}
	t = table_new(sizeof hdr / sizeof hdr[0], hdr);
	json_array_foreach(json_object_get(res, "containers"), i, c) {
		const char *row[] = { s(c, "stack"), s(c, "service"),
		    s(c, "replica"), s(c, "name"), s(c, "state"),
		    s(c, "health"), s(c, "image"), s(c, "status") };

		table_add(t, row);
	}
	table_print(t);
	table_free(t);
	json_decref(res);
	return EXIT_OK;
}
