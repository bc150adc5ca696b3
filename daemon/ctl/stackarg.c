/*
 * The "stack" argument of deploy and plan (stackarg.h): decoded, every
 * unit rule checked, the dependency graph built; failures answered with
 * the first twenty diagnostics.
 */
#include <errno.h>
#include <stdlib.h>

#include "ctl/ctl.h"
#include "ctl/stackarg.h"
#include "diag.h"
#include "graph.h"
#include "proto.h"
#include "stackgraph.h"
#include "unit.h"
#include "util.h"

#define DIAGS_MAX	20

const struct ctl_arg ctl_stack_args[] = {
	{ "stack", JSON_OBJECT, true },
	{ "skip_checks", JSON_ARRAY, false },
	{ "no_backup", JSON_TRUE, false },
	{ "wait", JSON_TRUE, false },
	{ "remove_orphans", JSON_TRUE, false },
	{ NULL, 0, false }
};

static int
reply_diags(struct ctl_req *r, const char *what, struct diag_list *errs)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	for (i = 0; i < errs->n && i < DIAGS_MAX; i++) {
		char *s = diag_format(&errs->v[i]);

		buf_printf(&b, "%s%s", i ? "\n" : "", s);
		free(s);
	}
	if (errs->n > DIAGS_MAX)
		buf_printf(&b, "\n(and %zu more)", errs->n - DIAGS_MAX);
	ctl_req_err(r, PROTO_E_INVALID_STACK, "%s: %s", what,
	    b.len ? b.data : "invalid");
	buf_free(&b);
	diag_free(errs);
	return -EINVAL;
}

int
ctl_stack_arg(struct ctl_req *r, struct stack **st, struct graph **g)
{
	struct diag_list errs;

	diag_init(&errs);
	if (stack_from_json(json_object_get(r->args, "stack"), st,
	    &errs) != 0)
		return reply_diags(r, "invalid stack", &errs);
	if (stack_graph_build(*st, g, &errs) != 0) {
		stack_free(*st);
		*st = NULL;
		return reply_diags(r, "invalid dependencies", &errs);
	}
	diag_free(&errs);
	return 0;
}
