/*
 * execio_parse_head: the engine's answer to the hijacked exec start, read
 * from a raw connection: whole, in pieces down to a byte at a time, with
 * the stream's first bytes behind it, refused, and what cannot be HTTP.
 * Then execio against the scripted fake engine: stdin through the taken
 * over connection and its end as a half-close, stdout and stderr apart,
 * a terminal's raw stream, refusals as -errno with the engine's words.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/shipd.h"
#include "engine/docker.h"
#include "engine/execio.h"
#include "helper_fakeengine.h"
#include "util.h"

#define WATCHDOG_MS	20000

#define UPGRADE	"HTTP/1.1 101 UPGRADED\r\nContent-Type: " \
	"application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\n" \
	"Upgrade: tcp\r\n\r\n"

static void
test_upgrade(void **state)
{
	const char	*s = UPGRADE "\x01\0\0\0\0\0\0\x03hi\n";
	size_t		 n = strlen(UPGRADE) + 11, hl = 0;
	long		 st = 0;

	(void)state;
	assert_int_equal(execio_parse_head(s, n, &st, &hl), 0);
	assert_int_equal(st, 101);
	/* The stream's first frame stays behind the head, untouched. */
	assert_int_equal(hl, strlen(UPGRADE));
	assert_memory_equal(s + hl, "\x01\0\0\0\0\0\0\x03hi\n", 11);
}

static void
test_pieces(void **state)
{
	const char	*s = UPGRADE;
	size_t		 i, hl;
	long		 st;

	(void)state;
	/* Every prefix is incomplete until the blank line is whole. */
	for (i = 0; i < strlen(s); i++)
		assert_int_equal(execio_parse_head(s, i, &st, &hl), 1);
	assert_int_equal(execio_parse_head(s, strlen(s), &st, &hl), 0);
	assert_int_equal(hl, strlen(s));
}

static void
test_refused(void **state)
{
	const char	*s = "HTTP/1.1 404 Not Found\r\nContent-Length: 31\r\n"
	    "\r\n{\"message\":\"No such exec: x\"}\n";
	size_t		 hl;
	long		 st;

	(void)state;
	assert_int_equal(execio_parse_head(s, strlen(s), &st, &hl), 0);
	assert_int_equal(st, 404);
	assert_string_equal(s + hl, "{\"message\":\"No such exec: x\"}\n");
	/* An old engine's 200 to a hijack is a stream too, and HTTP/1.0. */
	assert_int_equal(execio_parse_head("HTTP/1.0 200 OK\r\n\r\n", 19,
	    &st, &hl), 0);
	assert_int_equal(st, 200);
}

static void
test_not_http(void **state)
{
	size_t	hl;
	long	st;

	(void)state;
	/* Told at the first byte that differs, not at the blank line. */
	assert_int_equal(execio_parse_head("X", 1, &st, &hl), -EPROTO);
	assert_int_equal(execio_parse_head("HTTP/2 101", 10, &st, &hl),
	    -EPROTO);
	assert_int_equal(execio_parse_head("\x01\0\0\0", 4, &st, &hl),
	    -EPROTO);
	assert_int_equal(execio_parse_head("HTTP/1.1 1x1 Up\r\n\r\n", 19, &st,
	    &hl), -EPROTO);
	assert_int_equal(execio_parse_head("HTTP/1.1 99 Up\r\n\r\n", 18, &st,
	    &hl), -EPROTO);
	assert_int_equal(execio_parse_head("HTTP/1.1 1011 Up\r\n\r\n", 20, &st,
	    &hl), -EPROTO);
	assert_int_equal(execio_parse_head("HTTP/1.1  101\r\n\r\n", 17, &st,
	    &hl), -EPROTO);
	/* No status at all: nothing read past the bytes given (the fuzzer
	 * found strtol() skipping blanks beyond them). */
	assert_int_equal(execio_parse_head("HTTP/1.1 \r\n\r\n\n", 14, &st,
	    &hl), -EPROTO);
}

/* ---- the fake engine ---------------------------------------------------- */

static void
mux(struct fake_conn *c, int stream, const char *p, size_t n)
{
	unsigned char h[8] = { (unsigned char)stream, 0, 0, 0,
	    (unsigned char)(n >> 24), (unsigned char)(n >> 16),
	    (unsigned char)(n >> 8), (unsigned char)n };

	fake_send(c, h, 8);
	fake_send(c, p, n);
}

/* "cat": stdin back as stdout frames; at its end "eof" on stderr, exit 5.
 * "tty": raw bytes, no frames.  "gone": the start is refused. */
static void
handler(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	const char	*t = rq->target;
	char		 buf[4096];
	ssize_t		 n;

	(void)arg;
	if (strstr(t, "/containers/stopped/exec") != NULL)
		fake_reply(c, 409, NULL, "{\"message\":\"Container stopped "
		    "is not running\"}");
	else if (strstr(t, "/containers/") != NULL && strstr(t, "/exec"))
		fake_reply(c, 201, NULL, strstr(t, "/tty/") ?
		    "{\"Id\":\"e-tty\"}" : strstr(t, "/gone/") ?
		    "{\"Id\":\"e-gone\"}" : "{\"Id\":\"e-cat\"}");
	else if (strstr(t, "/exec/e-gone/start") != NULL)
		fake_reply(c, 404, NULL, "{\"message\":\"No such exec "
		    "instance: e-gone\"}");
	else if (strstr(t, "/start") != NULL) {
		fake_head(c, 101, "Content-Type: application/vnd.docker."
		    "raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n");
		fake_close_after(c);
		if (strstr(t, "e-tty") != NULL) {
			fake_send(c, "raw\x01\0\0\0bytes", 12);
			return;
		}
		while ((n = fake_recv(c, buf, sizeof buf)) > 0)
			mux(c, 1, buf, (size_t)n);
		if (n == 0)
			mux(c, 2, "eof\n", 4);
	} else if (strstr(t, "/json") != NULL)
		fake_reply(c, 200, NULL, "{\"Running\":false,\"ExitCode\":5}");
	else
		fake_reply(c, 404, NULL, "{\"message\":\"unscripted\"}");
}

/* ---- the loop side ------------------------------------------------------ */

struct fx {
	uv_loop_t		 loop;
	struct shipd		 sd;
	struct fake_engine	*fe;
	uv_timer_t		 watchdog;
	struct execio		*x;
	bool			 tty;
	int			 started, done, err, code;
	char			 msg[256];
	struct buf		 out, errs;
};

static void
on_closed(void *arg)
{
	struct fx *f = arg;

	f->sd.docker = NULL;
	uv_close((uv_handle_t *)&f->watchdog, NULL);
}

static void
on_watchdog(uv_timer_t *t)
{
	struct fx *f = t->data;

	execio_cancel(f->x);
	f->x = NULL;
	docker_close(f->sd.docker, on_closed, f);
}

static void
x_started(void *arg)
{
	struct fx *f = arg;

	f->started++;
	if (f->tty)
		return;
	/* Two writes, then the end of stdin: a half-close, which the
	 * engine passes on as the process's EOF. */
	assert_true(execio_write(f->x, "hello ", 6));
	assert_true(execio_write(f->x, "world\n", 6));
	execio_close_stdin(f->x);
}

static void
x_output(int chan, const char *p, size_t n, void *arg)
{
	struct fx *f = arg;

	buf_append(chan == 2 ? &f->errs : &f->out, p, n);
}

static void
x_done(int err, const char *msg, int code, void *arg)
{
	struct fx *f = arg;

	f->done++;
	f->err = err;
	f->code = code;
	snprintf(f->msg, sizeof f->msg, "%s", msg);
	f->x = NULL;
	docker_close(f->sd.docker, on_closed, f);
}

static const struct execio_ops x_ops = { x_started, x_output, NULL, x_done };

static void
run(struct fx *f, const char *container, bool tty)
{
	struct execio_opts	o;
	json_t			*argv = json_pack("[s]", "cat");

	memset(f, 0, sizeof *f);
	buf_init(&f->out);
	buf_init(&f->errs);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(fake_engine_start(handler, NULL, &f->fe), 0);
	f->sd.loop = &f->loop;
	assert_int_equal(docker_new(&f->loop, fake_engine_path(f->fe),
	    &f->sd.docker), 0);
	uv_timer_init(&f->loop, &f->watchdog);
	f->watchdog.data = f;
	uv_timer_start(&f->watchdog, on_watchdog, WATCHDOG_MS, 0);
	memset(&o, 0, sizeof o);
	o.container = container;
	o.argv = argv;
	o.in = !tty;
	o.tty = f->tty = tty;
	f->x = execio_start(&f->sd, &o, &x_ops, f);
	json_decref(argv);
	/* Never a callback from inside execio_start(). */
	assert_int_equal(f->started + f->done, 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	fake_engine_stop(f->fe);
	buf_append(&f->out, "", 1);
	buf_append(&f->errs, "", 1);
}

static void
fx_free(struct fx *f)
{
	buf_free(&f->out);
	buf_free(&f->errs);
}

static void
test_stdin(void **state)
{
	struct fx f;

	(void)state;
	run(&f, "web", false);
	assert_int_equal(f.done, 1);
	assert_int_equal(f.started, 1);
	assert_int_equal(f.err, 0);
	assert_int_equal(f.code, 5);
	/* Without the half-close the fake's cat never ends: the watchdog. */
	assert_string_equal(f.out.data, "hello world\n");
	assert_string_equal(f.errs.data, "eof\n");
	fx_free(&f);
}

static void
test_tty(void **state)
{
	struct fx f;

	(void)state;
	run(&f, "tty", true);
	assert_int_equal(f.done, 1);
	assert_int_equal(f.code, 5);
	/* A terminal's stream has no frames: bytes as they came. */
	assert_int_equal(f.out.len, 13);
	assert_memory_equal(f.out.data, "raw\x01\0\0\0bytes", 12);
	assert_string_equal(f.errs.data, "");
	fx_free(&f);
}

static void
test_engine_refuses(void **state)
{
	struct fx f;

	(void)state;
	run(&f, "stopped", false);
	assert_int_equal(f.done, 1);
	assert_int_equal(f.started, 0);
	assert_int_equal(f.err, -EEXIST);
	assert_string_equal(f.msg, "Container stopped is not running");
	fx_free(&f);
	run(&f, "gone", false);
	assert_int_equal(f.done, 1);
	assert_int_equal(f.started, 0);
	assert_int_equal(f.err, -ENOENT);
	assert_string_equal(f.msg, "No such exec instance: e-gone");
	fx_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upgrade),
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_not_http),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_tty),
		cmocka_unit_test(test_engine_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
