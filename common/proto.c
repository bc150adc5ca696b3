/*
 * Control protocol framing and message builders.  See proto.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "util.h"

void
proto_reader_init(struct proto_reader *r, size_t max)
{
	memset(r, 0, sizeof *r);
	r->max = max;
}

void
proto_reader_free(struct proto_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof *r);
}

static void
reader_append(struct proto_reader *r, const char *p, size_t n)
{
	/* An empty line first: buf is still NULL, and memcpy may not see it. */
	if (n == 0)
		return;
	if (r->len + n > r->cap) {
		size_t cap = r->cap ? r->cap : 512;

		while (cap < r->len + n)
			cap *= 2;
		r->buf = xrealloc(r->buf, cap);
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
}

void
proto_reader_frames(struct proto_reader *r, proto_frame_cb *cb)
{
	r->frame_cb = cb;
}

static uint32_t
get_be32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
	    (uint32_t)u[2] << 8 | u[3];
}

static void
put_be32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
}

static bool
frame_valid(int type, int chan, uint32_t stream, size_t len)
{
	return type >= PROTO_FRAME_DATA && type <= PROTO_FRAME_ABORT &&
	    chan >= PROTO_CHAN_IN && chan <= PROTO_CHAN_ERR && stream != 0 &&
	    len <= PROTO_FRAME_MAX && (type == PROTO_FRAME_DATA || len == 0);
}

int
proto_frame_header(char out[PROTO_FRAME_HDR], int type, int chan,
    uint32_t stream, size_t len)
{
	if (!frame_valid(type, chan, stream, len))
		return -EINVAL;
	out[0] = PROTO_FRAME_MARK;
	out[1] = PROTO_FRAME_VERSION;
	out[2] = (char)type;
	out[3] = (char)chan;
	put_be32(out + 4, stream);
	put_be32(out + 8, (uint32_t)len);
	return 0;
}

/*
 * Take what a frame still needs from p.  Returns the bytes used; sets *rc
 * to a callback's value, or -EPROTO for a header that cannot be a frame.
 */
static size_t
frame_take(struct proto_reader *r, const char *p, size_t n, void *arg,
    int *rc)
{
	struct proto_frame	*f = &r->frame;
	size_t			 take;

	*rc = 0;
	if (r->framing == 1) {
		take = PROTO_FRAME_HDR - r->hdr_len;
		if (take > n)
			take = n;
		memcpy(r->hdr + r->hdr_len, p, take);
		if ((r->hdr_len += take) < PROTO_FRAME_HDR)
			return take;
		f->type = (unsigned char)r->hdr[2];
		f->chan = (unsigned char)r->hdr[3];
		f->stream = get_be32(r->hdr + 4);
		f->len = get_be32(r->hdr + 8);
		if (r->hdr[1] != PROTO_FRAME_VERSION ||
		    !frame_valid(f->type, f->chan, f->stream, f->len)) {
			r->broken = 1;
			r->framing = 0;
			*rc = r->frame_cb(NULL, arg);
			if (*rc == 0)
				*rc = -EPROTO;
			return take;
		}
		r->framing = 2;
		r->len = 0;
		if (f->len > 0)
			return take;
	} else {
		take = f->len - r->len;
		if (take > n)
			take = n;
		reader_append(r, p, take);
		if (r->len < f->len)
			return take;
	}
	f->data = r->len > 0 ? r->buf : "";
	r->framing = 0;
	r->hdr_len = 0;
	r->len = 0;
	*rc = r->frame_cb(f, arg);
	f->data = NULL;
	return take;
}

int
proto_reader_feed(struct proto_reader *r, const char *p, size_t n,
    proto_line_cb *cb, void *arg)
{
	const char	*nl;
	size_t		 take;
	int		 rc;

	if (r->broken)
		return -EPROTO;
	while (n > 0) {
		/* A NUL where a line starts begins a frame. */
		if (r->framing == 0 && r->frame_cb != NULL && r->len == 0 &&
		    !r->skipping && *p == PROTO_FRAME_MARK) {
			r->framing = 1;
			r->hdr_len = 0;
		}
		if (r->framing != 0) {
			take = frame_take(r, p, n, arg, &rc);
			if (rc != 0)
				return rc;
			p += take;
			n -= take;
			continue;
		}
		nl = memchr(p, '\n', n);
		take = nl ? (size_t)(nl - p) : n;

		if (!r->skipping && r->len + take > r->max) {
			/* Oversized: report once, then drop up to the newline. */
			r->skipping = 1;
			r->len = 0;
			if ((rc = cb(NULL, 0, arg)) != 0)
				return rc;
		}
		if (!r->skipping)
			reader_append(r, p, take);
		if (nl == NULL)
			return 0;
		p += take + 1;
		n -= take + 1;
		if (r->skipping) {
			r->skipping = 0;
			continue;
		}
		/* Tolerate CRLF from hand-typed sessions (socat, nc). */
		if (r->len > 0 && r->buf[r->len - 1] == '\r')
			r->len--;
		reader_append(r, "", 1);
		r->len--;
		rc = r->len > 0 ? cb(r->buf, r->len, arg) : 0;
		r->len = 0;
		if (rc != 0)
			return rc;
	}
	return 0;
}

#define PROTO_DUMP	(JSON_COMPACT | JSON_ENSURE_ASCII)

size_t
proto_encoded_len(const json_t *v)
{
	return json_dumpb(v, NULL, 0, PROTO_DUMP);
}

char *
proto_encode(const json_t *msg, size_t *lenp)
{
	char	*s, *line;
	size_t	 len;

	s = json_dumps(msg, PROTO_DUMP);
	if (s == NULL)
		abort();
	len = strlen(s);
	line = xmalloc(len + 2);
	memcpy(line, s, len);
	line[len] = '\n';
	line[len + 1] = '\0';
	free(s);
	if (lenp != NULL)
		*lenp = len + 1;
	return line;
}

static json_t *
reply_base(json_t *id)
{
	json_t *o = json_object();

	json_object_set(o, "id", id ? id : json_null());
	return o;
}

json_t *
proto_error(json_t *id, const char *code, const char *fmt, ...)
{
	json_t	*o = reply_base(id);
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_object_set_new(o, "ok", json_false());
	json_object_set_new(o, "error", json_pack("{s:s, s:s}",
	    "code", code, "message", msg));
	return o;
}

json_t *
proto_ok(json_t *id, json_t *result)
{
	json_t *o = reply_base(id);

	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "result", result ? result : json_object());
	return o;
}

json_t *
proto_event(json_t *id, const char *event, json_t *fields)
{
	json_t *o = fields ? fields : json_object();

	json_object_set(o, "id", id ? id : json_null());
	json_object_set_new(o, "event", json_string(event));
	return o;
}
