/*
 * The autoscaler (docs/operations.md, "Autoscaling"): once a second it
 * averages the CPU and memory of every autoscaled service's replicas from
 * the engine's stats streams, asks ascalc.c what count that wants, and
 * scales through the same operation as shipctl scale (locked, journaled,
 * gated), never while another operation holds the stack.
 */
#ifndef SHIPD_AUTOSCALE_H
#define SHIPD_AUTOSCALE_H

#include <jansson.h>

struct shipd;

#define AUTOSCALE_TICK_MS	1000
/* A sample older than this (the stream stalled, the replica stopped) is
 * no sample. */
#define AUTOSCALE_FRESH_S	5
/* After a failed scale: no other for this, doubled each time. */
#define AUTOSCALE_BACKOFF_MIN_MS	30000
#define AUTOSCALE_BACKOFF_MAX_MS	600000

/* Each time the engine is reached (idempotent). */
void	 autoscale_start(struct shipd *);
void	 autoscale_stop(struct shipd *);
/* {service: {min_replicas, max_replicas, replicas, cpu_target, ...}} of
 * the autoscaled services of stack, or NULL (status). */
json_t	*autoscale_status(struct shipd *, const char *stack);

#endif
