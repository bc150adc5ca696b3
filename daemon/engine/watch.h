/*
 * Engine events, fanned out.  shipd keeps one GET /events stream for every
 * stack it manages and hands each event to whoever watches that container
 * or stack.  After the stream reconnects every watcher is told to resync
 * (re-inspect), since events may have been missed meanwhile.
 */
#ifndef SHIPD_WATCH_H
#define SHIPD_WATCH_H

#include <jansson.h>

struct shipd;
struct watch;

#define WATCH_RESYNC	"resync"	/* action when ev is NULL */
/* shipd's own, not the engine's: a down removed the stack.  Its ev has
 * Type "stack", Actor.Attributes.name the stack, time and timeNano. */
#define WATCH_REMOVED	"stack_removed"

/* action: the engine's ("start", "die", "health_status: healthy", ...).
 * Only ever from an event's dispatch, never from watch_container() or
 * watch_stack() (the contract in docker.h). */
typedef void watch_cb(const char *id, const char *action, json_t *ev,
    void *arg);

void		 watch_start(struct shipd *);
void		 watch_stop(struct shipd *);
struct watch	*watch_container(struct shipd *, const char *id, watch_cb *,
		    void *);
struct watch	*watch_stack(struct shipd *, const char *stack, watch_cb *,
		    void *);
/* Tell the stack's watchers (and the all-stacks ones) that a down removed
 * it.  Called from a down's reply, never from inside a watch callback. */
void		 watch_stack_removed(struct shipd *, const char *stack);
/* shipd's own event about stack (Type other than "container": the
 * supervisor's "heal"), to the stack's watchers and the all-stacks ones.
 * Never from inside a watch callback of the same dispatch's making. */
void		 watch_stack_event(struct shipd *, const char *stack,
		    const char *action, json_t *ev);
/* Safe from inside any watch callback, for any watch. */
void		 watch_cancel(struct watch *);

#endif
