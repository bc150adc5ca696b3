/*
 * Backups of a stack's data and their restore: the control commands
 * (backup, backups, verify, restore) and the two entry points the deploy
 * pipeline uses.  docs/backup.md describes what a backup holds.
 */
#ifndef SHIPD_BACKUP_H
#define SHIPD_BACKUP_H

#include <stddef.h>

struct shipd;
struct ctl_req;
struct stack;

void	ctl_handle_backup(struct shipd *, struct ctl_req *);	/* backup.c */
void	ctl_handle_backups(struct shipd *, struct ctl_req *);
void	ctl_handle_verify(struct shipd *, struct ctl_req *);
void	ctl_handle_restore(struct shipd *, struct ctl_req *);	/* restore.c */

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
 * holds it.  done(err, msg, arg); at shutdown no callback.
 */
void	restore_for_rollback(struct shipd *, const char *stack,
	    const char *backup_id,
	    void (*done)(int err, const char *msg, void *arg), void *arg);

#endif
