/*
 * Engine supervision: negotiate the API, keep retrying with backoff while
 * the engine is away.  Its state lives in struct shipd (engine_ok, ...).
 */
#ifndef SHIPD_SUPERVISE_H
#define SHIPD_SUPERVISE_H

struct shipd;

/* One attempt at a time; sd->engine_ready is called once it succeeds. */
void	engine_connect(struct shipd *);
/* why: a sentence for the log and the status; a retry is scheduled. */
void	engine_lost(struct shipd *, const char *why);

#endif
