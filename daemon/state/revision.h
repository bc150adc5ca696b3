/*
 * A stored revision read back as the model every operation works on: its
 * stack and dependency graph.  The one loader for deploys, scale,
 * rollback, recovery, down and backups; and whether two revisions deploy
 * the same, for no-op deploys, rollback and retention.
 */
#ifndef SHIPD_REVISION_H
#define SHIPD_REVISION_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

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

/*
 * Whether two revision documents deploy the same: the same stack (every
 * unit's spec and settings, the stack's own) and the same image IDs.
 * Who made them, when, how and from which files does not count.  False
 * when either is NULL.
 */
bool	revision_same(const json_t *, const json_t *);
/* What revision_same compares, a new object: equal (json_equal) exactly
 * when the documents deploy the same. */
json_t	*revision_content(const json_t *);
/* The newest committed revision before `before` that deploys something
 * other than `before` does, or 0. */
int	revision_prev_differing(struct store *, const char *stack, int before);

#endif
