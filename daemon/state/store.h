/*
 * shipd's state on disk: revisions, the current revision, scale overrides,
 * the deploy journal and the audit log.  Everything is read once at open and
 * cached; writes run on the libuv thread pool, one at a time, in order.
 */
#ifndef SHIPD_STORE_H
#define SHIPD_STORE_H

#include <stddef.h>

#include <jansson.h>
#include <uv.h>

struct store;

/* err is 0 or -errno; always called on the loop, in submission order. */
typedef void store_cb(int err, void *arg);

/*
 * Create the layout under state_dir and load it.  Corrupt or partial files
 * are logged and skipped, leftover temp files removed.  Synchronous: call it
 * before the loop runs.  0 or -errno.
 */
int	 store_open(uv_loop_t *, const char *state_dir, struct store **);
/* Finish every queued write (their callbacks fire), free, then done(arg). */
void	 store_close(struct store *, void (*done)(void *), void *arg);

/*
 * Revisions.  Cached reads reflect the writes that have completed.
 * store_revision_next is the number the stack's next revision takes (or
 * -EINVAL for a bad stack name): one past every revision on disk or put
 * and current; it reserves nothing, so asking again gives the same
 * until a revision is put, and an operation that stops before it records
 * one leaves the number to the next (the stack's lock keeps a second
 * one from taking it meanwhile).  store_revision_put stores a copy of
 * doc; rewriting an existing revision may change only "result", "reason"
 * and "finished" (else -EEXIST).  store_revision_list fills at most max numbers, the
 * newest ones, in ascending order, and returns how many it filled.
 */
int	 store_revision_next(struct store *, const char *stack);
void	 store_revision_put(struct store *, const char *stack, int rev,
	    json_t *doc, store_cb *, void *arg);
const json_t *store_revision_get(struct store *, const char *stack, int rev);
size_t	 store_revision_list(struct store *, const char *stack, int *revs,
	    size_t max);
int	 store_current(struct store *, const char *stack);	/* 0: none */
void	 store_current_set(struct store *, const char *stack, int rev,
	    store_cb *, void *arg);
/* Stacks with anything on disk, sorted; names live until store_close. */
size_t	 store_stacks(struct store *, const char **names, size_t max);

/* Per-service replica overrides: {"api": {"replicas": 4, ...}}. */
const json_t *store_scale_get(struct store *, const char *stack);
void	 store_scale_set(struct store *, const char *stack, json_t *obj,
	    store_cb *, void *arg);

/*
 * The services' own state beside the revisions (svcstate.json):
 * {"stopped": {"db": {"since": RFC 3339, "kind": "stop"}},
 *  "ops": [{kind, started, finished, uid, result, services, ...}]}:
 * what shipctl stop left stopped, and the stop/start/restart operations
 * history lists (they record no revision).  Replaced whole, atomically.
 */
const json_t *store_svcstate_get(struct store *, const char *stack);
void	 store_svcstate_set(struct store *, const char *stack, json_t *obj,
	    store_cb *, void *arg);

/*
 * The supervisor's restarts (heal.json), so that status and the restart
 * counters outlive shipd: {"web": {"restarts": 2, "reasons":
 * {"unhealthy": 2}, "last_reason": "...", "last_time": RFC 3339,
 * "crash_loop": false}}.  Replaced whole, atomically.
 */
const json_t *store_heal_get(struct store *, const char *stack);
void	 store_heal_set(struct store *, const char *stack, json_t *obj,
	    store_cb *, void *arg);

/*
 * Journal: one JSON line per deploy step, fdatasync'd before cb fires.
 * "time" is added when missing.  store_journal_read returns (borrowed) the
 * records found at open; a torn last line is dropped.  Truncating empties
 * the file atomically after every earlier write and clears that array;
 * rewriting replaces the file (atomically, after every earlier write)
 * with the records of keep (an array, NULL for none; copied) and makes
 * them what store_journal_read returns.
 */
void	 store_journal_append(struct store *, json_t *record, store_cb *,
	    void *arg);
json_t	*store_journal_read(struct store *);
void	 store_journal_truncate(struct store *, store_cb *, void *arg);
void	 store_journal_rewrite(struct store *, const json_t *keep,
	    store_cb *, void *arg);
/*
 * A backup or restore job is not an operation: while one holds the
 * journal, a truncate or rewrite (asked for when no operation is under
 * way) leaves the file as it is and succeeds; the job's end settles it
 * (journal_settle).  Holds nest.
 */
void	 store_journal_hold(struct store *);
void	 store_journal_release(struct store *);

/* One line per mutating command; failures are only logged. */
void	 store_audit(struct store *, json_t *record);

#endif
