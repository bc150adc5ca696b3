/*
 * The exec helper (engine/exec.c) and the backup hook built on it, against
 * the scripted fake engine: exit codes, the output's tail, engine errors as
 * -errno with the engine's message, timeouts, cancel, and the engine
 * client closing under a running exec.  No callback may come from inside
 * exec_run().
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

#include "backup/backup_int.h"
#include "core/shipd.h"
#include "engine/docker.h"
#include "engine/exec.h"
#include "helper_fakeengine.h"
#include "util.h"

#define WATCHDOG_MS	20000
#define BIG_LEN		10000

/* ---- the fake engine's script ------------------------------------------- */

struct script {
	pthread_mutex_t	 mu;
	unsigned	 slow_inspects;	/* of x-slowexit */
	char		*create_body;	/* the last exec create's */
};

/* "/v1.41/<pre><id><suf>": copy id out; 1 if the target has that shape. */
static int
route(const char *t, const char *pre, const char *suf, char *id, size_t n)
{
	size_t	 lp = strlen("/v1.41/") + strlen(pre), ls = strlen(suf);
	size_t	 lt = strlen(t);

	if (lt <= lp + ls || strncmp(t, "/v1.41/", 7) != 0 ||
	    strncmp(t + 7, pre, strlen(pre)) != 0 ||
	    strcmp(t + lt - ls, suf) != 0 || lt - lp - ls >= n)
		return 0;
	memcpy(id, t + lp, lt - lp - ls);
	id[lt - lp - ls] = '\0';
	return strchr(id, '/') == NULL;
}

static void
frame(struct buf *b, int stream, const char *s, size_t n)
{
	unsigned char h[8] = { (unsigned char)stream, 0, 0, 0 };

	h[4] = (unsigned char)(n >> 24);
	h[5] = (unsigned char)(n >> 16);
	h[6] = (unsigned char)(n >> 8);
	h[7] = (unsigned char)n;
	buf_append(b, h, 8);
	buf_append(b, s, n);
}

/* The bytes "big" writes: a pattern whose tail is easy to check. */
static char
big_byte(size_t i)
{
	return (char)('a' + i % 26);
}

static void
on_create(struct fake_conn *c, const struct fake_request *rq,
    struct script *s, const char *id)
{
	char body[128];

	pthread_mutex_lock(&s->mu);
	free(s->create_body);
	s->create_body = xstrdup(rq->body);
	pthread_mutex_unlock(&s->mu);
	if (strcmp(id, "missing") == 0)
		fake_reply(c, 404, NULL,
		    "{\"message\":\"No such container: missing\"}");
	else if (strcmp(id, "stopped") == 0)
		fake_reply(c, 409, NULL,
		    "{\"message\":\"Container stopped is not running\"}");
	else if (strcmp(id, "noid") == 0)
		fake_reply(c, 201, NULL, "{}");
	else {
		snprintf(body, sizeof body, "{\"Id\":\"x-%s\"}", id);
		fake_reply(c, 201, NULL, body);
	}
}

static void
on_start(struct fake_conn *c, const char *id)
{
	struct buf	 b;
	char		*big;
	size_t		 i;

	if (strcmp(id, "x-startfail") == 0) {
		fake_reply(c, 500, NULL, "{\"message\":\"exec start failed\"}");
		return;
	}
	/* The engine takes the connection over and writes until the
	 * process ends, then closes. */
	fake_head(c, 200, "Content-Type: application/vnd.docker.raw-stream"
	    "\r\n");
	fake_close_after(c);
	if (strcmp(id, "x-hang") == 0) {
		fake_wait_hangup(c);
		return;
	}
	buf_init(&b);
	if (strcmp(id, "x-ok") == 0) {
		frame(&b, 1, "hello\n", 6);
		frame(&b, 2, "warn\n", 5);
	} else if (strcmp(id, "x-fail") == 0)
		frame(&b, 2, "bad thing\n", 10);
	else if (strcmp(id, "x-big") == 0) {
		big = xcalloc(1, BIG_LEN);
		for (i = 0; i < BIG_LEN; i++)
			big[i] = big_byte(i);
		for (i = 0; i < BIG_LEN; i += 1000)
			frame(&b, 1 + (int)(i / 1000) % 2, big + i, 1000);
		free(big);
	} else
		frame(&b, 1, "slow\n", 5);
	fake_send(c, b.data, b.len);
	buf_free(&b);
}

static void
on_inspect(struct fake_conn *c, struct script *s, const char *id)
{
	unsigned n;

	if (strcmp(id, "x-fail") == 0)
		fake_reply(c, 200, NULL, "{\"Running\":false,\"ExitCode\":3}");
	else if (strcmp(id, "x-noexit") == 0)
		fake_reply(c, 200, NULL,
		    "{\"Running\":false,\"ExitCode\":null}");
	else if (strcmp(id, "x-slowexit") == 0) {
		pthread_mutex_lock(&s->mu);
		n = ++s->slow_inspects;
		pthread_mutex_unlock(&s->mu);
		/* The output has ended before the engine records the exit. */
		fake_reply(c, 200, NULL, n <= 3 ?
		    "{\"Running\":true,\"ExitCode\":null}" :
		    "{\"Running\":false,\"ExitCode\":7}");
	} else
		fake_reply(c, 200, NULL, "{\"Running\":false,\"ExitCode\":0}");
}

static void
handler(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	struct script	*s = arg;
	char		 id[64];

	if (strcmp(rq->method, "POST") == 0 &&
	    route(rq->target, "containers/", "/exec", id, sizeof id))
		on_create(c, rq, s, id);
	else if (strcmp(rq->method, "POST") == 0 &&
	    route(rq->target, "exec/", "/start", id, sizeof id))
		on_start(c, id);
	else if (strcmp(rq->method, "GET") == 0 &&
	    route(rq->target, "exec/", "/json", id, sizeof id))
		on_inspect(c, s, id);
	else
		fake_reply(c, 404, NULL, "{\"message\":\"unscripted\"}");
}

/* ---- the loop side ----------------------------------------------------- */

struct fx {
	uv_loop_t		 loop;
	struct shipd		 sd;
	struct fake_engine	*fe;
	struct script		 script;
	uv_timer_t		 watchdog;
	int			 closed;
	int			 timed_out;
	int			 pending;	/* results to wait for */
	int			 keep_body;	/* the test frees create_body */
};

struct run {
	struct fx	*f;
	struct exec	*x;
	int		 returned;	/* exec_run() had returned */
	int		 called;
	int		 err;
	int		 code;
	char		 msg[256];
	struct buf	 out;
	uint64_t	 t0, at;
	int		 cancel_self;	/* exec_cancel() from the callback */
};

static void
on_closed(void *arg)
{
	struct fx *f = arg;

	f->sd.docker = NULL;
	f->closed++;
	uv_close((uv_handle_t *)&f->watchdog, NULL);
}

static void
fx_close(struct fx *f)
{
	if (f->sd.docker != NULL)
		docker_close(f->sd.docker, on_closed, f);
}

static void
on_watchdog(uv_timer_t *t)
{
	struct fx *f = t->data;

	f->timed_out = 1;
	fx_close(f);
}

static void
fx_init(struct fx *f)
{
	memset(f, 0, sizeof *f);
	pthread_mutex_init(&f->script.mu, NULL);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(fake_engine_start(handler, &f->script, &f->fe), 0);
	f->sd.loop = &f->loop;
	assert_int_equal(docker_new(&f->loop, fake_engine_path(f->fe),
	    &f->sd.docker), 0);
	uv_timer_init(&f->loop, &f->watchdog);
	f->watchdog.data = f;
	uv_timer_start(&f->watchdog, on_watchdog, WATCHDOG_MS, 0);
}

/* Run until the client has closed; prove nothing of ours is left. */
static void
fx_run(struct fx *f)
{
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_false(f->timed_out);
	assert_int_equal(f->closed, 1);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	fake_engine_stop(f->fe);
	if (!f->keep_body)
		free(f->script.create_body);
	pthread_mutex_destroy(&f->script.mu);
}

static void
on_result(const struct exec_result *r, void *arg)
{
	struct run *u = arg;

	/* Never from inside exec_run(). */
	assert_true(u->returned);
	u->called++;
	u->err = r->err;
	u->code = r->exit_code;
	snprintf(u->msg, sizeof u->msg, "%s", r->message);
	buf_append(&u->out, r->output, r->len);
	u->at = now_ms();
	if (u->cancel_self)
		exec_cancel(u->x);	/* harmless: it has reported */
	u->x = NULL;
	if (--u->f->pending == 0)
		fx_close(u->f);
}

static void
start(struct fx *f, struct run *u, const char *container, json_t *argv,
    uint64_t timeout_ms)
{
	u->f = f;
	buf_init(&u->out);
	u->t0 = now_ms();
	u->x = exec_run(&f->sd, container, argv, timeout_ms, on_result, u);
	assert_non_null(u->x);
	u->returned = 1;
}

static json_t *
cmd(void)
{
	return json_pack("[s, s, s]", "sh", "-c", "echo hello; echo warn >&2");
}

/* The output as a C string, for comparisons. */
static const char *
out_str(struct run *u)
{
	buf_append(&u->out, "", 1);
	return u->out.data;
}

/* ---- tests --------------------------------------------------------------- */

static void
test_exec_exit_codes(void **state)
{
	struct run	 ok, fail, slow;
	json_t		*argv = cmd();
	struct fx	 f;

	(void)state;
	fx_init(&f);
	memset(&ok, 0, sizeof ok);
	memset(&fail, 0, sizeof fail);
	memset(&slow, 0, sizeof slow);
	f.pending = 3;
	start(&f, &ok, "ok", argv, 0);
	start(&f, &fail, "fail", argv, 0);
	start(&f, &slow, "slowexit", argv, 0);
	json_decref(argv);
	fx_run(&f);

	assert_int_equal(ok.called, 1);
	assert_int_equal(ok.err, 0);
	assert_int_equal(ok.code, 0);
	assert_string_equal(ok.msg, "");
	/* stdout and stderr in arrival order, without frame headers */
	assert_string_equal(out_str(&ok), "hello\nwarn\n");

	assert_int_equal(fail.err, 0);
	assert_int_equal(fail.code, 3);
	assert_string_equal(out_str(&fail), "bad thing\n");

	/* Inspected again until the engine had recorded the exit. */
	assert_int_equal(slow.err, 0);
	assert_int_equal(slow.code, 7);
	assert_int_equal(f.script.slow_inspects, 4);
	assert_string_equal(out_str(&slow), "slow\n");
	buf_free(&ok.out);
	buf_free(&fail.out);
	buf_free(&slow.out);
}

static void
test_exec_spec(void **state)
{
	struct run	 u;
	json_t		*argv = cmd(), *body;
	struct fx	 f;

	(void)state;
	fx_init(&f);
	memset(&u, 0, sizeof u);
	f.pending = 1;
	f.keep_body = 1;
	start(&f, &u, "ok", argv, 0);
	fx_run(&f);
	body = json_loads(f.script.create_body ? f.script.create_body : "",
	    0, NULL);
	free(f.script.create_body);
	assert_non_null(body);
	assert_true(json_is_true(json_object_get(body, "AttachStdout")));
	assert_true(json_is_true(json_object_get(body, "AttachStderr")));
	assert_true(json_equal(json_object_get(body, "Cmd"), argv));
	json_decref(body);
	json_decref(argv);
	buf_free(&u.out);
}

static void
test_exec_output_tail(void **state)
{
	struct run	 u;
	json_t		*argv = cmd();
	struct fx	 f;
	size_t		 i;

	(void)state;
	fx_init(&f);
	memset(&u, 0, sizeof u);
	f.pending = 1;
	start(&f, &u, "big", argv, 0);
	json_decref(argv);
	fx_run(&f);
	assert_int_equal(u.err, 0);
	assert_int_equal(u.out.len, EXEC_OUTPUT_MAX);
	for (i = 0; i < u.out.len; i++)
		if (u.out.data[i] != big_byte(BIG_LEN - EXEC_OUTPUT_MAX + i))
			fail_msg("output byte %zu is not the tail's", i);
	buf_free(&u.out);
}

static const struct err_case {
	const char	*container;
	int		 err;
	const char	*msg;
} err_cases[] = {
	{ "missing", -ENOENT, "No such container: missing" },
	{ "stopped", -EEXIST, "Container stopped is not running" },
	{ "startfail", -EIO, "exec start failed" },
	{ "noid", -EPROTO, "no exec ID" },
	{ "noexit", -EPROTO, "no exit code" },
};

static void
test_exec_engine_errors(void **state)
{
	struct run	 u[nitems(err_cases) + 2];
	json_t		*argv = cmd(), *empty = json_array();
	json_t		*notstr = json_pack("[s, i]", "sh", 1);
	struct fx	 f;
	size_t		 i, n = nitems(err_cases);

	(void)state;
	fx_init(&f);
	memset(u, 0, sizeof u);
	f.pending = (int)nitems(u);
	for (i = 0; i < n; i++)
		start(&f, &u[i], err_cases[i].container, argv, 0);
	/* Refused before any engine call, and still reported later. */
	start(&f, &u[n], "ok", empty, 0);
	start(&f, &u[n + 1], "ok", notstr, 0);
	json_decref(argv);
	json_decref(empty);
	json_decref(notstr);
	fx_run(&f);
	for (i = 0; i < n; i++) {
		print_message("%s: %d \"%s\"\n", err_cases[i].container,
		    u[i].err, u[i].msg);
		assert_int_equal(u[i].called, 1);
		assert_int_equal(u[i].err, err_cases[i].err);
		assert_non_null(strstr(u[i].msg, err_cases[i].msg));
		buf_free(&u[i].out);
	}
	for (i = n; i < n + 2; i++) {
		assert_int_equal(u[i].called, 1);
		assert_int_equal(u[i].err, -EINVAL);
		assert_string_equal(u[i].msg, "no command to run");
		buf_free(&u[i].out);
	}
}

static void
test_exec_timeout(void **state)
{
	struct run	 u;
	json_t		*argv = cmd();
	struct fx	 f;

	(void)state;
	fx_init(&f);
	memset(&u, 0, sizeof u);
	f.pending = 1;
	start(&f, &u, "hang", argv, 200);
	json_decref(argv);
	fx_run(&f);
	assert_int_equal(u.called, 1);
	assert_int_equal(u.err, -ETIMEDOUT);
	assert_non_null(strstr(u.msg, "did not finish within"));
	assert_true(u.at - u.t0 >= 190 && u.at - u.t0 < 5000);
	buf_free(&u.out);
}

/* ---- cancel ------------------------------------------------------------ */

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

#define HANG_START	"POST /v1.41/exec/x-hang/start"

struct cancel_t {
	struct fx	*f;
	struct run	 early, hung, self;
	uv_timer_t	 poll;
};

static void
on_cancel_poll(uv_timer_t *t)
{
	struct cancel_t *c = t->data;

	/* Cancel the hung one once the engine is running it. */
	if (!engine_saw(c->f->fe, HANG_START))
		return;
	uv_close((uv_handle_t *)t, NULL);
	exec_cancel(c->hung.x);
	c->hung.x = NULL;
	if (--c->f->pending == 0)
		fx_close(c->f);
}

static void
test_exec_cancel(void **state)
{
	struct cancel_t	 c;
	json_t		*argv = cmd();
	struct fx	 f;

	(void)state;
	fx_init(&f);
	memset(&c, 0, sizeof c);
	c.f = &f;
	/* the poll's cancel, and the result of "self" */
	f.pending = 2;
	/* At once, before the engine has answered anything. */
	start(&f, &c.early, "ok", argv, 0);
	exec_cancel(c.early.x);
	exec_cancel(NULL);
	/* While its output streams. */
	start(&f, &c.hung, "hang", argv, 0);
	/* From inside its own callback: harmless. */
	c.self.cancel_self = 1;
	start(&f, &c.self, "fail", argv, 0);
	json_decref(argv);
	uv_timer_init(&f.loop, &c.poll);
	c.poll.data = &c;
	uv_timer_start(&c.poll, on_cancel_poll, 5, 5);
	fx_run(&f);
	assert_int_equal(c.early.called, 0);
	assert_int_equal(c.hung.called, 0);
	assert_int_equal(c.self.called, 1);
	assert_int_equal(c.self.code, 3);
	buf_free(&c.early.out);
	buf_free(&c.hung.out);
	buf_free(&c.self.out);
}

/* The client closes (shutdown) under a running exec: no callback, and the
 * owner may still cancel it afterwards. */
struct shut_t {
	struct fx	*f;
	struct run	 u;
	uv_timer_t	 poll;
};

static void
on_shut_closed(void *arg)
{
	struct shut_t *s = arg;

	on_closed(s->f);
}

static void
on_shut_poll(uv_timer_t *t)
{
	struct shut_t *s = t->data;

	if (!engine_saw(s->f->fe, HANG_START))
		return;
	uv_close((uv_handle_t *)t, NULL);
	docker_close(s->f->sd.docker, on_shut_closed, s);
}

static void
on_shut_check(uv_timer_t *t)
{
	struct shut_t *s = t->data;

	if (s->f->sd.docker != NULL)
		return;
	uv_close((uv_handle_t *)t, NULL);
	/* What tasks_free_all() does at shutdown. */
	exec_cancel(s->u.x);
	s->u.x = NULL;
}

static void
test_exec_client_closed(void **state)
{
	struct shut_t	 s;
	uv_timer_t	 check;
	json_t		*argv = cmd();
	struct fx	 f;

	(void)state;
	fx_init(&f);
	memset(&s, 0, sizeof s);
	s.f = &f;
	start(&f, &s.u, "hang", argv, 100000);
	json_decref(argv);
	uv_timer_init(&f.loop, &s.poll);
	s.poll.data = &s;
	uv_timer_start(&s.poll, on_shut_poll, 5, 5);
	uv_timer_init(&f.loop, &check);
	check.data = &s;
	uv_timer_start(&check, on_shut_check, 5, 5);
	fx_run(&f);
	assert_int_equal(s.u.called, 0);
	assert_null(s.u.x);
	buf_free(&s.u.out);
}

/* ---- the backup hook on top ------------------------------------------- */

struct hook_t {
	struct fx	*f;
	int		 code;
	char		 why[128];
	char		 out[128];
	int		 called;
	struct hook	*self;		/* cancelled from its own callback */
};

static void
on_hook(int code, const char *why, const char *out, size_t len, void *arg)
{
	struct hook_t *h = arg;

	h->called++;
	h->code = code;
	snprintf(h->why, sizeof h->why, "%s", why);
	snprintf(h->out, sizeof h->out, "%.*s", (int)len, out);
	hook_cancel(h->self);		/* harmless: it has reported */
	if (--h->f->pending == 0)
		fx_close(h->f);
}

static void
test_hook(void **state)
{
	static char *const argv[] = { "sh", "-c", "dump", NULL };
	struct hook_t	 ok, fail, missing, gone, hung;
	struct hook	*k;
	struct fx	 f;

	(void)state;
	fx_init(&f);
	memset(&ok, 0, sizeof ok);
	memset(&fail, 0, sizeof fail);
	memset(&missing, 0, sizeof missing);
	memset(&gone, 0, sizeof gone);
	memset(&hung, 0, sizeof hung);
	ok.f = fail.f = missing.f = gone.f = hung.f = &f;
	f.pending = 4;
	hook_run(&f.sd, "ok", argv, 0, on_hook, &ok);
	fail.self = hook_run(&f.sd, "fail", argv, 0, on_hook, &fail);
	hook_run(&f.sd, "missing", argv, 0, on_hook, &missing);
	/* backup.timeout: a hook that never ends fails once it is past. */
	hook_run(&f.sd, "hang", argv, 100, on_hook, &hung);
	k = hook_run(&f.sd, "hang", argv, 0, on_hook, &gone);
	hook_cancel(k);
	fx_run(&f);
	assert_int_equal(ok.code, 0);
	assert_string_equal(ok.why, "exit 0");
	/* trailing newlines cut */
	assert_string_equal(ok.out, "hello\nwarn");
	assert_int_equal(fail.code, 3);
	assert_string_equal(fail.why, "exit 3");
	assert_string_equal(fail.out, "bad thing");
	assert_int_equal(missing.code, -1);
	assert_string_equal(missing.why, "No such container: missing");
	assert_int_equal(gone.called, 0);
	assert_int_equal(hung.called, 1);
	assert_int_equal(hung.code, -1);
	assert_non_null(strstr(hung.why, "did not finish within"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_exit_codes),
		cmocka_unit_test(test_exec_spec),
		cmocka_unit_test(test_exec_output_tail),
		cmocka_unit_test(test_exec_engine_errors),
		cmocka_unit_test(test_exec_timeout),
		cmocka_unit_test(test_exec_cancel),
		cmocka_unit_test(test_exec_client_closed),
		cmocka_unit_test(test_hook),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
