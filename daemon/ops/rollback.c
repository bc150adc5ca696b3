/*
 * Rollback: automatic, when a deploy's gate fails, and on demand with
 * `shipctl rollback [--to N]`.  Both are the apply engine run again with an
 * older revision's snapshot: the planner finds the containers kept from
 * that revision (renamed <name>-r<rev>) and brings them back by renaming
 * and starting them, without create or pull; containers it cannot find are
 * recreated from the snapshot, pinned to the image IDs it recorded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/req.h"
#include "ops/deploy.h"
#include "engine/docker.h"
#include "state/lock.h"
#include "log.h"
#include "ops/op.h"
#include "proto.h"
#include "core/shipd.h"
#include "engine/spec.h"
#include "stackgraph.h"
#include "state/revision.h"
#include "state/store.h"
#include "util.h"

/* A failed deploy rolls back unless a service it touched says pause, and
 * only when there is a committed revision to go back to. */
bool
rollback_wanted(const struct op *op)
{
	size_t i;

	if (strcmp(op->kind, "deploy") != 0 || op->prev_revision <= 0)
		return false;
	for (i = 0; i < op->stack->nunits; i++) {
		const struct svc *s = &op->svcs[i];

		if (s->state != SVC_PENDING && s->state != SVC_SKIPPED &&
		    s->action != ACT_UNCHANGED &&
		    s->unit->update.on_failure == UPDATE_PAUSE)
			return false;
	}
	return true;
}

/* An operation that applies revision rev's snapshot. */
struct op *
op_snapshot(struct shipd *sd, struct ctl_req *r, const char *kind,
    const char *stack, int rev, char *why, size_t len)
{
	const json_t		*doc;
	struct stack		*st;
	struct graph		*g;
	struct op		*op;

	if (revision_load(sd->store, stack, rev, &st, &g, NULL, why, len) < 0)
		return NULL;
	doc = store_revision_get(sd->store, stack, rev);
	op = op_create(sd, r, kind, st, g);
	op->pin_images = true;
	json_decref(op->images);
	op->images = json_deep_copy(json_object_get(doc, "images"));
	if (op->images == NULL)
		op->images = json_object();
	return op;
}

void
rollback_auto(struct op *failed)
{
	struct shipd	*sd = failed->sd;
	struct op	*rb;
	char		 why[256];

	rb = op_snapshot(sd, NULL, "rollback-auto", failed->stack_name,
	    failed->prev_revision, why, sizeof why);
	if (rb == NULL) {
		log_err("%s: cannot roll back: %s", failed->stack_name, why);
		record_revision(failed);
		return;
	}
	log_warn("%s: revision %d failed; rolling back to %d",
	    failed->stack_name, failed->revision, failed->prev_revision);
	if (failed->req != NULL)
		ctl_req_event(failed->req, "rollback", json_pack(
		    "{s:i, s:i, s:s}", "from", failed->revision, "to",
		    failed->prev_revision, "reason", failed->error));
	op_take_req(rb, failed);
	rb->parent = failed;
	rb->uid = failed->uid;
	rb->pid = failed->pid;
	rb->lock = failed->lock;
	failed->lock = NULL;
	rb->revision = rb->keep_rev = rb->prev_revision =
	    failed->prev_revision;
	rb->next = sd->ops;
	sd->ops = rb;
	op_begin(rb);
}

/* The rollback finished: record the failed revision and answer for it. */
void
rollback_auto_done(struct op *rb)
{
	struct op	*failed = rb->parent;
	char		*msg;

	op_take_req(failed, rb);
	failed->lock = rb->lock;
	rb->lock = NULL;
	failed->rolled_back = !rb->failed;
	if (rb->failed)
		xasprintf(&msg, "%s; rolling back to revision %d failed too: "
		    "%s", failed->error, failed->prev_revision, rb->error);
	else
		xasprintf(&msg, "%s; rolled back to revision %d in %.2fs",
		    failed->error, failed->prev_revision,
		    (double)(now_ms() - rb->t0) / 1000);
	free(failed->error);
	failed->error = msg;
	/* rb is inside its own finishing callback chain: it goes with the
	 * failed op, once that has been recorded and answered. */
	failed->child = rb;
	record_revision(failed);
}

/* ---- shipctl rollback [--to N] -------------------------------------------- */

static int
previous_committed(struct shipd *sd, const char *stack, int before)
{
	int	revs[256];
	size_t	n;

	n = store_revision_list(sd->store, stack, revs, 256);
	while (n-- > 0) {
		const json_t *doc = store_revision_get(sd->store, stack,
		    revs[n]);
		const char *res = json_string_value(json_object_get(doc,
		    "result"));

		if (revs[n] < before && res != NULL &&
		    strcmp(res, "committed") == 0)
			return revs[n];
	}
	return 0;
}

void
ctl_handle_rollback(struct shipd *sd, struct ctl_req *r)
{
	const char	*stack = ctl_str(r, "stack");
	struct op	*op;
	char		 why[256];
	int		 cur, to;

	cur = store_current(sd->store, stack);
	to = (int)ctl_int(r, "to", 0);
	if (to == 0)
		to = previous_committed(sd, stack, cur);
	if (to <= 0) {
		ctl_req_err(r, PROTO_E_NOT_FOUND, "stack %s has no committed "
		    "revision before %d to roll back to", stack, cur);
		return;
	}
	if ((op = op_snapshot(sd, r, "rollback", stack, to, why,
	    sizeof why)) == NULL) {
		ctl_req_err(r, PROTO_E_NOT_FOUND, "%s", why);
		return;
	}
	if (lock_acquire(sd, stack, "rollback", r->uid, r->pid, &op->lock,
	    why, sizeof why) < 0) {
		ctl_req_err(r, PROTO_E_BUSY, "%s", why);
		op->req = NULL;
		op_free(op);
		return;
	}
	op->next = sd->ops;
	sd->ops = op;
	if (ctl_bool(r, "with_data", false)) {
		/* The data goes back to before the deploy being undone:
		 * the backup that deploy took first. */
		const char *id = json_string_value(json_object_get(
		    store_revision_get(sd->store, stack, cur), "backup"));

		if (id == NULL) {
			ctl_req_err(r, PROTO_E_NOT_FOUND, "revision %d took no "
			    "backup before it was deployed: nothing to restore "
			    "(roll back without --with-data)", cur);
			op->req = NULL;
			op_free(op);
			return;
		}
		op->restore_id = xstrdup(id);
	}
	op->rollback_of = to;
	op->prev_revision = op->keep_rev = cur;
	op->revision = store_revision_next(sd->store, stack);
	ctl_req_event(r, "rollback", json_pack("{s:i, s:i}", "from", cur,
	    "to", to));
	op_begin(op);
}

/* ---- pruning kept containers after a commit ------------------------------- */

struct prune {
	struct shipd	*sd;
	struct task	 task;
	char		*stack;
	int		 keep[UNIT_RETAIN_MAX + 1];
	size_t		 nkeep;
	int		 inflight;
};

static void
prune_free(void *arg)
{
	struct prune *p = arg;

	task_del(p->sd, &p->task);
	free(p->stack);
	free(p);
}

static void
on_pruned(const struct docker_result *res, void *arg)
{
	struct prune *p = arg;

	if (res->err != 0 && res->err != DOCKER_E_NOT_FOUND)
		log_warn("%s: pruning a kept container: %s", p->stack,
		    res->message);
	if (--p->inflight == 0)
		prune_free(p);
}

static void
on_prune_list(const struct docker_result *res, void *arg)
{
	struct prune	*p = arg;
	json_t		*c;
	size_t		 i, k;
	int		 rev;

	p->inflight = 1;
	json_array_foreach(res->err == 0 ? res->body : NULL, i, c) {
		const char *name = json_string_value(json_array_get(
		    json_object_get(c, "Names"), 0));

		if (name == NULL || (rev = spec_kept_revision(name)) == 0)
			continue;
		for (k = 0; k < p->nkeep && p->keep[k] != rev; k++)
			;
		if (k < p->nkeep)
			continue;
		p->inflight++;
		docker_container_remove(p->sd->docker,
		    json_string_value(json_object_get(c, "Id")), 1, 0,
		    on_pruned, p);
	}
	if (--p->inflight == 0)
		prune_free(p);
}

/*
 * Keep the containers of the newest `retain` committed revisions before
 * current; remove every other kept container of the stack.
 */
void
rollback_prune(struct shipd *sd, const char *stack, int current, int retain)
{
	struct prune	*p = xcalloc(1, sizeof *p);
	char		*filter;
	int		 before = current;

	p->sd = sd;
	p->stack = xstrdup(stack);
	while ((int)p->nkeep < retain && p->nkeep < UNIT_RETAIN_MAX &&
	    (before = previous_committed(sd, stack, before)) > 0)
		p->keep[p->nkeep++] = before;
	task_add(sd, &p->task, p, prune_free);
	xasprintf(&filter, LABEL_STACK "=%s", stack);
	docker_containers_list(sd->docker, filter, 1, on_prune_list, p);
	free(filter);
}
