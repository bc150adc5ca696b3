/*
 * The engine endpoints shipd uses, as thin wrappers over docker_submit():
 * paths, query strings and which statuses count as success.  Also the
 * stdout/stderr frame demultiplexer for logs and exec output.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/docker.h"
#include "engine/docker_int.h"
#include "util.h"

struct docker_req *
docker_request(struct docker *d, const char *method, const char *path,
    json_t *body, docker_cb *cb, void *arg)
{
	struct docker_opts o = { .method = method, .path = path, .body = body,
	    .done = cb, .arg = arg };

	return docker_submit(d, &o);
}

struct docker_req *
docker_stream(struct docker *d, const char *method, const char *path,
    json_t *body, docker_line_cb *line, docker_data_cb *data,
    docker_cb *done, void *arg)
{
	struct docker_opts o = { .method = method, .path = path, .body = body,
	    .flags = DOCKER_F_STREAM, .line = line, .data = data,
	    .done = done, .arg = arg };

	return docker_submit(d, &o);
}

/* ---- version negotiation ---------------------------------------------- */

struct nego {
	struct docker		*d;
	struct docker_req	*r;
	docker_cb		*cb;
	void			*arg;
};

/* "1.41" -> 1041; -1 if it is not two dotted numbers. */
static int
version_num(const char *v)
{
	unsigned	 major, minor;
	int		 end = 0;

	if (v == NULL || sscanf(v, "%3u.%3u%n", &major, &minor, &end) != 2 ||
	    v[end] != '\0')
		return -1;
	return (int)(major * 1000 + minor);
}

bool
docker_api_since(const struct docker *d, const char *v)
{
	int have = version_num(docker_api_version(d));

	return have >= 0 && have >= version_num(v);
}

static void
on_ping(const struct docker_result *res, void *arg)
{
	struct nego		*n = arg;
	struct docker_result	 out = *res;
	const char		*have = docker_req_api_version(n->r);
	int			 v = version_num(have);
	char			 msg[256], ver[16];

	if (res->err != 0) {
		n->cb(res, n->arg);
		return;
	}
	if (v < version_num(DOCKER_API_MIN)) {
		out.err = -EPROTONOSUPPORT;
		if (v < 0)
			snprintf(msg, sizeof msg, "engine reported no usable "
			    "API version (Api-Version \"%s\"); shipd needs %s "
			    "or newer", have ? have : "", DOCKER_API_MIN);
		else
			snprintf(msg, sizeof msg, "engine API %s is older "
			    "than %s, the oldest shipd supports", have,
			    DOCKER_API_MIN);
		out.message = msg;
		docker_set_api_version(n->d, NULL);
	} else {
		if (v > version_num(DOCKER_API_MAX))
			v = version_num(DOCKER_API_MAX);
		snprintf(ver, sizeof ver, "%d.%d", v / 1000, v % 1000);
		docker_set_api_version(n->d, ver);
	}
	n->cb(&out, n->arg);
}

void
docker_negotiate(struct docker *d, docker_cb *cb, void *arg)
{
	struct nego		*n = xcalloc(1, sizeof *n);
	struct docker_opts	 o = { .method = "GET", .path = "/_ping",
	    .flags = DOCKER_F_NOVERSION, .done = on_ping, .arg = n,
	    .free_arg = free };

	n->d = d;
	n->cb = cb;
	n->arg = arg;
	/* Its callback comes from the loop, by when n->r is set. */
	if ((n->r = docker_submit(d, &o)) == NULL)
		free(n);
}

/* ---- paths -------------------------------------------------------------- */

char *
docker_escape(const char *s, const char *keep)
{
	static const char	 hex[] = "0123456789ABCDEF";
	struct buf		 b;
	unsigned char		 c;

	buf_init(&b);
	buf_append(&b, "", 0);
	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || (keep && strchr(keep, c))) {
			buf_append(&b, s, 1);
			continue;
		}
		buf_printf(&b, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
	return buf_steal(&b);
}

char *
docker_label_filter(const char *label)
{
	json_t	*f;
	char	*js, *esc;

	if (label == NULL)
		return NULL;
	f = json_pack("{s:[s]}", "label", label);
	js = f ? json_dumps(f, JSON_COMPACT) : NULL;
	json_decref(f);
	if (js == NULL)		/* label is not UTF-8 */
		return NULL;
	esc = docker_escape(js, NULL);
	free(js);
	return esc;
}

/*
 * Path segments are escaped with keep "" (IDs, names) or "/:@" (image
 * references, whose slashes the engine's router accepts as they are).
 */
static struct docker_req *
call(struct docker *d, const char *method, unsigned flags, json_t *body,
    docker_cb *cb, void *arg, const char *fmt, ...)
{
	struct docker_opts	 o;
	struct docker_req	*r;
	char			*path;
	va_list			 ap;
	int			 n;

	va_start(ap, fmt);
	n = vasprintf(&path, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	memset(&o, 0, sizeof o);
	o.method = method;
	o.path = path;
	o.body = body;
	o.flags = flags;
	o.done = cb;
	o.arg = arg;
	r = docker_submit(d, &o);
	free(path);
	return r;
}

struct docker_req *
docker_ping(struct docker *d, docker_cb *cb, void *arg)
{
	return call(d, "GET", 0, NULL, cb, arg, "/_ping");
}

struct docker_req *
docker_version(struct docker *d, docker_cb *cb, void *arg)
{
	return call(d, "GET", 0, NULL, cb, arg, "/version");
}

struct docker_req *
docker_info(struct docker *d, docker_cb *cb, void *arg)
{
	return call(d, "GET", 0, NULL, cb, arg, "/info");
}

/* ---- containers ---------------------------------------------------------- */

struct docker_req *
docker_containers_list(struct docker *d, const char *label, int all,
    docker_cb *cb, void *arg)
{
	struct docker_req	*r;
	char			*f = docker_label_filter(label);

	r = call(d, "GET", 0, NULL, cb, arg, "/containers/json?all=%d%s%s",
	    all ? 1 : 0, f ? "&filters=" : "", f ? f : "");
	free(f);
	return r;
}

struct docker_req *
docker_container_create(struct docker *d, const char *name, json_t *spec,
    docker_cb *cb, void *arg)
{
	struct docker_req	*r;
	char			*n = name ? docker_escape(name, NULL) : NULL;

	r = call(d, "POST", 0, spec, cb, arg, "/containers/create%s%s",
	    n ? "?name=" : "", n ? n : "");
	free(n);
	return r;
}

/* A request on /containers/{id}/<what>: id escaped, query as given. */
static struct docker_req *
on_container(struct docker *d, const char *method, unsigned flags,
    const char *id, const char *what, const char *query, docker_cb *cb,
    void *arg)
{
	struct docker_req	*r;
	char			*e = docker_escape(id, NULL);

	r = call(d, method, flags, NULL, cb, arg, "/containers/%s%s%s%s", e,
	    what, query ? "?" : "", query ? query : "");
	free(e);
	return r;
}

/* 304 on start and stop means the container already was in that state,
 * per the API spec; for kill it can only mean the same. */
struct docker_req *
docker_container_start(struct docker *d, const char *id, docker_cb *cb,
    void *arg)
{
	return on_container(d, "POST", DOCKER_F_OK304, id, "/start", NULL, cb,
	    arg);
}

struct docker_req *
docker_container_stop(struct docker *d, const char *id, int timeout_s,
    docker_cb *cb, void *arg)
{
	struct docker_opts	 o;
	struct docker_req	*r;
	char			*e = docker_escape(id, NULL), *path;
	uint64_t		 to = docker_timeout(d);

	/* The engine waits up to t seconds before it kills and replies: the
	 * deadline is t plus an ordinary call's. */
	if (timeout_s >= 0)
		xasprintf(&path, "/containers/%s/stop?t=%d", e, timeout_s);
	else
		xasprintf(&path, "/containers/%s/stop", e);
	if (to > 0)
		to += (uint64_t)(timeout_s >= 0 ? timeout_s :
		    DOCKER_STOP_DEFAULT_S) * 1000;
	memset(&o, 0, sizeof o);
	o.method = "POST";
	o.path = path;
	o.flags = DOCKER_F_OK304 | (to == 0 ? DOCKER_F_NOTIMEOUT : 0);
	o.timeout_ms = to;
	o.done = cb;
	o.arg = arg;
	r = docker_submit(d, &o);
	free(path);
	free(e);
	return r;
}

struct docker_req *
docker_container_kill(struct docker *d, const char *id, const char *signal,
    docker_cb *cb, void *arg)
{
	struct docker_req	*r;
	char			*s = signal ? docker_escape(signal, NULL) : NULL;
	char			*q = NULL;

	if (s != NULL)
		xasprintf(&q, "signal=%s", s);
	r = on_container(d, "POST", DOCKER_F_OK304, id, "/kill", q, cb, arg);
	free(q);
	free(s);
	return r;
}

/* A removal: it deletes files, so it gets DOCKER_SLOW_FACTOR times the
 * ordinary deadline. */
static struct docker_req *
submit_slow(struct docker *d, const char *method, const char *path,
    docker_cb *cb, void *arg)
{
	struct docker_opts o;

	memset(&o, 0, sizeof o);
	o.method = method;
	o.path = path;
	o.flags = docker_timeout(d) == 0 ? DOCKER_F_NOTIMEOUT : 0;
	o.timeout_ms = docker_timeout(d) * DOCKER_SLOW_FACTOR;
	o.done = cb;
	o.arg = arg;
	return docker_submit(d, &o);
}

/* A request on /containers/{id}<what> with a slow call's deadline. */
static struct docker_req *
on_container_slow(struct docker *d, const char *method, const char *id,
    const char *what, const char *query, docker_cb *cb, void *arg)
{
	struct docker_req	*r;
	char			*e = docker_escape(id, NULL), *path;

	xasprintf(&path, "/containers/%s%s%s%s", e, what, query ? "?" : "",
	    query ? query : "");
	r = submit_slow(d, method, path, cb, arg);
	free(path);
	free(e);
	return r;
}

/* Removing a container deletes its filesystem (and with v its anonymous
 * volumes): slower than an ordinary call. */
struct docker_req *
docker_container_remove(struct docker *d, const char *id, int force,
    int volumes, docker_cb *cb, void *arg)
{
	char q[32];

	snprintf(q, sizeof q, "force=%d&v=%d", force ? 1 : 0, volumes ? 1 : 0);
	return on_container_slow(d, "DELETE", id, "", q, cb, arg);
}

/* A removal another process asked for: as slow as one. */
struct docker_req *
docker_container_wait_removed(struct docker *d, const char *id,
    docker_cb *cb, void *arg)
{
	return on_container_slow(d, "POST", id, "/wait", "condition=removed",
	    cb, arg);
}

struct docker_req *
docker_container_inspect(struct docker *d, const char *id, docker_cb *cb,
    void *arg)
{
	return on_container(d, "GET", 0, id, "/json", NULL, cb, arg);
}

struct docker_req *
docker_container_rename(struct docker *d, const char *id, const char *newname,
    docker_cb *cb, void *arg)
{
	struct docker_req	*r;
	char			*n = docker_escape(newname, NULL), *q;

	xasprintf(&q, "name=%s", n);
	r = on_container(d, "POST", 0, id, "/rename", q, cb, arg);
	free(q);
	free(n);
	return r;
}

struct docker_req *
docker_container_wait(struct docker *d, const char *id, docker_cb *cb,
    void *arg)
{
	return on_container(d, "POST", DOCKER_F_NOTIMEOUT, id, "/wait", NULL,
	    cb, arg);
}

/* ---- images ------------------------------------------------------------ */

struct docker_req *
docker_image_inspect(struct docker *d, const char *ref, docker_cb *cb,
    void *arg)
{
	struct docker_req	*r;
	char			*e = docker_escape(ref, "/:@");

	r = call(d, "GET", 0, NULL, cb, arg, "/images/%s/json", e);
	free(e);
	return r;
}

static void
ignore_line(const char *line, size_t len, void *arg)
{
	(void)line;
	(void)len;
	(void)arg;
}

struct docker_req *
docker_image_pull(struct docker *d, const char *ref, docker_line_cb *progress,
    docker_cb *done, void *arg)
{
	struct docker_opts	 o;
	struct docker_req	*r;
	const char		*slash = strrchr(ref, '/');
	const char		*colon = strrchr(slash ? slash : ref, ':');
	char			*name, *tag, *path;

	/* "repo@sha256:..." carries its digest in fromImage; "repo:tag" is
	 * split; a bare "repo" would pull every tag, so ask for latest. */
	if (strchr(ref, '@') != NULL || colon == NULL) {
		name = docker_escape(ref, NULL);
		tag = xstrdup(strchr(ref, '@') ? "" : "latest");
	} else {
		char *n = xstrndup(ref, (size_t)(colon - ref));

		name = docker_escape(n, NULL);
		tag = docker_escape(colon + 1, NULL);
		free(n);
	}
	xasprintf(&path, "/images/create?fromImage=%s%s%s", name,
	    tag[0] ? "&tag=" : "", tag);
	memset(&o, 0, sizeof o);
	o.method = "POST";
	o.path = path;
	o.flags = DOCKER_F_STREAM;
	/* Errors come as lines inside the 200 reply, so read them even when
	 * the caller does not care for progress. */
	o.line = progress ? progress : ignore_line;
	o.idle_ms = DOCKER_IDLE_MS;
	o.done = done;
	o.arg = arg;
	r = docker_submit(d, &o);
	free(path);
	free(name);
	free(tag);
	return r;
}

/* ---- networks and volumes ------------------------------------------------ */

static struct docker_req *
list_by_label(struct docker *d, const char *what, const char *label,
    docker_cb *cb, void *arg)
{
	struct docker_req	*r;
	char			*f = docker_label_filter(label);

	r = call(d, "GET", 0, NULL, cb, arg, "/%s%s%s", what,
	    f ? "?filters=" : "", f ? f : "");
	free(f);
	return r;
}

static struct docker_req *
on_object(struct docker *d, const char *method, const char *what,
    const char *id, const char *query, docker_cb *cb, void *arg)
{
	struct docker_req	*r;
	char			*e = docker_escape(id, NULL);

	r = call(d, method, 0, NULL, cb, arg, "/%s/%s%s%s", what, e,
	    query ? "?" : "", query ? query : "");
	free(e);
	return r;
}

struct docker_req *
docker_network_create(struct docker *d, json_t *spec, docker_cb *cb,
    void *arg)
{
	return call(d, "POST", 0, spec, cb, arg, "/networks/create");
}

struct docker_req *
docker_networks_list(struct docker *d, const char *label, docker_cb *cb,
    void *arg)
{
	return list_by_label(d, "networks", label, cb, arg);
}

struct docker_req *
docker_network_remove(struct docker *d, const char *id, docker_cb *cb,
    void *arg)
{
	return on_object(d, "DELETE", "networks", id, NULL, cb, arg);
}

struct docker_req *
docker_volume_create(struct docker *d, json_t *spec, docker_cb *cb, void *arg)
{
	return call(d, "POST", 0, spec, cb, arg, "/volumes/create");
}

struct docker_req *
docker_volumes_list(struct docker *d, const char *label, docker_cb *cb,
    void *arg)
{
	return list_by_label(d, "volumes", label, cb, arg);
}

/* Deletes the volume's files: slower than an ordinary call. */
struct docker_req *
docker_volume_remove(struct docker *d, const char *name, int force,
    docker_cb *cb, void *arg)
{
	struct docker_req	*r;
	char			*e = docker_escape(name, NULL), *path;

	xasprintf(&path, "/volumes/%s%s", e, force ? "?force=1" : "");
	r = submit_slow(d, "DELETE", path, cb, arg);
	free(path);
	free(e);
	return r;
}

/* ---- exec ---------------------------------------------------------------- */

struct docker_req *
docker_exec_create(struct docker *d, const char *id, json_t *spec,
    docker_cb *cb, void *arg)
{
	struct docker_req	*r;
	char			*e = docker_escape(id, NULL);

	r = call(d, "POST", 0, spec, cb, arg, "/containers/%s/exec", e);
	free(e);
	return r;
}

struct exec_run {
	struct docker_demux	 dm;
	docker_data_cb		*output;
	docker_cb		*done;
	void			*arg;
};

static void
exec_frame(int stream, const char *data, size_t len, void *arg)
{
	struct exec_run *x = arg;

	(void)stream;
	x->output(data, len, x->arg);
}

static void
exec_data(const char *data, size_t len, void *arg)
{
	struct exec_run *x = arg;

	docker_demux_feed(&x->dm, data, len);
}

static void
exec_done(const struct docker_result *res, void *arg)
{
	struct exec_run *x = arg;

	x->done(res, x->arg);
}

static void
exec_free(void *arg)
{
	struct exec_run *x = arg;

	docker_demux_free(&x->dm);
	free(x);
}

struct docker_req *
docker_exec_start(struct docker *d, const char *exec_id,
    docker_data_cb *output, docker_cb *done, void *arg)
{
	struct docker_opts	 o;
	struct docker_req	*r;
	struct exec_run		*x = xcalloc(1, sizeof *x);
	char			*e = docker_escape(exec_id, NULL), *path;
	json_t			*body;

	x->output = output;
	x->done = done;
	x->arg = arg;
	docker_demux_init(&x->dm, exec_frame, x);
	xasprintf(&path, "/exec/%s/start", e);
	body = json_pack("{s:b, s:b}", "Detach", 0, "Tty", 0);
	memset(&o, 0, sizeof o);
	o.method = "POST";
	o.path = path;
	o.body = body;
	o.flags = DOCKER_F_STREAM;
	o.data = output ? exec_data : NULL;
	o.done = exec_done;
	o.arg = x;
	o.free_arg = exec_free;
	if ((r = docker_submit(d, &o)) == NULL)
		exec_free(x);
	json_decref(body);
	free(path);
	free(e);
	return r;
}

struct docker_req *
docker_exec_inspect(struct docker *d, const char *exec_id, docker_cb *cb,
    void *arg)
{
	struct docker_req	*r;
	char			*e = docker_escape(exec_id, NULL);

	r = call(d, "GET", 0, NULL, cb, arg, "/exec/%s/json", e);
	free(e);
	return r;
}

/* ---- stdout/stderr frames ------------------------------------------------ */

void
docker_demux_init(struct docker_demux *m, docker_demux_cb *cb, void *arg)
{
	memset(m, 0, sizeof *m);
	m->cb = cb;
	m->arg = arg;
}

void
docker_demux_free(struct docker_demux *m)
{
	/* Nothing is buffered beyond the header; this is for symmetry and
	 * so a future buffer has a place to go. */
	m->hlen = 0;
	m->left = 0;
}

/*
 * Each frame is an 8-byte header (stream type, three zero bytes, payload
 * length as big-endian uint32) and the payload.  A stream that does not
 * look framed (a container with a TTY) is passed through as stdout.
 */
void
docker_demux_feed(struct docker_demux *m, const char *p, size_t len)
{
	size_t take;

	while (len > 0) {
		if (m->raw) {
			m->cb(1, p, len, m->arg);
			return;
		}
		if (m->left == 0) {
			take = 8 - m->hlen < len ? 8 - m->hlen : len;
			memcpy(m->hdr + m->hlen, p, take);
			m->hlen += take;
			p += take;
			len -= take;
			if (m->hlen < 8)
				return;
			m->hlen = 0;
			if (m->hdr[0] > 2 || m->hdr[1] != 0 || m->hdr[2] != 0 ||
			    m->hdr[3] != 0) {
				m->raw = 1;
				m->cb(1, (const char *)m->hdr, 8, m->arg);
				continue;
			}
			m->stream = m->hdr[0];
			m->left = (uint32_t)m->hdr[4] << 24 |
			    (uint32_t)m->hdr[5] << 16 |
			    (uint32_t)m->hdr[6] << 8 | m->hdr[7];
			continue;
		}
		take = m->left < len ? m->left : len;
		m->cb(m->stream, p, take, m->arg);
		p += take;
		len -= take;
		m->left -= (uint32_t)take;
	}
}

/* ---- archives ------------------------------------------------------------ */

struct docker_req *
docker_archive_get(struct docker *d, const char *id, const char *path,
    docker_data_cb *data, docker_cb *done, void *arg)
{
	struct docker_opts	 o;
	struct docker_req	*r;
	char			*e = docker_escape(id, NULL);
	char			*p = docker_escape(path, NULL), *url;

	xasprintf(&url, "/containers/%s/archive?path=%s", e, p);
	memset(&o, 0, sizeof o);
	o.method = "GET";
	o.path = url;
	/* A tar is not lines: nothing to scan for "error". */
	o.flags = DOCKER_F_STREAM | DOCKER_F_NOSCAN | DOCKER_F_BULK;
	o.idle_ms = DOCKER_IDLE_MS;
	o.data = data;
	o.done = done;
	o.arg = arg;
	r = docker_submit(d, &o);
	free(url);
	free(p);
	free(e);
	return r;
}

struct docker_req *
docker_archive_put(struct docker *d, const char *id, const char *dir,
    uint64_t size, docker_read_cb *read, docker_cb *done, void *arg)
{
	struct docker_opts	 o;
	struct docker_req	*r;
	char			*e = docker_escape(id, NULL);
	char			*p = docker_escape(dir, NULL), *url;

	xasprintf(&url, "/containers/%s/archive?path=%s", e, p);
	memset(&o, 0, sizeof o);
	o.method = "PUT";
	o.path = url;
	/* A big upload takes as long as it takes, but never stands still. */
	o.flags = DOCKER_F_NOTIMEOUT | DOCKER_F_BULK;
	o.idle_ms = DOCKER_IDLE_MS;
	o.read = read;
	o.read_size = size;
	o.content_type = "application/x-tar";
	o.done = done;
	o.arg = arg;
	r = docker_submit(d, &o);
	free(url);
	free(p);
	free(e);
	return r;
}
