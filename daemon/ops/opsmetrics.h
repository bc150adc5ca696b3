/*
 * What the operations layer tells the metrics (core/metrics.h): deploys
 * and rollbacks as they end, gate times, and at each scrape the replicas
 * of every deployed stack, desired against running and healthy.  It also
 * tells the stats streams (engine/stats.c) which stacks are shipd's own.
 */
#ifndef SHIPD_OPSMETRICS_H
#define SHIPD_OPSMETRICS_H

#include <stdint.h>

struct shipd;
struct op;

void	opsmetrics_start(struct shipd *);
void	opsmetrics_stop(struct shipd *);
/* From op_end(): a deploy or rollback that ended counts, with its time. */
void	opsmetrics_op_end(const struct op *);
/* A replica's start gate ended after ms. */
void	opsmetrics_gate(const char *stack, const char *service, int ok,
	    uint64_t ms);

#endif
