/*
 * Requests and their answers, independent of the socket they came on: see
 * req.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/req.h"
#include "proto.h"
#include "util.h"

struct ctl_req *
ctl_req_new(json_t *id, const char *cmd, json_t *args, ctl_req_send_fn *send,
    void *owner)
{
	struct ctl_req *r = xcalloc(1, sizeof *r);

	r->id = id ? json_incref(id) : json_null();
	r->cmd = cmd;
	r->args = args ? args : json_object();
	r->send = send;
	r->owner = owner;
	return r;
}

void
ctl_req_free(struct ctl_req *r)
{
	json_decref(r->id);
	json_decref(r->args);
	free(r);
}

int
ctl_req_take_frames(struct ctl_req *r, ctl_req_frame_cb *cb, void *arg)
{
	json_int_t id;

	if (r->frames == NULL)
		return -ENOTSUP;
	id = json_is_integer(r->id) ? json_integer_value(r->id) : 0;
	if (id < 1 || id > (json_int_t)UINT32_MAX)
		return -EINVAL;
	r->stream = (uint32_t)id;
	r->on_frame = cb;
	r->frame_arg = arg;
	return 0;
}

bool
ctl_req_frame(struct ctl_req *r, int type, int chan, const void *data,
    size_t len)
{
	const char	*p = data;
	char		 hdr[PROTO_FRAME_HDR];
	size_t		 n;
	json_int_t	 id;

	id = json_is_integer(r->id) ? json_integer_value(r->id) : 0;
	if (r->frames == NULL || r->gone || id < 1 ||
	    id > (json_int_t)UINT32_MAX)
		return false;
	do {
		n = len > PROTO_FRAME_MAX ? PROTO_FRAME_MAX : len;
		if (type != PROTO_FRAME_DATA)
			n = 0;
		if (proto_frame_header(hdr, type, chan, (uint32_t)id, n) != 0 ||
		    !r->frames->send_frame(r, hdr, p, n))
			return false;
		p += n;
		len -= n;
	} while (len > 0 && type == PROTO_FRAME_DATA);
	return true;
}

void
ctl_req_pause_input(struct ctl_req *r, bool pause)
{
	if (r->frames == NULL || r->paused == pause)
		return;
	r->frames->pause(r, pause);
}

size_t
ctl_req_backlog(const struct ctl_req *r)
{
	return r->frames != NULL && !r->gone ? r->frames->backlog(r) : 0;
}

bool
ctl_req_on_drain(struct ctl_req *r, void (*fn)(struct ctl_req *, void *),
    void *arg)
{
	if (r->frames == NULL || r->gone ||
	    r->frames->backlog(r) < CTL_REQ_DRAIN_LOW)
		return false;
	if (r->on_drain == NULL)
		r->frames->want_drain(r, true);
	r->on_drain = fn;
	r->drain_arg = arg;
	return true;
}

static void
finish(struct ctl_req *r, json_t *msg)
{
	/* send() frees r */
	r->send(r, msg, true);
	json_decref(msg);
}

void
ctl_req_ok(struct ctl_req *r, json_t *result)
{
	finish(r, proto_ok(r->id, result));
}

void
ctl_req_err(struct ctl_req *r, const char *code, const char *fmt, ...)
{
	char	msg[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	finish(r, proto_error(r->id, code, "%s", msg));
}

bool
ctl_req_event(struct ctl_req *r, const char *event, json_t *fields)
{
	json_t	*m = proto_event(r->id, event, fields);
	bool	 ok = false;

	if (!r->gone)
		ok = r->send(r, m, false);
	json_decref(m);
	return ok;
}

void
ctl_req_on_cancel(struct ctl_req *r, void (*fn)(struct ctl_req *, void *),
    void *arg)
{
	r->cancel = fn;
	r->cancel_arg = arg;
}

void
ctl_req_on_gone(struct ctl_req *r, void (*fn)(struct ctl_req *, void *),
    void *arg)
{
	r->on_gone = fn;
	r->gone_arg = arg;
}

void
ctl_req_peer_gone(struct ctl_req *r)
{
	if (r->gone)
		return;
	r->gone = true;
	if (r->on_gone != NULL)
		r->on_gone(r, r->gone_arg);
}

void
ctl_req_cancel(struct ctl_req *r)
{
	if (r->cancel != NULL)
		r->cancel(r, r->cancel_arg);
	ctl_req_free(r);
}

const char *
ctl_str(const struct ctl_req *r, const char *key)
{
	return json_string_value(json_object_get(r->args, key));
}

json_int_t
ctl_int(const struct ctl_req *r, const char *key, json_int_t dflt)
{
	json_t *v = json_object_get(r->args, key);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

bool
ctl_bool(const struct ctl_req *r, const char *key, bool dflt)
{
	json_t *v = json_object_get(r->args, key);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}
