/*
 * Known stacks and reply value types (known.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "ctl/known.h"
#include "engine/docker.h"
#include "ops/ops.h"
#include "proto.h"
#include "state/lock.h"
#include "state/store.h"
#include "util.h"

struct known {
	struct shipd		*sd;
	struct ctl_req		*req;
	ctl_handler		*next;
	struct docker_req	*dreq;
};

bool
ctl_stack_known(struct shipd *sd, const char *stack)
{
	json_t	*ops;
	int	 rev;
	bool	 yes;

	if (store_current(sd->store, stack) > 0 ||
	    store_revision_list(sd->store, stack, &rev, 1) > 0 ||
	    lock_holder(sd, stack) != NULL)
		return true;
	ops = ops_status(sd, stack);
	yes = json_array_size(ops) > 0;
	json_decref(ops);
	return yes;
}

static void
known_cancel(struct ctl_req *r, void *arg)
{
	struct known *k = arg;

	(void)r;
	docker_cancel(k->dreq);
	free(k);
}

static void
known_listed(const struct docker_result *res, void *arg)
{
	struct known	*k = arg;
	struct ctl_req	*r = k->req;
	struct shipd	*sd = k->sd;
	ctl_handler	*next = k->next;
	bool		 found;

	k->dreq = NULL;
	ctl_req_on_cancel(r, NULL, NULL);
	free(k);
	/* The engine cannot say: the command finds out for itself. */
	found = res->err != 0 || json_array_size(res->body) > 0;
	/* An operation may have begun while the engine answered. */
	if (found || ctl_stack_known(sd, ctl_str(r, "stack")))
		next(sd, r);
	else
		ctl_req_err(r, PROTO_E_NOT_FOUND, "no stack '%s': it has no "
		    "revision, no container and no operation",
		    ctl_str(r, "stack"));
}

void
ctl_known_stack(struct shipd *sd, struct ctl_req *r, ctl_handler *next)
{
	const char	*stack = ctl_str(r, "stack");
	struct known	*k;
	char		*filter;

	if (stack == NULL || ctl_stack_known(sd, stack) || !sd->engine_ok) {
		next(sd, r);
		return;
	}
	k = xcalloc(1, sizeof *k);
	k->sd = sd;
	k->req = r;
	k->next = next;
	ctl_req_on_cancel(r, known_cancel, k);
	xasprintf(&filter, LABEL_STACK "=%s", stack);
	k->dreq = docker_containers_list(sd->docker, filter, 1, known_listed,
	    k);
	free(filter);
}

json_t *
ctl_json_num(const char *s)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s == '\0')
		return json_null();
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return json_null();
	return json_integer(v);
}

json_t *
ctl_json_time(const json_t *secs)
{
	char t[64];

	if (!json_is_integer(secs))
		return json_null();
	fmt_time_utc(t, sizeof t, (long long)json_integer_value(secs));
	return json_string(t);
}
