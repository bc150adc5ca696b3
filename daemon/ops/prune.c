/*
 * Removing containers nobody waits for: after a commit, the kept
 * containers beyond retention (renamed <name>-r<rev>, for fast rollback);
 * after an interrupted first deploy, what it made.
 */
#include <stdlib.h>

#include "core/shipd.h"
#include "engine/docker.h"
#include "engine/spec.h"
#include "log.h"
#include "ops/op.h"
#include "state/lock.h"
#include "state/revision.h"
#include "state/store.h"
#include "util.h"

#define PRUNE_SCAN	256	/* revisions looked at, as revision.c */

/*
 * A sweep: list the stack's containers, remove those the rule picks.  It
 * runs on its own (nobody waits for it) and is a task, so shutdown frees
 * it while calls are still out.
 */
struct sweep {
	struct shipd	*sd;
	struct task	 task;
	char		*stack;
	const char	*what;		/* for the log */
	bool		 by_name;	/* keep[]: kept revisions to leave */
	int		 keep[PRUNE_SCAN];
	size_t		 nkeep;
	int		 rev;		/* !by_name: the revision to remove */
	int		 inflight;
	struct stack_lock *lock;	/* held while an interrupted first
					   deploy's containers go */
};

static void
sweep_free(void *arg)
{
	struct sweep *sw = arg;

	task_del(sw->sd, &sw->task);
	lock_release(sw->sd, sw->lock);
	free(sw->stack);
	free(sw);
}

/* Off the task list now (shutdown must not free it twice), freed once
 * the engine callback has returned. */
static void
sweep_done(struct sweep *sw)
{
	task_del(sw->sd, &sw->task);
	lock_release(sw->sd, sw->lock);
	sw->lock = NULL;
	defer_free(sw->sd, sweep_free, sw);
}

static void
on_removed(const struct docker_result *res, void *arg)
{
	struct sweep *sw = arg;

	if (res->err != 0 && res->err != DOCKER_E_NOT_FOUND)
		log_warn("%s: %s: %s", sw->stack, sw->what, res->message);
	if (--sw->inflight == 0)
		sweep_done(sw);
}

static bool
picked(const struct sweep *sw, json_t *c)
{
	const char	*name, *rev;
	size_t		 k;
	int		 kept;

	if (!sw->by_name) {
		rev = json_string_value(json_object_get(json_object_get(c,
		    "Labels"), LABEL_REVISION));
		return rev != NULL && atoi(rev) == sw->rev;
	}
	name = json_string_value(json_array_get(json_object_get(c, "Names"),
	    0));
	if (name == NULL || (kept = spec_kept_revision(name)) == 0)
		return false;
	for (k = 0; k < sw->nkeep; k++)
		if (sw->keep[k] == kept)
			return false;
	return true;
}

static void
on_listed(const struct docker_result *res, void *arg)
{
	struct sweep	*sw = arg;
	json_t		*c;
	size_t		 i;

	sw->inflight = 1;
	json_array_foreach(res->err == 0 ? res->body : NULL, i, c) {
		if (!picked(sw, c))
			continue;
		sw->inflight++;
		docker_container_remove(sw->sd->docker,
		    json_string_value(json_object_get(c, "Id")), 1, 0,
		    on_removed, sw);
	}
	if (--sw->inflight == 0)
		sweep_done(sw);
}

static struct sweep *
sweep_new(struct shipd *sd, const char *stack, const char *what)
{
	struct sweep *sw = xcalloc(1, sizeof *sw);

	sw->sd = sd;
	sw->stack = xstrdup(stack);
	sw->what = what;
	return sw;
}

static void
sweep_run(struct sweep *sw)
{
	char *filter;

	task_add(sw->sd, &sw->task, sw, sweep_free);
	xasprintf(&filter, LABEL_STACK "=%s", sw->stack);
	docker_containers_list(sw->sd->docker, filter, 1, on_listed, sw);
	free(filter);
}

/* Whether c equals one of the n contents in v. */
static bool
repeats(json_t *const *v, size_t n, const json_t *c)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (json_equal(v[i], c))
			return true;
	return false;
}

/*
 * Keep the containers of the newest `retain` committed revisions before
 * current that deploy something different, from current and from each
 * other: a revision that repeats one of those (a redeploy, a rollback)
 * does not count, and what was kept under its number stays with it.
 * Remove every other kept container of the stack.
 */
void
prune_kept(struct shipd *sd, const char *stack, int current, int retain)
{
	struct sweep	*sw = sweep_new(sd, stack, "pruning a kept container");
	json_t		*seen[UNIT_RETAIN_MAX + 1], *c;
	size_t		 nseen = 0, i;
	int		 rev = current;

	seen[nseen++] = revision_content(store_revision_get(sd->store, stack,
	    current));
	sw->by_name = true;
	while (sw->nkeep < PRUNE_SCAN &&
	    (rev = revision_prev_committed(sd->store, stack, rev)) > 0) {
		c = revision_content(store_revision_get(sd->store, stack, rev));
		if (repeats(seen, nseen, c))
			sw->keep[sw->nkeep++] = rev;
		else if ((int)nseen <= retain && nseen < nitems(seen)) {
			sw->keep[sw->nkeep++] = rev;
			seen[nseen++] = json_incref(c);
		}
		json_decref(c);
	}
	for (i = 0; i < nseen; i++)
		json_decref(seen[i]);
	sweep_run(sw);
}

/* Every container labelled with revision rev (an interrupted first
 * deploy's), under the stack's lock as recovery: a deploy that comes
 * meanwhile waits for it (op.c) rather than find them going. */
void
prune_revision(struct shipd *sd, const char *stack, int rev)
{
	struct sweep	*sw = sweep_new(sd, stack, "removing an interrupted "
	    "revision's container");
	char		 why[256];

	sw->rev = rev;
	if (lock_acquire(sd, stack, OP_NAME_RECOVER, 0, 0, &sw->lock, why,
	    sizeof why) < 0)
		log_warn("%s: %s", stack, why);
	sweep_run(sw);
}
