/*
 * What the control commands and main.c ask of the operations layer: one
 * entry point per command that changes (or plans) a stack, recovery at
 * start, and the free at shutdown.  Each entry answers the request itself,
 * at once for bad input, else when the operation ends.
 */
#ifndef SHIPD_OPS_H
#define SHIPD_OPS_H

#include <stdbool.h>
#include <jansson.h>

#include "unit.h"

struct ctl_req;
struct graph;
struct shipd;
struct stack;

struct deploy_opts {
	json_t		*skip_checks;	/* names of checks; borrowed */
	bool		 no_backup;
	bool		 wait;		/* queue for the stack's lock */
	bool		 remove_orphans; /* may remove services no longer in
					   the stack */
};

/* deploy.c.  The stack and graph are the operation's from here on. */
void	ops_plan(struct shipd *, struct ctl_req *, struct stack *,
	    struct graph *);
void	ops_deploy(struct shipd *, struct ctl_req *, struct stack *,
	    struct graph *, const struct deploy_opts *);
/* replicas: {"service": n, ...}, bounds: {"service": {min, max}} of
 * autoscaled services (either may be NULL), checked here against the
 * current revision. */
void	ops_scale(struct shipd *, struct ctl_req *, const char *stack,
	    json_t *replicas, json_t *bounds, bool wait);
/* svcop.c: kind "stop", "start" or "restart" of services (an array of
 * names, checked here: an unknown one is not_found, nothing changed). */
void	ops_svcop(struct shipd *, struct ctl_req *, const char *kind,
	    const char *stack, const json_t *services, bool wait);
/* rollback.c.  to 0: the newest committed revision before current. */
/*
 * Send event e of stack to the webhooks of its current revision (a crash
 * loop, an autoscaling decision, a backup that failed).  Takes services
 * (an array of names) and detail (an object); either may be NULL.
 */
void	ops_notify(struct shipd *, const char *stack, enum notify_event e,
	    json_t *services, const char *reason, json_t *detail);
void	ops_rollback(struct shipd *, struct ctl_req *, const char *stack,
	    int to, bool with_data);
/* cancel.c: stop the operation under way on a stack, and those queued
 * for its lock; answers what it stopped. */
void	ops_cancel(struct shipd *, struct ctl_req *, const char *stack);
/* shipctl attach: r follows the operation under way on stack (an
 * `attached` event, its plan, then its events and its answer), or is
 * answered not_found. */
void	ops_attach(struct shipd *, struct ctl_req *, const char *stack);
/* cancel.c: the operations on a stack (every stack: NULL), for status. */
json_t	*ops_status(struct shipd *, const char *stack);
/* down.c */
void	ops_down(struct shipd *, struct ctl_req *, const char *stack,
	    bool volumes);
/* recover.c: once, when the engine is first reached, finish or roll back
 * what the journal says was under way. */
void	ops_recover(struct shipd *);
/* ops.c, at shutdown: ops_stop() before the engine client closes (no
 * timer of an operation fires after it), ops_free_all() once the client
 * and the store are closed. */
void	ops_stop(struct shipd *);
void	ops_free_all(struct shipd *);

#endif
