/*
 * Stack locks: one deploy, rollback, scale, down, backup or restore at a
 * time per stack.  Held in memory by the daemon, so a crashed client never
 * leaves one behind and a crashed daemon takes its locks with it.
 */
#ifndef SHIPD_LOCK_H
#define SHIPD_LOCK_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include <jansson.h>

struct shipd;

struct stack_lock {
	char			*stack;
	char			*kind;		/* "deploy", "backup", ... */
	uid_t			 uid;
	pid_t			 pid;
	time_t			 since;
	struct stack_lock	*next;
};

/* 0, or -EBUSY with why naming the holder. */
int	lock_acquire(struct shipd *, const char *stack, const char *kind,
	    uid_t, pid_t, struct stack_lock **, char *why, size_t);
void	lock_release(struct shipd *, struct stack_lock *);	/* NULL ok */

/*
 * Queue for a stack's lock (`--wait`): cb runs from the loop, in order of
 * waiting, each time the lock is released, until the waiter acquires it
 * (or gives up) and cancels its wait.
 */
struct lock_waiter;
struct lock_waiter *lock_wait(struct shipd *, const char *stack,
	    void (*cb)(void *), void *);
void	lock_wait_cancel(struct shipd *, struct lock_waiter *);
const struct stack_lock *lock_holder(const struct shipd *, const char *);
/* {"kind","uid","pid","since"} or NULL. */
json_t	*lock_json(const struct stack_lock *);

#endif
