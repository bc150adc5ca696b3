/*
 * stop, start, restart: services of the current revision stopped, started
 * or restarted in place, dependency-aware (ops/svcop.c).
 */
#include "ctl/ctl.h"
#include "ops/ops.h"
#include "proto.h"

static void
run(struct shipd *sd, struct ctl_req *r, const char *kind)
{
	ops_svcop(sd, r, kind, ctl_str(r, "stack"), json_object_get(r->args,
	    "services"), ctl_bool(r, "wait", false));
}

static void
cmd_stop(struct shipd *sd, struct ctl_req *r)
{
	run(sd, r, PROTO_CMD_STOP);
}

static void
cmd_start(struct shipd *sd, struct ctl_req *r)
{
	run(sd, r, PROTO_CMD_START);
}

static void
cmd_restart(struct shipd *sd, struct ctl_req *r)
{
	run(sd, r, PROTO_CMD_RESTART);
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, true },
	{ "services", JSON_ARRAY, true },
	{ "wait", JSON_TRUE, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_stop = {
	PROTO_CMD_STOP, true, true, cmd_stop, args
};
const struct ctl_cmd ctl_cmd_start = {
	PROTO_CMD_START, true, true, cmd_start, args
};
const struct ctl_cmd ctl_cmd_restart = {
	PROTO_CMD_RESTART, true, true, cmd_restart, args
};
