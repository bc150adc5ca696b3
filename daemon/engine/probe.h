/*
 * shipd's own health probes, run on the loop against a container's
 * address: a TCP connect, or an HTTP GET whose status must be 2xx or 3xx.
 */
#ifndef SHIPD_PROBE_H
#define SHIPD_PROBE_H

#include <stdint.h>
#include <uv.h>

struct probe;

/* ok is 1 when healthy; detail says what was seen ("HTTP 503", "connect:
 * connection refused", "timed out after 2s").  Called once, later from
 * the loop (the contract in docker.h). */
typedef void probe_cb(int ok, const char *detail, void *arg);

struct probe	*probe_tcp(uv_loop_t *, const char *ip, int port,
		    uint64_t timeout_ms, probe_cb *, void *);
struct probe	*probe_http(uv_loop_t *, const char *ip, int port,
		    const char *path, uint64_t timeout_ms, probe_cb *, void *);
/* The callback will not be called; the probe frees itself. */
void		 probe_cancel(struct probe *);

#endif
