/*
 * A stored revision read back as the model every operation works on: its
 * stack and dependency graph.  The one loader for deploys, scale,
 * rollback, recovery, down and backups.
 */
#ifndef SHIPD_REVISION_H
#define SHIPD_REVISION_H

#include <stddef.h>

struct graph;
struct stack;
struct store;

/*
 * Revision rev of stack name (rev 0: the current one).  0 with *st (and
 * *g, when g is not NULL) set, or -ENOENT (no such revision) or -EINVAL
 * (it cannot be read back), with why set to a sentence naming the stack
 * and revision.  *rev_out, when not NULL, is the revision loaded.
 */
int	revision_load(struct store *, const char *name, int rev,
	    struct stack **st, struct graph **g, int *rev_out, char *why,
	    size_t len);

/* The newest committed revision before `before`, or 0. */
int	revision_prev_committed(struct store *, const char *stack, int before);

#endif
