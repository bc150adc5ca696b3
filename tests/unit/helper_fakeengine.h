/*
 * A scripted stand-in for dockerd on a temporary unix socket, for the
 * engine client's tests.  Every connection is served by its own thread; a
 * test's handler decides, per request, what goes back and how.
 */
#ifndef SHIPD_HELPER_FAKEENGINE_H
#define SHIPD_HELPER_FAKEENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct fake_engine;
struct fake_conn;

struct fake_request {
	const char	*method;	/* "GET" */
	const char	*target;	/* "/v1.41/containers/json?all=1" */
	const char	*body;		/* NUL-terminated, "" if none */
	size_t		 body_len;
	unsigned	 conn;		/* connection number, from 1 */
	unsigned	 seq;		/* request number, from 1 */
	uint64_t	 at_ms;		/* when it arrived (now_ms()) */
};

/* Runs on the connection's thread: handlers must be thread-safe. */
typedef void fake_handler(struct fake_conn *, const struct fake_request *,
	    void *arg);

int	 fake_engine_start(fake_handler *, void *arg, struct fake_engine **);
/* Wakes sleeping handlers, closes every connection, joins the threads and
 * removes the socket. */
void	 fake_engine_stop(struct fake_engine *);
const char *fake_engine_path(const struct fake_engine *);
/* Requests read so far. */
unsigned fake_engine_nrequests(struct fake_engine *);
/* "METHOD target" of request seq (from 1), or NULL; caller frees. */
char	*fake_engine_request(struct fake_engine *, unsigned seq);

/* ---- for handlers ---- */

/* A complete reply with Content-Length; a body starting with '{' or '['
 * is sent as application/json, any other as text/plain.  body may be
 * NULL (204, 304).  extra: more header lines, each ending in "\r\n". */
void	 fake_reply(struct fake_conn *, int status, const char *extra,
	    const char *body);
/* Status line and headers only, for a reply that the handler streams. */
void	 fake_head(struct fake_conn *, int status, const char *headers);
void	 fake_send(struct fake_conn *, const void *, size_t);
/* One chunk of a "Transfer-Encoding: chunked" body; len 0 ends it. */
void	 fake_chunk(struct fake_conn *, const char *, size_t);
/* Close the connection once the handler returns. */
void	 fake_close_after(struct fake_conn *);
/* Sleep, cut short by fake_engine_stop(): 0, or -1 when stopping. */
int	 fake_sleep(struct fake_conn *, unsigned ms);
/* After a 101, the client's bytes on the connection taken over: what one
 * recv() gives, 0 when the client has shut its side, -1 when stopping. */
ssize_t	 fake_recv(struct fake_conn *, void *, size_t);
/* Block until the client hangs up or the engine stops. */
void	 fake_wait_hangup(struct fake_conn *);

#endif
