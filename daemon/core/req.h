/*
 * A client's request and the channel its answer goes back on.  The control
 * server makes requests from socket lines; tests make them with a channel
 * of their own.  Whoever serves a command answers through these calls and
 * never learns where the answer goes.
 */
#ifndef SHIPD_REQ_H
#define SHIPD_REQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

struct ctl_req;

/*
 * Where lines go.  send() gets every line (it does not own msg); a final
 * line ends the request and send() must free it with ctl_req_free().
 * send() returns false when nobody reads any more.
 */
typedef bool ctl_req_send_fn(struct ctl_req *, json_t *msg, bool final);

/*
 * Binary frames (proto.h, docs/protocol.md).  A channel that carries them
 * fills in these; one that does not (a test's) leaves them NULL, and the
 * calls below then refuse.  send_frame() gets a whole header and its
 * payload, copied before it returns.
 */
struct proto_frame;
struct ctl_req_frames {
	bool	(*send_frame)(struct ctl_req *, const char *hdr,
		    const void *data, size_t len);
	void	(*pause)(struct ctl_req *, bool pause);
	size_t	(*backlog)(const struct ctl_req *);
	void	(*want_drain)(struct ctl_req *, bool want);
};
typedef void ctl_req_frame_cb(struct ctl_req *, const struct proto_frame *,
    void *);

/*
 * One request.  A handler finishes it exactly once with ctl_req_ok() or
 * ctl_req_err(), possibly much later and after sending events.  If the
 * daemon shuts down first, the cancel hook runs instead so the handler can
 * drop what it holds; the request is then freed for it.
 */
struct ctl_req {
	json_t			*id;
	const char		*cmd;
	bool			 mutating;
	json_t			*args;		/* always an object */
	uid_t			 uid;
	pid_t			 pid;
	unsigned long		 audit_seq;	/* pairs its audit lines; 0: none */
	bool			 gone;		/* the peer has gone */
	ctl_req_send_fn		*send;
	void			*owner;		/* the sender's */
	void			*peer;		/* the sender's, per request */
	void			(*cancel)(struct ctl_req *, void *);
	void			*cancel_arg;
	void			(*on_gone)(struct ctl_req *, void *);
	void			*gone_arg;
	const struct ctl_req_frames *frames;	/* the channel's; NULL: none */
	uint32_t		 stream;	/* frames taken under this id; 0: none */
	bool			 paused;	/* input paused for it */
	ctl_req_frame_cb	*on_frame;
	void			*frame_arg;
	void			(*on_drain)(struct ctl_req *, void *);
	void			*drain_arg;
	struct ctl_req		*next, *prev;	/* the owner's list */
};

/* args is stolen; id is referenced (NULL: null). */
struct ctl_req	*ctl_req_new(json_t *id, const char *cmd, json_t *args,
		    ctl_req_send_fn *, void *owner);
void		 ctl_req_free(struct ctl_req *);

void	ctl_req_ok(struct ctl_req *, json_t *result);	/* steals result */
void	ctl_req_err(struct ctl_req *, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Send a streamed event line (fields stolen); the request stays open.
 * Returns false when the peer has gone (the request is still the
 * caller's to finish). */
bool	ctl_req_event(struct ctl_req *, const char *event, json_t *fields);
void	ctl_req_on_cancel(struct ctl_req *, void (*)(struct ctl_req *, void *),
	    void *);
/* Called once if the peer disconnects while the request is open. */
void	ctl_req_on_gone(struct ctl_req *, void (*)(struct ctl_req *, void *),
	    void *);
/* The peer went away: stop sending, tell the gone hook. */
void	ctl_req_peer_gone(struct ctl_req *);
/* Shutdown: the cancel hook, then free. */
void	ctl_req_cancel(struct ctl_req *);

/*
 * Frames.  ctl_req_take_frames() asks for the peer's frames of this
 * request: 0, -EINVAL when the request's id is not an integer in
 * 1..2^32-1 (a stream needs one), -ENOTSUP when the channel carries none.
 * ctl_req_frame() sends data as one or more frames of type on chan (END
 * and ABORT carry nothing); false when the peer has gone or the channel
 * carries none.  Pausing stops reading the peer's connection (other
 * requests on it wait too; up to one read of frames already received
 * may still arrive).  ctl_req_backlog() is what the peer has yet to read;
 * ctl_req_on_drain() calls back once when it falls under
 * CTL_REQ_DRAIN_LOW, so a producer can stop at a high mark and resume.
 */
#define CTL_REQ_DRAIN_LOW	(256u * 1024)
int	ctl_req_take_frames(struct ctl_req *, ctl_req_frame_cb *, void *);
bool	ctl_req_frame(struct ctl_req *, int type, int chan, const void *,
	    size_t);
void	ctl_req_pause_input(struct ctl_req *, bool pause);
size_t	ctl_req_backlog(const struct ctl_req *);
bool	ctl_req_on_drain(struct ctl_req *, void (*)(struct ctl_req *, void *),
	    void *);

const char *ctl_str(const struct ctl_req *, const char *key); /* or NULL */
json_int_t ctl_int(const struct ctl_req *, const char *key, json_int_t dflt);
bool	ctl_bool(const struct ctl_req *, const char *key, bool dflt);

#endif
