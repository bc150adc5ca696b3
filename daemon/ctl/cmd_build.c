/*
 * build: one service's image from a context that shipctl streams as
 * frames on channel in (docs/protocol.md, "build").  When the image at tag
 * already carries the request's input hash, nothing is built.  Otherwise
 * shipd asks for the context with a "build" event (state "context"),
 * passes each frame to the engine's POST /build as it comes, and stops
 * reading the client while more than BUILD_HIGH bytes wait for curl: the
 * memory a build holds is bounded whatever the context's size.
 */
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "ctl/ctl.h"
#include "engine/docker.h"
#include "proto.h"
#include "unit.h"
#include "util.h"

#define BUILD_HIGH	(1024u * 1024)		/* pause the client above */
#define BUILD_LOW	(256u * 1024)		/* resume it below */
#define BUILD_TAIL	(16u * 1024)		/* output kept for a failure */

struct build {
	struct shipd		*sd;
	struct ctl_req		*r;
	struct docker_req	*dr;
	char			*tag;
	char			*hash;
	struct buf		 in;		/* context not yet taken */
	size_t			 off;		/* taken from in */
	int			 ended;		/* END came */
	int			 curl_waits;	/* read() said pause */
	char			*image_id;
	char			*step;		/* the last "Step N/M : ..." */
	struct buf		 out;		/* output since that step */
	size_t			 sent;		/* context bytes to the engine */
};

static void
build_free(struct build *b)
{
	free(b->tag);
	free(b->hash);
	buf_free(&b->in);
	free(b->image_id);
	free(b->step);
	buf_free(&b->out);
	free(b);
}

static size_t
pending(const struct build *b)
{
	return b->in.len - b->off;
}

static size_t
on_read(char *p, size_t n, void *arg)
{
	struct build	*b = arg;
	size_t		 k = pending(b);

	if (k == 0) {
		if (b->ended)
			return 0;
		b->curl_waits = 1;
		return DOCKER_READ_PAUSE;
	}
	if (k > n)
		k = n;
	memcpy(p, b->in.data + b->off, k);
	b->off += k;
	b->sent += k;
	if (b->off == b->in.len) {
		buf_reset(&b->in);
		b->off = 0;
	}
	if (b->r->paused && pending(b) < BUILD_LOW)
		ctl_req_pause_input(b->r, false);
	return k;
}

static void
on_frame(struct ctl_req *r, const struct proto_frame *f, void *arg)
{
	struct build *b = arg;

	if (b->dr == NULL || f->chan != PROTO_CHAN_IN || b->ended)
		return;
	if (f->type == PROTO_FRAME_ABORT) {
		docker_cancel(b->dr);
		b->dr = NULL;
		ctl_req_err(r, PROTO_E_FAILED, "build of %s: the client gave "
		    "up sending the context", b->tag);
		build_free(b);
		return;
	}
	if (f->type == PROTO_FRAME_END)
		b->ended = 1;
	else {
		/* Compact before growing: what curl took is gone. */
		if (b->off > 0 && b->off >= b->in.len / 2) {
			memmove(b->in.data, b->in.data + b->off, pending(b));
			b->in.len -= b->off;
			b->off = 0;
		}
		buf_append(&b->in, f->data, f->len);
		if (pending(b) > BUILD_HIGH && !r->paused)
			ctl_req_pause_input(r, true);
	}
	if (b->curl_waits) {
		b->curl_waits = 0;
		docker_stream_pause(b->dr, 0);
	}
}

/* One line of the engine's progress: stream text, aux.ID, error. */
static void
on_progress(const char *line, size_t len, void *arg)
{
	struct build	*b = arg;
	json_t		*j, *aux;
	const char	*s, *id;
	size_t		 n;

	if ((j = json_loadb(line, len, 0, NULL)) == NULL)
		return;
	if ((s = json_string_value(json_object_get(j, "stream"))) != NULL) {
		if (strncmp(s, "Step ", 5) == 0) {
			free(b->step);
			n = strcspn(s, "\n");
			b->step = xstrndup(s, n);
			buf_reset(&b->out);
		} else {
			if (b->out.len > BUILD_TAIL)
				buf_consume(&b->out, b->out.len - BUILD_TAIL);
			buf_puts(&b->out, s);
		}
		ctl_req_event(b->r, PROTO_EV_BUILD, json_pack("{s:s, s:s}",
		    "tag", b->tag, "stream", s));
	}
	aux = json_object_get(j, "aux");
	if ((id = json_string_value(json_object_get(aux, "ID"))) != NULL) {
		free(b->image_id);
		b->image_id = xstrdup(id);
	}
	json_decref(j);
}

static void
on_built(const struct docker_result *res, void *arg)
{
	struct build	*b = arg;
	struct ctl_req	*r = b->r;

	b->dr = NULL;
	if (r->paused)
		ctl_req_pause_input(r, false);
	if (res->err != 0) {
		ctl_req_err(r, PROTO_E_FAILED, "build of %s failed%s%s: %s%s%s",
		    b->tag, b->step ? " at " : "", b->step ? b->step : "",
		    res->message, b->out.len ? "\noutput:\n" : "",
		    b->out.len ? b->out.data : "");
	} else if (b->image_id == NULL)
		ctl_req_err(r, PROTO_E_ENGINE, "build of %s: the engine named "
		    "no image", b->tag);
	else
		ctl_req_ok(r, json_pack("{s:s, s:s, s:b, s:I}", "tag", b->tag,
		    "image_id", b->image_id, "built", 1, "context_bytes",
		    (json_int_t)b->sent));
	build_free(b);
}

static void
build_gone(struct ctl_req *r, void *arg)
{
	struct build *b = arg;

	docker_cancel(b->dr);
	b->dr = NULL;
	ctl_req_err(r, PROTO_E_FAILED, "the client went away");
	build_free(b);
}

static void
build_cancel(struct ctl_req *r, void *arg)
{
	struct build *b = arg;

	docker_cancel(b->dr);
	build_free(b);
}

/* The engine's query from the request. */
static json_t *
build_query(struct build *b)
{
	struct ctl_req	*r = b->r;
	json_t		*q, *labels;

	labels = json_object_get(r->args, "labels");
	labels = labels ? json_deep_copy(labels) : json_object();
	json_object_set_new(labels, UNIT_BUILD_HASH_LABEL,
	    json_string(b->hash));
	json_object_set_new(labels, "io.shipd.stack",
	    json_string(ctl_str(r, "stack")));
	json_object_set_new(labels, "io.shipd.service",
	    json_string(ctl_str(r, "service")));
	q = json_pack("{s:s, s:s?, s:s?, s:O?, s:o, s:O?}",
	    "t", b->tag, "dockerfile", ctl_str(r, "dockerfile"),
	    "target", ctl_str(r, "target"),
	    "buildargs", json_object_get(r->args, "args"),
	    "labels", labels,
	    "cachefrom", json_object_get(r->args, "cache_from"));
	return q;
}

static void
build_start(struct build *b)
{
	json_t *q;

	if (ctl_req_take_frames(b->r, on_frame, b) != 0) {
		ctl_req_err(b->r, PROTO_E_BAD_ARGS, "a build streams its "
		    "context: the request needs an integer id");
		build_free(b);
		return;
	}
	q = build_query(b);
	b->dr = docker_image_build(b->sd->docker, q, on_read, on_progress,
	    on_built, b);
	json_decref(q);
	ctl_req_on_gone(b->r, build_gone, b);
	ctl_req_on_cancel(b->r, build_cancel, b);
	ctl_req_event(b->r, PROTO_EV_BUILD, json_pack("{s:s, s:s}", "tag",
	    b->tag, "state", "context"));
}

static void
on_inspected(const struct docker_result *res, void *arg)
{
	struct build	*b = arg;
	const char	*have, *id;
	json_t		*cfg;

	b->dr = NULL;
	cfg = json_object_get(res->body, "Config");
	have = json_string_value(json_object_get(json_object_get(cfg,
	    "Labels"), UNIT_BUILD_HASH_LABEL));
	id = json_string_value(json_object_get(res->body, "Id"));
	if (res->err == 0 && have != NULL && id != NULL &&
	    strcmp(have, b->hash) == 0 && !ctl_bool(b->r, "force", false)) {
		ctl_req_ok(b->r, json_pack("{s:s, s:s, s:b}", "tag", b->tag,
		    "image_id", id, "built", 0));
		build_free(b);
		return;
	}
	build_start(b);
}

static void
build_inspect_cancel(struct ctl_req *r, void *arg)
{
	struct build *b = arg;

	docker_cancel(b->dr);
	build_free(b);
}

static void
cmd_build(struct shipd *sd, struct ctl_req *r)
{
	struct build	*b;
	const char	*stack = ctl_str(r, "stack");
	const char	*svc = ctl_str(r, "service");

	if (!stack_name_valid(stack) || !unit_name_valid(svc)) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "invalid stack or service "
		    "name");
		return;
	}
	b = xcalloc(1, sizeof *b);
	b->sd = sd;
	b->r = r;
	b->tag = xstrdup(ctl_str(r, "tag"));
	b->hash = xstrdup(ctl_str(r, "hash"));
	buf_init(&b->in);
	buf_init(&b->out);
	ctl_req_on_cancel(r, build_inspect_cancel, b);
	b->dr = docker_image_inspect(sd->docker, b->tag, on_inspected, b);
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, true },
	{ "service", JSON_STRING, true },
	{ "tag", JSON_STRING, true },
	{ "hash", JSON_STRING, true },
	{ "dockerfile", JSON_STRING, false },
	{ "target", JSON_STRING, false },
	{ "args", JSON_OBJECT, false },
	{ "labels", JSON_OBJECT, false },
	{ "cache_from", JSON_ARRAY, false },
	{ "force", JSON_TRUE, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_build = {
	PROTO_CMD_BUILD, true, true, cmd_build, args
};
