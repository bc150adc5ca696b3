/*
 * Ordered boot (docs/operations.md): when shipd starts, and whenever the
 * engine's event stream comes back (dockerd restarted), list every
 * stack's containers and bring each stack to what a deploy would have
 * made of it, in dependency order.  A replica of the current revision
 * that is down although nothing meant it so (not left stopped by shipctl
 * stop, not a one-shot that completed) has its service started again; a
 * service the engine started on its own while something it waits on
 * (healthy, completed) is not there yet is stopped first, dependents
 * before what they depend on, and started again with them.  The stop is
 * an operation of kind stop that leaves no mark, the start one of kind
 * start that also gates the running services they wait on, each under
 * the stack's lock, each replica gated as a deploy gates it.  A service
 * whose dependencies are met is left running.  A stack whose lock is
 * held (a deploy, a recovery) is looked at again once it is free.  What
 * to stop and start is bootplan.c's to say.
 */
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "engine/docker.h"
#include "engine/spec.h"
#include "graph.h"
#include "log.h"
#include "ops/boot.h"
#include "ops/health.h"
#include "ops/op.h"
#include "state/journal.h"
#include "state/lock.h"
#include "state/revision.h"
#include "state/store.h"
#include "util.h"

#define BOOT_COALESCE_MS	200
#define BOOT_RETRY_MS		1000
#define BOOT_FAIL_MIN_MS	10000	/* after a failed start, doubled */
#define BOOT_FAIL_MAX_MS	300000
#define BOOT_PATIENCE		20	/* lists waiting for shipd's own
					   checks' first verdicts */

struct boot {
	struct shipd		*sd;
	uv_timer_t		 timer;
	struct docker_req	*list;
	bool			 again;
	json_t			*after;		/* {stack: {svc: why}}: what
						   boot stopped, to start */
	uint64_t		 fail_ms;	/* wait after a failed start */
	unsigned		 waits;		/* lists spent waiting */
};

static void	on_boot_timer(uv_timer_t *);

static const char *
label(json_t *c, const char *key)
{
	return json_string_value(json_object_get(json_object_get(c,
	    "Labels"), key));
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

/* The stop or the start failed, or was refused: look again later, the
 * wait doubling from 10 s to 5 minutes, until one succeeds. */
static void
boot_failed(struct boot *b, struct op *op, const char *what)
{
	b->fail_ms = b->fail_ms == 0 ? BOOT_FAIL_MIN_MS : b->fail_ms * 2;
	if (b->fail_ms > BOOT_FAIL_MAX_MS)
		b->fail_ms = BOOT_FAIL_MAX_MS;
	log_warn("boot %s: %s: %s; looking again in %llu s", op->stack_name,
	    what, op->error ? op->error : op->refusal ? op->refusal :
	    "failed",
	    (unsigned long long)(b->fail_ms / 1000));
	if (!uv_is_active((uv_handle_t *)&b->timer))
		uv_timer_start(&b->timer, on_boot_timer, b->fail_ms, 0);
}

static void
on_stopped(struct op *op, void *arg)
{
	struct boot *b = arg;

	if (op->failed || op->refusal != NULL) {
		boot_failed(b, op, "stopping what ran ahead");
		return;
	}
	/* Now what it stopped is down: start it, in order. */
	uv_timer_start(&b->timer, on_boot_timer, 0, 0);
}

static void
on_started(struct op *op, void *arg)
{
	struct boot *b = arg;

	if (op->failed || op->refusal != NULL)
		boot_failed(b, op, "starting");
	else
		b->fail_ms = 0;
}

static const char *
own_verdict(const char *id, const char **detail, void *arg)
{
	return health_own(arg, id, detail);
}

/* Bring stack to what a deploy would make of it; false if it must
 * wait (its lock is held, a verdict is not known yet). */
static bool
boot_stack(struct boot *b, const char *stack, json_t *rows)
{
	struct shipd	*sd = b->sd;
	struct stack	*st;
	struct graph	*g;
	json_t		*t, *stop;
	char		 why[256];

	if (lock_holder(sd, stack) != NULL)
		return false;
	/* Half way between revisions: the operator's to deploy or roll
	 * back (status says so); a start or stop would be refused. */
	if (journal_held(sd, stack) != NULL)
		return true;
	if (revision_load(sd->store, stack, 0, &st, &g, NULL, why,
	    sizeof why) < 0)
		return true;
	if (!boot_plan(st, rows, json_object_get(b->after, stack),
	    b->waits < BOOT_PATIENCE, own_verdict, sd, &stop, &t)) {
		graph_free(g);
		stack_free(st);
		return false;
	}
	json_object_del(b->after, stack);
	if (json_object_size(stop) > 0) {
		log_info("boot %s: stopping %zu services that started ahead "
		    "of what they wait on", stack, json_object_size(stop));
		json_object_set_new(b->after, stack, json_deep_copy(stop));
		json_decref(t);
		svcop_boot_stop(sd, st, g, stop, on_stopped, b);
	} else if (json_object_size(t) > 0) {
		json_decref(stop);
		log_info("boot %s: starting %zu services, in order", stack,
		    json_object_size(t));
		svcop_boot(sd, st, g, t, on_started, b);
	} else {
		json_decref(stop);
		json_decref(t);
		graph_free(g);
		stack_free(st);
	}
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
			if (!boot_stack(b, stack, rows))
				retry = true;
		json_decref(stacks);
	}
	b->waits = retry ? b->waits + 1 : 0;
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
		b->after = json_object();
		uv_timer_init(sd->loop, &b->timer);
		b->timer.data = b;
	}
	if (!uv_is_active((uv_handle_t *)&b->timer))
		uv_timer_start(&b->timer, on_boot_timer, BOOT_COALESCE_MS, 0);
}

static void
boot_closed(uv_handle_t *t)
{
	struct boot *b = t->data;

	json_decref(b->after);
	free(b);
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
