/*
 * The control server's insides, shared by its files: server.c (clients,
 * dispatch, writing, binary frames) and listen.c (the sockets, the idle
 * sweep, shutdown).
 */
#ifndef SHIPD_CTL_SERVER_INT_H
#define SHIPD_CTL_SERVER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>
#include <jansson.h>

#include "proto.h"

struct ctl_hold;
struct ctl_req;
struct shipd;

/*
 * Connection limits.  Past CTL_MAX_CLIENTS only root and shipd's own user
 * are accepted, so a flood of connections cannot lock the operator out;
 * CTL_MAX_HARD bounds what even they may hold (memory, descriptors).  Any
 * other uid holds at most CTL_MAX_PER_UID, and a connection with no open
 * request that sends nothing for the idle timeout is closed.
 */
#define CTL_MAX_CLIENTS		256
#define CTL_MAX_HARD		512
#define CTL_MAX_PER_UID		32
#define CTL_IDLE_MS		60000
#define CTL_MAX_OPEN_REQS	64	/* per client */
#define CTL_MAX_QUEUED		(16u * 1024 * 1024)	/* unread reply bytes */
#define CTL_READ_CHUNK		(64 * 1024)

struct ctl_client {
	struct ctl		*ctl;
	uv_pipe_t		 pipe;
	struct proto_reader	 rd;
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	bool			 trusted;	/* may run mutating commands */
	bool			 readonly;	/* came in on the read-only socket */
	bool			 privileged;	/* root or shipd's user */
	bool			 closing;
	size_t			 nreqs;
	unsigned		 npaused;	/* requests that paused its input */
	unsigned		 ndrain;	/* requests waiting for a drain */
	uint64_t		 last_active;	/* uv_now() of the last byte or reply */
	struct ctl_client	*next, *prev;
};

struct ctl {
	struct shipd		*sd;
	uv_pipe_t		 listener;
	uv_timer_t		 sweep;		/* closes idle clients */
	struct ctl_hold		*hold;		/* waiting for the engine */
	uint64_t		 idle_ms;
	char			*path;
	gid_t			 gid;
	uv_pipe_t		 ro;		/* the read-only socket, if any */
	char			*ro_path;	/* NULL: none */
	gid_t			 ro_gid;
	bool			 closing;
	unsigned		 open_handles;
	struct ctl_client	*clients;
	struct ctl_req		*reqs;
	void			(*done)(void *);
	void			*done_arg;
	char			 rbuf[CTL_READ_CHUNK];
};

struct ctl_write {
	uv_write_t	 req;
	char		*data;
};

/* server.c, for listen.c */
void	ctl_on_connection(uv_stream_t *, int status);
void	ctl_client_close(struct ctl_client *);
/* Once closing, call ctl->done when the last handle has closed. */
void	ctl_maybe_done(struct ctl *);
/* Shutdown: every request is answered and cancelled, every client closed. */
void	ctl_drop_all(struct ctl *);

#endif
