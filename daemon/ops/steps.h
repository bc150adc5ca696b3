/*
 * Replica step plans (steps.c).
 */
#ifndef SHIPD_STEPS_H
#define SHIPD_STEPS_H

#include <stdbool.h>

#include "ops/op.h"

/* Fill r->steps from the planner's findings; state is the engine's
 * state of a reused container.  True when that container is running
 * already (it counts as started). */
bool		 steps_plan(struct replica *, const char *state);
/* Must a reused container in this engine state be started? */
bool		 steps_reuse_starts(const struct unit *, const char *state);
/* Replicas that stay (not only removed). */
size_t		 svc_live_replicas(const struct svc *);
/* The journal's name of a step: "leave", "stop", ... */
const char	*step_name(enum rep_step);
/* The engine's State of one of op->containers, or NULL. */
const char	*container_state(const struct op *, const char *id);

#endif
