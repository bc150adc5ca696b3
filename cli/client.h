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

/* Called for each streamed event line; non-zero stops reading. */
typedef int client_event_cb(json_t *event, void *arg);
/* Called for each binary frame of the request; non-zero stops reading. */
typedef int client_frame_cb(const struct proto_frame *, void *arg);

struct client_call {
	json_int_t	 id;
	client_event_cb	*cb;
	client_frame_cb	*frame_cb;
	void		*arg;
	json_t		*final;
	int		 rc;
};

struct client {
	int			 fd;
	struct proto_reader	 rd;
	int			 next_id;
	struct client_call	 call;	/* the request under way */
	/* Set (by a signal handler) while client_call waits: it returns
	 * -EINTR at once.  NULL: signals are only retried over. */
	volatile sig_atomic_t	*stop;
};

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

/*
 * The same in steps, for a command that streams frames both ways (exec,
 * build): client_start() sends the request; client_send_frame() sends a
 * frame of it (0 or -errno); client_pump() reads once (it blocks in
 * recv(): call it when poll() says the fd is readable) and hands over
 * what came, returning CLIENT_MORE until the final reply, then what
 * client_call() returns.  One request at a time.
 */
#define CLIENT_MORE	2
int	client_start(struct client *, const char *cmd, json_t *args,
	    client_event_cb *, client_frame_cb *, void *);
int	client_send_frame(struct client *, int type, int chan,
	    const void *, size_t);
int	client_pump(struct client *, json_t **result);

#endif
