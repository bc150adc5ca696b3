/*
 * Requests that need the engine, held while shipd is still reaching it
 * (at start, or while dockerd restarts) instead of refused at once.  Each
 * waits at most the bound (CTL_ENGINE_WAIT_MS) and runs as soon as the
 * engine is reached, in the order they came; one that is still waiting at
 * the bound is answered `unavailable`, and from then on requests are
 * refused at once until the engine is reached again.
 */
#ifndef SHIPD_HOLD_H
#define SHIPD_HOLD_H

#include <stdbool.h>

#include "ctl/ctl.h"

#define CTL_ENGINE_WAIT_MS	10000

struct ctl_hold;

struct ctl_hold	*ctl_hold_new(struct shipd *);
/* Whether a request that needs the engine may still wait for it. */
bool		 ctl_hold_open(const struct ctl_hold *);
/* Run fn(sd, r) once the engine is reached.  A client that goes away
 * meanwhile drops its request; shutdown cancels it (the request's cancel
 * hook, as for any open request). */
void		 ctl_hold_add(struct ctl_hold *, ctl_handler *fn,
		    struct ctl_req *);
/* The engine was reached: run every held request now. */
void		 ctl_hold_wake(struct ctl_hold *);
/* Nothing may be held any more (ctl_close cancels the requests first);
 * closed(arg) once the timer is closed and the hold freed. */
void		 ctl_hold_close(struct ctl_hold *, void (*closed)(void *),
		    void *);

#endif
