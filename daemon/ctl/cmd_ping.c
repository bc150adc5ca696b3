/*
 * ping: the cheapest round trip, for liveness checks.
 */
#include "ctl/ctl.h"
#include "proto.h"

static void
cmd_ping(struct shipd *sd, struct ctl_req *r)
{
	(void)sd;
	ctl_req_ok(r, json_pack("{s:b}", "pong", 1));
}

static const struct ctl_arg args[] = { { NULL, 0, false } };

const struct ctl_cmd ctl_cmd_ping = {
	PROTO_CMD_PING, false, false, cmd_ping, args
};
