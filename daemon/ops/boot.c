/*
 * Ordered boot (docs/operations.md): when shipd starts, and whenever the
 * engine's event stream comes back (dockerd restarted), list every
 * stack's containers; a replica of the current revision that is down
 * although nothing meant it so (not left stopped by shipctl stop, not a
 * one-shot that completed) has its service started again through an
 * operation of kind start, under the stack's lock, in dependency order,
 * each replica gated on health as a deploy gates it.  A stack whose lock
 * is held (a deploy, a recovery) is looked at again once it is free.
 */
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "engine/docker.h"
#include "engine/spec.h"
#include "graph.h"
#include "log.h"
#include "ops/boot.h"
#include "ops/op.h"
#include "state/lock.h"
#include "state/revision.h"
#include "state/store.h"
#include "util.h"

#define BOOT_COALESCE_MS	200
#define BOOT_RETRY_MS		1000

struct boot {
	struct shipd		*sd;
	uv_timer_t		 timer;
	struct docker_req	*list;
	bool			 again;
};

static void	on_boot_timer(uv_timer_t *);

static const char *
label(json_t *c, const char *key)
{
	return json_string_value(json_object_get(json_object_get(c,
	    "Labels"), key));
}

/* Down, and not meant to be: exited or created, but for a clean exit the
 * engine would leave as it is (restart "no" or "on-failure"). */
static bool
down_unmeant(json_t *c, const struct unit *u)
{
	const char *state = json_string_value(json_object_get(c, "State"));
	const char *status = json_string_value(json_object_get(c, "Status"));

	if (state == NULL || (strcmp(state, "exited") != 0 &&
	    strcmp(state, "created") != 0))
		return false;
	if (status != NULL && strncmp(status, "Exited (0)", 10) == 0 &&
	    u->restart != NULL && (strcmp(u->restart, "no") == 0 ||
	    strcmp(u->restart, "on-failure") == 0))
		return false;
	return true;
}

/* {stack: [row, ...]}: the current revision's replicas (not kept ones,
 * not services shipctl stop left stopped). */
static json_t *
by_stack(struct shipd *sd, json_t *rows)
{
	json_t		*out = json_object(), *c, *a;
	const char	*stack, *svc, *name, *rev;
	const json_t	*stopped;
	size_t		 i;
	int		 cur;

	json_array_foreach(rows, i, c) {
		stack = label(c, LABEL_STACK);
		svc = label(c, LABEL_SERVICE);
		rev = label(c, LABEL_REVISION);
		name = json_string_value(json_array_get(json_object_get(c,
		    "Names"), 0));
		if (stack == NULL || svc == NULL || name == NULL ||
		    spec_kept_revision(name[0] == '/' ? name + 1 : name) > 0)
			continue;
		if ((cur = store_current(sd->store, stack)) <= 0 ||
		    (rev != NULL && atoi(rev) > cur))
			continue;
		stopped = json_object_get(store_svcstate_get(sd->store,
		    stack), "stopped");
		if (json_object_get(stopped, svc) != NULL)
			continue;
		if ((a = json_object_get(out, stack)) == NULL) {
			a = json_array();
			json_object_set_new(out, stack, a);
		}
		json_array_append(a, c);
	}
	return out;
}

/* Start what is down on stack, if anything; false if it must wait. */
static bool
boot_stack(struct shipd *sd, const char *stack, json_t *rows)
{
	struct stack	*st;
	struct graph	*g;
	const struct unit *u;
	json_t		*names = json_object(), *c;
	const char	*svc;
	char		 why[256];
	size_t		 i;

	if (lock_holder(sd, stack) != NULL) {
		json_decref(names);
		return false;
	}
	if (revision_load(sd->store, stack, 0, &st, &g, NULL, why,
	    sizeof why) < 0) {
		json_decref(names);
		return true;
	}
	json_array_foreach(rows, i, c) {
		svc = label(c, LABEL_SERVICE);
		if ((u = stack_unit(st, svc)) == NULL || !down_unmeant(c, u) ||
		    json_object_get(names, svc) != NULL)
			continue;
		json_object_set_new(names, svc, json_string("down at boot"));
	}
	if (json_object_size(names) == 0) {
		json_decref(names);
		graph_free(g);
		stack_free(st);
		return true;
	}
	log_info("boot %s: starting %zu services that are down, in order",
	    stack, json_object_size(names));
	svcop_boot(sd, st, g, names);
	return true;
}

static void
on_listed(const struct docker_result *res, void *arg)
{
	struct boot	*b = arg;
	struct shipd	*sd = b->sd;
	json_t		*stacks, *rows;
	const char	*stack;
	bool		 retry = res->err != 0;

	b->list = NULL;
	if (res->err == 0) {
		stacks = by_stack(sd, res->body);
		json_object_foreach(stacks, stack, rows)
			if (!boot_stack(sd, stack, rows))
				retry = true;
		json_decref(stacks);
	}
	if (b->again || retry) {
		b->again = false;
		uv_timer_start(&b->timer, on_boot_timer, BOOT_RETRY_MS, 0);
	}
}

static void
on_boot_timer(uv_timer_t *t)
{
	struct boot	*b = t->data;
	struct shipd	*sd = b->sd;

	if (sd->stopping)
		return;
	/* After recovery: what it finishes or rolls back comes first. */
	if (!sd->recovered || !sd->engine_ok || sd->store == NULL) {
		uv_timer_start(&b->timer, on_boot_timer, BOOT_RETRY_MS, 0);
		return;
	}
	if (b->list != NULL) {
		b->again = true;
		return;
	}
	b->list = docker_containers_list(sd->docker, LABEL_STACK, 1,
	    on_listed, b);
}

void
boot_scan(struct shipd *sd, struct boot **bp)
{
	struct boot *b = *bp;

	if (sd->stopping)
		return;
	if (b == NULL) {
		b = *bp = xcalloc(1, sizeof *b);
		b->sd = sd;
		uv_timer_init(sd->loop, &b->timer);
		b->timer.data = b;
	}
	if (!uv_is_active((uv_handle_t *)&b->timer))
		uv_timer_start(&b->timer, on_boot_timer, BOOT_COALESCE_MS, 0);
}

static void
boot_closed(uv_handle_t *t)
{
	free(t->data);
}

void
boot_stop(struct boot **bp)
{
	struct boot *b = *bp;

	if (b == NULL)
		return;
	*bp = NULL;
	docker_cancel(b->list);
	uv_timer_stop(&b->timer);
	uv_close((uv_handle_t *)&b->timer, boot_closed);
}
