/*
 * shipctl version: this client's version, and shipd's, the engine's and
 * the negotiated API's when shipd answers.
 */
#include <stdio.h>

#include "cli.h"
#include "proto.h"

static int	cmd_version_exec(struct cli_ctx *);

const struct cli_cmd cli_cmd_version = {
	.name = "version",
	.usage = "",
	.summary = "print shipctl, shipd, engine and API versions",
	.exec = cmd_version_exec,
};

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static void
show_versions(json_t *res)
{
	json_t *eng = json_object_get(res, "engine");

	printf("shipctl  %s (protocol %d)\n", SHIPD_VERSION, PROTO_VERSION);
	printf("shipd    %s (protocol %lld)\n", str(res, "daemon"),
	    cli_int(res, "protocol"));
	if (json_is_true(json_object_get(eng, "reachable")))
		printf("engine   %s at %s (API %s, negotiated %s)\n",
		    str(eng, "version"), str(eng, "socket"),
		    str(eng, "api_version"), str(eng, "negotiated_api"));
	else
		printf("engine   unreachable at %s: %s\n", str(eng, "socket"),
		    str(eng, "message"));
}

static int
cmd_version_exec(struct cli_ctx *c)
{
	json_t	*res;
	int	 rc;

	if (c->argc > 0) {
		cli_fail(PROTO_E_USAGE, "version takes no arguments");
		return EXIT_USAGE;
	}
	rc = cli_request(c, PROTO_CMD_VERSION, json_pack("{s:s}", "client",
	    SHIPD_VERSION), NULL, NULL, &res);
	if (rc != EXIT_OK) {
		/* Still worth knowing which client this is. */
		if (!c->cli->json)
			printf("shipctl %s (protocol %d)\n", SHIPD_VERSION,
			    PROTO_VERSION);
		return rc;
	}
	if (c->cli->json) {
		json_object_set_new(res, "client", json_string(SHIPD_VERSION));
		cli_print_json(res);
	} else
		show_versions(res);
	json_decref(res);
	return EXIT_OK;
}
