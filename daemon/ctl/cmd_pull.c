/*
 * pull: pull images from their registries, one after another, with the
 * engine's progress as events (docs/protocol.md, "pull").  shipctl picks
 * the images from the unit files (services without build:, whose
 * pull_policy allows a pull).
 */
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "ctl/ctl.h"
#include "engine/docker.h"
#include "proto.h"
#include "util.h"

struct pull {
	struct shipd		*sd;
	struct ctl_req		*r;
	struct docker_req	*dr;
	json_t			*images;	/* borrowed from r->args */
	size_t			 next;
	json_t			*pulled;
	json_t			*failed;
};

static void	pull_next(struct pull *);

static void
pull_free(struct pull *p)
{
	json_decref(p->pulled);
	json_decref(p->failed);
	free(p);
}

static const char *
cur(const struct pull *p)
{
	return json_string_value(json_array_get(p->images, p->next));
}

static void
on_progress(const char *line, size_t len, void *arg)
{
	struct pull	*p = arg;
	json_t		*j, *ev;

	if ((j = json_loadb(line, len, 0, NULL)) == NULL)
		return;
	ev = json_pack("{s:s}", "image", cur(p));
	if (json_is_string(json_object_get(j, "status")))
		json_object_set(ev, "status", json_object_get(j, "status"));
	if (json_is_string(json_object_get(j, "id")))
		json_object_set(ev, "layer", json_object_get(j, "id"));
	if (json_is_string(json_object_get(j, "progress")))
		json_object_set(ev, "progress", json_object_get(j,
		    "progress"));
	json_decref(j);
	ctl_req_event(p->r, PROTO_EV_PULL, ev);
}

static void
on_pulled(const struct docker_result *res, void *arg)
{
	struct pull *p = arg;

	p->dr = NULL;
	if (res->err != 0)
		json_array_append_new(p->failed, json_pack("{s:s, s:s}",
		    "image", cur(p), "message", res->message));
	else
		json_array_append_new(p->pulled, json_string(cur(p)));
	p->next++;
	pull_next(p);
}

static void
pull_next(struct pull *p)
{
	struct buf	 b;
	json_t		*f;
	size_t		 i;

	if (p->next < json_array_size(p->images)) {
		p->dr = docker_image_pull(p->sd->docker, cur(p), on_progress,
		    on_pulled, p);
		return;
	}
	if (json_array_size(p->failed) == 0) {
		ctl_req_ok(p->r, json_pack("{s:O}", "pulled", p->pulled));
		pull_free(p);
		return;
	}
	buf_init(&b);
	json_array_foreach(p->failed, i, f)
		buf_printf(&b, "%s%s: %s", i ? "; " : "",
		    json_string_value(json_object_get(f, "image")),
		    json_string_value(json_object_get(f, "message")));
	ctl_req_err(p->r, PROTO_E_FAILED, "pull failed: %s", b.data);
	buf_free(&b);
	pull_free(p);
}

static void
pull_cancel(struct ctl_req *r, void *arg)
{
	struct pull *p = arg;

	docker_cancel(p->dr);
	pull_free(p);
}

static void
cmd_pull(struct shipd *sd, struct ctl_req *r)
{
	struct pull	*p;
	json_t		*images = json_object_get(r->args, "images"), *v;
	size_t		 i;

	json_array_foreach(images, i, v) {
		if (!json_is_string(v) || json_string_length(v) == 0) {
			ctl_req_err(r, PROTO_E_BAD_ARGS, "images[%zu]: expected "
			    "an image reference", i);
			return;
		}
	}
	p = xcalloc(1, sizeof *p);
	p->sd = sd;
	p->r = r;
	p->images = images;
	p->pulled = json_array();
	p->failed = json_array();
	ctl_req_on_cancel(r, pull_cancel, p);
	pull_next(p);
}

static const struct ctl_arg args[] = {
	{ "images", JSON_ARRAY, true },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_pull = {
	PROTO_CMD_PULL, true, true, cmd_pull, args
};
