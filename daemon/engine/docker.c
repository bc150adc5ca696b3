/*
 * Engine client core: one libcurl multi handle driven by libuv (a uv_poll
 * per curl socket, one uv_timer for curl's timeouts), the life of a request,
 * and the translation of HTTP and transport outcomes into DOCKER_E_ codes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <curl/curl.h>

#include "engine/docker.h"
#include "engine/docker_int.h"
#include "log.h"
#include "util.h"

#define BODY_MAX		(64u << 20)	/* a reply kept in memory */
#define STREAM_LINE_MAX		(4u << 20)	/* one line of a stream */
#define CONNECT_TIMEOUT_MS	10000L
#define BULK_BUFFER		(512L * 1024)	/* per transfer, DOCKER_F_BULK */

struct sock {
	uv_poll_t		 poll;
	struct docker		*d;
	curl_socket_t		 fd;
	int			 events;
	LIST_ENTRY(sock)	 entry;
};

enum req_state { REQ_NEW, REQ_ADDED, REQ_OFF };

struct docker_req {
	struct docker		*d;
	TAILQ_ENTRY(docker_req)	 entry;
	enum req_state		 state;
	CURL			*easy;
	struct curl_slist	*hdrs;
	char			*url;
	char			*payload;
	unsigned		 flags;
	docker_line_cb		*line;
	docker_data_cb		*data;
	docker_read_cb		*read;
	uint64_t		 read_size;
	const char		*content_type;	/* static, with read */
	void			(*headers)(long, void *);
	docker_cb		*done;
	void			*arg;
	void			(*free_arg)(void *);
	int			 canceled;
	int			 json;		/* Content-Type says JSON */
	int			 in_head;	/* inside a header block */
	int			 pause_want;	/* refuse the next chunk */
	int			 paused;	/* curl holds the transfer */
	int			 resume;	/* unpause once out of curl */
	long			 status;	/* final status, once known */
	char			*api_version;	/* Api-Version header */
	struct buf		 body;		/* whole reply or error reply */
	struct buf		 part;		/* unfinished line of a stream */
	int			 err;		/* decided before completion */
	char			*errmsg;
	char			 errbuf[CURL_ERROR_SIZE];
};

struct docker {
	uv_loop_t		*loop;
	CURLM			*multi;
	uv_timer_t		 timer;		/* curl's timeout */
	uv_timer_t		 kick;		/* deferred work: reap, start */
	char			*sock_path;
	char			 version[16];	/* negotiated, or "" */
	uint64_t		 timeout_ms;
	TAILQ_HEAD(, docker_req) reqs;
	LIST_HEAD(, sock)	 socks;
	struct docker_events	*events;
	int			 in_curl;	/* inside a curl call */
	int			 nhandles;
	int			 closing;
	int			 torn;		/* curl gone, handles closing */
	void			(*closed)(void *);
	void			*closed_arg;
};

static void	settle(struct docker *);
static void	req_resume(struct docker_req *);

/* ---- internal interface (docker_int.h) ---------------------------------- */

uv_loop_t *
docker_loop(struct docker *d)
{
	return d->loop;
}

int
docker_closing(const struct docker *d)
{
	return d->closing;
}

struct docker_events **
docker_events_head(struct docker *d)
{
	return &d->events;
}

void
docker_handle_opened(struct docker *d)
{
	d->nhandles++;
}

static void
req_free(struct docker *d, struct docker_req *r)
{
	TAILQ_REMOVE(&d->reqs, r, entry);
	if (r->free_arg != NULL)
		r->free_arg(r->arg);
	if (r->easy != NULL)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	free(r->url);
	free(r->payload);
	free(r->api_version);
	free(r->errmsg);
	buf_free(&r->body);
	buf_free(&r->part);
	free(r);
}

void
docker_handle_closed(struct docker *d)
{
	struct docker_req *r;

	if (--d->nhandles > 0 || !d->torn)
		return;
	/* Owners may still cancel their requests from closed(). */
	if (d->closed != NULL)
		d->closed(d->closed_arg);
	while ((r = TAILQ_FIRST(&d->reqs)) != NULL)
		req_free(d, r);
	events_free_all(d);
	free(d->sock_path);
	free(d);
}

static void
on_handle_closed(uv_handle_t *h)
{
	docker_handle_closed(h->data);
}

/* ---- curl <-> libuv ------------------------------------------------------ */

static void
on_kick(uv_timer_t *t)
{
	settle(t->data);
}

static void
kick(struct docker *d)
{
	if (!d->torn)
		uv_timer_start(&d->kick, on_kick, 0, 0);
}

static void
socket_action(struct docker *d, curl_socket_t fd, int flags)
{
	int running;

	d->in_curl++;
	curl_multi_socket_action(d->multi, fd, flags, &running);
	d->in_curl--;
}

static void
on_sock_closed(uv_handle_t *h)
{
	struct sock	*s = h->data;
	struct docker	*d = s->d;

	free(s);
	docker_handle_closed(d);
}

static void
sock_close(struct sock *s)
{
	LIST_REMOVE(s, entry);
	uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
	struct sock	*s = h->data;
	struct docker	*d = s->d;
	int		 flags = 0;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	else {
		if (events & UV_READABLE)
			flags |= CURL_CSELECT_IN;
		if (events & UV_WRITABLE)
			flags |= CURL_CSELECT_OUT;
	}
	/* s may be closing after this, but its memory lives until its close
	 * callback, which cannot run before we return. */
	socket_action(d, s->fd, flags);
	if (status < 0 && !uv_is_closing((uv_handle_t *)h) &&
	    !uv_is_active((uv_handle_t *)h))
		uv_poll_start(h, s->events, on_poll);
	settle(d);
}

static int
on_curl_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct docker	*d = arg;
	struct sock	*s = sockp;
	int		 rc;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			curl_multi_assign(d->multi, fd, NULL);
			sock_close(s);
		}
		return 0;
	}
	if (s == NULL) {
		if (d->torn)
			return -1;
		s = xcalloc(1, sizeof *s);
		if ((rc = uv_poll_init_socket(d->loop, &s->poll, fd)) < 0) {
			log_err("engine client: uv_poll_init_socket: %s",
			    uv_strerror(rc));
			free(s);
			return -1;
		}
		s->poll.data = s;
		s->d = d;
		s->fd = fd;
		d->nhandles++;
		LIST_INSERT_HEAD(&d->socks, s, entry);
		curl_multi_assign(d->multi, fd, s);
	}
	s->events = 0;
	if (what & CURL_POLL_IN)
		s->events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		s->events |= UV_WRITABLE;
	uv_poll_start(&s->poll, s->events, on_poll);
	return 0;
}

static void
on_timeout(uv_timer_t *t)
{
	struct docker *d = t->data;

	socket_action(d, CURL_SOCKET_TIMEOUT, 0);
	settle(d);
}

static int
on_curl_timer(CURLM *m, long ms, void *arg)
{
	struct docker *d = arg;

	(void)m;
	if (d->torn)
		return 0;
	if (ms < 0)
		uv_timer_stop(&d->timer);
	else
		uv_timer_start(&d->timer, on_timeout, (uint64_t)ms, 0);
	return 0;
}

/* ---- outcomes ------------------------------------------------------------- */

static void
req_set_err(struct docker_req *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
req_set_err(struct docker_req *r, int err, const char *fmt, ...)
{
	va_list ap;

	if (r->err != 0)
		return;
	r->err = err;
	va_start(ap, fmt);
	if (vasprintf(&r->errmsg, fmt, ap) < 0)
		r->errmsg = NULL;
	va_end(ap);
}

static int
status_err(const struct docker_req *r)
{
	long s = r->status;

	if (s == 0 || (s >= 200 && s < 300))
		return 0;
	if (s == 304 && (r->flags & DOCKER_F_OK304))
		return 0;
	if (s == 404)
		return DOCKER_E_NOT_FOUND;
	if (s == 409)
		return DOCKER_E_CONFLICT;
	if (s >= 400 && s < 500)
		return DOCKER_E_BAD_REQUEST;
	if (s >= 500)
		return DOCKER_E_SERVER;
	return DOCKER_E_PROTOCOL;
}

static int
curl_err(CURLcode cc)
{
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return DOCKER_E_TIMEOUT;
	case CURLE_PARTIAL_FILE:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_HTTP2:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return DOCKER_E_PROTOCOL;
	default:
		return DOCKER_E_UNAVAILABLE;
	}
}

/* The engine's {"message": ...}, else the reply's text, else the status. */
static const char *
http_message(struct docker_req *r, char *msg, size_t n)
{
	json_t		*j;
	const char	*m;
	size_t		 len;

	j = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0,
	    NULL);
	m = json_string_value(json_object_get(j, "message"));
	if (m != NULL) {
		snprintf(msg, n, "%s", m);
		json_decref(j);
		return msg;
	}
	json_decref(j);
	len = r->body.len;
	while (len > 0 && (r->body.data[len - 1] == '\n' ||
	    r->body.data[len - 1] == '\r' || r->body.data[len - 1] == ' '))
		len--;
	if (len > 0 && !r->json)
		snprintf(msg, n, "%.*s", (int)(len < n ? len : n - 1),
		    r->body.data);
	else
		snprintf(msg, n, "engine replied HTTP %ld", r->status);
	return msg;
}

static const char *
transport_message(struct docker_req *r, CURLcode cc, char *msg, size_t n)
{
	long oserr = 0;

	if (cc == CURLE_COULDNT_CONNECT && r->easy != NULL &&
	    curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &oserr) ==
	    CURLE_OK && oserr != 0) {
		snprintf(msg, n, "cannot connect to %s: %s", r->d->sock_path,
		    strerror((int)oserr));
		return msg;
	}
	snprintf(msg, n, "%s", r->errbuf[0] ? r->errbuf :
	    curl_easy_strerror(cc));
	return msg;
}

static void	line_deliver(struct docker_req *, const char *, size_t);

static void
req_finish(struct docker_req *r, CURLcode cc)
{
	struct docker_result	 res;
	json_error_t		 je;
	char			 msg[512];
	int			 herr = status_err(r);

	/* A stream's last line may lack its newline. */
	if ((r->flags & DOCKER_F_STREAM) && cc == CURLE_OK && herr == 0 &&
	    r->line != NULL && r->part.len > 0) {
		line_deliver(r, r->part.data, r->part.len);
		if (r->canceled)
			return;
	}
	memset(&res, 0, sizeof res);
	res.status = r->status;
	res.message = "";
	if (herr != 0) {
		res.err = herr;
		res.message = http_message(r, msg, sizeof msg);
	} else if (r->err != 0) {
		res.err = r->err;
		res.message = r->errmsg ? r->errmsg : docker_strerror(r->err);
	} else if (cc != CURLE_OK) {
		res.err = curl_err(cc);
		res.message = transport_message(r, cc, msg, sizeof msg);
	} else if (!(r->flags & DOCKER_F_STREAM) && r->json &&
	    r->body.len > 0) {
		res.body = json_loadb(r->body.data, r->body.len, 0, &je);
		if (res.body == NULL) {
			res.err = DOCKER_E_PROTOCOL;
			snprintf(msg, sizeof msg, "bad JSON in reply: %s",
			    je.text);
			res.message = msg;
		}
	}
	r->done(&res, r->arg);
	json_decref(res.body);
}

/* ---- curl callbacks: no curl call and no freeing in here ---------------- */

static int
header_is(const char *p, size_t len, const char *name, const char **val,
    size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || p[n] != ':' || strncasecmp(p, name, n) != 0)
		return 0;
	p += n + 1;
	len -= n + 1;
	while (len > 0 && (*p == ' ' || *p == '\t'))
		p++, len--;
	while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n' ||
	    p[len - 1] == ' '))
		len--;
	*val = p;
	*vlen = len;
	return 1;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct docker_req	*r = arg;
	size_t			 len = size * nmemb, vlen;
	const char		*val;
	long			 status = 0;

	if (r->canceled)
		return 0;
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new header block: an interim 1xx may come first. */
		r->in_head = 1;
		r->json = 0;
		free(r->api_version);
		r->api_version = NULL;
	} else if (!r->in_head) {
		/* trailers of a chunked body: nothing we use */
	} else if (len <= 2 && (p[0] == '\r' || p[0] == '\n')) {
		r->in_head = 0;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 || status == 0) {
			r->status = status;
			if (r->headers != NULL)
				r->headers(status, r->arg);
		}
	} else if (header_is(p, len, "Content-Type", &val, &vlen))
		r->json = memmem(val, vlen, "json", 4) != NULL;
	else if (header_is(p, len, "Api-Version", &val, &vlen)) {
		free(r->api_version);
		r->api_version = xstrndup(val, vlen);
	}
	return r->canceled ? 0 : len;
}

static void
scan_error(struct docker_req *r, const char *p, size_t n)
{
	json_t		*j;
	const char	*m;

	if ((j = json_loadb(p, n, 0, NULL)) == NULL)
		return;
	m = json_string_value(json_object_get(json_object_get(j,
	    "errorDetail"), "message"));
	if (m == NULL)
		m = json_string_value(json_object_get(j, "error"));
	if (m != NULL)
		req_set_err(r, DOCKER_E_SERVER, "%s", m);
	json_decref(j);
}

static void
line_deliver(struct docker_req *r, const char *p, size_t n)
{
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n == 0)
		return;
	if (!(r->flags & DOCKER_F_NOSCAN) && r->err == 0 &&
	    memmem(p, n, "\"error", 6) != NULL)
		scan_error(r, p, n);
	r->line(p, n, r->arg);
}

static int
stream_lines(struct docker_req *r, const char *p, size_t len)
{
	const char	*nl;
	size_t		 off = 0;

	buf_append(&r->part, p, len);
	while (!r->canceled && (nl = memchr(r->part.data + off, '\n',
	    r->part.len - off)) != NULL) {
		line_deliver(r, r->part.data + off,
		    (size_t)(nl - (r->part.data + off)));
		off = (size_t)(nl - r->part.data) + 1;
	}
	if (r->canceled)
		return -1;
	buf_consume(&r->part, off);
	if (r->part.len > STREAM_LINE_MAX) {
		req_set_err(r, DOCKER_E_PROTOCOL, "reply line longer than "
		    "%u bytes", STREAM_LINE_MAX);
		return -1;
	}
	return 0;
}

static size_t
on_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct docker_req	*r = arg;
	size_t			 len = size * nmemb;

	if (r->canceled)
		return 0;
	if (!(r->flags & DOCKER_F_STREAM) || status_err(r) != 0) {
		if (r->body.len + len > BODY_MAX) {
			req_set_err(r, DOCKER_E_PROTOCOL, "reply larger than "
			    "%u bytes", BODY_MAX);
			return 0;
		}
		buf_append(&r->body, p, len);
		return len;
	}
	if (r->pause_want) {
		/* curl keeps this chunk and delivers it again on resume. */
		r->paused = 1;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (r->data != NULL) {
		r->data(p, len, r->arg);
		if (r->canceled)
			return 0;
	}
	if (r->line != NULL && stream_lines(r, p, len) < 0)
		return 0;
	return len;
}

static size_t
on_read(char *p, size_t size, size_t nmemb, void *arg)
{
	struct docker_req	*r = arg;
	size_t			 n;

	if (r->canceled)
		return CURL_READFUNC_ABORT;
	if (r->pause_want || (n = r->read(p, size * nmemb, r->arg)) ==
	    DOCKER_READ_PAUSE) {
		r->paused = 1;
		return CURL_READFUNC_PAUSE;
	}
	return r->canceled ? CURL_READFUNC_ABORT : n;
}

/* ---- request life ---------------------------------------------------------- */

static void
req_start(struct docker *d, struct docker_req *r)
{
	CURLMcode mc;

	d->in_curl++;
	mc = curl_multi_add_handle(d->multi, r->easy);
	d->in_curl--;
	if (mc != CURLM_OK) {
		req_set_err(r, DOCKER_E_UNAVAILABLE, "cannot start request: "
		    "%s", curl_multi_strerror(mc));
		return;
	}
	r->state = REQ_ADDED;
}

static void
req_remove(struct docker *d, struct docker_req *r)
{
	if (r->state == REQ_ADDED) {
		d->in_curl++;
		curl_multi_remove_handle(d->multi, r->easy);
		d->in_curl--;
	}
	r->state = REQ_OFF;
}

/* Close down curl and every handle; structs stay until closed() returns. */
static void
teardown(struct docker *d)
{
	struct docker_req	*r;
	struct sock		*s;

	d->torn = 1;
	TAILQ_FOREACH(r, &d->reqs, entry) {
		req_remove(d, r);
		if (r->easy != NULL)
			curl_easy_cleanup(r->easy);
		r->easy = NULL;
	}
	/* Stop polling while curl's sockets are still open. */
	while ((s = LIST_FIRST(&d->socks)) != NULL) {
		curl_multi_assign(d->multi, s->fd, NULL);
		sock_close(s);
	}
	curl_multi_cleanup(d->multi);
	d->multi = NULL;
	events_teardown(d);
	uv_close((uv_handle_t *)&d->timer, on_handle_closed);
	uv_close((uv_handle_t *)&d->kick, on_handle_closed);
}

/*
 * The one place where requests finish and go: after curl has returned,
 * never inside one of its callbacks.  User callbacks run here may cancel,
 * submit or close; those only mark or queue.
 */
static void
settle(struct docker *d)
{
	struct docker_req	*r, *next;
	CURLMsg			*m;
	CURLcode		 cc;
	char			*priv;
	int			 left;

	if (d->torn || d->in_curl)
		return;
	while ((m = curl_multi_info_read(d->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		cc = m->data.result;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		r = (struct docker_req *)priv;
		req_remove(d, r);
		if (!r->canceled)
			req_finish(r, cc);
		if (!d->closing)
			req_free(d, r);
	}
	for (r = TAILQ_FIRST(&d->reqs); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (d->closing)
			break;
		if (r->canceled && r->state != REQ_OFF) {
			req_remove(d, r);
			req_free(d, r);
		} else if (r->resume) {
			req_resume(r);
		} else if (r->state == REQ_NEW) {
			if (r->err == 0)
				req_start(d, r);
			if (r->err != 0) {
				r->state = REQ_OFF;
				req_finish(r, CURLE_OK);
				if (!d->closing)
					req_free(d, r);
			}
		}
	}
	if (d->closing)
		teardown(d);
}

/* Out of curl's callbacks: curl may deliver the held chunk from in here. */
static void
req_resume(struct docker_req *r)
{
	r->resume = 0;
	r->paused = 0;
	if (r->state != REQ_ADDED || r->easy == NULL)
		return;
	r->d->in_curl++;
	curl_easy_pause(r->easy, CURLPAUSE_CONT);
	r->d->in_curl--;
	kick(r->d);
}

static void
req_setup(struct docker *d, struct docker_req *r, const char *method,
    uint64_t timeout_ms)
{
	CURL *e = r->easy;

	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, d->sock_path);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "shipd");
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	if (r->flags & DOCKER_F_BULK) {
		curl_easy_setopt(e, CURLOPT_BUFFERSIZE, BULK_BUFFER);
		curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, BULK_BUFFER);
	}
	if (timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	/* Without this, curl waits up to a second for "100 Continue"
	 * before sending a larger body. */
	r->hdrs = curl_slist_append(NULL, "Expect:");
	if (r->read != NULL) {
		char *ct;

		xasprintf(&ct, "Content-Type: %s", r->content_type ?
		    r->content_type : "application/octet-stream");
		r->hdrs = curl_slist_append(r->hdrs, ct);
		free(ct);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, r);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)r->read_size);
	} else if (r->payload != NULL) {
		r->hdrs = curl_slist_append(r->hdrs,
		    "Content-Type: application/json");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->payload);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(r->payload));
	} else if (strcmp(method, "GET") != 0 &&
	    strcmp(method, "DELETE") != 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
}

struct docker_req *
docker_submit(struct docker *d, const struct docker_opts *o)
{
	struct docker_req	*r;
	uint64_t		 timeout = o->timeout_ms;

	if (d->closing)
		return NULL;
	r = xcalloc(1, sizeof *r);
	r->d = d;
	r->state = REQ_NEW;
	r->flags = o->flags;
	r->line = o->line;
	r->data = o->data;
	r->read = o->read;
	r->read_size = o->read_size;
	r->content_type = o->content_type;
	r->headers = o->headers;
	r->done = o->done;
	r->arg = o->arg;
	r->free_arg = o->free_arg;
	buf_init(&r->body);
	buf_init(&r->part);
	xasprintf(&r->url, "http://docker%s%s%s",
	    (o->flags & DOCKER_F_NOVERSION) ? "" : "/v",
	    (o->flags & DOCKER_F_NOVERSION) ? "" :
	    (d->version[0] ? d->version : DOCKER_API_MIN), o->path);
	if (o->body != NULL &&
	    (r->payload = json_dumps(o->body, JSON_COMPACT)) == NULL)
		req_set_err(r, DOCKER_E_BAD_REQUEST, "request body for %s "
		    "cannot be encoded as JSON", o->path);
	if (timeout == 0 && !(o->flags & (DOCKER_F_STREAM |
	    DOCKER_F_NOTIMEOUT)))
		timeout = d->timeout_ms;
	if ((r->easy = curl_easy_init()) == NULL)
		req_set_err(r, DOCKER_E_UNAVAILABLE, "curl_easy_init failed");
	else
		req_setup(d, r, o->method, timeout);
	TAILQ_INSERT_TAIL(&d->reqs, r, entry);
	/* curl refuses new transfers from inside its callbacks, and the
	 * caller must not see its callback before this returns. */
	if (r->err == 0 && d->in_curl == 0)
		req_start(d, r);
	if (r->state == REQ_NEW)
		kick(d);
	return r;
}

void
docker_cancel(struct docker_req *r)
{
	if (r == NULL || r->canceled)
		return;
	r->canceled = 1;
	kick(r->d);
}

void
docker_stream_pause(struct docker_req *r, int pause)
{
	if (r == NULL || r->canceled)
		return;
	if (pause) {
		r->pause_want = 1;
		return;
	}
	r->pause_want = 0;
	if (!r->paused)
		return;
	if (r->d->in_curl) {
		r->resume = 1;
		kick(r->d);
	} else
		req_resume(r);
}

const char *
docker_api_version(const struct docker *d)
{
	return d->version[0] ? d->version : NULL;
}

void
docker_set_api_version(struct docker *d, const char *v)
{
	snprintf(d->version, sizeof d->version, "%s", v ? v : "");
}

const char *
docker_req_api_version(const struct docker_req *r)
{
	return r->api_version;
}

void
docker_set_timeout(struct docker *d, uint64_t ms)
{
	d->timeout_ms = ms;
}

uint64_t
docker_timeout(const struct docker *d)
{
	return d->timeout_ms;
}

int
docker_new(uv_loop_t *loop, const char *sock_path, struct docker **out)
{
	static int	 curl_ready;
	struct docker	*d;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -EIO;
		curl_ready = 1;
	}
	d = xcalloc(1, sizeof *d);
	if ((d->multi = curl_multi_init()) == NULL) {
		free(d);
		return -ENOMEM;
	}
	d->loop = loop;
	d->sock_path = xstrdup(sock_path);
	d->timeout_ms = DOCKER_TIMEOUT_MS;
	TAILQ_INIT(&d->reqs);
	LIST_INIT(&d->socks);
	curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(d->multi, CURLMOPT_SOCKETDATA, d);
	curl_multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(d->multi, CURLMOPT_TIMERDATA, d);
	uv_timer_init(loop, &d->timer);
	uv_timer_init(loop, &d->kick);
	d->timer.data = d->kick.data = d;
	d->nhandles = 2;
	*out = d;
	return 0;
}

void
docker_close(struct docker *d, void (*closed)(void *), void *arg)
{
	struct docker_req *r;

	if (d->closing)
		return;
	d->closing = 1;
	d->closed = closed;
	d->closed_arg = arg;
	TAILQ_FOREACH(r, &d->reqs, entry)
		r->canceled = 1;
	kick(d);
}
