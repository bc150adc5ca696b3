/*
 * Webhook delivery: a curl multi of its own driven by the loop (a uv_poll
 * per curl socket, a uv_timer for curl's timeouts), separate from the
 * engine client's, which speaks to the engine's socket only.  A bounded
 * queue in arrival order; each delivery has its attempt timeout and its
 * retries with a doubling backoff.  Deliveries finish in settle(), after
 * curl has returned, never inside one of its callbacks.
 */
#include <sys/queue.h>
#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/shipd.h"
#include "core/webhook.h"
#include "log.h"
#include "proto.h"
#include "util.h"

enum dstate { D_QUEUED, D_RUNNING, D_WAITING };

struct delivery {
	struct webhooks		*w;
	TAILQ_ENTRY(delivery)	 entry;		/* w->all, oldest first */
	enum dstate		 state;
	char			*event;		/* its name, for logs */
	char			*id;
	char			*url;
	char			*shown;		/* scheme://host, for logs */
	char			*body;
	struct curl_slist	*headers;	/* configured and shipd's */
	struct curl_slist	*sent;		/* the attempt's, while on */
	uint64_t		 timeout_ms;
	int			 retries;	/* left */
	int			 attempt;	/* 1-based, the one under way */
	CURL			*easy;
	char			 errbuf[CURL_ERROR_SIZE];
	uv_timer_t		 backoff;
	bool			 timer_init;
};

struct wsock {
	uv_poll_t		 poll;
	struct webhooks		*w;
	curl_socket_t		 fd;
	LIST_ENTRY(wsock)	 entry;
};

struct webhooks {
	struct shipd		*sd;
	CURLM			*multi;
	uv_timer_t		 timer;		/* curl's timeout */
	uv_timer_t		 kick;		/* start what was queued */
	LIST_HEAD(, wsock)	 socks;
	TAILQ_HEAD(, delivery)	 all;
	size_t			 nall;
	size_t			 running;
	size_t			 handles;	/* open uv handles */
	bool			 closing;
	char			 host[256];
};

static void	settle(struct webhooks *);
static void	pump(struct webhooks *);
static void	transfer_end(struct delivery *);
static void	on_timeout(uv_timer_t *);
static int	on_curl_socket(CURL *, curl_socket_t, int, void *, void *);
static int	on_curl_timer(CURLM *, long, void *);

/* ---- life of the context ---------------------------------------------- */

static void
maybe_free(struct webhooks *w)
{
	if (w->closing && w->handles == 0)
		free(w);
}

static void
on_handle_closed(uv_handle_t *h)
{
	struct webhooks *w = h->data;

	w->handles--;
	maybe_free(w);
}

static void
on_delivery_closed(uv_handle_t *h)
{
	struct delivery	*d = h->data;
	struct webhooks	*w = d->w;

	free(d);
	w->handles--;
	maybe_free(w);
}

static void
delivery_free(struct delivery *d)
{
	struct webhooks *w = d->w;

	TAILQ_REMOVE(&w->all, d, entry);
	w->nall--;
	transfer_end(d);
	curl_slist_free_all(d->headers);
	free(d->event);
	free(d->id);
	free(d->url);
	free(d->shown);
	free(d->body);
	if (d->timer_init) {
		uv_timer_stop(&d->backoff);
		uv_close((uv_handle_t *)&d->backoff, on_delivery_closed);
	} else
		free(d);
}

static struct webhooks *
webhooks_get(struct shipd *sd)
{
	struct webhooks *w;

	if (sd->webhooks != NULL || sd->stopping)
		return sd->webhooks;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return NULL;
	w = xcalloc(1, sizeof *w);
	if ((w->multi = curl_multi_init()) == NULL) {
		free(w);
		return NULL;
	}
	w->sd = sd;
	LIST_INIT(&w->socks);
	TAILQ_INIT(&w->all);
	if (gethostname(w->host, sizeof w->host) != 0)
		snprintf(w->host, sizeof w->host, "unknown");
	w->host[sizeof w->host - 1] = '\0';
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
	uv_timer_init(sd->loop, &w->timer);
	w->timer.data = w;
	uv_timer_init(sd->loop, &w->kick);
	w->kick.data = w;
	w->handles = 2;
	sd->webhooks = w;
	return w;
}

/* ---- curl <-> libuv ---------------------------------------------------- */

static void
on_poll(uv_poll_t *h, int status, int events)
{
	struct wsock	*s = h->data;
	struct webhooks	*w = s->w;
	int		 flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	else {
		if (events & UV_READABLE)
			flags |= CURL_CSELECT_IN;
		if (events & UV_WRITABLE)
			flags |= CURL_CSELECT_OUT;
	}
	curl_multi_socket_action(w->multi, s->fd, flags, &running);
	settle(w);
}

static void
on_sock_closed(uv_handle_t *h)
{
	struct wsock	*s = h->data;
	struct webhooks	*w = s->w;

	free(s);
	w->handles--;
	maybe_free(w);
}

static void
sock_close(struct webhooks *w, struct wsock *s)
{
	curl_multi_assign(w->multi, s->fd, NULL);
	LIST_REMOVE(s, entry);
	uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

static int
on_curl_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct webhooks	*w = arg;
	struct wsock	*s = sockp;
	int		 ev = 0;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL)
			sock_close(w, s);
		return 0;
	}
	if (s == NULL) {
		if (w->closing)
			return -1;
		s = xcalloc(1, sizeof *s);
		if (uv_poll_init_socket(w->sd->loop, &s->poll, fd) < 0) {
			free(s);
			return -1;
		}
		s->poll.data = s;
		s->w = w;
		s->fd = fd;
		w->handles++;
		LIST_INSERT_HEAD(&w->socks, s, entry);
		curl_multi_assign(w->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		ev |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		ev |= UV_WRITABLE;
	uv_poll_start(&s->poll, ev, on_poll);
	return 0;
}

static void
on_timeout(uv_timer_t *t)
{
	struct webhooks	*w = t->data;
	int		 running;

	curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	settle(w);
}

static void
on_kick(uv_timer_t *t)
{
	pump(t->data);
}

static int
on_curl_timer(CURLM *m, long ms, void *arg)
{
	struct webhooks *w = arg;

	(void)m;
	if (w->closing)
		return 0;
	if (ms < 0)
		uv_timer_stop(&w->timer);
	else
		uv_timer_start(&w->timer, on_timeout, (uint64_t)ms, 0);
	return 0;
}

/* ---- one delivery ------------------------------------------------------ */

static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;	/* the answer's body is not read */
}

static void
transfer_end(struct delivery *d)
{
	struct webhooks *w = d->w;

	if (d->easy == NULL)
		return;
	curl_multi_remove_handle(w->multi, d->easy);
	curl_easy_cleanup(d->easy);
	d->easy = NULL;
	curl_slist_free_all(d->sent);
	d->sent = NULL;
	w->running--;
}

static void
delivery_start(struct delivery *d)
{
	struct webhooks		*w = d->w;
	struct curl_slist	*i;
	char			 attempt[64];
	CURL			*e;

	if ((e = curl_easy_init()) == NULL) {
		log_warn("webhook %s %s to %s: cannot make a transfer",
		    d->event, d->id, d->shown);
		delivery_free(d);
		return;
	}
	/* The attempt number is a header: the body stays the same. */
	snprintf(attempt, sizeof attempt, "X-Shipd-Attempt: %d", d->attempt);
	d->sent = curl_slist_append(NULL, attempt);
	d->sent = curl_slist_append(d->sent, "Expect:");
	for (i = d->headers; i != NULL; i = i->next)
		d->sent = curl_slist_append(d->sent, i->data);
	curl_easy_setopt(e, CURLOPT_PRIVATE, d);
	curl_easy_setopt(e, CURLOPT_URL, d->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(d->body));
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, d->sent);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)d->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)d->timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "shipd/" SHIPD_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, d->errbuf);
	d->errbuf[0] = '\0';
	d->easy = e;
	d->state = D_RUNNING;
	w->running++;
	if (curl_multi_add_handle(w->multi, e) != CURLM_OK) {
		log_warn("webhook %s %s to %s: cannot start the transfer",
		    d->event, d->id, d->shown);
		delivery_free(d);
	}
}

static void
on_backoff(uv_timer_t *t)
{
	struct delivery *d = t->data;

	d->state = D_QUEUED;
	pump(d->w);
}

/* An answer worth another try: no answer, 408, 429 or a 5xx. */
static bool
retryable(CURLcode cc, long code)
{
	if (cc != CURLE_OK)
		return true;
	return code == 408 || code == 429 || code >= 500;
}

static void
delivery_done(struct delivery *d, CURLcode cc)
{
	struct webhooks	*w = d->w;
	uint64_t	 ms;
	long		 code = 0;
	char		 why[CURL_ERROR_SIZE + 64];

	curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &code);
	transfer_end(d);
	if (cc == CURLE_OK && code >= 200 && code < 300) {
		log_debug("webhook %s %s to %s: %ld (attempt %d)", d->event,
		    d->id, d->shown, code, d->attempt);
		delivery_free(d);
		return;
	}
	if (cc != CURLE_OK)
		snprintf(why, sizeof why, "%s", d->errbuf[0] != '\0' ?
		    d->errbuf : curl_easy_strerror(cc));
	else
		snprintf(why, sizeof why, "HTTP %ld", code);
	if (!retryable(cc, code) || d->retries == 0 || w->closing) {
		log_warn("webhook %s %s to %s failed after %d attempt%s: %s",
		    d->event, d->id, d->shown, d->attempt,
		    d->attempt == 1 ? "" : "s", why);
		delivery_free(d);
		return;
	}
	ms = WEBHOOK_BACKOFF_MS << (d->attempt - 1 < 6 ? d->attempt - 1 : 6);
	if (ms > WEBHOOK_BACKOFF_MAX_MS)
		ms = WEBHOOK_BACKOFF_MAX_MS;
	log_info("webhook %s %s to %s: %s; retry in %llu ms", d->event, d->id,
	    d->shown, why, (unsigned long long)ms);
	d->retries--;
	d->attempt++;
	d->state = D_WAITING;
	if (!d->timer_init) {
		uv_timer_init(w->sd->loop, &d->backoff);
		d->backoff.data = d;
		d->timer_init = true;
		w->handles++;
	}
	uv_timer_start(&d->backoff, on_backoff, ms, 0);
}

static void
settle(struct webhooks *w)
{
	struct delivery	*d;
	CURLMsg		*m;
	int		 left;

	while ((m = curl_multi_info_read(w->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		d = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&d);
		if (d != NULL)
			delivery_done(d, m->data.result);
	}
	pump(w);
}

/* Start what waits, oldest first, up to WEBHOOK_INFLIGHT at once. */
static void
pump(struct webhooks *w)
{
	struct delivery *d, *next;

	for (d = TAILQ_FIRST(&w->all); d != NULL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if (w->closing || w->running >= WEBHOOK_INFLIGHT)
			return;
		if (d->state == D_QUEUED)
			delivery_start(d);
	}
}

/* ---- the body and the queue --------------------------------------------- */

static char *
url_shown(const char *url)
{
	const char *p = strstr(url, "://");

	/* Path and query may hold a token (a Slack hook's do). */
	p = p != NULL ? strchr(p + 3, '/') : NULL;
	return p != NULL ? xstrndup(url, (size_t)(p - url)) : xstrdup(url);
}

static char *
make_id(void)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 b[16];
	char			*s = xmalloc(sizeof b * 2 + 1);
	size_t			 i;

	if (getrandom(b, sizeof b, GRND_NONBLOCK) != (ssize_t)sizeof b) {
		uint64_t t = now_ms();

		for (i = 0; i < sizeof b; i++)
			b[i] = (unsigned char)((t >> (8 * (i % 8))) ^ rand());
	}
	for (i = 0; i < sizeof b; i++) {
		s[2 * i] = hex[b[i] >> 4];
		s[2 * i + 1] = hex[b[i] & 15];
	}
	s[2 * i] = '\0';
	return s;
}

static char *
body_make(struct webhooks *w, const struct webhook_event *ev,
    const char *id)
{
	json_t	*o, *svcs, *detail;
	char	 when[64], *s;

	fmt_time_utc(when, sizeof when, (long long)time(NULL));
	svcs = ev->services != NULL ? json_incref(ev->services) :
	    json_array();
	detail = ev->detail != NULL ? json_incref(ev->detail) : json_object();
	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:s, s:o}",
	    "id", id, "event", notify_event_name(ev->event), "stack",
	    ev->stack, "revision", ev->revision > 0 ?
	    json_integer(ev->revision) : json_null(),
	    "services", svcs,
	    "reason", ev->reason != NULL ? json_string(ev->reason) :
	    json_null(), "time", when, "host", w->host,
	    "shipd_version", SHIPD_VERSION, "detail", detail);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

/* A value of the hook: literal, or shipd's environment at sending time. */
static const char *
value_get(const struct notify_value *v)
{
	return v->value != NULL ? v->value : getenv(v->env);
}

static void
enqueue(struct webhooks *w, const struct notify_hook *h, const char *event,
    const char *id, const char *body)
{
	struct delivery	*d, *old;
	const char	*url, *val;
	char		*line;
	size_t		 i;

	if ((url = value_get(&h->url)) == NULL || *url == '\0') {
		log_warn("webhook %s %s: url_env %s is not set in shipd's "
		    "environment; not sent", event, id, h->url.env);
		return;
	}
	d = xcalloc(1, sizeof *d);
	d->w = w;
	for (i = 0; i < h->nheaders; i++) {
		if ((val = value_get(&h->headers[i].v)) == NULL) {
			log_warn("webhook %s %s: header %s: %s is not set in "
			    "shipd's environment; sent without it", event, id,
			    h->headers[i].name, h->headers[i].v.env);
			continue;
		}
		xasprintf(&line, "%s: %s", h->headers[i].name, val);
		d->headers = curl_slist_append(d->headers, line);
		free(line);
	}
	d->headers = curl_slist_append(d->headers,
	    "Content-Type: application/json");
	xasprintf(&line, "X-Shipd-Event: %s", event);
	d->headers = curl_slist_append(d->headers, line);
	free(line);
	xasprintf(&line, "X-Shipd-Delivery: %s", id);
	d->headers = curl_slist_append(d->headers, line);
	free(line);
	d->event = xstrdup(event);
	d->id = xstrdup(id);
	d->url = xstrdup(url);
	d->shown = url_shown(url);
	d->body = xstrdup(body);
	d->timeout_ms = h->timeout_ms;
	d->retries = h->retries;
	d->attempt = 1;
	d->state = D_QUEUED;
	TAILQ_INSERT_TAIL(&w->all, d, entry);
	w->nall++;
	/* Past the bound the oldest not under way goes. */
	if (w->nall - w->running > WEBHOOK_QUEUE_MAX) {
		TAILQ_FOREACH(old, &w->all, entry) {
			if (old->state != D_RUNNING)
				break;
		}
		log_warn("webhook queue full (%d waiting): dropped %s %s to %s",
		    WEBHOOK_QUEUE_MAX, old->event, old->id, old->shown);
		delivery_free(old);
	}
}

void
webhook_emit(struct shipd *sd, const struct notify_hook *hooks,
    size_t nhooks, const struct webhook_event *ev)
{
	struct webhooks	*w;
	const char	*name = notify_event_name(ev->event);
	char		*id, *body;
	size_t		 i, n = 0;

	for (i = 0; i < nhooks; i++) {
		if (hooks[i].events & (1u << ev->event))
			n++;
	}
	if (n == 0 || name == NULL || (w = webhooks_get(sd)) == NULL ||
	    w->closing)
		return;
	id = make_id();
	if ((body = body_make(w, ev, id)) == NULL) {
		free(id);
		return;
	}
	for (i = 0; i < nhooks; i++) {
		if (hooks[i].events & (1u << ev->event))
			enqueue(w, &hooks[i], name, id, body);
	}
	free(body);
	free(id);
	/* Never from the caller's stack: the transfers start on the loop's
	 * next timer run. */
	uv_timer_start(&w->kick, on_kick, 0, 0);
}

size_t
webhook_pending(const struct shipd *sd)
{
	return sd->webhooks != NULL ? sd->webhooks->nall : 0;
}

void
webhook_close(struct shipd *sd)
{
	struct webhooks	*w = sd->webhooks;
	struct wsock	*s;

	if (w == NULL)
		return;
	sd->webhooks = NULL;
	w->closing = true;
	if (w->nall > 0)
		log_warn("shutting down: %zu webhook deliveries dropped",
		    w->nall);
	while (!TAILQ_EMPTY(&w->all))
		delivery_free(TAILQ_FIRST(&w->all));
	while ((s = LIST_FIRST(&w->socks)) != NULL)
		sock_close(w, s);
	curl_multi_cleanup(w->multi);
	w->multi = NULL;
	uv_timer_stop(&w->timer);
	uv_timer_stop(&w->kick);
	uv_close((uv_handle_t *)&w->timer, on_handle_closed);
	uv_close((uv_handle_t *)&w->kick, on_handle_closed);
}
