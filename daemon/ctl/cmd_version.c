/*
 * version: shipd's version and protocol, and what is known of the engine.
 */
#include "core/shipd.h"
#include "ctl/ctl.h"
#include "engine/docker.h"
#include "proto.h"

static void
cmd_version(struct shipd *sd, struct ctl_req *r)
{
	json_t *res, *eng;

	eng = json_object();
	json_object_set_new(eng, "reachable", json_boolean(sd->engine_ok));
	json_object_set_new(eng, "socket", json_string(sd->cfg.engine_path));
	if (sd->engine_version != NULL) {
		json_object_set(eng, "version",
		    json_object_get(sd->engine_version, "Version"));
		json_object_set(eng, "api_version",
		    json_object_get(sd->engine_version, "ApiVersion"));
		json_object_set(eng, "min_api_version",
		    json_object_get(sd->engine_version, "MinAPIVersion"));
	}
	if (docker_api_version(sd->docker) != NULL)
		json_object_set_new(eng, "negotiated_api",
		    json_string(docker_api_version(sd->docker)));
	if (!sd->engine_ok && sd->engine_error != NULL)
		json_object_set_new(eng, "message",
		    json_string(sd->engine_error));
	res = json_pack("{s:s, s:i, s:o}", "daemon", SHIPD_VERSION,
	    "protocol", PROTO_VERSION, "engine", eng);
	ctl_req_ok(r, res);
}

static const struct ctl_arg args[] = {
	{ "client", JSON_STRING, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_version = {
	PROTO_CMD_VERSION, false, false, cmd_version, args
};
