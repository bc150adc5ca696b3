/*
 * Engine client core: one libcurl multi handle driven by libuv (a uv_poll
 * per curl socket, one uv_timer for curl's timeouts), one uv_timer for the
 * requests' deadlines, and the life of a request from submit to free.
 * What one transfer does is docker_xfer.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <curl/curl.h>

#include "engine/docker.h"
#include "engine/docker_int.h"
#include "engine/docker_xfer.h"
#include "log.h"
#include "util.h"

struct sock {
	uv_poll_t		 poll;
	struct docker		*d;
	curl_socket_t		 fd;
	int			 events;
	LIST_ENTRY(sock)	 entry;
};

struct docker {
	uv_loop_t		*loop;
	CURLM			*multi;
	uv_timer_t		 timer;		/* curl's timeout */
	uv_timer_t		 kick;		/* deferred work: reap, start */
	uv_timer_t		 deadline;	/* the requests' deadlines */
	char			*sock_path;
	char			 version[16];	/* negotiated, or "" */
	uint64_t		 timeout_ms;
	uint64_t		 deadline_div;	/* test hook, >= 1 */
	TAILQ_HEAD(, docker_req) reqs;
	LIST_HEAD(, sock)	 socks;
	LIST_HEAD(, docker_child) children;
	int			 in_curl;	/* inside a curl call */
	int			 nhandles;
	int			 closing;
	int			 torn;		/* curl gone, handles closing */
	void			(*closed)(void *);
	void			*closed_arg;
};

static void	settle(struct docker *);
static void	req_resume(struct docker_req *);
static void	deadline_arm(struct docker *);

/* ---- internal interface (docker_int.h) ---------------------------------- */

uv_loop_t *
docker_loop(struct docker *d)
{
	return d->loop;
}

const char *
docker_sock_path(const struct docker *d)
{
	return d->sock_path;
}

int
docker_closing(const struct docker *d)
{
	return d->closing;
}

void
docker_child_add(struct docker *d, struct docker_child *c)
{
	LIST_INSERT_HEAD(&d->children, c, entry);
	c->linked = 1;
}

void
docker_child_del(struct docker_child *c)
{
	if (!c->linked)
		return;
	LIST_REMOVE(c, entry);
	c->linked = 0;
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
	free(r->call);
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
	struct docker_req	*r;
	struct docker_child	*c;

	if (--d->nhandles > 0 || !d->torn)
		return;
	/* Owners may still cancel their requests from closed(). */
	if (d->closed != NULL)
		d->closed(d->closed_arg);
	while ((r = TAILQ_FIRST(&d->reqs)) != NULL)
		req_free(d, r);
	while ((c = LIST_FIRST(&d->children)) != NULL) {
		docker_child_del(c);
		c->release(c->arg);
	}
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

/* ---- request life ------------------------------------------------------ */

static void
req_start(struct docker *d, struct docker_req *r)
{
	CURLMcode mc;

	d->in_curl++;
	mc = curl_multi_add_handle(d->multi, r->easy);
	d->in_curl--;
	if (mc != CURLM_OK) {
		xfer_fail(r, -ECONNREFUSED, "cannot start request: "
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
	struct docker_child	*c;
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
	LIST_FOREACH(c, &d->children, entry)
		c->teardown(c->arg);
	uv_close((uv_handle_t *)&d->timer, on_handle_closed);
	uv_close((uv_handle_t *)&d->kick, on_handle_closed);
	uv_close((uv_handle_t *)&d->deadline, on_handle_closed);
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
			xfer_finish(r, cc);
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
		} else if (r->expired && r->state != REQ_OFF) {
			/* Out of curl: done() may cancel, submit or close. */
			req_remove(d, r);
			xfer_finish(r, CURLE_OK);
			if (!d->closing)
				req_free(d, r);
		} else if (r->resume) {
			req_resume(r);
		} else if (r->state == REQ_NEW) {
			if (r->err == 0)
				req_start(d, r);
			if (r->err != 0) {
				r->state = REQ_OFF;
				xfer_finish(r, CURLE_OK);
				if (!d->closing)
					req_free(d, r);
			}
		}
	}
	if (d->closing)
		teardown(d);
	else
		/* What finished may have held the earliest deadline. */
		deadline_arm(d);
}

/* ---- deadlines --------------------------------------------------------- */

/* Whether r's idle clock runs: not while we hold it paused. */
static int
idle_runs(const struct docker_req *r)
{
	return r->idle_ms > 0 && !r->pause_want && !r->paused;
}

/* Whether r's whole-reply deadline runs: a stream's ends with its 2xx
 * headers (an error reply is a short body, due like any other). */
static int
limit_runs(const struct docker_req *r)
{
	return r->limit_ms > 0 && (!(r->flags & DOCKER_F_STREAM) ||
	    r->status < 200 || r->status >= 300);
}

/* r's next deadline in the loop's clock, 0 if none runs; *idle says
 * whether it is the idle one. */
static uint64_t
req_due(const struct docker_req *r, int *idle)
{
	uint64_t due = 0;

	*idle = 0;
	if (r->canceled || r->expired || r->state == REQ_OFF)
		return 0;
	if (limit_runs(r))
		due = r->started + r->limit_ms;
	if (idle_runs(r) && (due == 0 || r->last_io + r->idle_ms < due)) {
		due = r->last_io + r->idle_ms;
		*idle = 1;
	}
	return due;
}

/* Mark r expired, its outcome decided, if its deadline has passed. */
static void
deadline_check(struct docker_req *r, uint64_t now)
{
	char		 dur[32];
	uint64_t	 due;
	int		 idle;

	if ((due = req_due(r, &idle)) == 0 || now < due)
		return;
	if (idle) {
		fmt_duration_ms(dur, sizeof dur, r->idle_ms);
		xfer_fail(r, -ETIMEDOUT, "engine sent nothing on %s for %s",
		    r->call, dur);
	} else {
		fmt_duration_ms(dur, sizeof dur, r->limit_ms);
		xfer_fail(r, -ETIMEDOUT, "engine did not answer %s within %s",
		    r->call, dur);
	}
	r->expired = 1;
}

static void
on_deadline(uv_timer_t *t)
{
	struct docker		*d = t->data;
	struct docker_req	*r;
	uint64_t		 now = uv_now(d->loop);
	int			 any = 0;

	TAILQ_FOREACH(r, &d->reqs, entry) {
		deadline_check(r, now);
		any |= r->expired && r->state != REQ_OFF && !r->canceled;
	}
	/* settle() calls them back and frees them, out of curl. */
	if (any)
		settle(d);
	deadline_arm(d);
}

/* One timer for all: at the earliest deadline still to come. */
static void
deadline_arm(struct docker *d)
{
	struct docker_req	*r;
	uint64_t		 now, due, next = 0;
	int			 idle;

	if (d->torn || d->closing)
		return;
	now = uv_now(d->loop);
	TAILQ_FOREACH(r, &d->reqs, entry) {
		due = req_due(r, &idle);
		if (due != 0 && (next == 0 || due < next))
			next = due;
	}
	if (next == 0)
		uv_timer_stop(&d->deadline);
	else
		uv_timer_start(&d->deadline, on_deadline,
		    next > now ? next - now : 0, 0);
}

/* A deadline as this client applies it: the test hook divides. */
uint64_t
docker_deadline(const struct docker *d, uint64_t ms)
{
	if (ms == 0 || d->deadline_div <= 1)
		return ms;
	return ms / d->deadline_div > 0 ? ms / d->deadline_div : 1;
}

void
docker_req_set_timeout(struct docker_req *r, uint64_t ms)
{
	if (r == NULL || r->canceled || r->expired || r->state == REQ_OFF)
		return;
	r->limit_ms = docker_deadline(r->d, ms);
	deadline_arm(r->d);
}

void
docker_req_set_idle(struct docker_req *r, uint64_t ms)
{
	if (r == NULL || r->canceled || r->expired || r->state == REQ_OFF)
		return;
	r->idle_ms = docker_deadline(r->d, ms);
	r->last_io = uv_now(r->d->loop);
	deadline_arm(r->d);
}

/* Out of curl's callbacks: curl may deliver the held chunk from in here. */
static void
req_resume(struct docker_req *r)
{
	r->resume = 0;
	r->paused = 0;
	/* Time spent paused by us is not the engine's silence. */
	r->last_io = uv_now(r->d->loop);
	deadline_arm(r->d);
	if (r->state != REQ_ADDED || r->easy == NULL)
		return;
	r->d->in_curl++;
	curl_easy_pause(r->easy, CURLPAUSE_CONT);
	r->d->in_curl--;
	kick(r->d);
}

struct docker_req *
docker_submit(struct docker *d, const struct docker_opts *o)
{
	struct docker_req	*r;
	uint64_t		 timeout = o->timeout_ms;
	size_t			 plen;

	/* A client that is gone (NULL, once shutdown has closed it) refuses
	 * like a closing one: no request, no callback. */
	if (d == NULL || d->closing)
		return NULL;
	r = xcalloc(1, sizeof *r);
	r->d = d;
	r->sock_path = d->sock_path;
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
	r->loop = d->loop;
	/* From now, not from the start of a long loop turn. */
	uv_update_time(d->loop);
	r->started = r->last_io = uv_now(d->loop);
	/* The call as messages name it: method and path, no query. */
	plen = strcspn(o->path, "?");
	xasprintf(&r->call, "%s %.*s", o->method, (int)plen, o->path);
	buf_init(&r->body);
	buf_init(&r->part);
	xasprintf(&r->url, "http://docker%s%s%s",
	    (o->flags & DOCKER_F_NOVERSION) ? "" : "/v",
	    (o->flags & DOCKER_F_NOVERSION) ? "" :
	    (d->version[0] ? d->version : DOCKER_API_MIN), o->path);
	if (o->body != NULL &&
	    (r->payload = json_dumps(o->body, JSON_COMPACT)) == NULL)
		xfer_fail(r, -EINVAL, "request body for %s "
		    "cannot be encoded as JSON", o->path);
	/* A stream's headers are due like an ordinary reply. */
	if (timeout == 0 && !(o->flags & DOCKER_F_NOTIMEOUT))
		timeout = d->timeout_ms;
	r->limit_ms = docker_deadline(d, timeout);
	r->idle_ms = docker_deadline(d, o->idle_ms);
	if ((r->easy = curl_easy_init()) == NULL)
		xfer_fail(r, -ECONNREFUSED, "curl_easy_init failed");
	else
		xfer_setup(r, o->method);
	TAILQ_INSERT_TAIL(&d->reqs, r, entry);
	/* curl refuses new transfers from inside its callbacks, and the
	 * caller must not see its callback before this returns. */
	if (r->err == 0 && d->in_curl == 0)
		req_start(d, r);
	if (r->state == REQ_NEW)
		kick(d);
	deadline_arm(d);
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
	if (!r->paused) {
		/* Held by us, not by curl: the idle clock restarts. */
		r->last_io = uv_now(r->d->loop);
		deadline_arm(r->d);
		return;
	}
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
	const char	*v;
	char		*end;
	unsigned long	 div;

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
	d->deadline_div = 1;
	if ((v = getenv("SHIPD_TEST_ENGINE_DEADLINE_DIV")) != NULL) {
		div = strtoul(v, &end, 10);
		if (*v != '\0' && *end == '\0' && div >= 1)
			d->deadline_div = div;
		else
			log_warn("engine client: SHIPD_TEST_ENGINE_DEADLINE_DIV"
			    "=%s ignored", v);
	}
	TAILQ_INIT(&d->reqs);
	LIST_INIT(&d->socks);
	LIST_INIT(&d->children);
	curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(d->multi, CURLMOPT_SOCKETDATA, d);
	curl_multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(d->multi, CURLMOPT_TIMERDATA, d);
	uv_timer_init(loop, &d->timer);
	uv_timer_init(loop, &d->kick);
	uv_timer_init(loop, &d->deadline);
	d->timer.data = d->kick.data = d->deadline.data = d;
	d->nhandles = 3;
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
