/*
 * An exec whose start call's connection is taken over for the process's
 * streams.  libcurl has no way to hand a connection over after a 101 or to
 * half-close it (the end of stdin), so the start call goes on a libuv pipe
 * of its own to the engine's socket; create, resize and inspect are
 * ordinary calls through the engine client.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/shipd.h"
#include "engine/docker.h"
#include "engine/docker_int.h"
#include "engine/execio.h"
#include "log.h"
#include "util.h"

#define HEAD_MAX	(64 * 1024)
#define READ_CHUNK	(64 * 1024)
#define RECHECK_MS	10
#define RECHECKS	400	/* 4 s for the engine to record the exit */
#define RESIZE_TRIES	10
#define RESIZE_RETRY_MS	50

enum xstate {
	X_CREATE,	/* exec create under way */
	X_HEAD,		/* start sent, waiting for the upgrade */
	X_ERRBODY,	/* the start was refused: its message */
	X_STREAM,	/* the process's streams */
	X_INSPECT,	/* output ended: the exit code */
	X_DONE,
};

struct execio {
	struct shipd		*sd;
	const struct execio_ops	*ops;
	void			*arg;
	enum xstate		 state;
	struct docker_req	*req;
	char			*id;
	bool			 in, tty;
	uv_pipe_t		 pipe;
	uv_connect_t		 conn;
	uv_shutdown_t		 shut;
	uv_timer_t		 timer;
	int			 open;		/* handles not yet closed */
	struct buf		 head;
	long			 status;
	size_t			 body_want;
	struct docker_demux	 dm;
	bool			 paused, reading;
	size_t			 queued;	/* stdin written, not yet gone */
	bool			 full;		/* said so to the writer */
	struct buf		 pending;	/* stdin before the stream */
	bool			 close_in, in_closed;
	int			 rh, rw;	/* a size not yet sent */
	int			 lh, lw;	/* the last one sent */
	struct docker_req	*rreq;		/* a resize under way */
	int			 rtries;
	bool			 seen_out;	/* the process has written */
	int			 rechecks;
	int			 err;		/* a failure to report later */
	char			*msg;
};

struct wreq {
	uv_write_t	 w;
	struct execio	*x;
	size_t		 len;
	char		 data[];
};

static void	on_read(uv_stream_t *, ssize_t, const uv_buf_t *);
static void	on_alloc(uv_handle_t *, size_t, uv_buf_t *);
static void	send_resize(struct execio *);

int
execio_parse_head(const char *p, size_t len, long *status, size_t *head_len)
{
	const char	*end, *sp;
	size_t		 i;
	long		 st;

	if (memcmp(p, "HTTP/1.", len < 7 ? len : 7) != 0)
		return -EPROTO;
	if (len < 12)
		return 1;
	end = NULL;
	for (i = 0; i + 3 < len; i++)
		if (memcmp(p + i, "\r\n\r\n", 4) == 0) {
			end = p + i + 4;
			break;
		}
	if (end == NULL)
		return 1;
	if ((sp = memchr(p, ' ', (size_t)(end - p))) == NULL || sp - p != 8)
		return -EPROTO;
	/* Three digits by hand: the bytes are not a C string, and strtol()
	 * would skip blanks past their end. */
	st = 0;
	for (i = 1; i <= 3; i++) {
		if (sp[i] < '0' || sp[i] > '9')
			return -EPROTO;
		st = st * 10 + (sp[i] - '0');
	}
	if ((sp[4] != ' ' && sp[4] != '\r') || st < 100 || st > 599)
		return -EPROTO;
	*status = st;
	*head_len = (size_t)(end - p);
	return 0;
}

static void
on_closed(uv_handle_t *h)
{
	struct execio *x = h->data;

	if (--x->open > 0)
		return;
	docker_demux_free(&x->dm);
	buf_free(&x->head);
	buf_free(&x->pending);
	free(x->msg);
	free(x->id);
	free(x);
}

/* Everything stops; the memory goes once both handles have closed, after
 * whatever callback runs now has returned. */
static void
end(struct execio *x)
{
	x->state = X_DONE;
	if (x->sd->docker != NULL) {
		docker_cancel(x->req);
		docker_cancel(x->rreq);
	}
	x->req = x->rreq = NULL;
	uv_close((uv_handle_t *)&x->pipe, on_closed);
	uv_close((uv_handle_t *)&x->timer, on_closed);
}

static void
finish(struct execio *x, int err, const char *msg, int code)
{
	const struct execio_ops	*ops = x->ops;
	void			*arg = x->arg;
	char			*m;

	if (x->state == X_DONE)
		return;
	m = xstrdup(msg != NULL ? msg : "");
	end(x);
	ops->done(err, m, code, arg);
	free(m);
}

void
execio_cancel(struct execio *x)
{
	if (x != NULL && x->state != X_DONE)
		end(x);
}

/* A failure found where no callback may run yet: on the loop's next turn. */
static void
on_later(uv_timer_t *t)
{
	struct execio *x = t->data;

	finish(x, x->err, x->msg, 0);
}

static void
fail_later(struct execio *x, int err, const char *msg)
{
	x->err = err;
	free(x->msg);
	x->msg = xstrdup(msg);
	uv_timer_start(&x->timer, on_later, 0, 0);
}

const char *
execio_id(const struct execio *x)
{
	return x->id;
}

/* ---- the exit code --------------------------------------------------- */

static void	on_inspect(const struct docker_result *, void *);

static void
on_recheck(uv_timer_t *t)
{
	struct execio *x = t->data;

	if (x->state == X_INSPECT && x->sd->docker != NULL)
		x->req = docker_exec_inspect(x->sd->docker, x->id, on_inspect,
		    x);
}

static void
on_inspect(const struct docker_result *res, void *arg)
{
	struct execio	*x = arg;
	json_t		*code;

	x->req = NULL;
	if (res->err != 0) {
		finish(x, res->err, res->message, 0);
		return;
	}
	if (json_is_true(json_object_get(res->body, "Running"))) {
		if (x->rechecks++ < RECHECKS)
			uv_timer_start(&x->timer, on_recheck, RECHECK_MS, 0);
		else
			finish(x, -EBUSY, "still running after its output "
			    "ended", 0);
		return;
	}
	code = json_object_get(res->body, "ExitCode");
	if (!json_is_integer(code)) {
		finish(x, -EPROTO, "no exit code in the engine's reply", 0);
		return;
	}
	finish(x, 0, NULL, (int)json_integer_value(code));
}

/* ---- stdin ------------------------------------------------------------ */

static void
on_written(uv_write_t *w, int status)
{
	struct wreq	*q = (struct wreq *)w;
	struct execio	*x = q->x;

	(void)status;	/* a broken connection shows on the read side */
	x->queued -= q->len;
	free(q);
	if (x->state == X_DONE || !x->full || x->queued > EXECIO_LOW)
		return;
	x->full = false;
	if (x->ops->writable != NULL)
		x->ops->writable(x->arg);
}

static void
send_bytes(struct execio *x, const void *data, size_t len)
{
	struct wreq	*q = xcalloc(1, sizeof *q + len);
	uv_buf_t	 b;
	int		 rc;

	q->x = x;
	q->len = len;
	memcpy(q->data, data, len);
	b = uv_buf_init(q->data, (unsigned)len);
	x->queued += len;
	if ((rc = uv_write(&q->w, (uv_stream_t *)&x->pipe, &b, 1,
	    on_written)) != 0) {
		x->queued -= len;
		free(q);
		log_warn("exec %s: write: %s", x->id, uv_strerror(rc));
	}
}

static void
on_shutdown(uv_shutdown_t *s, int status)
{
	(void)s;
	(void)status;
}

static void
shut_in(struct execio *x)
{
	if (x->in_closed)
		return;
	x->in_closed = true;
	if (uv_shutdown(&x->shut, (uv_stream_t *)&x->pipe, on_shutdown) != 0)
		log_warn("exec %s: cannot close stdin", x->id);
}

bool
execio_write(struct execio *x, const void *data, size_t len)
{
	if (x->state == X_DONE || !x->in || x->close_in || len == 0)
		return true;
	if (x->state == X_STREAM)
		send_bytes(x, data, len);
	else {
		buf_append(&x->pending, data, len);
		x->queued += len;
	}
	if (x->queued > EXECIO_HIGH)
		x->full = true;
	return !x->full;
}

void
execio_close_stdin(struct execio *x)
{
	if (x->state == X_DONE || x->close_in)
		return;
	x->close_in = true;
	if (x->in && x->state == X_STREAM)
		shut_in(x);
}

/* ---- resize ------------------------------------------------------------ */

static void
on_resize_again(uv_timer_t *t)
{
	struct execio *x = t->data;

	if (x->state == X_STREAM && x->rreq == NULL)
		send_resize(x);
}

/*
 * The engine refuses a resize until the process runs, which can be after
 * the upgrade: the first size is tried again a few times, as the docker
 * CLI does.  A later size replaces one that failed.
 */
static void
on_resized(const struct docker_result *res, void *arg)
{
	struct execio *x = arg;

	x->rreq = NULL;
	log_debug("exec %s: resize to %dx%d: %s", x->id, x->lh, x->lw,
	    res->err == 0 ? "done" : res->message);
	if (res->err == 0 || x->state != X_STREAM)
		return;
	if (x->rtries++ < RESIZE_TRIES && x->rh == 0) {
		x->rh = x->lh;
		x->rw = x->lw;
		uv_timer_start(&x->timer, on_resize_again, RESIZE_RETRY_MS, 0);
		return;
	}
	log_warn("exec %s: resize: %s", x->id, res->message);
}

static void
send_resize(struct execio *x)
{
	struct docker_opts	o;
	char			*path;

	if (x->sd->docker == NULL || x->rh <= 0 || x->rw <= 0)
		return;
	docker_cancel(x->rreq);
	xasprintf(&path, "/exec/%s/resize?h=%d&w=%d", x->id, x->rh, x->rw);
	memset(&o, 0, sizeof o);
	o.method = "POST";
	o.path = path;
	o.done = on_resized;
	o.arg = x;
	x->rreq = docker_submit(x->sd->docker, &o);
	free(path);
	x->lh = x->rh;
	x->lw = x->rw;
	x->rh = x->rw = 0;
}

void
execio_resize(struct execio *x, int h, int w)
{
	if (x->state == X_DONE || !x->tty || h <= 0 || w <= 0)
		return;
	x->rh = h;
	x->rw = w;
	if (x->state == X_STREAM)
		send_resize(x);
}

/* ---- output ----------------------------------------------------------- */

static void
on_demux(int stream, const char *data, size_t len, void *arg)
{
	struct execio *x = arg;

	if (x->state == X_STREAM && stream != 0)
		x->ops->output(stream == 2 ? 2 : 1, data, len, x->arg);
}

static void
feed(struct execio *x, const char *data, size_t len)
{
	if (len == 0)
		return;
	/*
	 * An engine without ConsoleSize (API < 1.42) can take the first
	 * resize before the process's terminal is there and lose it, though
	 * it answers ok: once the process has written, its terminal is
	 * there, and that size goes again unless a newer one is on its way.
	 */
	if (x->tty && !x->seen_out) {
		x->seen_out = true;
		if (x->lh > 0 && x->rh == 0 && x->rreq == NULL) {
			x->rh = x->lh;
			x->rw = x->lw;
			send_resize(x);
		}
	}
	if (x->tty)
		x->ops->output(1, data, len, x->arg);
	else
		docker_demux_feed(&x->dm, data, len);
}

static void
reading(struct execio *x, bool on)
{
	if (on == x->reading)
		return;
	x->reading = on;
	if (on)
		uv_read_start((uv_stream_t *)&x->pipe, on_alloc, on_read);
	else
		uv_read_stop((uv_stream_t *)&x->pipe);
}

void
execio_pause(struct execio *x, bool pause)
{
	x->paused = pause;
	if (x->state == X_STREAM)
		reading(x, !pause);
}

/* The engine refused the start: its reply's message, if it sent one. */
static void
refused(struct execio *x)
{
	const char	*body = x->head.data != NULL ? x->head.data : "";
	json_t		*j;
	json_error_t	 jerr;
	const char	*m = NULL;
	char		 buf[256];
	int		 err;

	err = x->status == 404 ? -ENOENT : x->status == 409 ? -EEXIST :
	    x->status >= 500 ? -EIO : -EINVAL;
	j = json_loadb(body, x->head.len, 0, &jerr);
	if (j != NULL)
		m = json_string_value(json_object_get(j, "message"));
	if (m == NULL) {
		snprintf(buf, sizeof buf, "engine answered HTTP %ld to the "
		    "exec start", x->status);
		m = buf;
	}
	finish(x, err, m, 0);
	json_decref(j);
}

static void
on_head(struct execio *x)
{
	size_t	 hl;
	int	 rc;
	char	*cl;

	rc = execio_parse_head(x->head.data, x->head.len, &x->status, &hl);
	if (rc == 1 && x->head.len < HEAD_MAX)
		return;
	if (rc != 0) {
		finish(x, -EPROTO, "the engine's answer to the exec start is "
		    "not HTTP", 0);
		return;
	}
	if (x->status != 101 && x->status != 200) {
		x->head.data[hl - 1] = '\0';
		cl = strcasestr(x->head.data, "\r\nContent-Length:");
		x->body_want = cl != NULL ? strtoul(cl + 17, NULL, 10) : 0;
		buf_consume(&x->head, hl);
		x->state = X_ERRBODY;
		if (x->head.len >= x->body_want || x->head.len >= HEAD_MAX)
			refused(x);
		return;
	}
	x->state = X_STREAM;
	if (x->ops->started != NULL)
		x->ops->started(x->arg);
	if (x->state != X_STREAM)
		return;
	if (x->pending.len > 0) {
		x->queued -= x->pending.len;
		send_bytes(x, x->pending.data, x->pending.len);
		buf_reset(&x->pending);
	}
	if (x->close_in && x->in)
		shut_in(x);
	send_resize(x);
	if (x->paused)
		reading(x, false);
	feed(x, x->head.data + hl, x->head.len - hl);
	buf_free(&x->head);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)h;
	(void)hint;
	b->base = xmalloc(READ_CHUNK);
	b->len = READ_CHUNK;
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct execio	*x = s->data;
	char		 msg[160];

	if (n > 0) {
		if (x->state == X_STREAM)
			feed(x, b->base, (size_t)n);
		else if (x->state == X_HEAD) {
			buf_append(&x->head, b->base, (size_t)n);
			on_head(x);
		} else if (x->state == X_ERRBODY) {
			buf_append(&x->head, b->base, (size_t)n);
			if (x->head.len >= x->body_want ||
			    x->head.len >= HEAD_MAX)
				refused(x);
		}
	} else if (n < 0) {
		reading(x, false);
		if (x->state == X_ERRBODY)
			refused(x);
		else if (n == UV_EOF && x->state == X_STREAM) {
			/* The output has ended: the command has, or is
			 * about to. */
			x->state = X_INSPECT;
			if (x->sd->docker != NULL)
				x->req = docker_exec_inspect(x->sd->docker,
				    x->id, on_inspect, x);
		} else if (x->state == X_HEAD || x->state == X_STREAM) {
			snprintf(msg, sizeof msg, "engine connection lost "
			    "during the exec: %s", uv_strerror((int)n));
			finish(x, -ECONNREFUSED, msg, 0);
		}
	}
	free(b->base);
}

/* ---- start ----------------------------------------------------------- */

static void
on_connect(uv_connect_t *c, int status)
{
	struct execio	*x = c->data;
	const char	*v;
	char		*req, *body, msg[160];
	json_t		*j;

	if (x->state == X_DONE)
		return;
	if (status != 0) {
		snprintf(msg, sizeof msg, "cannot connect to %s: %s",
		    docker_sock_path(x->sd->docker), uv_strerror(status));
		finish(x, -ECONNREFUSED, msg, 0);
		return;
	}
	v = docker_api_version(x->sd->docker);
	j = json_pack("{s:b, s:b}", "Detach", 0, "Tty", x->tty);
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	xasprintf(&req, "POST /v%s/exec/%s/start HTTP/1.1\r\n"
	    "Host: docker\r\nContent-Type: application/json\r\n"
	    "Connection: Upgrade\r\nUpgrade: tcp\r\n"
	    "Content-Length: %zu\r\n\r\n%s", v != NULL ? v : DOCKER_API_MIN,
	    x->id, strlen(body), body);
	free(body);
	x->state = X_HEAD;
	send_bytes(x, req, strlen(req));
	free(req);
	reading(x, true);
}

static void
on_created(const struct docker_result *res, void *arg)
{
	struct execio	*x = arg;
	const char	*id;

	x->req = NULL;
	if (res->err != 0) {
		/* -EEXIST: the container is not running. */
		finish(x, res->err, res->message, 0);
		return;
	}
	if ((id = json_string_value(json_object_get(res->body, "Id"))) ==
	    NULL) {
		finish(x, -EPROTO, "no exec ID in the engine's reply", 0);
		return;
	}
	x->id = xstrdup(id);
	x->conn.data = x;
	uv_pipe_connect(&x->conn, &x->pipe, docker_sock_path(x->sd->docker),
	    on_connect);
}

static json_t *
exec_spec(struct execio *x, const struct execio_opts *o)
{
	json_t *spec;

	spec = json_pack("{s:b, s:b, s:b, s:b, s:O}", "AttachStdin", o->in,
	    "AttachStdout", 1, "AttachStderr", 1, "Tty", o->tty, "Cmd",
	    o->argv);
	/* The first size with the create where the engine takes it, so the
	 * process starts with it; older engines get a resize at start. */
	if (o->tty && o->h > 0 && o->w > 0) {
		if (docker_api_since(x->sd->docker, "1.42"))
			json_object_set_new(spec, "ConsoleSize", json_pack(
			    "[i, i]", o->h, o->w));
		else {
			x->rh = o->h;
			x->rw = o->w;
		}
	}
	return spec;
}

struct execio *
execio_start(struct shipd *sd, const struct execio_opts *o,
    const struct execio_ops *ops, void *arg)
{
	struct execio	*x = xcalloc(1, sizeof *x);
	json_t		*spec, *v;
	size_t		 i;
	bool		 ok = json_array_size(o->argv) > 0;

	x->sd = sd;
	x->ops = ops;
	x->arg = arg;
	x->in = o->in;
	x->tty = o->tty;
	buf_init(&x->head);
	buf_init(&x->pending);
	docker_demux_init(&x->dm, on_demux, x);
	uv_pipe_init(sd->loop, &x->pipe, 0);
	uv_timer_init(sd->loop, &x->timer);
	x->pipe.data = x->timer.data = x;
	x->open = 2;
	json_array_foreach(o->argv, i, v)
		if (!json_is_string(v))
			ok = false;
	if (!ok)
		fail_later(x, -EINVAL, "no command to run");
	else if (sd->docker == NULL)
		fail_later(x, -ECONNREFUSED, "no engine connection");
	else {
		spec = exec_spec(x, o);
		x->req = docker_exec_create(sd->docker, o->container, spec,
		    on_created, x);
		json_decref(spec);
	}
	return x;
}
