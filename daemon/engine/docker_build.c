/*
 * POST /build: a build context streamed as the request's body, the
 * engine's progress as JSON lines back (docker.h).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/docker_int.h"
#include "util.h"

/* "k=v&..." of q: strings as they are, other values as compact JSON. */
static char *
build_query(const json_t *q)
{
	struct buf	 b;
	const char	*k;
	json_t		*v;
	char		*s, *e;

	buf_init(&b);
	buf_puts(&b, "rm=1&forcerm=1");
	json_object_foreach((json_t *)q, k, v) {
		if (json_is_null(v))
			continue;
		s = json_is_string(v) ? xstrdup(json_string_value(v)) :
		    json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
		if (s == NULL)
			continue;
		e = docker_escape(s, NULL);
		buf_printf(&b, "&%s=%s", k, e);
		free(e);
		free(s);
	}
	return buf_steal(&b);
}

struct docker_req *
docker_image_build(struct docker *d, const json_t *q, docker_read_cb *read,
    docker_line_cb *progress, docker_cb *done, void *arg)
{
	struct docker_opts	 o;
	struct docker_req	*r;
	char			*query, *path;

	query = build_query(q);
	xasprintf(&path, "/build?%s", query);
	memset(&o, 0, sizeof o);
	o.method = "POST";
	o.path = path;
	/* A context takes as long as it takes to send, but a build that
	 * stands still (nothing either way) is over. */
	o.flags = DOCKER_F_STREAM | DOCKER_F_NOTIMEOUT | DOCKER_F_BULK;
	o.idle_ms = DOCKER_IDLE_MS;
	o.line = progress;
	o.read = read;
	o.read_size = DOCKER_READ_CHUNKED;
	o.content_type = "application/x-tar";
	o.done = done;
	o.arg = arg;
	r = docker_submit(d, &o);
	free(path);
	free(query);
	return r;
}
