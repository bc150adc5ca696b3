/*
 * shipctl's side of the control protocol: a blocking connection to shipd
 * that sends one request and reads its events and final reply.  The CLI has
 * one thing to do at a time, so it needs no event loop.
 */
#ifndef SHIPCTL_CLIENT_H
#define SHIPCTL_CLIENT_H

#include <signal.h>
#include <jansson.h>

#include "proto.h"

struct client {
	int			 fd;
	struct proto_reader	 rd;
	int			 next_id;
	/* Set (by a signal handler) while client_call waits: it returns
	 * -EINTR at once.  NULL: signals are only retried over. */
	volatile sig_atomic_t	*stop;
};

/* Called for each streamed event line; non-zero stops reading. */
typedef int client_event_cb(json_t *event, void *arg);

/* 0 or -errno; *err gets a message naming the socket.  When path refuses
 * with EACCES, path.ro (shipd --read-group) is tried. */
int	client_connect(struct client *, const char *path, char **err);
void	client_close(struct client *);
/*
 * Send cmd with args (stolen; may be NULL) and read until the final reply.
 * Returns 0 when the reply is ok (*result set, caller decrefs), 1 when it
 * is an error (*result holds the error object: code, message), or -errno
 * when the connection failed (*result NULL): -EMSGSIZE, unsent, for a
 * request longer than the PROTO_MAX_LINE bytes shipd reads; -EINTR when
 * *stop was set while it waited.
 */
int	client_call(struct client *, const char *cmd, json_t *args,
	    client_event_cb *, void *, json_t **result);

#endif
