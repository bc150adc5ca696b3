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
const struct stack_lock *lock_holder(const struct shipd *, const char *);
/* {"kind","uid","pid","since"} or NULL. */
json_t	*lock_json(const struct stack_lock *);

#endif
