/*
 * The deploy journal (journal.c): fsync'd records of every engine-changing
 * step, written before the step is taken.  Recovery from them is an
 * operation (ops/recover.c).
 */
#ifndef SHIPD_JOURNAL_H
#define SHIPD_JOURNAL_H

#include "state/store.h"

/* {"event": begin|commit|end, "stack", "kind", "revision", "prev"} */
void	journal_op(struct store *, const char *event, const char *stack,
	    const char *kind, int rev, int prev, store_cb *, void *);
/* {"event": "step", "stack", "kind", "revision", "service", "replica",
 * "step"} */
void	journal_step(struct store *, const char *stack, const char *kind,
	    int rev, const char *service, int replica, const char *step,
	    store_cb *, void *);
/* {"event": "job", "stack", "id", "job": backup|restore, "step", and
 * fields' members (stolen; NULL for none)}.  SHIPD_TEST_KILL_AT names it
 * "<job>:<step>", or "<job>:<step>:<service>" when fields has one. */
void	journal_job(struct store *, const char *stack, const char *job,
	    const char *id, const char *step, json_t *fields, store_cb *,
	    void *);

/*
 * What the journal keeps.  Once nothing is under way its records are
 * history and go, except those of a stack held: one whose recovery
 * failed (or a job recovered with it that failed), so that the next try
 * (a retry, the next start) finds them.  journal_hold marks the stack
 * (why replaces an earlier reason); journal_release lets its records go
 * at the next journal_settle; journal_held is the reason or NULL.
 * journal_settle rewrites the journal atomically with only the held
 * stacks' records of those read at start.
 */
struct shipd;
void	 journal_hold(struct shipd *, const char *stack, const char *why);
void	 journal_release(struct shipd *, const char *stack);
const char *journal_held(const struct shipd *, const char *stack);
void	 journal_settle(struct shipd *, store_cb *, void *);
void	 journal_holds_free(struct shipd *);

#endif
