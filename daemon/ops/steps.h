/*
 * Replica step plans (steps.c).
 */
#ifndef SHIPD_STEPS_H
#define SHIPD_STEPS_H

#include <stdbool.h>

#include "ops/op.h"

/* Fill r->steps from the planner's findings; state is the engine's
 * state of a reused container.  True when that container is running
 * already (it counts as started).  r->connect (set by the caller, who
 * knows the engine): a create is followed by connects. */
bool		 steps_plan(struct replica *, const char *state);
/* Must a reused container in this engine state be started? */
bool		 steps_reuse_starts(const struct unit *, const char *state);
/* How many network calls the current kind of step makes (0: it is not
 * a network step), and the engine's name of the network of call r->net. */
size_t		 step_nets(const struct replica *, enum rep_step);
char		*step_network_name(const struct replica *);
/* Replicas that stay (not only removed). */
size_t		 svc_live_replicas(const struct svc *);
/* The journal's name of a step: "leave", "stop", ... */
const char	*step_name(enum rep_step);
/* The engine's State of one of op->containers, or NULL. */
const char	*container_state(const struct op *, const char *id);

#endif
