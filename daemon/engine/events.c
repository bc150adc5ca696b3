/*
 * The engine's event stream: one long-lived GET /events split into JSON
 * objects, reconnected with backoff whenever it drops (an engine restart)
 * and resumed after the last event seen, so the owner misses nothing.
 *
 * An idle engine sends nothing on the stream, so silence cannot tell a
 * stalled engine from a quiet one: while connected, a GET /_ping on the
 * same client every DOCKER_EVENTS_PING_MS (with an ordinary call's
 * deadline) does.  A ping that fails drops the stream as lost, and it is
 * reconnected like after any loss (its headers have a deadline too).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/docker.h"
#include "engine/docker_int.h"
#include "log.h"
#include "util.h"

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	2000

struct docker_events {
	struct docker		*d;
	struct docker_child	 child;		/* closed with the client */
	char			*filters;	/* escaped JSON, or NULL */
	docker_event_cb		*cb;
	docker_events_state_cb	*state;
	void			*arg;
	struct docker_req	*req;
	struct docker_req	*ping;		/* liveness check in flight */
	uv_timer_t		 retry;		/* reconnect; connected: ping */
	uint64_t		 backoff_ms;
	int			 connected;
	int			 stopped;
	int			 warned;	/* said why it cannot connect */
	int64_t			 since_ns;	/* resume point */
	int64_t			 last_ns;	/* timeNano of the last event */
	unsigned		 nlast;		/* events seen at last_ns */
	unsigned		 skip;		/* of those, still to skip */
};

static void	ev_connect(struct docker_events *);
static void	on_retry(uv_timer_t *);

static int64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
ev_closed(uv_handle_t *h)
{
	struct docker_events	*ev = h->data;
	struct docker		*d = ev->d;

	/* Still linked: docker_close() owns it until its closed() returns. */
	if (!ev->child.linked) {
		free(ev->filters);
		free(ev);
	}
	docker_handle_closed(d);
}

/* docker_close(): no request of ours is left; close the timer. */
static void
ev_teardown(void *arg)
{
	struct docker_events *ev = arg;

	ev->stopped = 1;
	ev->req = NULL;
	ev->ping = NULL;
	uv_close((uv_handle_t *)&ev->retry, ev_closed);
}

static void
ev_release(void *arg)
{
	struct docker_events *ev = arg;

	free(ev->filters);
	free(ev);
}

static void
ev_on_headers(long status, void *arg)
{
	struct docker_events *ev = arg;

	if (status != 200 || ev->stopped)
		return;
	/* The engine sends its headers as soon as it has subscribed us. */
	ev->backoff_ms = 0;
	ev->warned = 0;
	if (ev->since_ns == 0)
		ev->since_ns = wall_ns();
	ev->connected = 1;
	uv_timer_start(&ev->retry, on_retry, docker_deadline(ev->d,
	    DOCKER_EVENTS_PING_MS), 0);
	ev->state(1, ev->arg);
}

static void
ev_on_line(const char *line, size_t len, void *arg)
{
	struct docker_events	*ev = arg;
	json_t			*j, *tn;
	json_error_t		 je;
	int64_t			 ns;

	if ((j = json_loadb(line, len, 0, &je)) == NULL) {
		log_warn("engine event stream: bad event: %s", je.text);
		return;
	}
	if (!json_is_object(j)) {
		log_warn("engine event stream: event is not an object");
		json_decref(j);
		return;
	}
	tn = json_object_get(j, "timeNano");
	if (json_is_integer(tn))
		ns = json_integer_value(tn);
	else
		ns = json_integer_value(json_object_get(j, "time")) *
		    1000000000;
	/* since= is inclusive: the last events seen come again. */
	if (ev->skip > 0 && ns == ev->last_ns) {
		ev->skip--;
		json_decref(j);
		return;
	}
	ev->skip = 0;
	if (ns != ev->last_ns)
		ev->nlast = 0;
	if (ns >= ev->last_ns) {
		ev->last_ns = ev->since_ns = ns;
		ev->nlast++;
	}
	ev->cb(j, ev->arg);
	json_decref(j);
}

/* The stream is gone (err, message): tell the owner, retry later. */
static void
ev_lost(struct docker_events *ev, const char *why)
{
	if (ev->connected) {
		log_info("engine event stream lost: %s", why);
		ev->connected = 0;
		ev->state(0, ev->arg);
	} else if (!ev->warned) {
		log_warn("engine event stream: %s", why);
		ev->warned = 1;
	}
	if (ev->stopped)
		return;
	ev->backoff_ms = ev->backoff_ms == 0 ? BACKOFF_MIN_MS :
	    ev->backoff_ms * 2;
	if (ev->backoff_ms > BACKOFF_MAX_MS)
		ev->backoff_ms = BACKOFF_MAX_MS;
	uv_timer_start(&ev->retry, on_retry, ev->backoff_ms, 0);
}

static void
ev_on_ping(const struct docker_result *res, void *arg)
{
	struct docker_events	*ev = arg;
	char			 why[600];

	ev->ping = NULL;
	if (ev->stopped || !ev->connected)
		return;
	if (res->err == 0) {
		uv_timer_start(&ev->retry, on_retry, docker_deadline(ev->d,
		    DOCKER_EVENTS_PING_MS), 0);
		return;
	}
	/* The stream may look open on an engine that no longer answers. */
	snprintf(why, sizeof why, "liveness check failed: %s", res->message);
	docker_cancel(ev->req);
	ev->req = NULL;
	ev_lost(ev, why);
}

static void
on_retry(uv_timer_t *t)
{
	struct docker_events *ev = t->data;

	if (!ev->connected) {
		ev_connect(ev);
		return;
	}
	if (ev->ping == NULL)
		ev->ping = docker_ping(ev->d, ev_on_ping, ev);
}

static void
ev_on_done(const struct docker_result *res, void *arg)
{
	struct docker_events *ev = arg;

	ev->req = NULL;
	docker_cancel(ev->ping);
	ev->ping = NULL;
	ev_lost(ev, res->err ? res->message : ev->connected ? "ended" :
	    "ended before it began");
}

static void
ev_connect(struct docker_events *ev)
{
	struct docker_opts	 o;
	struct buf		 path;
	char			 sep = '?';

	if (ev->stopped)
		return;
	buf_init(&path);
	buf_puts(&path, "/events");
	if (ev->filters != NULL) {
		buf_printf(&path, "?filters=%s", ev->filters);
		sep = '&';
	}
	/* The engine takes "seconds.nanoseconds"; it shares our clock, being
	 * on this host, so the time we connected is a fair start too. */
	if (ev->since_ns > 0)
		buf_printf(&path, "%csince=%" PRId64 ".%09" PRId64, sep,
		    ev->since_ns / 1000000000, ev->since_ns % 1000000000);
	memset(&o, 0, sizeof o);
	o.method = "GET";
	o.path = path.data;
	o.flags = DOCKER_F_STREAM | DOCKER_F_NOSCAN;
	o.line = ev_on_line;
	o.headers = ev_on_headers;
	o.done = ev_on_done;
	o.arg = ev;
	ev->skip = ev->last_ns > 0 ? ev->nlast : 0;
	ev->req = docker_submit(ev->d, &o);
	buf_free(&path);
}

int
docker_events_start(struct docker *d, const char *label,
    docker_event_cb *cb, docker_events_state_cb *state, void *arg,
    struct docker_events **out)
{
	struct docker_events	*ev;
	int			 rc;

	if (docker_closing(d))
		return -ECANCELED;
	ev = xcalloc(1, sizeof *ev);
	if (label != NULL && (ev->filters = docker_label_filter(label)) ==
	    NULL) {
		free(ev);
		return -EINVAL;		/* not UTF-8 */
	}
	if ((rc = uv_timer_init(docker_loop(d), &ev->retry)) < 0) {
		free(ev->filters);
		free(ev);
		return rc;
	}
	docker_handle_opened(d);
	ev->retry.data = ev;
	ev->d = d;
	ev->cb = cb;
	ev->state = state;
	ev->arg = arg;
	ev->child.teardown = ev_teardown;
	ev->child.release = ev_release;
	ev->child.arg = ev;
	docker_child_add(d, &ev->child);
	ev_connect(ev);
	*out = ev;
	return 0;
}

void
docker_events_stop(struct docker_events *ev)
{
	if (ev == NULL || ev->stopped)
		return;
	ev->stopped = 1;
	docker_cancel(ev->req);
	docker_cancel(ev->ping);
	ev->req = NULL;
	ev->ping = NULL;
	docker_child_del(&ev->child);
	uv_close((uv_handle_t *)&ev->retry, ev_closed);
}
