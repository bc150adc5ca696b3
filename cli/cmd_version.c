/*
 * shipctl version: this client's version, and shipd's, the engine's and
 * the negotiated API's when shipd answers.
 */
#include <stdio.h>

#include "cli.h"
#include "proto.h"

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

int
cmd_version(struct cli *cli, int argc, char **argv)
{
	json_t	*res, *eng;
	int	 rc;

	(void)argv;
	if (argc > 1) {
		cli_err("version takes no arguments");
		return EXIT_USAGE;
	}
	rc = cli_call(cli, "version", json_pack("{s:s}", "client",
	    SHIPD_VERSION), NULL, NULL, &res);
	if (rc != EXIT_OK) {
		if (!cli->json)
			printf("shipctl %s (protocol %d)\n", SHIPD_VERSION,
			    PROTO_VERSION);
		return rc;
	}
	if (cli->json) {
		json_object_set_new(res, "client", json_string(SHIPD_VERSION));
		cli_print_json(res);
		json_decref(res);
		return EXIT_OK;
	}
	eng = json_object_get(res, "engine");
	printf("shipctl  %s (protocol %d)\n", SHIPD_VERSION, PROTO_VERSION);
	printf("shipd    %s (protocol %lld)\n", str(res, "daemon"),
	    (long long)json_integer_value(json_object_get(res, "protocol")));
	if (json_is_true(json_object_get(eng, "reachable")))
		printf("engine   %s at %s (API %s, negotiated %s)\n",
		    str(eng, "version"), str(eng, "socket"),
		    str(eng, "api_version"), str(eng, "negotiated_api"));
	else
		printf("engine   unreachable at %s: %s\n", str(eng, "socket"),
		    str(eng, "error"));
	json_decref(res);
	return EXIT_OK;
}
