/*
 * Backups of a stack's data and their restore: what the control commands
 * (ctl/cmd_backup.c, cmd_backups.c, cmd_verify.c, cmd_restore.c) and the
 * deploy pipeline call.  docs/backup.md describes what a backup holds.
 * Every callback here runs from the loop, never from inside the call that
 * started the work.
 */
#ifndef SHIPD_BACKUP_H
#define SHIPD_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

struct shipd;
struct ctl_req;
struct stack;

/* A backup's id names one directory: letters, digits, '-', '_', '.'. */
bool	backup_id_valid(const char *);

/*
 * How a command's work ended: err 0 with out (borrowed for the call), or
 * err < 0 with msg saying what failed.
 */
typedef void backup_done_cb(int err, const char *msg, const json_t *out,
	    void *arg);

/*
 * `shipctl backup`: each stack in turn, under its lock, taken in the name
 * of req's peer; stack NULL means every stack with a deployed revision,
 * those that declare no backup: skipped.  services (names, borrowed) limit
 * it to some services of the one stack named.  Progress goes out as events
 * on req.  done: out is [{stack, id, size, elapsed_ms}] of the backups
 * written, or err -EIO with one line per stack that failed (-EBUSY when
 * each of them was locked by another operation).
 */
struct backup_run;
struct backup_run *backup_run(struct shipd *, struct ctl_req *req,
	    const char *stack, const json_t *services, backup_done_cb *,
	    void *);
/* req is going (shutdown): no more events and no callback; the run
 * carries on until the daemon frees it. */
void	backup_run_detach(struct backup_run *);

/*
 * `shipctl backups`: out is [{stack, id, class, started, finished,
 * revision, reason, services, size, verified}], every stack's when
 * stack is NULL.
 * `shipctl backup --verify`: find backup id (in any stack when stack is
 * NULL) and re-hash it; err -ENOENT when no stack has it, -EEXIST when
 * two do, -EIO when it could not be read; otherwise out is {stack, id,
 * ok, files, bytes, time, problems: [...]}, ok false when it is damaged.
 * The outcome is recorded for `backups`.
 */
struct backup_query;
struct backup_query *backup_list(struct shipd *, const char *stack,
	    backup_done_cb *, void *);
struct backup_query *backup_verify(struct shipd *, const char *stack,
	    const char *id, backup_done_cb *, void *);
/* No callback follows.  NULL is ignored. */
void	backup_query_cancel(struct backup_query *);

/*
 * `shipctl restore`: find backup id (as backup_verify does), take the
 * stack's lock in the name of req's peer, and put back the services it
 * holds (those named, when services is not NULL) as docs/backup.md says.
 * Progress goes out as events on req.  done: out is {stack, id, services,
 * safety, elapsed_ms}, or err -EIO with what failed (-EBUSY: the stack
 * was locked).
 */
struct restore_run;
struct restore_run *restore_run(struct shipd *, struct ctl_req *req,
	    const char *stack, const char *id, const json_t *services,
	    backup_done_cb *, void *);
/* As backup_run_detach(). */
void	restore_run_detach(struct restore_run *);

/*
 * Back up the named services of a stack (those whose unit has backup:;
 * the others are ignored, and so is one with no replica 1 container),
 * tagged with revision; done(err, backup_id or NULL, msg, arg), never
 * from inside this call.  err is 0 or negative; id is NULL when there was
 * nothing to back up, and set with err < 0 when the backup was written
 * but a service stopped for it did not come back healthy.  Takes no lock
 * (the caller holds the stack's).  The stack is copied.  At shutdown the
 * backup is dropped without a callback.
 */
void	backup_for_deploy(struct shipd *, const struct stack *,
	    const char *const *services, size_t n, int revision,
	    void (*done)(int err, const char *id, const char *msg, void *arg),
	    void *arg);
/*
 * Restore every service a backup holds into the stack's current
 * containers (replica 1 of each), stopping them and their dependents
 * around it and taking a safety backup first.  No lock taken: the caller
 * holds it.  done(err, msg, safety, arg), safety the safety backup's ID
 * once it was taken (else NULL); at shutdown no callback.
 */
void	restore_for_rollback(struct shipd *, const char *stack,
	    const char *backup_id,
	    void (*done)(int err, const char *msg, const char *safety,
	    void *arg), void *arg);

/*
 * At start, once the engine answers, before ops_recover(): start again
 * what backups and restores of a killed shipd stopped, record them failed
 * (or a restore that had written everything, done), and remove the
 * partial backups they left.  Runs on by itself; nothing to wait for.
 */
void	backup_recover(struct shipd *);

#endif
