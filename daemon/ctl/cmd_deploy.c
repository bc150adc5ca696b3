/*
 * deploy: plan, pre-flight, backup, apply, verify and commit the stack
 * the client sent (shipctl loaded and expanded it); plan stops after the
 * plan.  The stack is validated here as strictly as a unit file.
 */
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "ctl/ctl.h"
#include "ctl/stackarg.h"
#include "ops/ops.h"
#include "ops/preflight.h"
#include "proto.h"

static void
cmd_deploy(struct shipd *sd, struct ctl_req *r)
{
	struct deploy_opts	 o = { 0 };
	struct stack		*st;
	struct graph		*g;
	json_t			*v;
	size_t			 i;

	o.skip_checks = json_object_get(r->args, "skip_checks");
	json_array_foreach(o.skip_checks, i, v) {
		/* Not for anyone: root changes the file instead, where the
		 * change is the operator's and lasts (docs/operations.md). */
		if (json_string_value(v) != NULL &&
		    strcmp(json_string_value(v), "policy") == 0) {
			ctl_req_err(r, PROTO_E_BAD_ARGS, "skip_checks: the "
			    "policy check cannot be skipped, by anyone; change "
			    "the policy in %s instead", sd->conf.path ?
			    sd->conf.path : sd->cfg.config_path);
			return;
		}
		if (!preflight_check_known(json_string_value(v))) {
			ctl_req_err(r, PROTO_E_BAD_ARGS, "skip_checks: no check "
			    "named '%.32s' (checks: %s)", json_string_value(v) ?
			    json_string_value(v) : "?", PREFLIGHT_CHECKS);
			return;
		}
	}
	if (ctl_stack_arg(r, &st, &g) < 0)
		return;
	o.no_backup = ctl_bool(r, "no_backup", false);
	o.wait = ctl_bool(r, "wait", false);
	o.remove_orphans = ctl_bool(r, "remove_orphans", false);
	ops_deploy(sd, r, st, g, &o);
}

const struct ctl_cmd ctl_cmd_deploy = {
	PROTO_CMD_DEPLOY, true, true, cmd_deploy, ctl_stack_args
};
