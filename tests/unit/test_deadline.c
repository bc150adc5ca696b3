/*
 * Engine call deadlines against a fake engine that stalls: a call that
 * gets no answer fails once with -ETIMEDOUT at about its deadline and a
 * message naming it; a stop's deadline is its t plus the ordinary one; a
 * caller can change a call's deadline after submitting it; a stream's
 * headers are due like a reply, then only its idle deadline runs, which a
 * pause by us stops; the event stream, silent by nature, finds a stalled
 * engine by its /_ping; the test hook divides every deadline.
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
#include <cmocka.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND	0
#endif

#include "engine/docker.h"
#include "helper_fakeengine.h"
#include "util.h"

#define WATCHDOG_MS	15000
/*
 * How late a deadline may be seen: the loop only notices it when it gets
 * the CPU, and under valgrind on a loaded machine that can take seconds.
 * Still well inside the watchdog, so that a deadline that never fires
 * fails.  Being early fails everywhere.
 */
#define LATE_MS		(RUNNING_ON_VALGRIND ? 8000 : 1500)
/* A stream's headers deadline in test_stream_idle: the fake engine sends
 * them at once, but the client must get to read them in time. */
#define HEAD_MS		(RUNNING_ON_VALGRIND ? 3000 : 300)
#ifndef PAUSABLE_GAP_MS
#define PAUSABLE_GAP_MS	100
#endif

struct fx {
	uv_loop_t		 loop;
	struct docker		*d;
	struct fake_engine	*fe;
	uv_timer_t		 watchdog;
	int			 closed;
	int			 timed_out;
	int			 pending;	/* slots to fill before closing */
	uint64_t		 t0;
};

struct slot {
	struct fx		*f;
	struct docker_req	*r;
	int			 called;
	int			 err;
	char			 msg[512];
	uint64_t		 t0;		/* its submit, or 0: f->t0 */
	uint64_t		 after_ms;	/* since t0 */
	char			 lines[128];
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
	struct fx	*f = t->data;
	unsigned	 i, n = fake_engine_nrequests(f->fe);
	char		*rq;

	/* What the engine saw, to tell a lost request from a lost reply. */
	print_message("watchdog after %llu ms; the engine saw %u requests\n",
	    (unsigned long long)(now_ms() - f->t0), n);
	for (i = 1; i <= n; i++) {
		rq = fake_engine_request(f->fe, i);
		print_message("  %s\n", rq ? rq : "?");
		free(rq);
	}
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
	f->t0 = now_ms();
}

struct warm {
	uv_loop_t	*loop;
	int		 done;
};

static void
on_warm(const struct docker_result *res, void *arg)
{
	struct warm *w = arg;

	assert_int_equal(res->err, 0);
	w->done = 1;
	/*
	 * Stop the loop here rather than test a flag after each
	 * uv_run(UV_RUN_ONCE): this runs from the timer phase when the
	 * whole call is done within one curl_multi_socket_action() from
	 * curl's timer (under valgrind the engine's reply can arrive while
	 * curl is still sending), and UV_RUN_ONCE would then block in its
	 * I/O phase until the next timer, the watchdog.
	 */
	uv_stop(w->loop);
}

/* One answered call first, so that timings leave out the client's and
 * the fake engine's start (long under valgrind). */
static void
fx_warm(struct fx *f)
{
	struct warm w = { &f->loop, 0 };

	assert_non_null(docker_ping(f->d, on_warm, &w));
	uv_run(&f->loop, UV_RUN_DEFAULT);
	/* Ended by on_warm(), or by the watchdog closing the client. */
	assert_true(w.done);
	assert_false(f->timed_out);
	f->t0 = now_ms();
}

static void
fx_run(struct fx *f)
{
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_false(f->timed_out);
	assert_int_equal(f->closed, 1);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	fake_engine_stop(f->fe);
}

static void
on_slot(const struct docker_result *res, void *arg)
{
	struct slot *s = arg;

	s->called++;
	s->err = res->err;
	snprintf(s->msg, sizeof s->msg, "%s", res->message);
	s->after_ms = now_ms() - (s->t0 ? s->t0 : s->f->t0);
	print_message("after %llu ms: %s\n", (unsigned long long)s->after_ms,
	    s->msg);
	if (--s->f->pending == 0)
		fx_close(s->f);
}

static void
on_line(const char *line, size_t len, void *arg)
{
	struct slot *s = arg;

	snprintf(s->lines + strlen(s->lines), sizeof s->lines -
	    strlen(s->lines), "%.*s|", (int)len, line);
}

/* Whether t is about want ms: not early, and well before a hang. */
static void
assert_about(uint64_t t, uint64_t want)
{
	assert_true(t + 10 >= want);
	assert_true(t < want + LATE_MS);
}

/*
 * /_ping answers; /trickle sends its headers and one line, then nothing;
 * /pausable sends a line, another 100 ms later, then ends; everything
 * else is held until the client hangs up.
 */
static void
stall_handler(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	static const char chunked[] = "Content-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n";
	unsigned *pings = arg;

	if (strcmp(rq->target, "/_ping") == 0 ||
	    strcmp(rq->target, "/v1.41/_ping") == 0) {
		/* With a counter: the first answers, the engine then stalls. */
		if (pings == NULL || __atomic_add_fetch(pings, 1,
		    __ATOMIC_SEQ_CST) == 1) {
			fake_reply(c, 200, "Api-Version: 1.41\r\n", "OK");
			return;
		}
	} else if (strncmp(rq->target, "/v1.41/trickle", 14) == 0) {
		fake_head(c, 200, chunked);
		fake_chunk(c, "{\"n\":1}\n", 8);
	} else if (strcmp(rq->target, "/v1.41/pausable") == 0) {
		fake_head(c, 200, chunked);
		fake_chunk(c, "{\"n\":1}\n", 8);
		if (fake_sleep(c, PAUSABLE_GAP_MS) < 0)
			return;
		fake_chunk(c, "{\"n\":2}\n", 8);
		fake_chunk(c, NULL, 0);
		return;
	} else if (strncmp(rq->target, "/v1.41/events", 13) == 0)
		fake_head(c, 200, chunked);
	fake_wait_hangup(c);
	fake_close_after(c);
}

/* ---- calls that get no answer ------------------------------------------- */

static void
test_stalled_calls(void **state)
{
	struct slot	 s[5];
	struct fx	 f;
	int		 i;

	(void)state;
	fx_init(&f, stall_handler, NULL);
	fx_warm(&f);
	memset(s, 0, sizeof s);
	for (i = 0; i < 5; i++)
		s[i].f = &f;
	f.pending = 5;
	docker_set_timeout(f.d, 300);
	/* Each timed from its own submit: under valgrind, a call's first
	 * submit can take a while. */
	s[0].t0 = now_ms();
	s[0].r = docker_container_inspect(f.d, "web-1", on_slot, &s[0]);
	/* The engine's t=1, then the ordinary 300 ms. */
	s[1].t0 = now_ms();
	s[1].r = docker_container_stop(f.d, "web-1", 1, on_slot, &s[1]);
	/* A caller's own deadline, set after the submit. */
	s[2].t0 = now_ms();
	s[2].r = docker_containers_list(f.d, "io.shipd.stack=dl", 1, on_slot,
	    &s[2]);
	docker_req_set_timeout(s[2].r, 600);
	/* A stream whose headers never come. */
	s[3].t0 = now_ms();
	s[3].r = docker_stream(f.d, "GET", "/containers/web-1/logs?follow=1",
	    NULL, on_line, NULL, on_slot, &s[3]);
	/* A removal has files to delete: four ordinary deadlines. */
	s[4].t0 = now_ms();
	s[4].r = docker_container_remove(f.d, "web-1", 1, 1, on_slot, &s[4]);
	for (i = 0; i < 5; i++) {
		assert_non_null(s[i].r);
		assert_int_equal(s[i].called, 0);	/* never from inside */
	}
	fx_run(&f);
	for (i = 0; i < 5; i++) {
		assert_int_equal(s[i].called, 1);
		assert_int_equal(s[i].err, -ETIMEDOUT);
	}
	assert_string_equal(s[0].msg, "engine did not answer "
	    "GET /containers/web-1/json within 300ms");
	assert_about(s[0].after_ms, 300);
	assert_string_equal(s[1].msg, "engine did not answer "
	    "POST /containers/web-1/stop within 1.3s");
	assert_about(s[1].after_ms, 1300);
	assert_string_equal(s[2].msg, "engine did not answer "
	    "GET /containers/json within 600ms");
	assert_about(s[2].after_ms, 600);
	assert_string_equal(s[3].msg, "engine did not answer "
	    "GET /containers/web-1/logs within 300ms");
	assert_about(s[3].after_ms, 300);
	assert_string_equal(s[4].msg, "engine did not answer "
	    "DELETE /containers/web-1 within 1.2s");
	assert_about(s[4].after_ms, 1200);
}

/* The default: an ordinary call gives up after DOCKER_TIMEOUT_MS, here
 * divided by the test hook (30 s / 100). */
static void
test_default_scaled(void **state)
{
	struct slot	 s[2];
	struct fx	 f;

	(void)state;
	setenv("SHIPD_TEST_ENGINE_DEADLINE_DIV", "100", 1);
	fx_init(&f, stall_handler, NULL);
	unsetenv("SHIPD_TEST_ENGINE_DEADLINE_DIV");
	fx_warm(&f);
	memset(s, 0, sizeof s);
	s[0].f = s[1].f = &f;
	f.pending = 2;
	s[0].t0 = now_ms();
	docker_container_create(f.d, "web-1", NULL, on_slot, &s[0]);
	/* t=10: (10 s + 30 s) / 100 */
	s[1].t0 = now_ms();
	docker_container_stop(f.d, "web-1", 10, on_slot, &s[1]);
	fx_run(&f);
	assert_int_equal(s[0].err, -ETIMEDOUT);
	assert_string_equal(s[0].msg, "engine did not answer "
	    "POST /containers/create within 300ms");
	assert_about(s[0].after_ms, DOCKER_TIMEOUT_MS / 100);
	assert_int_equal(s[1].err, -ETIMEDOUT);
	assert_about(s[1].after_ms, 400);
}

/* ---- streams: idle, not idle while paused, none where silence is normal - */

struct streams {
	struct fx	*f;
	struct slot	 idle, quiet, paused;
	uv_timer_t	 t;
	int		 phase;
};

static void
on_streams_timer(uv_timer_t *t)
{
	struct streams *x = t->data;

	if (x->phase++ == 0) {
		/* Paused past its idle deadline: must still be alive. */
		docker_stream_pause(x->paused.r, 0);
		/* Quiet past its headers' deadline: still open. */
		uv_timer_start(&x->t, on_streams_timer, 200, 0);
		return;
	}
	assert_int_equal(x->quiet.called, 0);
	docker_cancel(x->quiet.r);
	uv_close((uv_handle_t *)&x->t, NULL);
	if (--x->f->pending == 0)
		fx_close(x->f);
}

static void
on_paused_line(const char *line, size_t len, void *arg)
{
	struct streams *x = arg;

	on_line(line, len, &x->paused);
	if (strcmp(x->paused.lines, "{\"n\":1}|") == 0)
		docker_stream_pause(x->paused.r, 1);
}

static void
on_paused_done(const struct docker_result *res, void *arg)
{
	struct streams *x = arg;

	on_slot(res, &x->paused);
}

static void
test_stream_idle(void **state)
{
	struct docker_opts	 o;
	struct streams		 x;
	struct fx		 f;

	(void)state;
	fx_init(&f, stall_handler, NULL);
	fx_warm(&f);
	memset(&x, 0, sizeof x);
	x.f = x.idle.f = x.quiet.f = x.paused.f = &f;
	docker_set_timeout(f.d, HEAD_MS);
	f.pending = 3;		/* idle, paused, the timer's end */
	memset(&o, 0, sizeof o);
	o.method = "GET";
	o.path = "/trickle?which=idle";
	o.flags = DOCKER_F_STREAM;
	o.idle_ms = 400;
	o.line = on_line;
	o.done = on_slot;
	o.arg = &x.idle;
	x.idle.r = docker_submit(f.d, &o);
	/* Like logs -f: headers due, then silence is fine. */
	x.quiet.r = docker_stream(f.d, "GET", "/trickle?which=quiet", NULL,
	    on_line, NULL, on_slot, &x.quiet);
	o.path = "/pausable";
	o.line = on_paused_line;
	o.done = on_paused_done;
	o.arg = &x;
	x.paused.r = docker_submit(f.d, &o);
	uv_timer_init(&f.loop, &x.t);
	x.t.data = &x;
	/* Past the headers' deadline, and the paused stream's idle one. */
	uv_timer_start(&x.t, on_streams_timer, HEAD_MS + 700, 0);
	fx_run(&f);
	assert_int_equal(x.idle.called, 1);
	assert_int_equal(x.idle.err, -ETIMEDOUT);
	assert_string_equal(x.idle.msg, "engine sent nothing on "
	    "GET /trickle for 400ms");
	assert_string_equal(x.idle.lines, "{\"n\":1}|");
	assert_about(x.idle.after_ms, 400);
	assert_int_equal(x.quiet.called, 0);		/* canceled */
	assert_string_equal(x.quiet.lines, "{\"n\":1}|");
	assert_int_equal(x.paused.called, 1);
	assert_int_equal(x.paused.err, 0);
	assert_string_equal(x.paused.lines, "{\"n\":1}|{\"n\":2}|");
	assert_true(x.paused.after_ms >= HEAD_MS + 700);
}

/* ---- the event stream: a stalled engine found by its ping ---------------- */

struct evx {
	struct fx		*f;
	struct docker_events	*ev;
	char			 trace[64];
	uint64_t		 lost_ms;
};

static void
on_event(json_t *e, void *arg)
{
	(void)e;
	(void)arg;
}

static void
on_ev_state(int up, void *arg)
{
	struct evx *x = arg;

	snprintf(x->trace + strlen(x->trace), sizeof x->trace -
	    strlen(x->trace), "S%d ", up);
	if (!up)
		x->lost_ms = now_ms() - x->f->t0;
	/* Connected, lost, then the reconnect's headers never come: the
	 * stream is not reported up again; stop once it has been lost. */
	if (!up) {
		docker_events_stop(x->ev);
		fx_close(x->f);
	}
}

static void
test_events_liveness(void **state)
{
	unsigned	 pings = 0;
	struct evx	 x;
	struct fx	 f;

	(void)state;
	/* Ping every 300 ms, each due within 300 ms. */
	setenv("SHIPD_TEST_ENGINE_DEADLINE_DIV", "100", 1);
	fx_init(&f, stall_handler, &pings);
	unsetenv("SHIPD_TEST_ENGINE_DEADLINE_DIV");
	memset(&x, 0, sizeof x);
	x.f = &f;
	assert_int_equal(docker_events_start(f.d, NULL, on_event, on_ev_state,
	    &x, &x.ev), 0);
	fx_run(&f);
	print_message("trace %s, lost after %llu ms, %u pings\n", x.trace,
	    (unsigned long long)x.lost_ms, pings);
	assert_string_equal(x.trace, "S1 S0 ");
	/* Ping 1 at 300 ms answers, ping 2 at 600 ms is due by 900 ms. */
	assert_int_equal(pings, 2);
	assert_about(x.lost_ms, 900);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stalled_calls),
		cmocka_unit_test(test_default_scaled),
		cmocka_unit_test(test_stream_idle),
		cmocka_unit_test(test_events_liveness),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
