/*
 * The engine client against a scripted fake engine: HTTP and transport
 * outcomes map to the right codes and messages, versions are negotiated,
 * requests run concurrently, cancel and close are safe from callbacks, and
 * streams, demultiplexing and the event stream's reconnect work.  The loop
 * runs on the test thread, the fake engine in threads of its own.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "engine/docker.h"
#include "helper_fakeengine.h"
#include "util.h"

#define WATCHDOG_MS	20000

struct fx {
	uv_loop_t		 loop;
	struct docker		*d;
	struct fake_engine	*fe;
	uv_timer_t		 watchdog;
	int			 closed;
	int			 timed_out;
	int			 pending;	/* slots to fill before closing */
	void			*data;		/* the test's own */
};

struct slot {
	struct fx	*f;
	int		 called;
	int		 err;
	long		 status;
	char		 msg[512];
	json_t		*body;
	uint64_t	 at_ms;
};

static void
on_closed(void *arg)
{
	struct fx *f = arg;

	f->closed++;
	uv_close((uv_handle_t *)&f->watchdog, NULL);
}

static void
fx_close(struct fx *f)
{
	docker_close(f->d, on_closed, f);
}

static void
on_watchdog(uv_timer_t *t)
{
	struct fx *f = t->data;

	f->timed_out = 1;
	fx_close(f);
}

static void
fx_init(struct fx *f, fake_handler *h, void *harg)
{
	memset(f, 0, sizeof *f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(fake_engine_start(h, harg, &f->fe), 0);
	assert_int_equal(docker_new(&f->loop, fake_engine_path(f->fe), &f->d),
	    0);
	uv_timer_init(&f->loop, &f->watchdog);
	f->watchdog.data = f;
	uv_timer_start(&f->watchdog, on_watchdog, WATCHDOG_MS, 0);
}

/* Run until the client has closed; prove nothing of ours is left. */
static void
fx_loop(struct fx *f)
{
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_false(f->timed_out);
	assert_int_equal(f->closed, 1);
	assert_int_equal(uv_loop_close(&f->loop), 0);
}

static void
fx_run(struct fx *f)
{
	fx_loop(f);
	fake_engine_stop(f->fe);
}

static void
on_slot(const struct docker_result *res, void *arg)
{
	struct slot *s = arg;

	s->called++;
	s->err = res->err;
	s->status = res->status;
	snprintf(s->msg, sizeof s->msg, "%s", res->message);
	s->body = json_incref(res->body);
	s->at_ms = now_ms();
	if (--s->f->pending == 0)
		fx_close(s->f);
}

static void
slot_free(struct slot *s)
{
	json_decref(s->body);
	s->body = NULL;
}

/* ---- status and transport outcomes ---------------------------------------- */

static void
status_handler(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	const char *t = rq->target;

	(void)arg;
	if (strcmp(t, "/v1.41/ok") == 0)
		fake_reply(c, 200, NULL, "{\"a\":1}");
	else if (strcmp(t, "/v1.41/created") == 0)
		fake_reply(c, 201, NULL, "{\"Id\":\"abc\",\"Warnings\":[]}");
	else if (strcmp(t, "/v1.41/nocontent") == 0)
		fake_reply(c, 204, NULL, NULL);
	else if (strcmp(t, "/v1.41/err500") == 0)
		fake_reply(c, 500, NULL, "{\"message\":\"boom\"}");
	else if (strcmp(t, "/v1.41/text500") == 0)
		fake_reply(c, 500, NULL, "plain failure\n");
	else if (strcmp(t, "/v1.41/missing") == 0)
		fake_reply(c, 404, NULL,
		    "{\"message\":\"No such container: x\"}");
	else if (strcmp(t, "/v1.41/conflict") == 0)
		fake_reply(c, 409, NULL, "{\"message\":\"name in use\"}");
	else if (strcmp(t, "/v1.41/bad") == 0)
		fake_reply(c, 400, NULL, "{\"message\":\"bad parameter\"}");
	else if (strcmp(t, "/v1.41/teapot") == 0)
		fake_reply(c, 418, NULL, "{}");
	else if (strcmp(t, "/v1.41/notmod") == 0 ||
	    strcmp(t, "/v1.41/containers/x/start") == 0 ||
	    strcmp(t, "/v1.41/containers/x/stop?t=5") == 0 ||
	    strcmp(t, "/v1.41/containers/x/kill?signal=SIGTERM") == 0)
		fake_reply(c, 304, NULL, NULL);
	else if (strcmp(t, "/v1.41/badjson") == 0)
		fake_reply(c, 200, NULL, "{\"a\": nope}");
	else if (strcmp(t, "/v1.41/truncated") == 0) {
		fake_head(c, 200, "Content-Type: application/json\r\n"
		    "Content-Length: 100\r\n");
		fake_send(c, "{\"a\":", 5);
		fake_close_after(c);
	} else if (strcmp(t, "/v1.41/drop") == 0)
		fake_close_after(c);
	else
		fake_reply(c, 404, NULL, "{\"message\":\"unscripted\"}");
}

static const struct status_case {
	const char	*path;
	int		 err;
	long		 status;
	const char	*msg;		/* substring; "" means exactly "" */
} status_cases[] = {
	{ "/ok", DOCKER_OK, 200, "" },
	{ "/created", DOCKER_OK, 201, "" },
	{ "/nocontent", DOCKER_OK, 204, "" },
	{ "/err500", DOCKER_E_SERVER, 500, "boom" },
	{ "/text500", DOCKER_E_SERVER, 500, "plain failure" },
	{ "/missing", DOCKER_E_NOT_FOUND, 404, "No such container: x" },
	{ "/conflict", DOCKER_E_CONFLICT, 409, "name in use" },
	{ "/bad", DOCKER_E_BAD_REQUEST, 400, "bad parameter" },
	{ "/teapot", DOCKER_E_BAD_REQUEST, 418, "HTTP 418" },
	{ "/notmod", DOCKER_E_ALREADY, 304, "HTTP 304" },
	{ "/badjson", DOCKER_E_PROTOCOL, 200, "bad JSON" },
	{ "/truncated", DOCKER_E_PROTOCOL, 200, "remaining" },
	{ "/drop", DOCKER_E_UNAVAILABLE, 0, "" },
};

static void
test_status_codes(void **state)
{
	size_t		 n = nitems(status_cases), i;
	struct slot	 s[nitems(status_cases) + 3];
	struct fx	 f;

	(void)state;
	fx_init(&f, status_handler, NULL);
	memset(s, 0, sizeof s);
	for (i = 0; i < nitems(s); i++)
		s[i].f = &f;
	f.pending = (int)nitems(s);
	for (i = 0; i < n; i++)
		assert_non_null(docker_request(f.d, "GET",
		    status_cases[i].path, NULL, on_slot, &s[i]));
	/* 304 means "already started" / "already stopped", so success. */
	docker_container_start(f.d, "x", on_slot, &s[n]);
	docker_container_stop(f.d, "x", 5, on_slot, &s[n + 1]);
	docker_container_kill(f.d, "x", "SIGTERM", on_slot, &s[n + 2]);
	fx_run(&f);

	for (i = 0; i < n; i++) {
		const struct status_case *c = &status_cases[i];

		print_message("%s: %s %ld \"%s\"\n", c->path,
		    docker_strerror(s[i].err), s[i].status, s[i].msg);
		assert_int_equal(s[i].called, 1);
		assert_int_equal(s[i].err, c->err);
		assert_int_equal(s[i].status, c->status);
		if (c->msg[0] == '\0' && c->err == DOCKER_OK)
			assert_string_equal(s[i].msg, "");
		else if (c->msg[0] == '\0')
			assert_true(s[i].msg[0] != '\0');
		else
			assert_non_null(strstr(s[i].msg, c->msg));
		if (c->err != DOCKER_OK || c->status == 204)
			assert_null(s[i].body);
	}
	assert_int_equal(json_integer_value(json_object_get(s[0].body, "a")),
	    1);
	assert_string_equal(json_string_value(json_object_get(s[1].body,
	    "Id")), "abc");
	for (i = n; i < n + 3; i++) {
		assert_int_equal(s[i].called, 1);
		assert_int_equal(s[i].err, DOCKER_OK);
		assert_int_equal(s[i].status, 304);
	}
	for (i = 0; i < nitems(s); i++)
		slot_free(&s[i]);
}

/*
 * The one error space: each outcome is the negative errno docker.h names
 * (spelled out here, not through the aliases), with the engine's message.
 */
static const struct errno_case {
	const char	*path;
	int		 err;
	const char	*msg;
} errno_cases[] = {
	{ "/missing", -ENOENT, "No such container: x" },
	{ "/conflict", -EEXIST, "name in use" },
	{ "/notmod", -EALREADY, "HTTP 304" },
	{ "/bad", -EINVAL, "bad parameter" },
	{ "/teapot", -EINVAL, "HTTP 418" },
	{ "/err500", -EIO, "boom" },
	{ "/badjson", -EPROTO, "bad JSON" },
	{ "/drop", -ECONNREFUSED, "" },
};

static void
test_errno_space(void **state)
{
	static const int aliases[] = { DOCKER_E_UNAVAILABLE,
	    DOCKER_E_NOT_FOUND, DOCKER_E_CONFLICT, DOCKER_E_ALREADY,
	    DOCKER_E_BAD_REQUEST, DOCKER_E_SERVER, DOCKER_E_PROTOCOL,
	    DOCKER_E_TIMEOUT, DOCKER_E_CANCELED, DOCKER_E_VERSION };
	struct slot	 s[nitems(errno_cases)];
	struct fx	 f;
	size_t		 i, j;

	(void)state;
	assert_int_equal(DOCKER_OK, 0);
	assert_int_equal(DOCKER_E_UNAVAILABLE, -ECONNREFUSED);
	assert_int_equal(DOCKER_E_NOT_FOUND, -ENOENT);
	assert_int_equal(DOCKER_E_CONFLICT, -EEXIST);
	assert_int_equal(DOCKER_E_ALREADY, -EALREADY);
	assert_int_equal(DOCKER_E_BAD_REQUEST, -EINVAL);
	assert_int_equal(DOCKER_E_SERVER, -EIO);
	assert_int_equal(DOCKER_E_PROTOCOL, -EPROTO);
	assert_int_equal(DOCKER_E_TIMEOUT, -ETIMEDOUT);
	assert_int_equal(DOCKER_E_CANCELED, -ECANCELED);
	assert_int_equal(DOCKER_E_VERSION, -EPROTONOSUPPORT);
	/* Negative, distinct, and each with its own name. */
	for (i = 0; i < nitems(aliases); i++) {
		assert_true(aliases[i] < 0);
		assert_string_not_equal(docker_strerror(aliases[i]),
		    "unknown");
		for (j = i + 1; j < nitems(aliases); j++)
			assert_int_not_equal(aliases[i], aliases[j]);
	}

	fx_init(&f, status_handler, NULL);
	memset(s, 0, sizeof s);
	f.pending = (int)nitems(s);
	for (i = 0; i < nitems(s); i++) {
		s[i].f = &f;
		docker_request(f.d, "GET", errno_cases[i].path, NULL, on_slot,
		    &s[i]);
	}
	fx_run(&f);
	for (i = 0; i < nitems(s); i++) {
		print_message("%s: %d (%s) \"%s\"\n", errno_cases[i].path,
		    s[i].err, strerror(-s[i].err), s[i].msg);
		assert_int_equal(s[i].called, 1);
		assert_int_equal(s[i].err, errno_cases[i].err);
		assert_non_null(strstr(s[i].msg, errno_cases[i].msg));
		assert_true(s[i].msg[0] != '\0');
		slot_free(&s[i]);
	}
}

static void
test_connect_refused(void **state)
{
	struct slot	 s;
	struct fx	 f;

	(void)state;
	memset(&f, 0, sizeof f);
	assert_int_equal(uv_loop_init(&f.loop), 0);
	assert_int_equal(docker_new(&f.loop, "/nonexistent/shipd-test.sock",
	    &f.d), 0);
	uv_timer_init(&f.loop, &f.watchdog);
	f.watchdog.data = &f;
	uv_timer_start(&f.watchdog, on_watchdog, WATCHDOG_MS, 0);
	memset(&s, 0, sizeof s);
	s.f = &f;
	f.pending = 1;
	docker_ping(f.d, on_slot, &s);
	uv_run(&f.loop, UV_RUN_DEFAULT);
	assert_int_equal(f.closed, 1);
	assert_int_equal(uv_loop_close(&f.loop), 0);
	assert_int_equal(s.err, DOCKER_E_UNAVAILABLE);
	assert_string_equal(docker_strerror(s.err), "unavailable");
	assert_non_null(strstr(s.msg, "/nonexistent/shipd-test.sock"));
}

static void
slow_handler(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	unsigned ms = *(unsigned *)arg;

	if (strstr(rq->target, "/slow") != NULL && fake_sleep(c, ms) < 0)
		return;
	fake_reply(c, 200, NULL, "{\"slow\":true}");
}

static void
test_timeout(void **state)
{
	unsigned	 delay = 3000;
	uint64_t	 t0;
	struct slot	 s;
	struct fx	 f;

	(void)state;
	fx_init(&f, slow_handler, &delay);
	docker_set_timeout(f.d, 300);
	memset(&s, 0, sizeof s);
	s.f = &f;
	f.pending = 1;
	t0 = now_ms();
	docker_request(f.d, "GET", "/slow", NULL, on_slot, &s);
	fx_run(&f);
	assert_int_equal(s.err, DOCKER_E_TIMEOUT);
	assert_true(s.at_ms - t0 >= 290 && s.at_ms - t0 < delay);
}

/* ---- version negotiation -------------------------------------------------- */

static void
ping_handler(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	char hdr[128];

	if (strcmp(rq->target, "/_ping") == 0) {
		snprintf(hdr, sizeof hdr, "Api-Version: %s\r\n",
		    (const char *)arg);
		fake_reply(c, 200, hdr, "OK");
	} else
		fake_reply(c, 200, NULL, "{}");
}

struct nego {
	struct fx	*f;
	struct slot	 ping, before, after;
	char		 version[16];	/* docker_api_version() in the callback */
};

static void
on_negotiated(const struct docker_result *res, void *arg)
{
	struct nego *n = arg;

	snprintf(n->version, sizeof n->version, "%s",
	    docker_api_version(n->f->d) ? docker_api_version(n->f->d) : "");
	if (res->err == 0) {
		n->f->pending++;
		docker_request(n->f->d, "GET", "/after", NULL, on_slot,
		    &n->after);
	}
	on_slot(res, &n->ping);
}

/* Negotiate against an engine claiming `engine`; return what happened. */
static void
negotiate_with(const char *engine, struct nego *n, struct fx *f)
{
	memset(n, 0, sizeof *n);
	fx_init(f, ping_handler, (void *)engine);
	n->f = f;
	n->ping.f = n->before.f = n->after.f = f;
	f->pending = 2;
	assert_null(docker_api_version(f->d));
	docker_request(f->d, "GET", "/before", NULL, on_slot, &n->before);
	docker_negotiate(f->d, on_negotiated, n);
	fx_loop(f);
}

static int
engine_saw(struct fake_engine *fe, const char *what)
{
	unsigned	 i, n = fake_engine_nrequests(fe);
	char		*r;
	int		 found = 0;

	for (i = 1; i <= n && !found; i++) {
		r = fake_engine_request(fe, i);
		found = strcmp(r, what) == 0;
		free(r);
	}
	return found;
}

static void
test_negotiate(void **state)
{
	struct nego	 n;
	struct fx	 f;

	(void)state;
	/* The engine is newer than 1.41 but older than our newest. */
	negotiate_with("1.43", &n, &f);
	assert_int_equal(n.ping.err, DOCKER_OK);
	assert_string_equal(n.version, "1.43");
	assert_true(engine_saw(f.fe, "GET /_ping"));
	assert_true(engine_saw(f.fe, "GET /v1.41/before"));
	assert_true(engine_saw(f.fe, "GET /v1.43/after"));
	assert_int_equal(n.after.err, DOCKER_OK);
	fake_engine_stop(f.fe);
	slot_free(&n.before);
	slot_free(&n.after);

	/* Newer than us: we speak our newest. */
	negotiate_with("1.50", &n, &f);
	assert_int_equal(n.ping.err, DOCKER_OK);
	assert_string_equal(n.version, DOCKER_API_MAX);
	assert_true(engine_saw(f.fe, "GET /v" DOCKER_API_MAX "/after"));
	fake_engine_stop(f.fe);
	slot_free(&n.before);
	slot_free(&n.after);

	/* Too old: refused, naming both versions. */
	negotiate_with("1.40", &n, &f);
	f.pending = 0;
	assert_int_equal(n.ping.err, DOCKER_E_VERSION);
	assert_string_equal(docker_strerror(n.ping.err), "version");
	assert_string_equal(n.version, "");
	assert_non_null(strstr(n.ping.msg, "1.40"));
	assert_non_null(strstr(n.ping.msg, "1.41"));
	assert_int_equal(n.after.called, 0);
	fake_engine_stop(f.fe);
	slot_free(&n.before);
}

/* ---- concurrency ---------------------------------------------------------- */

#define NCONC		8
#define HOLD_MAX_MS	5000	/* per request; NCONC of them outlast the watchdog */

/*
 * Concurrency counted, not timed: the engine holds every /held request
 * until it holds NCONC at once (or HOLD_MAX_MS has passed), so a client
 * that ran them one after another would see NCONC x HOLD_MAX_MS and a
 * peak of 1, however fast or slow the machine is.
 */
struct conc {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	unsigned	 held;		/* requests held now */
	unsigned	 peak;		/* most held at once */
};

/* Not on the test's stack: held requests outlive a failed assertion. */
static struct conc conc = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0
};

static void
conc_handler(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	struct conc	*x = arg;
	struct timespec	 until;

	(void)rq;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += HOLD_MAX_MS / 1000;
	pthread_mutex_lock(&x->mu);
	if (++x->held > x->peak)
		x->peak = x->held;
	pthread_cond_broadcast(&x->cv);
	while (x->peak < NCONC &&
	    pthread_cond_timedwait(&x->cv, &x->mu, &until) == 0)
		;
	x->held--;
	pthread_mutex_unlock(&x->mu);
	fake_reply(c, 200, NULL, "{\"slow\":true}");
}

static void
test_concurrent(void **state)
{
	struct slot	 s[NCONC];
	struct conc	*x = &conc;
	struct fx	 f;
	size_t		 i;

	(void)state;
	x->held = x->peak = 0;
	fx_init(&f, conc_handler, x);
	memset(s, 0, sizeof s);
	f.pending = (int)nitems(s);
	for (i = 0; i < nitems(s); i++) {
		s[i].f = &f;
		docker_request(f.d, "GET", "/held", NULL, on_slot, &s[i]);
	}
	fx_run(&f);
	print_message("the engine held %u of %zu requests at once\n", x->peak,
	    nitems(s));
	for (i = 0; i < nitems(s); i++) {
		assert_int_equal(s[i].err, DOCKER_OK);
		assert_true(json_is_true(json_object_get(s[i].body, "slow")));
		slot_free(&s[i]);
	}
	/* All in flight together, none queued behind another. */
	assert_int_equal(x->peak, NCONC);
}

/* ---- cancel and close ----------------------------------------------------- */

struct cancel_t {
	struct fx		*f;
	struct slot		 a, b, c, d;
	struct docker_req	*rb;
	struct docker_req	*ra;
};

static void
on_a_cancels_b(const struct docker_result *res, void *arg)
{
	struct cancel_t *t = arg;

	docker_cancel(t->rb);
	docker_cancel(t->ra);		/* its own, while it runs */
	docker_cancel(NULL);
	t->f->pending++;
	docker_request(t->f->d, "GET", "/fast", NULL, on_slot, &t->c);
	on_slot(res, &t->a);
}

static void
test_cancel_in_callback(void **state)
{
	unsigned		 delay = 1000;
	struct docker_req	*rd;
	struct cancel_t		 t;
	struct fx		 f;

	(void)state;
	fx_init(&f, slow_handler, &delay);
	memset(&t, 0, sizeof t);
	t.f = t.a.f = t.b.f = t.c.f = t.d.f = &f;
	f.pending = 1;
	t.ra = docker_request(f.d, "GET", "/fast", NULL, on_a_cancels_b, &t);
	t.rb = docker_request(f.d, "GET", "/slow", NULL, on_slot, &t.b);
	/* Canceled before the loop ever ran. */
	rd = docker_request(f.d, "GET", "/fast", NULL, on_slot, &t.d);
	docker_cancel(rd);
	fx_run(&f);
	assert_int_equal(t.a.called, 1);
	assert_int_equal(t.b.called, 0);
	assert_int_equal(t.c.called, 1);
	assert_int_equal(t.c.err, DOCKER_OK);
	assert_int_equal(t.d.called, 0);
	slot_free(&t.a);
	slot_free(&t.c);
}

static void
lines_handler(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	(void)arg;
	if (strcmp(rq->target, "/v1.41/lines") == 0) {
		fake_head(c, 200, "Content-Type: application/json\r\n"
		    "Transfer-Encoding: chunked\r\n");
		/* Lines cut across chunks, one with CRLF, the last with no
		 * newline at all. */
		fake_chunk(c, "{\"n\":1}\n{\"n\"", 12);
		fake_chunk(c, ":2}\r\n\n{\"n\":3}\n{\"n\":", 19);
		fake_chunk(c, "4}", 2);
		fake_chunk(c, NULL, 0);
	} else if (strcmp(rq->target, "/v1.41/forever") == 0) {
		fake_head(c, 200, "Content-Type: application/json\r\n"
		    "Transfer-Encoding: chunked\r\n");
		fake_chunk(c, "{\"n\":1}\n", 8);
		fake_wait_hangup(c);
		fake_close_after(c);
	} else
		fake_reply(c, 200, NULL, "{}");
}

struct lines_t {
	struct fx		*f;
	struct docker_req	*r;
	int			 cancel_at;	/* 0: never */
	int			 nlines;
	char			 got[128];
	size_t			 ndata;
	struct slot		 done, after;
};

static void
on_line(const char *line, size_t len, void *arg)
{
	struct lines_t *t = arg;

	t->nlines++;
	snprintf(t->got + strlen(t->got), sizeof t->got - strlen(t->got),
	    "%.*s|", (int)len, line);
	if (t->nlines == t->cancel_at) {
		docker_cancel(t->r);
		t->f->pending++;
		docker_request(t->f->d, "GET", "/fast", NULL, on_slot,
		    &t->after);
	}
}

static void
on_data(const char *data, size_t len, void *arg)
{
	struct lines_t *t = arg;

	(void)data;
	t->ndata += len;
}

static void
on_stream_done(const struct docker_result *res, void *arg)
{
	struct lines_t *t = arg;

	on_slot(res, &t->done);
}

static void
test_stream_split_lines(void **state)
{
	struct lines_t	 t;
	struct fx	 f;

	(void)state;
	fx_init(&f, lines_handler, NULL);
	memset(&t, 0, sizeof t);
	t.f = t.done.f = t.after.f = &f;
	f.pending = 1;
	t.r = docker_stream(f.d, "GET", "/lines", NULL, on_line, on_data,
	    on_stream_done, &t);
	fx_run(&f);
	assert_int_equal(t.done.err, DOCKER_OK);
	assert_null(t.done.body);
	assert_string_equal(t.got, "{\"n\":1}|{\"n\":2}|{\"n\":3}|{\"n\":4}|");
	assert_int_equal(t.ndata, 12 + 19 + 2);
}

static void
test_cancel_stream_in_line(void **state)
{
	struct lines_t	 t;
	struct fx	 f;

	(void)state;
	fx_init(&f, lines_handler, NULL);
	memset(&t, 0, sizeof t);
	t.f = t.done.f = t.after.f = &f;
	t.cancel_at = 1;
	f.pending = 0;		/* raised by the request made at the cancel */
	t.r = docker_stream(f.d, "GET", "/forever", NULL, on_line, NULL,
	    on_stream_done, &t);
	fx_run(&f);
	assert_int_equal(t.nlines, 1);
	assert_int_equal(t.done.called, 0);
	assert_int_equal(t.after.called, 1);
	slot_free(&t.after);
}

struct close_t {
	struct fx		*f;
	uv_timer_t		 poll;
	struct slot		 s[4];
	struct docker_req	*r[5];
	struct docker_events	*ev;
	int			 nstream;
	int			 nevents;
	char			 states[8];
};

static void
on_close_ev(json_t *ev, void *arg)
{
	struct close_t *t = arg;

	(void)ev;
	t->nevents++;
}

static void
on_close_state(int up, void *arg)
{
	struct close_t *t = arg;

	t->states[strlen(t->states)] = up ? '1' : '0';
}

static void
on_close_line(const char *line, size_t len, void *arg)
{
	struct close_t *t = arg;

	(void)line;
	(void)len;
	t->nstream++;
}

static void
on_close_closed(void *arg)
{
	struct close_t	*t = arg;
	size_t		 i;

	/* Request pointers stay good until this returns. */
	for (i = 0; i < nitems(t->r); i++)
		docker_cancel(t->r[i]);
	docker_events_stop(t->ev);
	on_closed(t->f);
}

static void
on_close_poll(uv_timer_t *h)
{
	struct close_t *t = h->data;

	/* Close only once the engine holds every request. */
	if (fake_engine_nrequests(t->f->fe) < 6)
		return;
	uv_close((uv_handle_t *)h, NULL);
	docker_close(t->f->d, on_close_closed, t);
}

static void
close_handler(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	unsigned delay = 5000;

	(void)arg;
	if (strncmp(rq->target, "/v1.41/events", 13) == 0) {
		fake_head(c, 200, "Content-Type: application/json\r\n"
		    "Transfer-Encoding: chunked\r\n");
		fake_wait_hangup(c);
		fake_close_after(c);
	} else if (strcmp(rq->target, "/v1.41/forever") == 0)
		lines_handler(c, rq, NULL);
	else
		slow_handler(c, rq, &delay);
}

static void
test_close_in_flight(void **state)
{
	struct close_t	 t;
	struct fx	 f;
	size_t		 i;

	(void)state;
	fx_init(&f, close_handler, NULL);
	memset(&t, 0, sizeof t);
	t.f = &f;
	for (i = 0; i < 4; i++) {
		t.s[i].f = &f;
		t.r[i] = docker_request(f.d, "GET", "/slow", NULL, on_slot,
		    &t.s[i]);
	}
	t.r[4] = docker_stream(f.d, "GET", "/forever", NULL, on_close_line,
	    NULL, on_slot, &t.s[0]);
	assert_int_equal(docker_events_start(f.d, "io.shipd.stack",
	    on_close_ev, on_close_state, &t, &t.ev), DOCKER_OK);
	uv_timer_init(&f.loop, &t.poll);
	t.poll.data = &t;
	uv_timer_start(&t.poll, on_close_poll, 5, 5);
	fx_run(&f);
	for (i = 0; i < 4; i++)
		assert_int_equal(t.s[i].called, 0);
	assert_int_equal(t.nevents, 0);
	assert_null(strchr(t.states, '0'));
}

static void
on_close_from_cb(const struct docker_result *res, void *arg)
{
	struct slot *s = arg;

	on_slot(res, s);
	fx_close(s->f);
	fx_close(s->f);		/* twice is harmless */
}

static void
test_close_in_callback(void **state)
{
	unsigned	 delay = 2000;
	struct slot	 a, b;
	struct fx	 f;

	(void)state;
	fx_init(&f, slow_handler, &delay);
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	a.f = b.f = &f;
	f.pending = 100;
	docker_request(f.d, "GET", "/fast", NULL, on_close_from_cb, &a);
	docker_request(f.d, "GET", "/slow", NULL, on_slot, &b);
	fx_run(&f);
	assert_int_equal(a.called, 1);
	assert_int_equal(b.called, 0);
	slot_free(&a);
}

/* ---- image pull ----------------------------------------------------------- */

static void
pull_handler(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	static const char err1[] = "{\"errorDetail\":{\"message\":\"manifest "
	    "for busybox:bad not found\"},\"er";
	static const char err2[] = "ror\":\"manifest for busybox:bad not "
	    "found\"}\r\n";
	static const char pulling[] = "{\"status\":\"Pulling from "
	    "library/busybox\",\"id\":\"bad\"}\n";
	static const char ok[] = "{\"status\":\"Pulling from shipd-test/svc\","
	    "\"id\":\"1\"}\n{\"status\":\"Digest: sha256:00\"}\n"
	    "{\"status\":\"Status: Image is up to date\"}\n";

	(void)arg;
	if (strstr(rq->target, "tag=denied") != NULL) {
		fake_reply(c, 404, NULL, "{\"message\":\"pull access denied "
		    "for private/app\"}");
		return;
	}
	fake_head(c, 200, "Content-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n");
	if (strstr(rq->target, "tag=bad") != NULL) {
		fake_chunk(c, pulling, strlen(pulling));
		fake_chunk(c, err1, strlen(err1));
		fake_chunk(c, err2, strlen(err2));
	} else
		fake_chunk(c, ok, strlen(ok));
	fake_chunk(c, NULL, 0);
}

static void
on_pull_line(const char *line, size_t len, void *arg)
{
	struct lines_t *t = arg;

	(void)line;
	(void)len;
	t->nlines++;
}

static void
test_pull(void **state)
{
	struct lines_t	 bad, good, quiet, denied;
	struct fx	 f;

	(void)state;
	fx_init(&f, pull_handler, NULL);
	memset(&bad, 0, sizeof bad);
	memset(&good, 0, sizeof good);
	memset(&quiet, 0, sizeof quiet);
	memset(&denied, 0, sizeof denied);
	bad.done.f = good.done.f = quiet.done.f = denied.done.f = &f;
	f.pending = 4;
	docker_image_pull(f.d, "private/app:denied", on_pull_line,
	    on_stream_done, &denied);
	docker_image_pull(f.d, "busybox:bad", on_pull_line, on_stream_done,
	    &bad);
	docker_image_pull(f.d, "shipd-test/svc:1", on_pull_line,
	    on_stream_done, &good);
	docker_image_pull(f.d, "localhost:5000/busybox:bad", NULL,
	    on_stream_done, &quiet);
	fx_loop(&f);
	assert_true(engine_saw(f.fe, "POST /v1.41/images/create?"
	    "fromImage=busybox&tag=bad"));
	assert_true(engine_saw(f.fe, "POST /v1.41/images/create?"
	    "fromImage=shipd-test%2Fsvc&tag=1"));
	assert_true(engine_saw(f.fe, "POST /v1.41/images/create?"
	    "fromImage=localhost%3A5000%2Fbusybox&tag=bad"));
	assert_int_equal(bad.done.err, DOCKER_E_SERVER);
	assert_int_equal(bad.done.status, 200);
	assert_string_equal(bad.done.msg,
	    "manifest for busybox:bad not found");
	assert_int_equal(bad.nlines, 2);
	assert_int_equal(good.done.err, DOCKER_OK);
	assert_int_equal(good.nlines, 3);
	/* No progress callback, yet the error is still found. */
	assert_int_equal(quiet.done.err, DOCKER_E_SERVER);
	/* An error status on a stream: its body is the message, not lines. */
	assert_int_equal(denied.done.err, DOCKER_E_NOT_FOUND);
	assert_string_equal(denied.done.msg,
	    "pull access denied for private/app");
	assert_int_equal(denied.nlines, 0);
	fake_engine_stop(f.fe);
}

/* ---- exec and demultiplexing ---------------------------------------------- */

static void
frame(struct buf *b, int stream, const char *s)
{
	unsigned char	h[8] = { (unsigned char)stream, 0, 0, 0 };
	size_t		n = strlen(s);

	h[4] = (unsigned char)(n >> 24);
	h[5] = (unsigned char)(n >> 16);
	h[6] = (unsigned char)(n >> 8);
	h[7] = (unsigned char)n;
	buf_append(b, h, 8);
	buf_append(b, s, n);
}

static void
exec_handler(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	int		*body_ok = arg;
	struct buf	 b;

	if (strcmp(rq->target, "/v1.41/exec/e1/start") != 0) {
		fake_reply(c, 404, NULL, "{\"message\":\"No such exec\"}");
		return;
	}
	*body_ok = strstr(rq->body, "\"Detach\":false") != NULL &&
	    strstr(rq->body, "\"Tty\":false") != NULL;
	/* The engine takes the connection over and writes until the
	 * process ends, then closes. */
	fake_head(c, 200, "Content-Type: application/vnd.docker.raw-stream"
	    "\r\n");
	buf_init(&b);
	frame(&b, 1, "hello\n");
	frame(&b, 2, "oops\n");
	frame(&b, 1, "");
	frame(&b, 1, "bye\n");
	fake_send(c, b.data, 11);
	fake_sleep(c, 20);
	fake_send(c, b.data + 11, b.len - 11);
	buf_free(&b);
	fake_close_after(c);
}

struct exec_t {
	struct buf	 out;
	struct slot	 done;
};

static void
on_exec_output(const char *data, size_t len, void *arg)
{
	struct exec_t *x = arg;

	buf_append(&x->out, data, len);
}

static void
on_exec_done(const struct docker_result *res, void *arg)
{
	struct exec_t *x = arg;

	on_slot(res, &x->done);
}

static void
test_exec_start(void **state)
{
	int		 body_ok = 0;
	struct exec_t	 x, missing;
	struct fx	 f;

	(void)state;
	fx_init(&f, exec_handler, &body_ok);
	memset(&x, 0, sizeof x);
	memset(&missing, 0, sizeof missing);
	x.done.f = missing.done.f = &f;
	f.pending = 2;
	docker_exec_start(f.d, "e1", on_exec_output, on_exec_done, &x);
	docker_exec_start(f.d, "e2", on_exec_output, on_exec_done, &missing);
	fx_run(&f);
	assert_int_equal(body_ok, 1);
	assert_int_equal(x.done.err, DOCKER_OK);
	/* stdout and stderr payloads in order, without the frame headers */
	assert_string_equal(x.out.data, "hello\noops\nbye\n");
	assert_int_equal(missing.done.err, DOCKER_E_NOT_FOUND);
	assert_string_equal(missing.done.msg, "No such exec");
	assert_null(missing.out.data);
	buf_free(&x.out);
}

struct demux_t {
	struct buf	 out[3];
	int		 calls;
};

static void
on_frame(int stream, const char *data, size_t len, void *arg)
{
	struct demux_t *t = arg;

	assert_true(stream >= 0 && stream <= 2);
	buf_append(&t->out[stream], data, len);
	t->calls++;
}

static void
test_demux(void **state)
{
	struct docker_demux	 dm;
	struct demux_t		 t;
	struct buf		 in;
	size_t			 step, off, k;

	(void)state;
	buf_init(&in);
	frame(&in, 1, "hello ");
	frame(&in, 2, "err");
	frame(&in, 1, "");
	frame(&in, 1, "world\n");
	frame(&in, 2, "!\n");
	/* Every split size, down to a byte at a time. */
	for (step = 1; step <= in.len; step++) {
		memset(&t, 0, sizeof t);
		for (k = 0; k < 3; k++)
			buf_init(&t.out[k]);
		docker_demux_init(&dm, on_frame, &t);
		for (off = 0; off < in.len; off += step)
			docker_demux_feed(&dm, in.data + off,
			    in.len - off < step ? in.len - off : step);
		docker_demux_free(&dm);
		assert_string_equal(t.out[1].data, "hello world\n");
		assert_string_equal(t.out[2].data, "err!\n");
		assert_null(t.out[0].data);
		for (k = 0; k < 3; k++)
			buf_free(&t.out[k]);
	}
	buf_free(&in);

	/* A TTY stream has no frames: passed through whole, as stdout. */
	memset(&t, 0, sizeof t);
	docker_demux_init(&dm, on_frame, &t);
	docker_demux_feed(&dm, "plain ", 6);
	docker_demux_feed(&dm, "tty output\n", 11);
	docker_demux_free(&dm);
	assert_string_equal(t.out[1].data, "plain tty output\n");
	buf_free(&t.out[1]);
}

static void
test_strerror(void **state)
{
	(void)state;
	assert_string_equal(docker_strerror(DOCKER_OK), "ok");
	assert_string_equal(docker_strerror(DOCKER_E_NOT_FOUND), "not_found");
	assert_string_equal(docker_strerror(DOCKER_E_CONFLICT), "conflict");
	assert_string_equal(docker_strerror(DOCKER_E_BAD_REQUEST),
	    "bad_request");
	assert_string_equal(docker_strerror(DOCKER_E_SERVER), "server");
	assert_string_equal(docker_strerror(DOCKER_E_PROTOCOL), "protocol");
	assert_string_equal(docker_strerror(DOCKER_E_TIMEOUT), "timeout");
	assert_string_equal(docker_strerror(DOCKER_E_CANCELED), "canceled");
	assert_string_equal(docker_strerror(DOCKER_E_ALREADY), "already");
	assert_string_equal(docker_strerror(-ENOENT), "not_found");
	assert_string_equal(docker_strerror(-99), "unknown");
}

/* ---- wrappers ------------------------------------------------------------- */

struct paths_t {
	pthread_mutex_t	 mu;
	char		*create_body;
};

static void
paths_handler(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	struct paths_t *t = arg;

	if (strncmp(rq->target, "/v1.41/containers/create", 24) == 0) {
		pthread_mutex_lock(&t->mu);
		free(t->create_body);
		t->create_body = xstrdup(rq->body);
		pthread_mutex_unlock(&t->mu);
	}
	fake_reply(c, 200, NULL, "{}");
}

#define FILTER_DEMO	"%7B%22label%22%3A%5B%22io.shipd.stack%3Ddemo%22%5D%7D"

static const char *const expected_paths[] = {
	"GET /v1.41/_ping",
	"GET /v1.41/version",
	"GET /v1.41/info",
	"GET /v1.41/containers/json?all=1&filters=" FILTER_DEMO,
	"GET /v1.41/containers/json?all=0",
	"POST /v1.41/containers/create?name=demo-web-1",
	"POST /v1.41/containers/abc/start",
	"POST /v1.41/containers/abc/stop?t=7",
	"POST /v1.41/containers/abc/stop",
	"POST /v1.41/containers/abc/kill?signal=SIGHUP",
	"POST /v1.41/containers/abc/kill",
	"DELETE /v1.41/containers/abc?force=1&v=0",
	"GET /v1.41/containers/we%20ird%2Fid/json",
	"POST /v1.41/containers/abc/rename?name=demo-web-1-r3",
	"POST /v1.41/containers/abc/wait",
	"GET /v1.41/images/shipd-test/svc:1/json",
	"POST /v1.41/images/create?fromImage=busybox&tag=latest",
	"POST /v1.41/networks/create",
	"GET /v1.41/networks?filters=" FILTER_DEMO,
	"DELETE /v1.41/networks/net1",
	"POST /v1.41/volumes/create",
	"GET /v1.41/volumes?filters=" FILTER_DEMO,
	"GET /v1.41/volumes",
	"DELETE /v1.41/volumes/vol1?force=1",
	"DELETE /v1.41/volumes/vol2",
	"POST /v1.41/containers/abc/exec",
	"GET /v1.41/exec/e1/json",
};

static void
test_wrapper_paths(void **state)
{
	struct slot	 s[nitems(expected_paths)];
	struct paths_t	 t;
	struct fx	 f;
	json_t		*spec = json_pack("{s:s}", "Image", "shipd-test/svc:1");
	size_t		 i, k = 0;

	(void)state;
	memset(&t, 0, sizeof t);
	pthread_mutex_init(&t.mu, NULL);
	fx_init(&f, paths_handler, &t);
	memset(s, 0, sizeof s);
	for (i = 0; i < nitems(s); i++)
		s[i].f = &f;
	f.pending = (int)nitems(s);
	docker_ping(f.d, on_slot, &s[k++]);
	docker_version(f.d, on_slot, &s[k++]);
	docker_info(f.d, on_slot, &s[k++]);
	docker_containers_list(f.d, "io.shipd.stack=demo", 1, on_slot,
	    &s[k++]);
	docker_containers_list(f.d, NULL, 0, on_slot, &s[k++]);
	docker_container_create(f.d, "demo-web-1", spec, on_slot, &s[k++]);
	docker_container_start(f.d, "abc", on_slot, &s[k++]);
	docker_container_stop(f.d, "abc", 7, on_slot, &s[k++]);
	docker_container_stop(f.d, "abc", -1, on_slot, &s[k++]);
	docker_container_kill(f.d, "abc", "SIGHUP", on_slot, &s[k++]);
	docker_container_kill(f.d, "abc", NULL, on_slot, &s[k++]);
	docker_container_remove(f.d, "abc", 1, 0, on_slot, &s[k++]);
	docker_container_inspect(f.d, "we ird/id", on_slot, &s[k++]);
	docker_container_rename(f.d, "abc", "demo-web-1-r3", on_slot,
	    &s[k++]);
	docker_container_wait(f.d, "abc", on_slot, &s[k++]);
	docker_image_inspect(f.d, "shipd-test/svc:1", on_slot, &s[k++]);
	docker_image_pull(f.d, "busybox", NULL, on_slot, &s[k++]);
	docker_network_create(f.d, spec, on_slot, &s[k++]);
	docker_networks_list(f.d, "io.shipd.stack=demo", on_slot, &s[k++]);
	docker_network_remove(f.d, "net1", on_slot, &s[k++]);
	docker_volume_create(f.d, spec, on_slot, &s[k++]);
	docker_volumes_list(f.d, "io.shipd.stack=demo", on_slot, &s[k++]);
	docker_volumes_list(f.d, NULL, on_slot, &s[k++]);
	docker_volume_remove(f.d, "vol1", 1, on_slot, &s[k++]);
	docker_volume_remove(f.d, "vol2", 0, on_slot, &s[k++]);
	docker_exec_create(f.d, "abc", spec, on_slot, &s[k++]);
	docker_exec_inspect(f.d, "e1", on_slot, &s[k++]);
	assert_int_equal(k, nitems(expected_paths));
	json_decref(spec);	/* bodies are serialised at once */
	fx_loop(&f);
	for (i = 0; i < nitems(expected_paths); i++) {
		if (!engine_saw(f.fe, expected_paths[i]))
			fail_msg("engine never saw %s", expected_paths[i]);
		assert_int_equal(s[i].called, 1);
		assert_int_equal(s[i].err, DOCKER_OK);
		slot_free(&s[i]);
	}
	assert_int_equal(fake_engine_nrequests(f.fe), nitems(expected_paths));
	assert_string_equal(t.create_body,
	    "{\"Image\":\"shipd-test/svc:1\"}");
	fake_engine_stop(f.fe);
	free(t.create_body);
	pthread_mutex_destroy(&t.mu);
}

/* ---- event stream ----------------------------------------------------------- */

#define EV(id, ns)	"{\"Type\":\"container\",\"Action\":\"start\"," \
			"\"Actor\":{\"ID\":\"" id "\"},\"time\":1700000000," \
			"\"timeNano\":" ns "}\n"

struct events_t {
	struct fx		*f;
	struct docker_events	*ev;
	pthread_mutex_t		 mu;
	unsigned		 attempts;
	uint64_t		 at[8];		/* when each attempt came */
	char			 trace[256];	/* what the client saw */
};

static void
events_handler(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	static const char chunked[] = "Content-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n";
	struct events_t	*t = arg;
	unsigned	 n;

	pthread_mutex_lock(&t->mu);
	n = ++t->attempts;
	if (n < nitems(t->at))
		t->at[n] = rq->at_ms;
	pthread_mutex_unlock(&t->mu);
	switch (n) {
	case 1:
		/* Two events, then the engine goes away mid-stream. */
		fake_head(c, 200, chunked);
		fake_chunk(c, EV("a", "1700000000000000001"),
		    strlen(EV("a", "1700000000000000001")));
		fake_chunk(c, EV("b", "1700000000123456789"),
		    strlen(EV("b", "1700000000123456789")));
		fake_close_after(c);
		break;
	case 2:
	case 3:
		fake_reply(c, 500, NULL, "{\"message\":\"engine starting\"}");
		break;
	default:
		/* since= is inclusive, so b comes again before c. */
		fake_head(c, 200, chunked);
		fake_chunk(c, EV("b", "1700000000123456789"),
		    strlen(EV("b", "1700000000123456789")));
		fake_chunk(c, EV("c", "1700000000200000000"),
		    strlen(EV("c", "1700000000200000000")));
		fake_wait_hangup(c);
		fake_close_after(c);
		break;
	}
}

static void
on_event(json_t *ev, void *arg)
{
	struct events_t	*t = arg;
	const char	*id = json_string_value(json_object_get(
	    json_object_get(ev, "Actor"), "ID"));

	snprintf(t->trace + strlen(t->trace), sizeof t->trace -
	    strlen(t->trace), "E%s ", id ? id : "?");
	if (id != NULL && strcmp(id, "c") == 0) {
		docker_events_stop(t->ev);	/* from its own callback */
		docker_events_stop(t->ev);
		fx_close(t->f);
	}
}

static void
on_ev_state(int up, void *arg)
{
	struct events_t *t = arg;

	snprintf(t->trace + strlen(t->trace), sizeof t->trace -
	    strlen(t->trace), "S%d ", up);
}

static void
test_events_reconnect(void **state)
{
	struct events_t	 t;
	struct fx	 f;
	char		*r[5];
	unsigned	 i;

	(void)state;
	memset(&t, 0, sizeof t);
	pthread_mutex_init(&t.mu, NULL);
	fx_init(&f, events_handler, &t);
	t.f = &f;
	assert_int_equal(docker_events_start(f.d, "io.shipd.stack", on_event,
	    on_ev_state, &t, &t.ev), DOCKER_OK);
	fx_loop(&f);
	print_message("trace: %s\n", t.trace);
	assert_string_equal(t.trace, "S1 Ea Eb S0 S1 Ec ");
	assert_int_equal(fake_engine_nrequests(f.fe), 4);
	for (i = 1; i <= 4; i++) {
		r[i] = fake_engine_request(f.fe, i);
		print_message("%s\n", r[i]);
		assert_non_null(strstr(r[i], "GET /v1.41/events?filters="
		    "%7B%22label%22%3A%5B%22io.shipd.stack%22%5D%7D"));
	}
	/* The first connect needs no since; later ones resume after the
	 * last event seen, to the nanosecond. */
	assert_null(strstr(r[1], "since="));
	for (i = 2; i <= 4; i++)
		assert_non_null(strstr(r[i], "&since=1700000000.123456789"));
	/* Backoff after the loss: 100 ms, then 200, then 400; no spinning. */
	print_message("retries after %llu, %llu, %llu ms\n",
	    (unsigned long long)(t.at[2] - t.at[1]),
	    (unsigned long long)(t.at[3] - t.at[2]),
	    (unsigned long long)(t.at[4] - t.at[3]));
	assert_true(t.at[2] - t.at[1] >= 95);
	assert_true(t.at[3] - t.at[2] >= 195);
	assert_true(t.at[4] - t.at[3] >= 395);
	assert_true(t.at[4] - t.at[1] < 2000);
	for (i = 1; i <= 4; i++)
		free(r[i]);
	fake_engine_stop(f.fe);
	pthread_mutex_destroy(&t.mu);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_status_codes),
		cmocka_unit_test(test_errno_space),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_negotiate),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_cancel_in_callback),
		cmocka_unit_test(test_stream_split_lines),
		cmocka_unit_test(test_cancel_stream_in_line),
		cmocka_unit_test(test_close_in_flight),
		cmocka_unit_test(test_close_in_callback),
		cmocka_unit_test(test_pull),
		cmocka_unit_test(test_exec_start),
		cmocka_unit_test(test_demux),
		cmocka_unit_test(test_wrapper_paths),
		cmocka_unit_test(test_events_reconnect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
