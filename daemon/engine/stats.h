/*
 * The engine's resource statistics of every running container of
 * shipd's stacks: one streaming GET /containers/{id}/stats per container,
 * started when it starts (a "start" event, or found running), dropped
 * when it dies or goes, each keeping only its latest sample.  What
 * `shipctl top`, the metrics and an autoscaler read.
 */
#ifndef SHIPD_STATS_H
#define SHIPD_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "unit.h"

struct shipd;

/* Containers followed at most (bounded memory); more are not. */
#define STATS_MAX		1024
/* How often the followed set is checked against the engine's list, for
 * a stream that ended without an event saying why. */
#define STATS_RECONCILE_MS	60000

struct stats_sample {
	char		 id[65];
	char		 name[UNIT_NAME_MAX * 2 + 16];	/* engine's name */
	char		 stack[UNIT_NAME_MAX + 1];
	char		 service[UNIT_NAME_MAX + 1];
	int		 replica;			/* 0: unknown */
	char		 health[16];	/* engine's: healthy, unhealthy,
					   starting; "" without a check */
	int		 restarts;	/* engine's RestartCount */
	time_t		 started;	/* State.StartedAt; 0 unknown */
	bool		 have;		/* a sample arrived */
	time_t		 read;		/* when the engine took it */
	double		 cpu_percent;	/* as docker stats: 100 per CPU */
	unsigned	 online_cpus;
	uint64_t	 mem_bytes;	/* usage less inactive file cache */
	uint64_t	 mem_limit;
	uint64_t	 rx_bytes;	/* every network, since it started */
	uint64_t	 tx_bytes;
};

/* Each time the engine is reached (idempotent): follow what runs. */
void	stats_start(struct shipd *);
/* Before the engine client closes. */
void	stats_stop(struct shipd *);
/* The latest sample of container id (full id), or NULL when it is not
 * followed.  Borrowed until the loop runs again. */
const struct stats_sample *stats_get(struct shipd *, const char *id);
/* Every followed container, in no particular order. */
void	stats_foreach(struct shipd *,
	    void (*fn)(const struct stats_sample *, void *), void *arg);

/* Exposed for the unit test: one engine stats object into s (the
 * identity fields are left alone).  0, or -EPROTO if it is not one. */
int	stats_parse(const char *json, size_t len, struct stats_sample *s);

#endif
