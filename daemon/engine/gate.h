/*
 * Gates: wait until one container reaches a goal (running, healthy, or
 * exited 0) or fails to, within a deadline.  Driven by engine events; while
 * a replica starts, shipd also probes it itself at the unit's
 * start_interval, since engines before API 1.44 run the first Docker
 * healthcheck only one whole interval after start.
 */
#ifndef SHIPD_GATE_H
#define SHIPD_GATE_H

#include <stdint.h>

#include "unit.h"

struct shipd;
struct gate;

enum gate_goal {
	GATE_RUNNING,		/* started and still running */
	GATE_HEALTHY,		/* healthy (running, for a unit with no check) */
	GATE_COMPLETED,		/* exited with code 0 */
};

/*
 * ok: 1 passed, 0 failed; why: a sentence for the operator naming the
 * container, its state and the last health output.  Called once, later
 * from the loop (the contract in docker.h).  The gate is gone once it has
 * reported: do not cancel it after.
 */
typedef void gate_cb(int ok, const char *why, void *arg);

struct gate	*gate_start(struct shipd *, const struct unit *,
		    const char *id, const char *name, enum gate_goal,
		    uint64_t deadline_ms, gate_cb *, void *);
/* The callback will not be called. */
void		 gate_cancel(struct gate *);
const char	*gate_goal_name(enum gate_goal);

#endif
