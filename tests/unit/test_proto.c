/*
 * Control protocol framing and message builders.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"
#include "util.h"

struct seen {
	char	*lines[16];
	size_t	 n;
	size_t	 oversized;
};

static int
collect(const char *line, size_t len, void *arg)
{
	struct seen *s = arg;

	if (line == NULL) {
		s->oversized++;
		return 0;
	}
	assert_true(s->n < 16);
	assert_int_equal(strlen(line), len);	/* NUL-terminated, no \n */
	s->lines[s->n++] = xstrndup(line, len);
	return 0;
}

static void
seen_free(struct seen *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->lines[i]);
}

static void
test_split_across_feeds(void **state)
{
	struct proto_reader	r;
	struct seen		s = { 0 };
	const char		*in = "{\"a\":1}\n{\"b\":2}\r\n\n{\"c\"";
	size_t			i;

	(void)state;
	proto_reader_init(&r, 64);
	/* one byte at a time: the worst case for a framer */
	for (i = 0; i < strlen(in); i++)
		assert_int_equal(proto_reader_feed(&r, in + i, 1, collect,
		    &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.lines[0], "{\"a\":1}");
	assert_string_equal(s.lines[1], "{\"b\":2}");
	proto_reader_feed(&r, ":3}\n", 4, collect, &s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.lines[2], "{\"c\":3}");
	assert_int_equal(s.oversized, 0);
	seen_free(&s);
	proto_reader_free(&r);
}

static void
test_oversized_line_reported_once(void **state)
{
	struct proto_reader	 r;
	struct seen		 s = { 0 };
	char			*big = xmalloc(100000);
	int			 i;

	(void)state;
	memset(big, 'x', 100000);
	proto_reader_init(&r, 100);
	for (i = 0; i < 10; i++)
		proto_reader_feed(&r, big, 100000, collect, &s);
	assert_int_equal(s.oversized, 1);
	assert_int_equal(s.n, 0);
	/* the rest of the long line is dropped; the next one is fine */
	proto_reader_feed(&r, "xx\nok\n", 6, collect, &s);
	assert_int_equal(s.oversized, 1);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.lines[0], "ok");
	/* exactly max bytes is allowed */
	memset(big, 'y', 100);
	big[100] = '\n';
	proto_reader_feed(&r, big, 101, collect, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(strlen(s.lines[1]), 100);
	/* a megabyte of one line never grew the buffer past the limit */
	assert_true(r.cap <= 1024);
	free(big);
	seen_free(&s);
	proto_reader_free(&r);
}

/* A client's first line may be empty: nothing is buffered yet, and an
 * empty append must not hand memcpy the reader's NULL buffer. */
static void
test_empty_first_line(void **state)
{
	struct proto_reader	r;
	struct seen		s = { 0 };

	(void)state;
	proto_reader_init(&r, 64);
	assert_int_equal(proto_reader_feed(&r, "\n", 1, collect, &s), 0);
	assert_int_equal(s.n, 0);
	proto_reader_free(&r);
	proto_reader_init(&r, 64);
	assert_int_equal(proto_reader_feed(&r, "\r\n\n{}\n", 6, collect,
	    &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.lines[0], "{}");
	assert_int_equal(s.oversized, 0);
	seen_free(&s);
	proto_reader_free(&r);
}

static int
stop_after_first(const char *line, size_t len, void *arg)
{
	(void)line;
	(void)len;
	++*(int *)arg;
	return 7;
}

static void
test_callback_stops_feed(void **state)
{
	struct proto_reader	r;
	int			calls = 0;

	(void)state;
	proto_reader_init(&r, 64);
	assert_int_equal(proto_reader_feed(&r, "a\nb\nc\n", 6,
	    stop_after_first, &calls), 7);
	assert_int_equal(calls, 1);
	proto_reader_free(&r);
}

static void
test_builders(void **state)
{
	json_t	*id = json_integer(7), *m;
	char	*line;
	size_t	 len;

	(void)state;
	m = proto_error(id, PROTO_E_BUSY, "stack %s is busy", "demo");
	line = proto_encode(m, &len);
	assert_string_equal(line, "{\"id\":7,\"ok\":false,\"error\":{\"code\":"
	    "\"busy\",\"message\":\"stack demo is busy\"}}\n");
	assert_int_equal(len, strlen(line));
	free(line);
	json_decref(m);

	m = proto_ok(id, json_pack("{s:i}", "revision", 4));
	line = proto_encode(m, NULL);
	assert_string_equal(line, "{\"id\":7,\"ok\":true,\"result\":"
	    "{\"revision\":4}}\n");
	free(line);
	json_decref(m);

	/* non-ASCII is escaped so a line is always plain ASCII */
	m = proto_event(NULL, "log", json_pack("{s:s}", "line", "caf\xc3\xa9"));
	line = proto_encode(m, NULL);
	assert_non_null(strstr(line, "caf\\u00E9"));
	assert_non_null(strstr(line, "\"id\":null"));
	free(line);
	json_decref(m);
	json_decref(id);
}

/* ---- binary frames ---- */

struct fseen {
	struct seen	 lines;
	char		 log[512];	/* "L<line>|" and "F<t>,<c>,<s>:<data>|" */
	size_t		 nframes;
	size_t		 bad;
};

static int
fcollect_line(const char *line, size_t len, void *arg)
{
	struct fseen *f = arg;
	size_t n = strlen(f->log);

	assert_non_null(line);
	snprintf(f->log + n, sizeof f->log - n, "L%.*s|", (int)len, line);
	return 0;
}

static int
fcollect(const struct proto_frame *fr, void *arg)
{
	struct fseen *f = arg;
	size_t n = strlen(f->log);

	if (fr == NULL) {
		f->bad++;
		return 0;
	}
	f->nframes++;
	snprintf(f->log + n, sizeof f->log - n, "F%d,%d,%u:%.*s|", fr->type,
	    fr->chan, (unsigned)fr->stream, (int)fr->len, fr->data);
	return 0;
}

/* Append a frame to buf at *len. */
static void
put_frame(char *buf, size_t *len, int type, int chan, uint32_t stream,
    const char *data)
{
	size_t n = strlen(data);

	assert_int_equal(proto_frame_header(buf + *len, type, chan, stream,
	    n), 0);
	memcpy(buf + *len + PROTO_FRAME_HDR, data, n);
	*len += PROTO_FRAME_HDR + n;
}

static void
test_frames_between_lines(void **state)
{
	struct proto_reader	 r;
	struct fseen		 f;
	char			 in[256];
	size_t			 len = 0, i;
	const char		*want = "L{\"a\":1}|F1,0,7:ab\ncd|F2,0,7:|"
	    "F1,2,4294967295:\n|L{\"b\":2}|";

	(void)state;
	memcpy(in, "{\"a\":1}\n", 8);
	len = 8;
	/* A payload holds newlines and NULs freely. */
	put_frame(in, &len, PROTO_FRAME_DATA, PROTO_CHAN_IN, 7, "ab\ncd");
	put_frame(in, &len, PROTO_FRAME_END, PROTO_CHAN_IN, 7, "");
	put_frame(in, &len, PROTO_FRAME_DATA, PROTO_CHAN_ERR, UINT32_MAX,
	    "\n");
	memcpy(in + len, "{\"b\":2}\n", 8);
	len += 8;

	/* At once, then one byte at a time: the same lines and frames. */
	memset(&f, 0, sizeof f);
	proto_reader_init(&r, 64);
	proto_reader_frames(&r, fcollect);
	assert_int_equal(proto_reader_feed(&r, in, len, fcollect_line, &f), 0);
	assert_string_equal(f.log, want);
	proto_reader_free(&r);

	memset(&f, 0, sizeof f);
	proto_reader_init(&r, 64);
	proto_reader_frames(&r, fcollect);
	for (i = 0; i < len; i++)
		assert_int_equal(proto_reader_feed(&r, in + i, 1,
		    fcollect_line, &f), 0);
	assert_string_equal(f.log, want);
	assert_int_equal(f.nframes, 3);
	assert_int_equal(f.bad, 0);
	proto_reader_free(&r);
}

static void
test_frame_bad_header_stops_reader(void **state)
{
	struct proto_reader	 r;
	struct fseen		 f;
	char			 in[64];
	size_t			 len = 0;

	(void)state;
	memset(&f, 0, sizeof f);
	put_frame(in, &len, PROTO_FRAME_DATA, PROTO_CHAN_OUT, 3, "x");
	in[len] = PROTO_FRAME_MARK;
	in[len + 1] = 9;		/* a version nobody speaks */
	memset(in + len + 2, 1, PROTO_FRAME_HDR - 2);
	len += PROTO_FRAME_HDR;
	proto_reader_init(&r, 64);
	proto_reader_frames(&r, fcollect);
	assert_int_equal(proto_reader_feed(&r, in, len, fcollect_line, &f),
	    -EPROTO);
	assert_string_equal(f.log, "F1,1,3:x|");
	assert_int_equal(f.bad, 1);
	/* Boundaries are lost: nothing after it is believed. */
	assert_int_equal(proto_reader_feed(&r, "{}\n", 3, fcollect_line, &f),
	    -EPROTO);
	assert_int_equal(f.bad, 1);
	proto_reader_free(&r);
}

static void
test_frame_header_limits(void **state)
{
	char h[PROTO_FRAME_HDR];

	(void)state;
	assert_int_equal(proto_frame_header(h, PROTO_FRAME_DATA,
	    PROTO_CHAN_IN, 1, PROTO_FRAME_MAX), 0);
	assert_int_equal((unsigned char)h[0], PROTO_FRAME_MARK);
	assert_int_equal(proto_frame_header(h, PROTO_FRAME_DATA,
	    PROTO_CHAN_IN, 1, PROTO_FRAME_MAX + 1), -EINVAL);
	assert_int_equal(proto_frame_header(h, PROTO_FRAME_DATA,
	    PROTO_CHAN_IN, 0, 1), -EINVAL);	/* stream 0 is no request */
	assert_int_equal(proto_frame_header(h, PROTO_FRAME_END,
	    PROTO_CHAN_IN, 1, 1), -EINVAL);	/* END carries nothing */
	assert_int_equal(proto_frame_header(h, 4, PROTO_CHAN_IN, 1, 0),
	    -EINVAL);
	assert_int_equal(proto_frame_header(h, PROTO_FRAME_DATA, 3, 1, 0),
	    -EINVAL);
}

static int
raw_line(const char *line, size_t len, void *arg)
{
	size_t *got = arg;

	assert_non_null(line);
	assert_int_equal(line[0], '\0');
	*got = len;
	return 0;
}

static void
test_frames_off_by_default(void **state)
{
	struct proto_reader	 r;
	char			 in[32];
	size_t			 len = 0, got = 0;

	(void)state;
	put_frame(in, &len, PROTO_FRAME_DATA, PROTO_CHAN_IN, 1, "ab");
	in[len++] = '\n';
	/* Without a frame callback a NUL is only a bad line's first byte. */
	proto_reader_init(&r, 64);
	assert_int_equal(proto_reader_feed(&r, in, len, raw_line, &got), 0);
	assert_int_equal(got, PROTO_FRAME_HDR + 2);
	proto_reader_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_across_feeds),
		cmocka_unit_test(test_oversized_line_reported_once),
		cmocka_unit_test(test_callback_stops_feed),
		cmocka_unit_test(test_empty_first_line),
		cmocka_unit_test(test_builders),
		cmocka_unit_test(test_frames_between_lines),
		cmocka_unit_test(test_frame_bad_header_stops_reader),
		cmocka_unit_test(test_frame_header_limits),
		cmocka_unit_test(test_frames_off_by_default),
	};

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
