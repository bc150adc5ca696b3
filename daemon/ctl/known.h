/*
 * What several command replies share: whether a stack named in a request
 * exists for shipd, and the JSON types of values the engine gives as
 * strings or numbers (docs/protocol.md: one type per member).
 */
#ifndef SHIPD_KNOWN_H
#define SHIPD_KNOWN_H

#include <stdbool.h>
#include <jansson.h>

#include "ctl/ctl.h"

/*
 * Run next for the request once its "stack" argument names a stack shipd
 * knows: one with a revision, an operation under way or queued, a lock
 * holder, or a container with its label (the engine is asked only when
 * nothing else says so).  Otherwise answer not_found.  No "stack"
 * argument: next at once.  When the engine cannot say, next runs.
 */
void	ctl_known_stack(struct shipd *, struct ctl_req *, ctl_handler *next);
/* The same without the engine: a revision, an operation or a lock. */
bool	ctl_stack_known(struct shipd *, const char *stack);

/* A label's decimal string ("3") as an integer; null if not one. */
json_t	*ctl_json_num(const char *);
/* Unix seconds as an RFC 3339 string; null if absent (json null or
 * NULL). */
json_t	*ctl_json_time(const json_t *unix_seconds);

#endif
