/*
 * Pruning after a commit: keep the containers of the newest `retain`
 * committed revisions before current (renamed <name>-r<rev>, for fast
 * rollback) and remove every other kept container of the stack.
 */
#include <stdlib.h>

#include "core/shipd.h"
#include "engine/docker.h"
#include "engine/spec.h"
#include "log.h"
#include "ops/op.h"
#include "state/revision.h"
#include "util.h"

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
prune_kept(struct shipd *sd, const char *stack, int current, int retain)
{
	struct prune	*p = xcalloc(1, sizeof *p);
	char		*filter;
	int		 before = current;

	p->sd = sd;
	p->stack = xstrdup(stack);
	while ((int)p->nkeep < retain && p->nkeep < UNIT_RETAIN_MAX &&
	    (before = revision_prev_committed(sd->store, stack,
	    before)) > 0)
		p->keep[p->nkeep++] = before;
	task_add(sd, &p->task, p, prune_free);
	xasprintf(&filter, LABEL_STACK "=%s", stack);
	docker_containers_list(sd->docker, filter, 1, on_prune_list, p);
	free(filter);
}
