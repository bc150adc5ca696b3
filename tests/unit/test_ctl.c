/*
 * The control server against hostile input: every malformed request gets
 * the right error reply, the connection and the server stay up, and the
 * server shuts down leaving no handle open.  A client thread talks to the
 * server running on the test thread's loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl/ctl.h"
#include "state/store.h"
#include "proto.h"
#include "core/shipd.h"
#include "util.h"

#define MAX_REPLIES	64

struct fixture {
	uv_loop_t	 loop;
	struct shipd	 sd;
	uv_async_t	 stop;
	char		 dir[64];
	char		 path[96];
	char		 ro_path[100];	/* the read-only socket, if open */
	const char	*connect_to;	/* the client's socket: path unless set */
	/* what the client thread sends and what it got back */
	const char	*const *sends;
	const size_t	*send_lens;	/* NULL: strlen of each */
	size_t		 nsends;
	char		*replies[MAX_REPLIES];
	long		 reply_ms[MAX_REPLIES];	/* after its request */
	size_t		 nreplies;
	int		 client_error;
	/* then wait for the server to hang up: how long after the last
	 * reply it did (ms), -1 if not within 5 s */
	bool		 wait_eof;
	long		 eof_after;
};

static void
on_store_closed(void *arg)
{
	struct fixture *f = arg;

	f->sd.store = NULL;
}

static void
on_ctl_closed(void *arg)
{
	struct fixture *f = arg;

	f->sd.ctl = NULL;
	if (f->sd.store != NULL)
		store_close(f->sd.store, on_store_closed, f);
}

static void
on_stop(uv_async_t *a)
{
	struct fixture *f = a->data;

	ctl_close(f->sd.ctl, on_ctl_closed, f);
	uv_close((uv_handle_t *)a, NULL);
}

/* Read one reply line (blocking), or NULL at EOF. */
static char *
read_line(int fd, struct buf *in)
{
	char	 chunk[4096], *nl, *line;
	ssize_t	 n;

	while ((nl = in->data ? memchr(in->data, '\n', in->len) : NULL) ==
	    NULL) {
		if ((n = read(fd, chunk, sizeof chunk)) <= 0)
			return NULL;
		buf_append(in, chunk, (size_t)n);
	}
	line = xstrndup(in->data, (size_t)(nl - in->data));
	buf_consume(in, (size_t)(nl - in->data) + 1);
	return line;
}

static long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds until the peer hangs up, or -1 after 5 s. */
static long
wait_hangup(int fd)
{
	struct pollfd	 p = { .fd = fd, .events = POLLIN };
	char		 c;
	long		 t0 = mono_ms();

	while (poll(&p, 1, 5000) == 1) {
		if (read(fd, &c, 1) <= 0)
			return mono_ms() - t0;
	}
	return -1;
}

static void *
client(void *arg)
{
	struct fixture		*f = arg;
	struct sockaddr_un	 sun;
	struct buf		 in;
	size_t			 i;
	int			 fd;

	buf_init(&in);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", f->connect_to ?
	    f->connect_to : f->path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		f->client_error = 1;
		goto out;
	}
	/* One request at a time, each answered before the next: replies
	 * then line up with requests. */
	for (i = 0; i < f->nsends && f->nreplies < MAX_REPLIES; i++) {
		const char *s = f->sends[i];
		size_t len = f->send_lens ? f->send_lens[i] : strlen(s);
		size_t off = 0;
		long t0 = mono_ms();

		while (off < len) {
			ssize_t w = write(fd, s + off, len - off);

			if (w <= 0) {
				f->client_error = 2;
				goto out;
			}
			off += (size_t)w;
		}
		if ((f->replies[f->nreplies] = read_line(fd, &in)) == NULL) {
			f->client_error = 3;
			goto out;
		}
		f->reply_ms[f->nreplies] = mono_ms() - t0;
		f->nreplies++;
	}
	if (f->wait_eof)
		f->eof_after = wait_hangup(fd);
out:
	if (fd >= 0)
		close(fd);
	buf_free(&in);
	uv_async_send(&f->stop);
	return NULL;
}

static void
run(struct fixture *f, const char *const *sends, size_t n)
{
	pthread_t t;

	f->sends = sends;
	f->nsends = n;
	assert_int_equal(pthread_create(&t, NULL, client, f), 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	pthread_join(t, NULL);
	assert_int_equal(f->client_error, 0);
	assert_null(f->sd.ctl);
	assert_null(f->sd.store);
	/* every handle the server opened is closed */
	assert_int_equal(uv_loop_close(&f->loop), 0);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/shipd-ctl-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/ctl.sock", f->dir);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->sd.loop = &f->loop;
	uv_async_init(&f->loop, &f->stop, on_stop);
	f->stop.data = f;
	assert_int_equal(ctl_open(&f->sd, f->path, (gid_t)-1, &f->sd.ctl), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	size_t		 i;

	char		 p[160];

	for (i = 0; i < f->nreplies; i++)
		free(f->replies[i]);
	unlink(f->path);
	/* What a store leaves in its dir (test_store.c knows them all). */
	if (f->sd.cfg.state_dir != NULL) {
		static const char *const files[] = { "audit.log", "journal",
		    "shipd.lock" };
		for (i = 0; i < nitems(files); i++) {
			snprintf(p, sizeof p, "%s/%s", f->sd.cfg.state_dir,
			    files[i]);
			unlink(p);
		}
		snprintf(p, sizeof p, "%s/stacks", f->sd.cfg.state_dir);
		rmdir(p);
		rmdir(f->sd.cfg.state_dir);
		free((char *)f->sd.cfg.state_dir);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The error code of reply i, or "ok". */
static const char *
code_of(struct fixture *f, size_t i, char *buf, size_t len)
{
	json_t		*m = json_loads(f->replies[i], 0, NULL);
	const char	*c;

	assert_non_null(m);
	if (json_is_true(json_object_get(m, "ok")))
		snprintf(buf, len, "ok");
	else {
		c = json_string_value(json_object_get(json_object_get(m,
		    "error"), "code"));
		snprintf(buf, len, "%s", c ? c : "(none)");
	}
	json_decref(m);
	return buf;
}

static void
test_malformed_requests(void **state)
{
	struct fixture	*f = *state;
	char		*huge, *deep, code[64];
	size_t		 i;

	huge = xmalloc(PROTO_MAX_LINE + 100);
	memset(huge, 'a', PROTO_MAX_LINE + 98);
	huge[PROTO_MAX_LINE + 98] = '\n';
	huge[PROTO_MAX_LINE + 99] = '\0';
	deep = xmalloc(200002);
	memset(deep, '[', 100000);
	memset(deep + 100000, ']', 100000);
	deep[200000] = '\n';
	deep[200001] = '\0';

	const char *const sends[] = {
		"not json\n",
		"[1,2,3]\n",
		"{\"v\":2,\"id\":1,\"cmd\":\"ping\"}\n",
		"{\"id\":1,\"cmd\":\"ping\"}\n",
		"{\"v\":1,\"id\":2,\"cmd\":\"launch-missiles\"}\n",
		"{\"v\":1,\"id\":3,\"cmd\":\"ping\",\"args\":[]}\n",
		"{\"v\":1,\"id\":4,\"cmd\":\"ping\",\"args\":{\"x\":1}}\n",
		"{\"v\":1,\"id\":5,\"cmd\":\"history\",\"args\":{\"stack\":5}}\n",
		"{\"v\":1,\"id\":6,\"cmd\":\"history\"}\n",
		"{\"v\":1,\"id\":{},\"cmd\":\"ping\"}\n",
		"{\"v\":1,\"id\":7,\"cmd\":7}\n",
		"{\"v\":1,\"v\":1,\"id\":8,\"cmd\":\"ping\"}\n",
		"{\"v\":1,\"id\":9,\"cmd\":\"p\xff\xfe\"}\n",
		huge,
		deep,
		"{\"v\":1,\"id\":10,\"cmd\":\"ping\"}\r\n",
	};
	static const char *const want[] = {
		PROTO_E_BAD_REQUEST, PROTO_E_BAD_REQUEST, PROTO_E_VERSION,
		PROTO_E_VERSION, PROTO_E_UNKNOWN_CMD, PROTO_E_BAD_ARGS,
		PROTO_E_BAD_ARGS, PROTO_E_BAD_ARGS, PROTO_E_BAD_ARGS,
		PROTO_E_BAD_REQUEST, PROTO_E_BAD_REQUEST, PROTO_E_BAD_REQUEST,
		PROTO_E_BAD_REQUEST, PROTO_E_TOO_LARGE, PROTO_E_BAD_REQUEST,
		"ok",
	};

	run(f, sends, nitems(sends));
	assert_int_equal(f->nreplies, nitems(want));
	for (i = 0; i < nitems(want); i++) {
		if (strcmp(code_of(f, i, code, sizeof code), want[i]) != 0)
			fail_msg("request %zu: got %s, want %s (%s)", i, code,
			    want[i], f->replies[i]);
	}
	/* replies carry the request's id where there is one */
	assert_non_null(strstr(f->replies[4], "\"id\":2"));
	assert_non_null(strstr(f->replies[15], "\"id\":10"));
	free(huge);
	free(deep);
}

static void
test_many_requests_one_connection(void **state)
{
	struct fixture	*f = *state;
	const char	*sends[MAX_REPLIES];
	char		 code[64];
	size_t		 i;

	for (i = 0; i < MAX_REPLIES; i++)
		sends[i] = i % 2 ? "{\"v\":1,\"id\":1,\"cmd\":\"ping\"}\n" :
		    "}{\n";
	run(f, sends, MAX_REPLIES);
	assert_int_equal(f->nreplies, MAX_REPLIES);
	for (i = 0; i < MAX_REPLIES; i++)
		assert_string_equal(code_of(f, i, code, sizeof code),
		    i % 2 ? "ok" : PROTO_E_BAD_REQUEST);
}

static int
setup_idle(void **state)
{
	int rc;

	setenv("SHIPD_TEST_CTL_IDLE_MS", "300", 1);
	rc = setup(state);
	unsetenv("SHIPD_TEST_CTL_IDLE_MS");
	return rc;
}

/* A connection with nothing open that sends nothing is closed after the
 * idle timeout, counted from its last reply. */
static void
test_idle_closed(void **state)
{
	struct fixture		*f = *state;
	const char *const	 sends[] = {
		"{\"v\":1,\"id\":1,\"cmd\":\"ping\"}\n",
	};

	f->wait_eof = true;
	run(f, sends, nitems(sends));
	assert_int_equal(f->nreplies, 1);
	if (f->eof_after < 250 || f->eof_after > 2000)
		fail_msg("closed %ld ms after the last reply, want about "
		    "300-375", f->eof_after);
}

/* A frame that no request takes is dropped; the line after it is served. */
static void
test_frame_for_nobody(void **state)
{
	struct fixture	*f = *state;
	static const char ping[] = "{\"v\":1,\"id\":1,\"cmd\":\"ping\"}\n";
	char		 buf[128], code[64];
	const char	*sends[1] = { buf };
	size_t		 lens[1];

	assert_int_equal(proto_frame_header(buf, PROTO_FRAME_DATA,
	    PROTO_CHAN_IN, 5, 3), 0);
	memcpy(buf + PROTO_FRAME_HDR, "a\nb", 3);
	memcpy(buf + PROTO_FRAME_HDR + 3, ping, sizeof ping - 1);
	lens[0] = PROTO_FRAME_HDR + 3 + sizeof ping - 1;
	f->send_lens = lens;
	run(f, sends, 1);
	assert_int_equal(f->nreplies, 1);
	assert_string_equal(code_of(f, 0, code, sizeof code), "ok");
	assert_non_null(strstr(f->replies[0], "\"pong\":true"));
}

/* A header that cannot be a frame: the peer is told, then dropped. */
static void
test_frame_malformed(void **state)
{
	struct fixture	*f = *state;
	char		 buf[PROTO_FRAME_HDR], code[64];
	const char	*sends[1] = { buf };
	size_t		 lens[1] = { sizeof buf };

	assert_int_equal(proto_frame_header(buf, PROTO_FRAME_DATA,
	    PROTO_CHAN_IN, 5, 0), 0);
	buf[1] = 9;		/* no such frame version */
	f->send_lens = lens;
	f->wait_eof = true;
	run(f, sends, 1);
	assert_int_equal(f->nreplies, 1);
	assert_string_equal(code_of(f, 0, code, sizeof code), "bad_request");
	assert_non_null(strstr(f->replies[0], "\"id\":null"));
	assert_true(f->eof_after >= 0);
}

/* An empty line as a connection's first bytes: nothing is buffered yet.
 * It is skipped, unanswered, and the request after it is served. */
static void
test_empty_first_line(void **state)
{
	struct fixture		*f = *state;
	static const char *const sends[] = {
		"\n\r\n{\"v\":1,\"id\":1,\"cmd\":\"ping\"}\n",
	};
	char			 code[64];

	run(f, sends, nitems(sends));
	assert_int_equal(f->nreplies, 1);
	assert_string_equal(code_of(f, 0, code, sizeof code), "ok");
}

static int
setup_engine_wait(void **state)
{
	struct fixture	*f;
	int		 rc;

	setenv("SHIPD_TEST_ENGINE_WAIT_MS", "300", 1);
	rc = setup(state);
	unsetenv("SHIPD_TEST_ENGINE_WAIT_MS");
	f = *state;
	f->sd.cfg.engine_path = "/nonexistent/engine.sock";
	return rc;
}

/* The engine is not reached yet: a command that needs it waits for the
 * bound, then fails naming the engine; after that, one fails at once.
 * Commands that need no engine answer at once throughout. */
static void
test_engine_wait_bound(void **state)
{
	struct fixture		*f = *state;
	static const char *const sends[] = {
		"{\"v\":1,\"id\":1,\"cmd\":\"ping\"}\n",
		"{\"v\":1,\"id\":2,\"cmd\":\"status\"}\n",
		"{\"v\":1,\"id\":3,\"cmd\":\"status\"}\n",
		"{\"v\":1,\"id\":4,\"cmd\":\"ping\"}\n",
	};
	char			 code[64];

	run(f, sends, nitems(sends));
	assert_int_equal(f->nreplies, 4);
	assert_string_equal(code_of(f, 0, code, sizeof code), "ok");
	assert_string_equal(code_of(f, 1, code, sizeof code),
	    PROTO_E_UNAVAILABLE);
	assert_non_null(strstr(f->replies[1], "/nonexistent/engine.sock: "
	    "not connected yet (waited 300 ms for it)"));
	if (f->reply_ms[1] < 290 || f->reply_ms[1] > 3000)
		fail_msg("status answered after %ld ms, want about 300",
		    f->reply_ms[1]);
	assert_string_equal(code_of(f, 2, code, sizeof code),
	    PROTO_E_UNAVAILABLE);
	if (f->reply_ms[2] > 200)
		fail_msg("the second status took %ld ms: it should not wait "
		    "once a wait ran out", f->reply_ms[2]);
	assert_string_equal(code_of(f, 3, code, sizeof code), "ok");
}

/* With a store in f->dir/state, so that the audit log is written. */
static int
setup_store(void **state)
{
	struct fixture	*f;
	char		*dir;

	setup(state);
	f = *state;
	xasprintf(&dir, "%s/state", f->dir);
	f->sd.cfg.state_dir = dir;
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(store_open(&f->loop, dir, &f->sd.store), 0);
	return 0;
}

static int
setup_readonly(void **state)
{
	struct fixture *f;

	setup_store(state);
	f = *state;
	snprintf(f->ro_path, sizeof f->ro_path, "%s.ro", f->path);
	assert_int_equal(ctl_open_readonly(f->sd.ctl, f->ro_path, (gid_t)-1),
	    0);
	f->connect_to = f->ro_path;
	return 0;
}

/* The audit log's lines, parsed. */
static json_t *
audit_lines(struct fixture *f)
{
	json_t	*arr = json_array(), *rec;
	char	 p[160], *text = NULL, *line, *save = NULL;

	snprintf(p, sizeof p, "%s/audit.log", f->sd.cfg.state_dir);
	if (file_read_all(p, 1 << 20, &text, NULL) < 0)
		return arr;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		assert_non_null(rec = json_loads(line, 0, NULL));
		json_array_append_new(arr, rec);
	}
	free(text);
	return arr;
}

static const char *
field(json_t *arr, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(arr, i),
	    key));
}

/*
 * On the read-only socket a command that changes state is refused, even
 * for root, and the refusal is audited with who asked; one that reads is
 * served.  The socket is removed at close.
 */
static void
test_readonly_socket(void **state)
{
	struct fixture		*f = *state;
	static const char *const sends[] = {
		"{\"v\":1,\"id\":1,\"cmd\":\"ping\"}\n",
		"{\"v\":1,\"id\":2,\"cmd\":\"down\",\"args\":{\"stack\":\"web\"}}\n",
		"{\"v\":1,\"id\":3,\"cmd\":\"cancel\",\"args\":{\"stack\":\"db\"}}\n",
		"{\"v\":1,\"id\":4,\"cmd\":\"ping\"}\n",
	};
	char			 code[64];
	json_t			*a;

	run(f, sends, nitems(sends));
	assert_int_equal(f->nreplies, 4);
	assert_string_equal(code_of(f, 0, code, sizeof code), "ok");
	assert_string_equal(code_of(f, 1, code, sizeof code), PROTO_E_DENIED);
	assert_non_null(strstr(f->replies[1], "down changes state: the "
	    "read-only socket"));
	assert_string_equal(code_of(f, 2, code, sizeof code), PROTO_E_DENIED);
	assert_string_equal(code_of(f, 3, code, sizeof code), "ok");
	assert_int_equal(access(f->ro_path, F_OK), -1);

	a = audit_lines(f);
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(field(a, 0, "event"), "denied");
	assert_string_equal(field(a, 0, "cmd"), "down");
	assert_string_equal(field(a, 0, "result"), PROTO_E_DENIED);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_array_get(a, 0), "args"), "stack")), "web");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(a,
	    0), "uid")), (json_int_t)getuid());
	assert_int_equal(json_integer_value(json_object_get(json_array_get(a,
	    0), "pid")), (json_int_t)getpid());
	assert_string_equal(field(a, 1, "cmd"), "cancel");
	assert_string_equal(field(a, 1, "event"), "denied");
	json_decref(a);
}

/* A mutating command is audited before its handler runs and again with
 * its outcome; both lines carry the same req.  Reads are not audited. */
static void
test_audit_start_end(void **state)
{
	struct fixture		*f = *state;
	static const char *const sends[] = {
		"{\"v\":1,\"id\":1,\"cmd\":\"ping\"}\n",
		"{\"v\":1,\"id\":2,\"cmd\":\"cancel\",\"args\":{\"stack\":\"web\"}}\n",
	};
	char			 code[64];
	json_t			*a;

	run(f, sends, nitems(sends));
	assert_int_equal(f->nreplies, 2);
	assert_string_equal(code_of(f, 1, code, sizeof code),
	    PROTO_E_NOT_FOUND);
	a = audit_lines(f);
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(field(a, 0, "event"), "start");
	assert_null(json_object_get(json_array_get(a, 0), "result"));
	assert_string_equal(field(a, 1, "event"), "end");
	assert_string_equal(field(a, 1, "result"), PROTO_E_NOT_FOUND);
	assert_non_null(field(a, 0, "req"));
	assert_string_equal(field(a, 0, "req"), field(a, 1, "req"));
	assert_string_equal(field(a, 0, "cmd"), "cancel");
	json_decref(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_malformed_requests,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_many_requests_one_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_closed,
		    setup_idle, teardown),
		cmocka_unit_test_setup_teardown(test_frame_for_nobody,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_malformed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_first_line,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_engine_wait_bound,
		    setup_engine_wait, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_socket,
		    setup_readonly, teardown),
		cmocka_unit_test_setup_teardown(test_audit_start_end,
		    setup_store, teardown),
	};

	return cmocka_run_group_tests_name("ctl", tests, NULL, NULL);
}
