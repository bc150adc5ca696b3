/*
 * TCP and HTTP probes on libuv.  A probe owns a TCP handle and a timer; it
 * reports once, closes both, and frees itself when both close callbacks
 * have run.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/probe.h"
#include "util.h"

struct probe {
	uv_tcp_t	 tcp;
	uv_timer_t	 timer;
	uv_connect_t	 conn;
	uv_write_t	 wreq;
	probe_cb	*cb;
	void		*arg;
	char		*request;	/* NULL for a TCP probe */
	char		 resp[256];
	size_t		 resplen;
	uint64_t	 timeout_ms;
	char		 err[96];	/* set when the probe failed to start */
	int		 open;		/* handles not yet closed */
	int		 starting;	/* inside probe_start() */
	int		 done;
};

static void
on_closed(uv_handle_t *h)
{
	struct probe *p = h->data;

	if (--p->open == 0) {
		free(p->request);
		free(p);
	}
}

static void
finish(struct probe *p, int ok, const char *detail)
{
	if (p->done)
		return;
	/* The callback contract (docker.h): never from inside probe_*(). */
	assert(p->cb == NULL || !p->starting);
	p->done = 1;
	if (p->cb != NULL)
		p->cb(ok, detail, p->arg);
	uv_close((uv_handle_t *)&p->tcp, on_closed);
	uv_close((uv_handle_t *)&p->timer, on_closed);
}

void
probe_cancel(struct probe *p)
{
	if (p == NULL)
		return;
	p->cb = NULL;
	finish(p, 0, NULL);
}

static void
on_timeout(uv_timer_t *t)
{
	struct probe	*p = t->data;
	char		 d[64], dur[32];

	if (p->err[0] != '\0') {
		finish(p, 0, p->err);
		return;
	}
	fmt_duration_ms(dur, sizeof dur, p->timeout_ms);
	snprintf(d, sizeof d, "timed out after %s", dur);
	finish(p, 0, d);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct probe *p = h->data;

	(void)hint;
	*b = uv_buf_init(p->resp + p->resplen,
	    (unsigned)(sizeof p->resp - 1 - p->resplen));
}

/* Only the status line matters: "HTTP/1.x NNN ...". */
static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct probe	*p = s->data;
	char		 d[64], *eol;
	int		 code;

	(void)b;
	if (n < 0 && p->resplen == 0) {
		snprintf(d, sizeof d, "read: %s", uv_strerror((int)n));
		finish(p, 0, d);
		return;
	}
	if (n > 0)
		p->resplen += (size_t)n;
	p->resp[p->resplen] = '\0';
	eol = strstr(p->resp, "\r\n");
	if (eol == NULL && n >= 0 && p->resplen < sizeof p->resp - 1)
		return;
	if (sscanf(p->resp, "HTTP/%*d.%*d %d", &code) != 1) {
		finish(p, 0, "not an HTTP reply");
		return;
	}
	snprintf(d, sizeof d, "HTTP %d", code);
	finish(p, code >= 200 && code < 400, d);
}

static void
on_written(uv_write_t *w, int status)
{
	struct probe	*p = w->data;
	char		 d[64];

	if (p->done)
		return;
	if (status < 0) {
		snprintf(d, sizeof d, "write: %s", uv_strerror(status));
		finish(p, 0, d);
		return;
	}
	uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read);
}

static void
on_connect(uv_connect_t *c, int status)
{
	struct probe	*p = c->data;
	char		 d[64];
	uv_buf_t	 b;

	if (p->done)
		return;
	if (status < 0) {
		snprintf(d, sizeof d, "connect: %s", uv_strerror(status));
		finish(p, 0, d);
		return;
	}
	if (p->request == NULL) {
		finish(p, 1, "connected");
		return;
	}
	b = uv_buf_init(p->request, (unsigned)strlen(p->request));
	p->wreq.data = p;
	if (uv_write(&p->wreq, (uv_stream_t *)&p->tcp, &b, 1,
	    on_written) < 0)
		finish(p, 0, "write failed");
}

static struct probe *
probe_start(uv_loop_t *loop, const char *ip, int port, char *request,
    uint64_t timeout_ms, probe_cb *cb, void *arg)
{
	struct probe		*p = xcalloc(1, sizeof *p);
	struct sockaddr_storage	 ss;
	int			 rc;

	p->cb = cb;
	p->arg = arg;
	p->request = request;
	p->timeout_ms = timeout_ms;
	uv_tcp_init(loop, &p->tcp);
	uv_timer_init(loop, &p->timer);
	p->tcp.data = p->timer.data = p->conn.data = p;
	p->open = 2;
	p->starting = 1;
	if (uv_ip4_addr(ip, port, (struct sockaddr_in *)&ss) != 0 &&
	    uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&ss) != 0) {
		/* Report on the next turn: never call back from inside the
		 * function that started us. */
		rc = UV_EINVAL;
	} else
		rc = uv_tcp_connect(&p->conn, &p->tcp,
		    (struct sockaddr *)&ss, on_connect);
	if (rc < 0) {
		snprintf(p->err, sizeof p->err, "connect %s:%d: %s", ip, port,
		    uv_strerror(rc));
		/* A zero timeout fires on the next loop iteration. */
		uv_timer_start(&p->timer, on_timeout, 0, 0);
	} else
		uv_timer_start(&p->timer, on_timeout, timeout_ms, 0);
	p->starting = 0;
	return p;
}

struct probe *
probe_tcp(uv_loop_t *loop, const char *ip, int port, uint64_t timeout_ms,
    probe_cb *cb, void *arg)
{
	return probe_start(loop, ip, port, NULL, timeout_ms, cb, arg);
}

struct probe *
probe_http(uv_loop_t *loop, const char *ip, int port, const char *path,
    uint64_t timeout_ms, probe_cb *cb, void *arg)
{
	const char	*c;
	char		*req;

	/* The path comes from a unit file: no request smuggling. */
	for (c = path ? path : ""; *c != '\0'; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			path = "/";
	xasprintf(&req, "GET %s HTTP/1.0\r\nHost: %s\r\n"
	    "User-Agent: shipd-probe\r\nConnection: close\r\n\r\n",
	    path && *path ? path : "/", ip);
	return probe_start(loop, ip, port, req, timeout_ms, cb, arg);
}
