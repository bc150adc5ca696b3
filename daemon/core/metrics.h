/*
 * shipd's metrics: one process-wide registry of counters, gauges and
 * histograms, each series named by its family and its labels, rendered
 * in the Prometheus text exposition format (version 0.0.4) on demand.
 * Core is the lowest layer, so every module may count; what another layer
 * knows at scrape time (replicas, engine stats) comes in through a
 * collector it registers.  Families are declared once, in metrics.c.
 */
#ifndef SHIPD_METRICS_H
#define SHIPD_METRICS_H

#include <stdint.h>

#include "util.h"

/* Series per family before new label sets are dropped (bounded memory;
 * a dropped one is counted in shipd_metrics_dropped_series_total). */
#define METRICS_SERIES_MAX	4096

/*
 * Labels as NULL-terminated name/value pairs:
 *	metrics_inc("shipd_deploys_total", "stack", s, "result", "ok", NULL);
 * A family name not declared in metrics.c is a programming error (an
 * assertion); a value is escaped as the format wants.
 */
void	metrics_inc(const char *family, ...);
void	metrics_add(const char *family, double v, ...);
void	metrics_set(const char *family, double v, ...);
void	metrics_observe(const char *family, double v, ...);

/*
 * The hook supervision (the heal work) calls each time it restarts a
 * replica: shipd_restarts_total{stack,service,reason} goes up by one.
 * reason is a short word: "unhealthy", "crashed", "dependency", ...
 */
void	metrics_restart(const char *stack, const char *service,
	    const char *reason);

/* A collector writes whole families of its own at each scrape, with
 * metrics_family() then metrics_sample() per series. */
typedef void metrics_collect_cb(struct buf *, void *arg);
void	metrics_collector_add(metrics_collect_cb *, void *arg);
void	metrics_collector_del(metrics_collect_cb *, void *arg);
void	metrics_family(struct buf *, const char *name, const char *type,
	    const char *help);
/* labels as above, NULL-terminated. */
void	metrics_sample(struct buf *, const char *name, double v, ...);

/* The whole exposition; the caller frees. */
char	*metrics_render(size_t *len);
/* At shutdown: every series and collector goes. */
void	metrics_free_all(void);

#endif
