/*
 * Stack locks.  See lock.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lock.h"
#include "shipd.h"
#include "util.h"

const struct stack_lock *
lock_holder(const struct shipd *sd, const char *stack)
{
	const struct stack_lock *l;

	for (l = sd->locks; l != NULL; l = l->next)
		if (strcmp(l->stack, stack) == 0)
			return l;
	return NULL;
}

int
lock_acquire(struct shipd *sd, const char *stack, const char *kind,
    uid_t uid, pid_t pid, struct stack_lock **out, char *why, size_t len)
{
	const struct stack_lock	*h;
	struct stack_lock	*l;
	char			 since[32];

	if ((h = lock_holder(sd, stack)) != NULL) {
		fmt_time_utc(since, sizeof since, (long long)h->since);
		snprintf(why, len, "stack %s is busy: %s by uid %ld (pid %ld) "
		    "since %s", stack, h->kind, (long)h->uid, (long)h->pid,
		    since);
		return -EBUSY;
	}
	l = xcalloc(1, sizeof *l);
	l->stack = xstrdup(stack);
	l->kind = xstrdup(kind);
	l->uid = uid;
	l->pid = pid;
	l->since = time(NULL);
	l->next = sd->locks;
	sd->locks = l;
	*out = l;
	return 0;
}

void
lock_release(struct shipd *sd, struct stack_lock *l)
{
	struct stack_lock **lp;

	if (l == NULL)
		return;
	for (lp = &sd->locks; *lp != NULL; lp = &(*lp)->next)
		if (*lp == l) {
			*lp = l->next;
			break;
		}
	free(l->stack);
	free(l->kind);
	free(l);
}

json_t *
lock_json(const struct stack_lock *l)
{
	char since[32];

	if (l == NULL)
		return NULL;
	fmt_time_utc(since, sizeof since, (long long)l->since);
	return json_pack("{s:s, s:i, s:i, s:s}", "kind", l->kind, "uid",
	    (int)l->uid, "pid", (int)l->pid, "since", since);
}
