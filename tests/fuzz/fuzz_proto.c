/*
 * libFuzzer harness: the control protocol's line framing
 * (common/proto.c) and the daemon's decoding of each request line against
 * the command table (daemon/ctl/request.c), as the server runs them on
 * whatever a peer sends.
 *
 * The first input byte picks the reader's line limit, whether it takes
 * binary frames, and the chunk sizes the rest is fed in.  Fed in chunks
 * or at once, the reader must give the same lines and frames, and stop at
 * the same malformed frame header; each line must be one line, without
 * its newline; every answer to a refused request must encode as a
 * protocol line.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "ctl/ctl.h"
#include "ctl/request.h"
#include "proto.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct seen {
	struct buf	b;	/* each line, then a NUL; "\1" for oversized */
	size_t		nlines;
	size_t		max;
	int		decode;
};

static void
answer(const char *line, size_t len)
{
	struct ctl_request	 q;
	const char		*code;
	char			 ebuf[256], *enc;
	json_t			*m;
	size_t			 n;

	code = ctl_request_decode(line, len, &q, ebuf, sizeof ebuf);
	if (code == NULL) {
		if (q.cmd == NULL || !json_is_object(q.args))
			abort();
		m = proto_ok(q.id, json_object());
	} else
		m = proto_error(q.id, code, "%s", ebuf);
	enc = proto_encode(m, &n);
	if (enc == NULL || n == 0 || enc[n - 1] != '\n' ||
	    memchr(enc, '\n', n - 1) != NULL)
		abort();
	free(enc);
	json_decref(m);
	ctl_request_clear(&q);
}

static int
on_line(const char *line, size_t len, void *arg)
{
	struct seen *s = arg;

	s->nlines++;
	if (line == NULL) {
		buf_append(&s->b, "\1", 2);
	} else {
		if (len == 0 || len > s->max || memchr(line, '\n', len) ||
		    line[len] != '\0')
			abort();
		buf_append(&s->b, line, len);
		buf_append(&s->b, "", 1);
	}
	if (s->decode)
		answer(line, len);
	return 0;
}

static int
on_frame(const struct proto_frame *f, void *arg)
{
	struct seen	*s = arg;
	char		 h[PROTO_FRAME_HDR];

	s->nlines++;
	if (f == NULL) {
		buf_append(&s->b, "\3", 1);
		return 0;
	}
	/* What was read must be what a writer could have sent. */
	if (f->len > PROTO_FRAME_MAX || proto_frame_header(h, f->type,
	    f->chan, f->stream, f->len) != 0)
		abort();
	buf_append(&s->b, "\2", 1);
	buf_append(&s->b, h, sizeof h);
	buf_append(&s->b, f->data, f->len);
	return 0;
}

static void
feed(struct seen *s, size_t max, bool frames, const uint8_t *p, size_t n,
    uint8_t chunking)
{
	struct proto_reader	 r;
	size_t			 take;
	int			 rc;

	proto_reader_init(&r, max);
	if (frames)
		proto_reader_frames(&r, on_frame);
	while (n > 0) {
		take = chunking == 0 ? n : (size_t)(p[0] ^ chunking) % 17 + 1;
		if (take > n)
			take = n;
		rc = proto_reader_feed(&r, (const char *)p, take, on_line, s);
		if (rc == -EPROTO && frames)
			break;		/* a bad frame header ends the stream */
		if (rc != 0)
			abort();
		p += take;
		n -= take;
	}
	proto_reader_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen	 whole, chunked;
	size_t		 max;
	bool		 frames;

	if (size < 1)
		return 0;
	/* Small limits reach the oversized path; 0 stands for the real one. */
	max = data[0] % 8 == 0 ? PROTO_MAX_LINE : (size_t)data[0] % 97 + 1;
	memset(&whole, 0, sizeof whole);
	memset(&chunked, 0, sizeof chunked);
	buf_init(&whole.b);
	buf_init(&chunked.b);
	whole.max = chunked.max = max;
	whole.decode = 1;
	frames = (data[0] & 0x40) != 0;
	feed(&whole, max, frames, data + 1, size - 1, 0);
	feed(&chunked, max, frames, data + 1, size - 1, data[0] | 1);
	if (whole.nlines != chunked.nlines || whole.b.len != chunked.b.len ||
	    (whole.b.len > 0 && memcmp(whole.b.data, chunked.b.data,
	    whole.b.len) != 0))
		abort();
	buf_free(&whole.b);
	buf_free(&chunked.b);
	return 0;
}
