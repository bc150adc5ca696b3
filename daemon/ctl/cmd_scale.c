/*
 * scale: change replica counts of the current revision, gated like a
 * deploy; the counts hold until the unit file's own count changes.
 */
#include "ctl/ctl.h"
#include "ops/ops.h"
#include "proto.h"

static void
cmd_scale(struct shipd *sd, struct ctl_req *r)
{
	ops_scale(sd, r, ctl_str(r, "stack"), json_object_get(r->args,
	    "replicas"), json_object_get(r->args, "bounds"),
	    ctl_bool(r, "wait", false));
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, true },
	{ "replicas", JSON_OBJECT, false },
	{ "bounds", JSON_OBJECT, false },
	{ "wait", JSON_TRUE, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_scale = {
	PROTO_CMD_SCALE, true, true, cmd_scale, args
};
