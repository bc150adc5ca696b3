/*
 * Tasks: work that may still hold engine calls when shipd shuts down
 * (core/shipd.h).
 */
#include "core/shipd.h"

void
task_add(struct shipd *sd, struct task *t, void *obj, void (*fn)(void *))
{
	t->obj = obj;
	t->free = fn;
	t->next = sd->tasks;
	sd->tasks = t;
}

void
task_del(struct shipd *sd, struct task *t)
{
	struct task **tp;

	for (tp = &sd->tasks; *tp != NULL; tp = &(*tp)->next)
		if (*tp == t) {
			*tp = t->next;
			return;
		}
}

void
tasks_free_all(struct shipd *sd)
{
	struct task *t;

	while ((t = sd->tasks) != NULL) {
		sd->tasks = t->next;
		t->free(t->obj);
	}
}
