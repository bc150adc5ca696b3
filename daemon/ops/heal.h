/*
 * Supervision (docs/operations.md): a replica that stays unhealthy, by the
 * engine's health status or shipd's own http/tcp verdict, is restarted
 * under the stack's lock (an operation of kind restart, journaled like
 * any), with backoff; N heals of a service within a window are a crash
 * loop, after which shipd stops trying until a deploy, restart or start.
 */
#ifndef SHIPD_HEAL_H
#define SHIPD_HEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct shipd;

#define HEAL_BACKOFF_MIN_MS	10000		/* first wait, doubled */
#define HEAL_BACKOFF_MAX_MS	300000
#define HEAL_LOOP_COUNT		5		/* heals within the window */
#define HEAL_LOOP_WINDOW_MS	600000		/* ...make a crash loop */

/* The backoff and crash-loop bookkeeping of one service (healpol.c);
 * pure, so the unit tests drive it with their own clock. */
struct heal_pol {
	uint64_t	 backoff_min_ms;
	uint64_t	 backoff_max_ms;
	unsigned	 loop_count;
	uint64_t	 loop_window_ms;
	uint64_t	 backoff_ms;	/* the wait after the next heal */
	uint64_t	 next_ms;	/* no heal before this */
	uint64_t	 times[16];	/* the last heals, oldest first */
	size_t		 ntimes;
	bool		 crash_loop;
};

void		 heal_pol_init(struct heal_pol *);
/* ms to wait before a heal may start at now; UINT64_MAX in a crash loop. */
uint64_t	 heal_pol_delay(const struct heal_pol *, uint64_t now);
/* A heal starts at now: true when that makes it a crash loop (the heal
 * is not to run then). */
bool		 heal_pol_record(struct heal_pol *, uint64_t now);
/* A deploy, restart or start: forget the backoff and the loop. */
void		 heal_pol_reset(struct heal_pol *);

/* What the supervisor did, for metrics and notifications: counters that
 * only grow (struct shipd's heal_stats). */
struct heal_stats {
	uint64_t	 unhealthy;	/* reports of an unhealthy replica */
	uint64_t	 heals;		/* restarts started */
	uint64_t	 heals_failed;	/* ...that did not gate */
	uint64_t	 deferred;	/* waited for the stack's lock */
	uint64_t	 crash_loops;
};

/* heal.c.  Started each time the engine is reached (idempotent). */
void		 heal_start(struct shipd *);
void		 heal_stop(struct shipd *);
/* shipd's own check left container id (of stack, service) unhealthy. */
void		 heal_unhealthy(struct shipd *, const char *stack,
		    const char *service, const char *id, const char *why);
/* A user's deploy, rollback, restart or start ended on stack: its
 * services' backoff and crash loops are forgotten. */
void		 heal_reset(struct shipd *, const char *stack);
/* A down removed stack's containers: their restart counts, reasons,
 * backoff and crash loops are forgotten in memory (down rewrites
 * heal.json). */
void		 heal_forget(struct shipd *, const char *stack);
/* {service: {restarts, last_reason, last_time, crash_loop, next_ms}} or
 * NULL when nothing was healed on stack. */
json_t		*heal_status(struct shipd *, const char *stack);
const struct heal_stats *heal_stats(struct shipd *);


#endif
