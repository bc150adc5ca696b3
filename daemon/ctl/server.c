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

#include "ctl/audit.h"
#include "ctl/ctl.h"
#include "ctl/hold.h"
#include "ctl/peer.h"
#include "ctl/request.h"
#include "log.h"
#include "proto.h"
#include "core/shipd.h"
#include "util.h"

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

static void	client_close(struct ctl_client *);
static void	ctl_maybe_done(struct ctl *);

static void
own_closed(void *arg)
{
	struct ctl *ctl = arg;

	ctl->open_handles--;
	ctl_maybe_done(ctl);
}

static void
on_own_closed(uv_handle_t *h)
{
	own_closed(h->data);
}

/* ---- writing ------------------------------------------------------------- */

static void
on_written(uv_write_t *w, int status)
{
	struct ctl_write *cw = w->data;

	(void)status;	/* a failed write shows up as a read error too */
	free(cw->data);
	free(cw);
}

static void
client_send(struct ctl_client *c, json_t *msg)
{
	struct ctl_write	*cw;
	uv_buf_t		 b;
	size_t			 len;

	if (c->closing)
		return;
	if (c->pipe.write_queue_size > CTL_MAX_QUEUED) {
		/* A peer that does not read its replies (say a stalled
		 * `logs -f`) is dropped rather than buffered without end. */
		log_warn("control: client pid %ld is not reading; dropping it",
		    (long)c->pid);
		client_close(c);
		return;
	}
	cw = xmalloc(sizeof *cw);
	cw->data = proto_encode(msg, &len);
	cw->req.data = cw;
	b = uv_buf_init(cw->data, (unsigned)len);
	if (uv_write(&cw->req, (uv_stream_t *)&c->pipe, &b, 1, on_written) < 0) {
		free(cw->data);
		free(cw);
		client_close(c);
	}
}

static void
send_error(struct ctl_client *c, json_t *id, const char *code,
    const char *msg)
{
	json_t *m = proto_error(id, code, "%s", msg);

	client_send(c, m);
	json_decref(m);
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
	}
	r->peer = NULL;
}

/* The request channel's sender (core/req.h). */
static bool
req_send(struct ctl_req *r, json_t *msg, bool final)
{
	struct ctl		*ctl = r->owner;
	struct ctl_client	*c = r->peer;

	if (c != NULL)
		client_send(c, msg);
	if (final) {
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
	send_error(c, id, PROTO_E_DENIED, buf);
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
		send_error(c, q.id, code, ebuf);
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
		send_error(c, id, PROTO_E_SHUTDOWN, "shipd is shutting down");
		json_decref(args);
		goto out;
	}
	/* While shipd is still reaching the engine, the request waits for
	 * it (hold.h) unless a wait has already run out. */
	if (cmd->engine && !ctl->sd->engine_ok && !ctl_hold_open(ctl->hold)) {
		snprintf(ebuf, sizeof ebuf, "engine %s: %s",
		    ctl->sd->cfg.engine_path, ctl->sd->engine_error ?
		    ctl->sd->engine_error : "not connected yet");
		send_error(c, id, PROTO_E_UNAVAILABLE, ebuf);
		json_decref(args);
		goto out;
	}
	if (c->nreqs >= CTL_MAX_OPEN_REQS) {
		send_error(c, id, PROTO_E_BUSY, "too many open requests on "
		    "this connection");
		json_decref(args);
		goto out;
	}

	r = ctl_req_new(id, cmd->name, args, req_send, ctl);
	r->peer = c;
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
		client_close(c);
		return;
	}
	if (n > 0) {
		c->last_active = uv_now(s->loop);
		proto_reader_feed(&c->rd, b->base, (size_t)n, on_line, c);
	}
}

static void
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

static void
client_close(struct ctl_client *c)
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
static void
on_sweep(uv_timer_t *t)
{
	struct ctl		*ctl = t->data;
	struct ctl_client	*c, *next;
	uint64_t		 now = uv_now(t->loop);

	for (c = ctl->clients; c != NULL; c = next) {
		next = c->next;
		if (c->closing || c->nreqs > 0 ||
		    now - c->last_active < ctl->idle_ms)
			continue;
		log_debug("control: closing idle client uid %ld pid %ld",
		    (long)c->uid, (long)c->pid);
		client_close(c);
	}
}

/* Testing: SHIPD_TEST_CTL_IDLE_MS=N sets the idle timeout to N ms. */
static uint64_t
idle_timeout(void)
{
	const char	*v = getenv("SHIPD_TEST_CTL_IDLE_MS");
	char		*end;
	unsigned long	 ms;

	if (v == NULL || *v == '\0')
		return CTL_IDLE_MS;
	ms = strtoul(v, &end, 10);
	if (*end != '\0' || ms == 0) {
		log_warn("control: SHIPD_TEST_CTL_IDLE_MS=%s ignored", v);
		return CTL_IDLE_MS;
	}
	return ms;
}

static void
on_connection(uv_stream_t *server, int status)
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
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
		client_close(c);
		return;
	}
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
		log_warn("control: cannot read peer credentials; closing");
		client_close(c);
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
		send_error(c, NULL, PROTO_E_DENIED, ebuf);
		client_close(c);
		return;
	}
	c->last_active = uv_now(server->loop);
	if ((why = admit(ctl, c, ebuf, sizeof ebuf)) != NULL) {
		/* Debug only: a flood of refusals must not flood the log. */
		log_debug("control: refused uid %ld pid %ld: %s",
		    (long)c->uid, (long)c->pid, why);
		send_error(c, NULL, PROTO_E_BUSY, why);
		client_close(c);
		return;
	}
	if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) < 0)
		client_close(c);
}

/* ---- listening ----------------------------------------------------------- */

/* A socket file that nobody answers on is stale (a killed shipd left it);
 * one that answers belongs to a running shipd, which we must not steal. */
static int
remove_stale(const char *path)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	if (strlen(path) >= sizeof sun.sun_path)
		return -ENAMETOOLONG;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	close(fd);
	if (rc == 0)
		return -EADDRINUSE;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Bind and listen on path, mode 0660, group gid unless (gid_t)-1; the
 * handle is open (and counted) whatever the result. */
static int
listen_on(struct ctl *ctl, uv_pipe_t *p, const char *path, gid_t gid)
{
	int rc;

	uv_pipe_init(ctl->sd->loop, p, 0);
	p->data = ctl;
	ctl->open_handles++;
	if ((rc = uv_pipe_bind(p, path)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)p, 128, on_connection)) < 0) {
		log_err("control: %s: %s", path, uv_strerror(rc));
		return rc;
	}
	/* bind() honours the umask; the mode is part of the security model,
	 * so set it explicitly. */
	if (chmod(path, 0660) < 0 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0)) {
		rc = -errno;
		log_err("control: %s: %s", path, strerror(errno));
		return rc;
	}
	return 0;
}

int
ctl_open(struct shipd *sd, const char *path, gid_t gid, struct ctl **out)
{
	struct ctl	*ctl;
	char		*dir, *slash;
	int		 rc;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		mkdir_p(dir, 0755);
	}
	free(dir);
	if ((rc = remove_stale(path)) < 0) {
		if (rc == -EADDRINUSE)
			log_err("control: %s: another shipd answers there",
			    path);
		else
			log_err("control: %s: %s", path, strerror(-rc));
		return rc;
	}
	ctl = xcalloc(1, sizeof *ctl);
	ctl->sd = sd;
	ctl->gid = gid;
	ctl->ro_gid = (gid_t)-1;
	ctl->path = xstrdup(path);
	if ((rc = listen_on(ctl, &ctl->listener, path, gid)) < 0)
		goto fail;
	/* Checked a few times per timeout: closed within 1.25 of it. */
	ctl->idle_ms = idle_timeout();
	uv_timer_init(sd->loop, &ctl->sweep);
	ctl->sweep.data = ctl;
	ctl->open_handles++;
	uv_timer_start(&ctl->sweep, on_sweep, ctl->idle_ms / 4 + 1,
	    ctl->idle_ms / 4 + 1);
	ctl->hold = ctl_hold_new(sd);
	ctl->open_handles++;
	*out = ctl;
	return 0;
fail:
	/* Freed in the close callback; the caller runs the loop once more
	 * before uv_loop_close(). */
	ctl->closing = true;
	uv_close((uv_handle_t *)&ctl->listener, on_own_closed);
	return rc;
}

int
ctl_open_readonly(struct ctl *ctl, const char *path, gid_t gid)
{
	int rc;

	assert(ctl->ro_path == NULL);
	if ((rc = remove_stale(path)) < 0) {
		log_err("control: %s: %s", path, rc == -EADDRINUSE ?
		    "another shipd answers there" : strerror(-rc));
		return rc;
	}
	ctl->ro_path = xstrdup(path);
	ctl->ro_gid = gid;
	return listen_on(ctl, &ctl->ro, path, gid);
}

void
ctl_close(struct ctl *ctl, void (*done)(void *), void *arg)
{
	struct ctl_client	*c, *cnext;
	struct ctl_req		*r;

	ctl->closing = true;
	ctl->done = done;
	ctl->done_arg = arg;
	unlink(ctl->path);
	if (ctl->ro_path != NULL)
		unlink(ctl->ro_path);
	while ((r = ctl->reqs) != NULL) {
		/* What it did is left for the next start's recovery. */
		ctl_audit_end(ctl->sd, r, NULL, PROTO_E_SHUTDOWN, "shipd "
		    "stopped before the command ended");
		if (r->peer != NULL) {
			json_t *m = proto_error(r->id, PROTO_E_SHUTDOWN,
			    "shipd is shutting down");

			client_send(r->peer, m);
			json_decref(m);
		}
		req_unlink(ctl, r);
		ctl_req_cancel(r);
	}
	for (c = ctl->clients; c != NULL; c = cnext) {
		cnext = c->next;
		client_close(c);
	}
	/* Held requests were cancelled with the others above. */
	ctl_hold_close(ctl->hold, own_closed, ctl);
	uv_close((uv_handle_t *)&ctl->sweep, on_own_closed);
	uv_close((uv_handle_t *)&ctl->listener, on_own_closed);
	if (ctl->ro_path != NULL)
		uv_close((uv_handle_t *)&ctl->ro, on_own_closed);
}

void
ctl_engine_ready(struct ctl *ctl)
{
	if (ctl != NULL && !ctl->closing)
		ctl_hold_wake(ctl->hold);
}
