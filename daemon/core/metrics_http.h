/*
 * shipd --metrics-listen ADDR: GET /metrics over HTTP, served by
 * libmicrohttpd without threads of its own.  Its epoll descriptor is
 * watched by a uv_poll and its timeouts by a uv_timer, so a scrape is
 * handled on shipd's loop like everything else and never blocks it.
 */
#ifndef SHIPD_METRICS_HTTP_H
#define SHIPD_METRICS_HTTP_H

#include <uv.h>

struct metrics_http;

/* addr "127.0.0.1:9464", "[::1]:9464" or ":9464" (every IPv4
 * address).  0 or -errno (-EINVAL: not an address; the bind's error). */
int	metrics_http_start(uv_loop_t *, const char *addr,
	    struct metrics_http **out);
/* Closes the listener and every connection; frees once the handles have
 * closed.  NULL is ignored. */
void	metrics_http_stop(struct metrics_http *);
/* The port bound (addr may name 0: any free port). */
int	metrics_http_port(const struct metrics_http *);
/* Parse addr as metrics_http_start() does: 0 or -EINVAL. */
int	metrics_addr_parse(const char *addr, struct sockaddr_storage *);

#endif
