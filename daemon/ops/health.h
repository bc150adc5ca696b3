/*
 * Health watched all the time: shipd's own http/tcp checks, run on the
 * loop at the unit's interval for every running replica of every deployed
 * stack (the engine cannot run them), their verdicts kept per container.
 */
#ifndef SHIPD_HEALTH_H
#define SHIPD_HEALTH_H

#include "unit.h"

struct shipd;
struct health_sub;

/* A check left the container unhealthy; detail is the last probe's
 * ("HTTP 404").  Called from the loop, never from health_subscribe(). */
typedef void health_bad_cb(const char *id, const char *detail, void *arg);

/* Each time the engine is reached (idempotent); refresh after a commit,
 * so the revision's checks start at once; stop before the engine client
 * closes, after every subscriber has gone (ops_stop). */
void		 health_start(struct shipd *);
void		 health_refresh(struct shipd *);
void		 health_stop(struct shipd *);

/* "healthy", "unhealthy" or "starting" for a container (full id) shipd
 * checks itself, with the last probe's detail; NULL when it does not. */
const char	*health_own(struct shipd *, const char *id, const char **detail);

/* Check container id by unit's http/tcp check (the unit is copied) and
 * call cb after each probe that leaves it unhealthy, until unsubscribed.
 * NULL when the unit has no check of shipd's own. */
struct health_sub *health_subscribe(struct shipd *, const char *id,
		    const struct unit *, health_bad_cb *, void *);
void		 health_unsubscribe(struct health_sub *);

#endif
