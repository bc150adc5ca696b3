/*
 * Control protocol framing and message builders.  See proto.h.
 */
#include <stdarg.h>
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

int
proto_reader_feed(struct proto_reader *r, const char *p, size_t n,
    proto_line_cb *cb, void *arg)
{
	const char	*nl;
	size_t		 take;
	int		 rc;

	while (n > 0) {
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
