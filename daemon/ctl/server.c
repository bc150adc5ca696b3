/*
 * Control server.  Accepts shipctl connections on a unix socket, frames
 * JSON lines, validates each request once against the command table and
 * dispatches it.  A peer can send anything at any rate: it gets an error
 * reply or is dropped, and other clients are never affected.
 */
#include <assert.h>
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/metrics.h"
#include "ctl/audit.h"
#include "ctl/ctl.h"
#include "ctl/hold.h"
#include "ctl/peer.h"
#include "ctl/request.h"
#include "ctl/server_int.h"
#include "log.h"
#include "proto.h"
#include "core/shipd.h"
#include "util.h"

static void	ctl_client_read(struct ctl_client *, bool);
static void	ctl_client_detach(struct ctl_client *, struct ctl_req *);
static void	on_alloc(uv_handle_t *, size_t, uv_buf_t *);
static void	on_read(uv_stream_t *, ssize_t, const uv_buf_t *);

/* ---- writing ------------------------------------------------------------- */

/* Requests of c waiting for its unread replies to drain are told. */
static void
client_drained(struct ctl_client *c)
{
	struct ctl_req	*r, *next;
	void		(*fn)(struct ctl_req *, void *);

	for (r = c->ctl->reqs; r != NULL && c->ndrain > 0; r = next) {
		next = r->next;
		if (r->peer != c || (fn = r->on_drain) == NULL)
			continue;
		r->on_drain = NULL;
		c->ndrain--;
		fn(r, r->drain_arg);
	}
}

static void
on_written(uv_write_t *w, int status)
{
	struct ctl_write	*cw = w->data;
	struct ctl_client	*c = w->handle->data;

	(void)status;	/* a failed write shows up as a read error too */
	free(cw->data);
	free(cw);
	if (c->ndrain > 0 && !c->closing &&
	    c->pipe.write_queue_size < CTL_REQ_DRAIN_LOW)
		client_drained(c);
}

/* Queue len bytes of data (taken) for c. */
static void
ctl_client_write(struct ctl_client *c, char *data, size_t len)
{
	struct ctl_write	*cw;
	uv_buf_t		 b;

	if (c->closing) {
		free(data);
		return;
	}
	if (c->pipe.write_queue_size > CTL_MAX_QUEUED) {
		/* A peer that does not read its replies (say a stalled
		 * `logs -f`) is dropped rather than buffered without end. */
		log_warn("control: client pid %ld is not reading; dropping it",
		    (long)c->pid);
		free(data);
		ctl_client_close(c);
		return;
	}
	cw = xmalloc(sizeof *cw);
	cw->data = data;
	cw->req.data = cw;
	b = uv_buf_init(cw->data, (unsigned)len);
	if (uv_write(&cw->req, (uv_stream_t *)&c->pipe, &b, 1, on_written) < 0) {
		free(cw->data);
		free(cw);
		ctl_client_close(c);
	}
}

static void
ctl_client_send(struct ctl_client *c, json_t *msg)
{
	char	*line;
	size_t	 len;

	if (c->closing)
		return;
	line = proto_encode(msg, &len);
	ctl_client_write(c, line, len);
}

static void
ctl_client_error(struct ctl_client *c, json_t *id, const char *code,
    const char *msg)
{
	json_t *m = proto_error(id, code, "%s", msg);

	ctl_client_send(c, m);
	json_decref(m);
}

/* ---- frames -------------------------------------------------------------- */

static void
client_pause(struct ctl_client *c, bool pause)
{
	if (c->closing)
		return;
	if (pause && c->npaused++ == 0)
		ctl_client_read(c, false);
	else if (!pause && --c->npaused == 0)
		ctl_client_read(c, true);
}

static void
ctl_client_detach(struct ctl_client *c, struct ctl_req *r)
{
	if (r->paused) {
		r->paused = false;
		client_pause(c, false);
	}
	if (r->on_drain != NULL) {
		r->on_drain = NULL;
		c->ndrain--;
	}
}

static bool
req_send_frame(struct ctl_req *r, const char *hdr, const void *data,
    size_t len)
{
	struct ctl_client	*c = r->peer;
	char			*buf;

	if (c == NULL || c->closing)
		return false;
	buf = xmalloc(PROTO_FRAME_HDR + len);
	memcpy(buf, hdr, PROTO_FRAME_HDR);
	if (len > 0)
		memcpy(buf + PROTO_FRAME_HDR, data, len);
	ctl_client_write(c, buf, PROTO_FRAME_HDR + len);
	return !c->closing;
}

static void
req_pause(struct ctl_req *r, bool pause)
{
	struct ctl_client *c = r->peer;

	r->paused = pause;
	if (c != NULL)
		client_pause(c, pause);
}

static size_t
req_backlog(const struct ctl_req *r)
{
	const struct ctl_client *c = r->peer;

	return c != NULL ? c->pipe.write_queue_size : 0;
}

static void
req_want_drain(struct ctl_req *r, bool want)
{
	struct ctl_client *c = r->peer;

	if (c != NULL)
		c->ndrain += want ? 1 : -1;
}

const struct ctl_req_frames ctl_req_frames = {
	.send_frame = req_send_frame,
	.pause = req_pause,
	.backlog = req_backlog,
	.want_drain = req_want_drain,
};

/*
 * A frame goes to the open request of this client that took frames under
 * its stream id.  One for nobody (the request has ended, say an exec whose
 * process exited while input was on its way) is dropped.  A header that
 * cannot be a frame leaves no way to find the next line: the peer is told
 * and dropped.
 */
static int
ctl_client_frame(const struct proto_frame *f, void *arg)
{
	struct ctl_client	*c = arg;
	struct ctl_req		*r;

	if (f == NULL) {
		log_warn("control: malformed binary frame from pid %ld; "
		    "dropping it", (long)c->pid);
		ctl_client_error(c, NULL, PROTO_E_BAD_REQUEST, "malformed binary "
		    "frame header (docs/protocol.md, \"Binary frames\"); "
		    "closing the connection");
		ctl_client_close(c);
		return -1;
	}
	for (r = c->ctl->reqs; r != NULL; r = r->next)
		if (r->peer == c && r->stream == f->stream &&
		    r->on_frame != NULL)
			break;
	if (r == NULL) {
		log_debug("control: dropped a frame for stream %lu from pid "
		    "%ld: no open request takes it", (unsigned long)f->stream,
		    (long)c->pid);
		return 0;
	}
	r->on_frame(r, f, r->frame_arg);
	return c->closing ? -1 : 0;
}


/* ---- requests ------------------------------------------------------------ */

static void
req_unlink(struct ctl *ctl, struct ctl_req *r)
{
	struct ctl_client *c = r->peer;

	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		ctl->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	if (c != NULL) {
		c->nreqs--;
		/* The idle time counts from the last reply. */
		c->last_active = uv_now(ctl->sd->loop);
		ctl_client_detach(c, r);
	}
	r->peer = NULL;
}

static void
count_request(const struct ctl_req *r, json_t *msg)
{
	const char *code;

	code = json_string_value(json_object_get(json_object_get(msg,
	    "error"), "code"));
	metrics_inc("shipd_control_requests_total", "command", r->cmd,
	    "result", code != NULL ? code : "ok", NULL);
}

/* The request channel's sender (core/req.h). */
static bool
req_send(struct ctl_req *r, json_t *msg, bool final)
{
	struct ctl		*ctl = r->owner;
	struct ctl_client	*c = r->peer;

	if (c != NULL)
		ctl_client_send(c, msg);
	if (final) {
		count_request(r, msg);
		ctl_audit_end(ctl->sd, r, msg, NULL, NULL);
		req_unlink(ctl, r);
		ctl_req_free(r);
	}
	return c != NULL;
}

/* ---- dispatch ------------------------------------------------------------ */

/* A mutating command from a peer that may only read: refused, and the
 * refusal audited with who asked. */
static void
deny(struct ctl_client *c, json_t *id, const char *name, json_t *args)
{
	char buf[512];

	if (c->readonly)
		snprintf(buf, sizeof buf, "%s changes state: the read-only "
		    "socket %s (--read-group) serves only commands that read "
		    "(you are uid %ld)", name, c->ctl->ro_path, (long)c->uid);
	else
		snprintf(buf, sizeof buf, "%s needs root, shipd's own user "
		    "or the socket's group (you are uid %ld)", name,
		    (long)c->uid);
	log_warn("control: refused %s from uid %ld pid %ld: %s", name,
	    (long)c->uid, (long)c->pid, c->readonly ? "read-only socket" :
	    "not in the socket's group");
	ctl_audit_denied(c->ctl->sd, c->uid, c->pid, name, args, buf);
	ctl_client_error(c, id, PROTO_E_DENIED, buf);
}

static int
on_line(const char *line, size_t len, void *arg)
{
	struct ctl_client	*c = arg;
	struct ctl		*ctl = c->ctl;
	const struct ctl_cmd	*cmd;
	struct ctl_request	 q;
	struct ctl_req		*r;
	json_t			*id, *args;
	const char		*code;
	char			 ebuf[256];

	if ((code = ctl_request_decode(line, len, &q, ebuf,
	    sizeof ebuf)) != NULL) {
		ctl_client_error(c, q.id, code, ebuf);
		goto out;
	}
	cmd = q.cmd;
	id = q.id;
	args = json_incref(q.args);
	if (cmd->mutating && (!c->trusted || c->readonly)) {
		deny(c, id, cmd->name, args);
		json_decref(args);
		goto out;
	}
	if (ctl->closing) {
		ctl_client_error(c, id, PROTO_E_SHUTDOWN, "shipd is shutting down");
		json_decref(args);
		goto out;
	}
	/* While shipd is still reaching the engine, the request waits for
	 * it (hold.h) unless a wait has already run out. */
	if (cmd->engine && !ctl->sd->engine_ok && !ctl_hold_open(ctl->hold)) {
		snprintf(ebuf, sizeof ebuf, "engine %s: %s",
		    ctl->sd->cfg.engine_path, ctl->sd->engine_error ?
		    ctl->sd->engine_error : "not connected yet");
		ctl_client_error(c, id, PROTO_E_UNAVAILABLE, ebuf);
		json_decref(args);
		goto out;
	}
	if (c->nreqs >= CTL_MAX_OPEN_REQS) {
		ctl_client_error(c, id, PROTO_E_BUSY, "too many open requests on "
		    "this connection");
		json_decref(args);
		goto out;
	}

	r = ctl_req_new(id, cmd->name, args, req_send, ctl);
	r->peer = c;
	r->frames = &ctl_req_frames;
	r->mutating = cmd->mutating;
	r->uid = c->uid;
	r->pid = c->pid;
	r->next = ctl->reqs;
	if (ctl->reqs != NULL)
		ctl->reqs->prev = r;
	ctl->reqs = r;
	c->nreqs++;
	if (cmd->mutating)
		log_info("control: %s from uid %ld pid %ld", cmd->name,
		    (long)c->uid, (long)c->pid);
	ctl_audit_start(ctl->sd, r);
	if (cmd->engine && !ctl->sd->engine_ok)
		ctl_hold_add(ctl->hold, cmd->handler, r);
	else
		cmd->handler(ctl->sd, r);
out:
	ctl_request_clear(&q);
	/* A handler may have dropped the client (write failure). */
	return c->closing ? -1 : 0;
}

/* ---- clients ------------------------------------------------------------- */

static void
ctl_client_read(struct ctl_client *c, bool on)
{
	if (on)
		uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
	else
		uv_read_stop((uv_stream_t *)&c->pipe);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct ctl_client *c = h->data;

	(void)hint;
	*b = uv_buf_init(c->ctl->rbuf, sizeof c->ctl->rbuf);
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct ctl_client *c = s->data;

	if (n < 0) {
		ctl_client_close(c);
		return;
	}
	if (n > 0) {
		c->last_active = uv_now(s->loop);
		proto_reader_feed(&c->rd, b->base, (size_t)n, on_line, c);
	}
}

void
ctl_maybe_done(struct ctl *ctl)
{
	void	(*done)(void *) = ctl->done;
	void	*arg = ctl->done_arg;

	if (!ctl->closing || ctl->open_handles > 0)
		return;
	free(ctl->path);
	free(ctl->ro_path);
	free(ctl);
	if (done != NULL)
		done(arg);
}

static void
on_client_closed(uv_handle_t *h)
{
	struct ctl_client	*c = h->data;
	struct ctl		*ctl = c->ctl;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		ctl->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	ctl->open_handles--;
	proto_reader_free(&c->rd);
	free(c);
	ctl_maybe_done(ctl);
}

void
ctl_client_close(struct ctl_client *c)
{
	struct ctl_req *r, *next;

	if (c->closing)
		return;
	c->closing = true;
	uv_read_stop((uv_stream_t *)&c->pipe);
	/* Open requests outlive their client (a deploy goes on when the
	 * terminal that started it closes); they only stop sending. */
	for (r = c->ctl->reqs; r != NULL; r = next) {
		next = r->next;
		if (r->peer != c)
			continue;
		r->peer = NULL;
		c->nreqs--;
		ctl_req_peer_gone(r);
	}
	uv_close((uv_handle_t *)&c->pipe, on_client_closed);
}

/* Members of the socket's group may mutate; so may root and shipd's user. */
static bool
peer_trusted(const struct ctl *ctl, int fd, const struct ucred *cred)
{
	if (cred->uid == 0 || cred->uid == geteuid())
		return true;
	return ctl_peer_in_group(fd, cred, ctl->gid);
}

/* Returns NULL when c (already counted) may stay, else why not in buf. */
static const char *
admit(const struct ctl *ctl, const struct ctl_client *c, char *buf,
    size_t len)
{
	const struct ctl_client	*o;
	size_t			 all = 0, mine = 0;

	/* Clients being closed no longer count: their slot is free. */
	for (o = ctl->clients; o != NULL; o = o->next) {
		if (o->closing)
			continue;
		all++;
		if (o->uid == c->uid)
			mine++;
	}
	if (all > CTL_MAX_HARD) {
		snprintf(buf, len, "too many clients (%d)", CTL_MAX_HARD);
		return buf;
	}
	if (c->privileged)
		return NULL;
	if (all > CTL_MAX_CLIENTS) {
		snprintf(buf, len, "too many clients (%d; only root and "
		    "shipd's user get more)", CTL_MAX_CLIENTS);
		return buf;
	}
	if (mine > CTL_MAX_PER_UID) {
		snprintf(buf, len, "too many clients of uid %ld (%d)",
		    (long)c->uid, CTL_MAX_PER_UID);
		return buf;
	}
	return NULL;
}

/*
 * One timer for every client: a connection with no open request (a
 * `logs -f`, `events` or deploy is never idle) that sent nothing for
 * idle_ms is closed, so idle connections cannot hold the slots.
 */
void
ctl_on_connection(uv_stream_t *server, int status)
{
	struct ctl		*ctl = server->data;
	struct ctl_client	*c;
	struct ucred		 cred;
	socklen_t		 clen = sizeof cred;
	uv_os_fd_t		 fd;
	const char		*why;
	char			 ebuf[256];

	if (status < 0) {
		log_warn("control: accept: %s", uv_strerror(status));
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->ctl = ctl;
	uv_pipe_init(server->loop, &c->pipe, 0);
	c->pipe.data = c;
	ctl->open_handles++;
	c->next = ctl->clients;
	if (ctl->clients != NULL)
		ctl->clients->prev = c;
	ctl->clients = c;
	proto_reader_init(&c->rd, PROTO_MAX_LINE);
	proto_reader_frames(&c->rd, ctl_client_frame);
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
		ctl_client_close(c);
		return;
	}
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
		log_warn("control: cannot read peer credentials; closing");
		ctl_client_close(c);
		return;
	}
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->pid = cred.pid;
	c->trusted = peer_trusted(ctl, fd, &cred);
	c->privileged = cred.uid == 0 || cred.uid == geteuid();
	/* Whatever its mode says, the read-only socket only serves its
	 * group and those who may use the other one. */
	c->readonly = server == (uv_stream_t *)&ctl->ro;
	if (c->readonly && !c->trusted &&
	    !ctl_peer_in_group(fd, &cred, ctl->ro_gid)) {
		snprintf(ebuf, sizeof ebuf, "uid %ld is not in the read "
		    "group of %s", (long)c->uid, ctl->ro_path);
		log_warn("control: refused uid %ld pid %ld: %s", (long)c->uid,
		    (long)c->pid, ebuf);
		ctl_audit_denied(ctl->sd, c->uid, c->pid, "connect", NULL,
		    ebuf);
		ctl_client_error(c, NULL, PROTO_E_DENIED, ebuf);
		ctl_client_close(c);
		return;
	}
	c->last_active = uv_now(server->loop);
	if ((why = admit(ctl, c, ebuf, sizeof ebuf)) != NULL) {
		/* Debug only: a flood of refusals must not flood the log. */
		log_debug("control: refused uid %ld pid %ld: %s",
		    (long)c->uid, (long)c->pid, why);
		ctl_client_error(c, NULL, PROTO_E_BUSY, why);
		ctl_client_close(c);
		return;
	}
	if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) < 0)
		ctl_client_close(c);
}


void
ctl_drop_all(struct ctl *ctl)
{
	struct ctl_client	*c, *cnext;
	struct ctl_req		*r;

	while ((r = ctl->reqs) != NULL) {
		/* What it did is left for the next start's recovery. */
		ctl_audit_end(ctl->sd, r, NULL, PROTO_E_SHUTDOWN, "shipd "
		    "stopped before the command ended");
		if (r->peer != NULL) {
			json_t *m = proto_error(r->id, PROTO_E_SHUTDOWN,
			    "shipd is shutting down");

			ctl_client_send(r->peer, m);
			json_decref(m);
		}
		req_unlink(ctl, r);
		ctl_req_cancel(r);
	}
	for (c = ctl->clients; c != NULL; c = cnext) {
		cnext = c->next;
		ctl_client_close(c);
	}
}
