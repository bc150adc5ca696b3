/*
 * Stack locks.  See lock.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/lock.h"
#include "core/shipd.h"
#include "util.h"
#include <uv.h>

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
		/* pid 0: shipd's own (a recovery at start), no client's. */
		if (h->pid == 0)
			snprintf(why, len, "stack %s is busy: shipd's own %s "
			    "since %s; try again when it is done", stack,
			    h->kind, since);
		else
			snprintf(why, len, "stack %s is busy: %s by uid %ld "
			    "(pid %ld) since %s", stack, h->kind, (long)h->uid,
			    (long)h->pid, since);
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

struct lock_waiter {
	struct shipd		*sd;
	char			*stack;
	void			(*cb)(void *);
	void			*arg;
	uv_timer_t		 kick;	/* wakes it on the next loop turn */
	struct lock_waiter	*next;
};

static void
on_waiter_closed(uv_handle_t *h)
{
	struct lock_waiter *w = h->data;

	free(w->stack);
	free(w);
}

struct lock_waiter *
lock_wait(struct shipd *sd, const char *stack, void (*cb)(void *), void *arg)
{
	struct lock_waiter *w = xcalloc(1, sizeof *w), **wp;

	w->sd = sd;
	w->stack = xstrdup(stack);
	w->cb = cb;
	w->arg = arg;
	uv_timer_init(sd->loop, &w->kick);
	w->kick.data = w;
	for (wp = &sd->lock_waiters; *wp != NULL; wp = &(*wp)->next)
		;
	*wp = w;
	return w;
}

static void
on_kick(uv_timer_t *t)
{
	struct lock_waiter *w = t->data;

	w->cb(w->arg);
}

/* Wake the first waiter for the stack; not from inside the release,
 * which runs deep in the releasing operation's teardown. */
static void
wake(struct shipd *sd, const char *stack)
{
	struct lock_waiter *w;

	for (w = sd->lock_waiters; w != NULL; w = w->next)
		if (strcmp(w->stack, stack) == 0) {
			uv_timer_start(&w->kick, on_kick, 0, 0);
			return;
		}
}

void
lock_wait_cancel(struct shipd *sd, struct lock_waiter *w)
{
	struct lock_waiter	**wp;
	int			  woken;

	if (w == NULL)
		return;
	woken = uv_is_active((uv_handle_t *)&w->kick);
	for (wp = &sd->lock_waiters; *wp != NULL; wp = &(*wp)->next)
		if (*wp == w) {
			*wp = w->next;
			break;
		}
	uv_timer_stop(&w->kick);
	/* A release woke it but it gives up before its turn: pass the wake
	 * on, or the next in line waits for a release that already came. */
	if (woken && lock_holder(sd, w->stack) == NULL)
		wake(sd, w->stack);
	uv_close((uv_handle_t *)&w->kick, on_waiter_closed);
}

void
lock_release(struct shipd *sd, struct stack_lock *l)
{
	struct stack_lock **lp;

	if (l == NULL)
		return;
	wake(sd, l->stack);
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
