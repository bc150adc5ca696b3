/*
 * The dockerd model's HTTP side: the Docker Engine API paths shipd calls,
 * answered from the model (helper_fakedocker.c) as the engine would, each
 * call logged, and the /events stream fed from the model's event log.
 * Runs on the fake engine's connection threads.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helper_fakedocker_int.h"
#include "helper_fakeengine.h"
#include "util.h"

/* What a route answers. */
struct answer {
	int		 status;
	char		*body;		/* NULL: none */
	size_t		 len;
	const char	*headers;
	bool		 raw;		/* a stdout frame stream */
};

/* ---- small things ------------------------------------------------------ */

static char *
pct_decode(const char *s, size_t n)
{
	char	*o = xmalloc(n + 1), hex[3] = "";
	size_t	 i, j = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n) {
			hex[0] = s[i + 1];
			hex[1] = s[i + 2];
			o[j++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else
			o[j++] = s[i];
	}
	o[j] = '\0';
	return o;
}

/* The decoded value of key in "a=1&b=2", or NULL; caller frees. */
static char *
query_get(const char *q, const char *key)
{
	size_t klen = strlen(key);

	while (q != NULL && *q != '\0') {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);

		if (n > klen && strncmp(q, key, klen) == 0 && q[klen] == '=')
			return pct_decode(q + klen + 1, n - klen - 1);
		q = amp ? amp + 1 : NULL;
	}
	return NULL;
}

static struct answer
json_answer(int status, json_t *j)
{
	struct answer a = { status, NULL, 0, NULL, false };

	a.body = json_dumps(j, JSON_COMPACT);
	a.len = strlen(a.body);
	json_decref(j);
	return a;
}

static struct answer
msg_answer(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static struct answer
msg_answer(int status, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return json_answer(status, json_pack("{s:s}", "message", msg));
}

static struct answer
empty_answer(int status)
{
	struct answer a = { status, NULL, 0, NULL, false };

	return a;
}

/* Every label filter ("k" or "k=v") matches labels. */
static bool
labels_match(json_t *filters, json_t *labels)
{
	json_t	*f;
	size_t	 i;

	json_array_foreach(json_object_get(filters, "label"), i, f) {
		const char *s = json_string_value(f), *eq;
		const char *v;
		char *k;

		if (s == NULL)
			return false;
		eq = strchr(s, '=');
		k = eq ? xstrndup(s, (size_t)(eq - s)) : xstrdup(s);
		v = json_string_value(json_object_get(labels, k));
		free(k);
		if (v == NULL || (eq != NULL && strcmp(v, eq + 1) != 0))
			return false;
	}
	return true;
}

static json_t *
parse_filters(const char *query)
{
	char	*s = query_get(query, "filters");
	json_t	*f = s ? json_loads(s, 0, NULL) : NULL;

	free(s);
	return f;
}

/* ---- routes ------------------------------------------------------------ */

static struct answer
containers_list(struct fakedocker *fd, const char *query)
{
	json_t		*arr = json_array(), *filters = parse_filters(query);
	struct fcont	*c;

	for (c = fd->conts; c != NULL; c = c->next) {
		if (filters != NULL && !labels_match(filters, c->labels))
			continue;
		json_array_append_new(arr, json_pack("{s:s, s:[s+], s:s, s:s, "
		    "s:O, s:s, s:s, s:[]}", "Id", c->id, "Names", "/", c->name,
		    "Image", c->ref, "ImageID", c->image_id, "Labels", c->labels,
		    "State", c->state, "Status", c->state, "Ports"));
	}
	json_decref(filters);
	return json_answer(200, arr);
}

static const char *
aliases_str(json_t *al, char *buf, size_t len)
{
	json_t	*v;
	size_t	 i, n = 0;

	buf[0] = '\0';
	json_array_foreach(al, i, v)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
		    i ? "," : "", json_string_value(v));
	return buf;
}

static struct answer
container_create(struct fakedocker *fd, const char *raw, const char *query,
    const char *body)
{
	struct answer	 a;
	struct fcont	*c;
	json_t		*spec = json_loads(body, 0, NULL), *al;
	char		*name = query_get(query, "name"), msg[256];
	const char	*key;
	bool		 aliased = false;
	int		 status;

	if (spec == NULL) {
		free(name);
		return msg_answer(400, "bad JSON");
	}
	json_object_foreach(json_object_get(json_object_get(spec,
	    "NetworkingConfig"), "EndpointsConfig"), key, al)
		if (json_array_size(json_object_get(al, "Aliases")) > 0)
			aliased = true;
	fdm_log(fd, raw, "create %s%s", name ? name : "-", aliased ? "" :
	    " unaliased");
	if ((c = fdm_create(fd, name, spec, true, &status, msg,
	    sizeof msg)) != NULL)
		a = json_answer(201, json_pack("{s:s, s:[]}", "Id", c->id,
		    "Warnings"));
	else
		a = msg_answer(status, "%s", msg);
	json_decref(spec);
	free(name);
	return a;
}

static struct answer
container_exec(struct fakedocker *fd, struct fcont *c)
{
	char id[72];

	if (strcmp(c->state, "running") != 0)
		return msg_answer(409, "Container %s is not running", c->id);
	fdm_id(fd, 0xe0, id);
	json_object_set_new(fd->execs, id, json_pack("{s:s, s:i}", "cid",
	    c->id, "code", -1));
	return json_answer(201, json_pack("{s:s}", "Id", id));
}

static struct answer
net_call(struct fakedocker *fd, const char *raw, const char *net,
    bool join, const char *body)
{
	json_t		*b = json_loads(body, 0, NULL), *al;
	struct fcont	*c;
	const char	*who = json_string_value(json_object_get(b,
	    "Container"));
	char		 s[256];

	c = who ? fdm_cont(fd, who) : NULL;
	al = json_object_get(json_object_get(b, "EndpointConfig"), "Aliases");
	if (join)
		fdm_log(fd, raw, "connect %s %s %s", net, c ? c->name : "?",
		    aliases_str(al, s, sizeof s));
	else
		fdm_log(fd, raw, "disconnect %s %s", net, c ? c->name : "?");
	if (c == NULL || json_object_get(fd->nets, net) == NULL) {
		json_decref(b);
		return msg_answer(404, "no such container or network");
	}
	if (join && json_object_get(c->nets, net) != NULL) {
		json_decref(b);
		return msg_answer(403, "endpoint with name %s already exists "
		    "in network %s", c->name, net);
	}
	if (!join && json_object_get(c->nets, net) == NULL) {
		json_decref(b);
		return msg_answer(403, "container %s is not connected to "
		    "network %s", c->id, net);
	}
	if (join)
		json_object_set_new(c->nets, net, al ? json_deep_copy(al) :
		    json_array());
	else
		json_object_del(c->nets, net);
	json_decref(b);
	return json_answer(200, json_object());
}

/* /containers/{id}/{what} and DELETE /containers/{id} */
static struct answer
on_container(struct fakedocker *fd, const char *method, const char *raw,
    const char *rest, const char *query)
{
	const char	*slash = strchr(rest, '/');
	char		*key = slash ? xstrndup(rest, (size_t)(slash - rest)) :
	    xstrdup(rest), *dk = pct_decode(key, strlen(key)), *v;
	const char	*what = slash ? slash + 1 : "";
	struct fcont	*c = fdm_cont(fd, dk), **cp;
	const char	*name = c ? c->name : dk;
	struct answer	 a;

	if (strcmp(what, "json") == 0)
		fdm_log(fd, raw, "inspect %s", name);
	else if (strcmp(what, "rename") != 0 && strcmp(what, "exec") != 0)
		fdm_log(fd, raw, "%s %s", *what ? what : "remove", name);
	if (c == NULL && strcmp(what, "rename") != 0) {
		a = msg_answer(404, "No such container: %s", dk);
		goto out;
	}
	if (strcmp(what, "json") == 0) {
		a = json_answer(200, fdm_inspect(c));
	} else if (strcmp(what, "start") == 0) {
		if (strcmp(c->state, "running") == 0)
			a = empty_answer(304);
		else if (c->k.start_fails)
			a = msg_answer(500, "fake: cannot start container %s: "
			    "exec format error", c->name);
		else {
			fdm_start(fd, c);
			a = empty_answer(204);
		}
	} else if (strcmp(what, "stop") == 0 || strcmp(what, "kill") == 0) {
		if (strcmp(c->state, "running") != 0)
			a = empty_answer(strcmp(what, "stop") == 0 ? 304 : 409);
		else {
			fdm_exited(fd, c, what[0] == 's' ? 143 : 137);
			fdm_emit(fd, c, what, NULL);
			a = empty_answer(204);
		}
	} else if (strcmp(what, "rename") == 0) {
		v = query_get(query, "name");
		fdm_log(fd, raw, "rename %s %s", name, v ? v : "?");
		if (c == NULL)
			a = msg_answer(404, "No such container: %s", dk);
		else if (v == NULL)
			a = msg_answer(400, "name is required");
		else if (fdm_cont(fd, v) != NULL &&
		    strcmp(fdm_cont(fd, v)->name, v) == 0 &&
		    fdm_cont(fd, v) != c)
			a = msg_answer(409, "Conflict. The container name \"/%s\" "
			    "is already in use", v);
		else {
			free(c->name);
			c->name = xstrdup(v);
			fdm_emit(fd, c, "rename", NULL);
			a = empty_answer(204);
		}
		free(v);
	} else if (strcmp(what, "exec") == 0) {
		fdm_log(fd, raw, "exec %s", name);
		a = container_exec(fd, c);
	} else if (strcmp(what, "wait") == 0 &&
	    strcmp(c->state, "removing") == 0) {
		/* ?condition=removed on a container being removed: the
		 * removal ends now. */
		fdm_emit(fd, c, "destroy", NULL);
		for (cp = &fd->conts; *cp != c; cp = &(*cp)->next)
			;
		*cp = c->next;
		fdm_cont_free(c);
		a = json_answer(200, json_pack("{s:i}", "StatusCode", 0));
	} else if (*what == '\0' && strcmp(method, "DELETE") == 0 &&
	    strcmp(c->state, "removing") == 0) {
		a = msg_answer(409, "removal of container %s is already in "
		    "progress", c->id);
	} else if (*what == '\0' && strcmp(method, "DELETE") == 0) {
		v = query_get(query, "force");
		if (strcmp(c->state, "running") == 0 && (v == NULL ||
		    strcmp(v, "1") != 0))
			a = msg_answer(409, "You cannot remove a running "
			    "container %s", c->id);
		else {
			if (strcmp(c->state, "running") == 0)
				fdm_exited(fd, c, 137);
			fdm_emit(fd, c, "destroy", NULL);
			for (cp = &fd->conts; *cp != c; cp = &(*cp)->next)
				;
			*cp = c->next;
			fdm_cont_free(c);
			a = empty_answer(204);
		}
		free(v);
	} else {
		fd->unknown++;
		a = msg_answer(404, "fake: no route for %s", raw);
	}
out:
	free(dk);
	free(key);
	return a;
}

static struct answer
exec_call(struct fakedocker *fd, const char *raw, const char *rest)
{
	const char	*slash = strchr(rest, '/');
	char		*id = slash ? xstrndup(rest, (size_t)(slash - rest)) :
	    xstrdup(rest);
	json_t		*x = json_object_get(fd->execs, id);
	struct fcont	*c = x ? fdm_cont(fd, json_string_value(
	    json_object_get(x, "cid"))) : NULL;
	struct answer	 a = { 200, NULL, 0, NULL, false };
	const char	*out;
	int		 code;

	free(id);
	if (x == NULL)
		return msg_answer(404, "No such exec instance");
	if (slash != NULL && strcmp(slash, "/start") == 0) {
		code = c != NULL && (c->hc == NULL || (fdm_ready(c, now_ms()) &&
		    strcmp(c->health, "unhealthy") != 0)) ? 0 : 1;
		fdm_log(fd, raw, "execstart %s %d", c ? c->name : "?", code);
		json_object_set_new(x, "code", json_integer(code));
		out = code == 0 ? "ok\n" : "not healthy yet\n";
		a.len = 8 + strlen(out);
		a.body = xmalloc(a.len);
		memcpy(a.body, "\1\0\0\0\0\0\0", 7);
		a.body[7] = (char)strlen(out);
		memcpy(a.body + 8, out, strlen(out));
		a.raw = true;
		return a;
	}
	fdm_log(fd, raw, "execinspect %s", c ? c->name : "?");
	code = (int)json_integer_value(json_object_get(x, "code"));
	return json_answer(200, json_pack("{s:b, s:i, s:s}", "Running", 0,
	    "ExitCode", code < 0 ? 0 : code, "ContainerID", c ? c->id : ""));
}

static struct answer
objects_list(struct fakedocker *fd, json_t *set, bool volumes)
{
	json_t		*arr = json_array(), *o, *e;
	const char	*name;

	json_object_foreach(set, name, o) {
		e = json_pack("{s:s, s:O}", "Name", name, "Labels",
		    json_object_get(o, "Labels"));
		/* A network is listed with its ID and driver too. */
		if (!volumes) {
			json_object_set(e, "Id", json_object_get(o, "Id"));
			json_object_set_new(e, "Driver", json_string("bridge"));
		}
		json_array_append_new(arr, e);
	}
	if (volumes)
		return json_answer(200, json_pack("{s:o, s:n}", "Volumes", arr,
		    "Warnings"));
	return json_answer(200, arr);
}

static struct answer
object_create(struct fakedocker *fd, const char *raw, const char *body,
    bool volume)
{
	json_t		*b = json_loads(body, 0, NULL);
	const char	*name = json_string_value(json_object_get(b, "Name"));
	json_t		*set = volume ? fd->vols : fd->nets;
	const char	*drv = json_string_value(json_object_get(b, "Driver"));
	struct answer	 a;
	char		 id[72];

	fdm_log(fd, raw, "%s %s", volume ? "volcreate" : "netcreate",
	    name ? name : "?");
	if (name == NULL)
		a = msg_answer(400, "Name is required");
	else if (!volume && drv != NULL && strcmp(drv, "bridge") != 0)
		/* The only network driver this engine has. */
		a = msg_answer(404, "plugin \"%s\" not found", drv);
	else if (json_object_get(set, name) != NULL && !volume)
		a = msg_answer(409, "network with name %s already exists",
		    name);
	else {
		fdm_id(fd, 0x70, id);
		if (json_object_get(set, name) == NULL)
			json_object_set_new(set, name, json_pack("{s:s, s:O}",
			    "Id", id, "Labels", json_object_get(b, "Labels") ?
			    json_object_get(b, "Labels") : json_object()));
		a = volume ? json_answer(201, json_pack("{s:s}", "Name",
		    name)) : json_answer(201, json_pack("{s:s, s:s}", "Id", id,
		    "Warning", ""));
	}
	json_decref(b);
	return a;
}

static struct answer
route(struct fakedocker *fd, const char *method, const char *raw,
    const char *path, const char *query, const char *body)
{
	static const char pong[] = "OK";
	struct answer	 a = { 200, NULL, 0, NULL, false };
	char		*s;

	if (strcmp(path, "/_ping") == 0) {
		fdm_log(fd, raw, "ping");
		a.body = xstrdup(pong);
		a.len = strlen(pong);
		a.headers = fd->api_hdr;
		return a;
	}
	if (strcmp(path, "/version") == 0) {
		fdm_log(fd, raw, "version");
		return json_answer(200, json_pack("{s:s, s:s, s:s}", "Version",
		    "20.10.99-fake", "ApiVersion", fd->api, "MinAPIVersion",
		    "1.12"));
	}
	if (strcmp(path, "/info") == 0) {
		fdm_log(fd, raw, "info");
		return json_answer(200, json_pack("{s:s, s:s}", "Name", "fake",
		    "DockerRootDir", "/tmp"));
	}
	if (strcmp(path, "/containers/json") == 0) {
		fdm_log(fd, raw, "list");
		return containers_list(fd, query);
	}
	if (strcmp(path, "/containers/create") == 0 &&
	    strcmp(method, "POST") == 0)
		return container_create(fd, raw, query, body);
	if (strncmp(path, "/containers/", 12) == 0)
		return on_container(fd, method, raw, path + 12, query);
	if (strncmp(path, "/exec/", 6) == 0)
		return exec_call(fd, raw, path + 6);
	if (strncmp(path, "/images/", 8) == 0 && strlen(path) > 13 &&
	    strcmp(path + strlen(path) - 5, "/json") == 0) {
		s = pct_decode(path + 8, strlen(path) - 13);
		fdm_log(fd, raw, "image %s", s);
		a = fdm_image(fd, s) ? json_answer(200, json_pack("{s:s, "
		    "s:[s]}", "Id", fdm_image(fd, s)->id, "RepoTags", s)) :
		    msg_answer(404, "No such image: %s", s);
		free(s);
		return a;
	}
	if (strcmp(path, "/images/create") == 0) {
		s = query_get(query, "fromImage");
		fdm_log(fd, raw, "pull %s", s ? s : "?");
		free(s);
		return msg_answer(404, "pull access denied: no registry here");
	}
	if (strcmp(path, "/networks") == 0) {
		fdm_log(fd, raw, "networks");
		return objects_list(fd, fd->nets, false);
	}
	if (strcmp(path, "/volumes") == 0) {
		fdm_log(fd, raw, "volumes");
		return objects_list(fd, fd->vols, true);
	}
	if (strcmp(path, "/networks/create") == 0)
		return object_create(fd, raw, body, false);
	if (strcmp(path, "/volumes/create") == 0)
		return object_create(fd, raw, body, true);
	if (strncmp(path, "/networks/", 10) == 0 && strstr(path + 10, "/")) {
		const char *slash = strchr(path + 10, '/');
		char *net = xstrndup(path + 10, (size_t)(slash - path - 10));

		a = net_call(fd, raw, net, strcmp(slash, "/connect") == 0,
		    body);
		free(net);
		return a;
	}
	fdm_log(fd, raw, "?? %s", raw);
	fd->unknown++;
	return msg_answer(404, "fake: no route for %s %s", method, path);
}

/* ---- serving ------------------------------------------------------------ */

static void
serve_events(struct fakedocker *fd, struct fake_conn *conn,
    const char *raw, const char *query)
{
	json_t		*filters = parse_filters(query), *ev;
	char		*since = query_get(query, "since"), *line;
	size_t		 cursor, n;
	int64_t		 since_ns = 0;
	struct buf	 out;
	struct timespec	 ts;

	if (since != NULL) {
		long long sec = 0, nsec = 0;

		sscanf(since, "%lld.%lld", &sec, &nsec);
		since_ns = (int64_t)sec * 1000000000 + nsec;
	}
	free(since);
	pthread_mutex_lock(&fd->mu);
	fdm_log(fd, raw, "events");
	n = json_array_size(fd->events);
	for (cursor = since_ns > 0 ? 0 : n; cursor < n; cursor++)
		if (json_integer_value(json_object_get(json_array_get(
		    fd->events, cursor), "timeNano")) >= since_ns)
			break;
	pthread_mutex_unlock(&fd->mu);
	fake_head(conn, 200, "Content-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n");
	buf_init(&out);
	for (;;) {
		pthread_mutex_lock(&fd->mu);
		if (!fd->stopping && cursor == json_array_size(fd->events)) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 50 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&fd->cv, &fd->mu, &ts);
		}
		for (; cursor < json_array_size(fd->events); cursor++) {
			ev = json_array_get(fd->events, cursor);
			if (filters != NULL && !labels_match(filters,
			    json_object_get(json_object_get(ev, "Actor"),
			    "Attributes")))
				continue;
			line = json_dumps(ev, JSON_COMPACT);
			buf_printf(&out, "%s\n", line);
			free(line);
		}
		if (fd->stopping) {
			pthread_mutex_unlock(&fd->mu);
			break;
		}
		pthread_mutex_unlock(&fd->mu);
		if (out.len > 0) {
			fake_chunk(conn, out.data, out.len);
			buf_reset(&out);
		}
	}
	buf_free(&out);
	json_decref(filters);
	fake_close_after(conn);
}

/* The start delay of the container a start request names. */
static unsigned
start_delay(struct fakedocker *fd, const char *path)
{
	struct fcont	*c;
	char		*key;
	const char	*end;
	unsigned	 ms = 0;

	if (strncmp(path, "/containers/", 12) != 0 ||
	    (end = strstr(path + 12, "/start")) == NULL || end[6] != '\0')
		return 0;
	key = xstrndup(path + 12, (size_t)(end - path - 12));
	pthread_mutex_lock(&fd->mu);
	if ((c = fdm_cont(fd, key)) != NULL)
		ms = c->k.start_delay_ms;
	pthread_mutex_unlock(&fd->mu);
	free(key);
	return ms;
}

void
fdm_handle(struct fake_conn *conn, const struct fake_request *rq, void *arg)
{
	struct fakedocker	*fd = arg;
	const char		*p = rq->target, *q;
	char			*path, *raw, *query, hdr[160];
	struct answer		 a;
	unsigned		 delay;

	/* "/v1.41/containers/json?all=1" -> "/containers/json", "all=1" */
	if (p[0] == '/' && p[1] == 'v' && p[2] >= '0' && p[2] <= '9' &&
	    strchr(p + 1, '/') != NULL)
		p = strchr(p + 1, '/');
	q = strchr(p, '?');
	path = q ? xstrndup(p, (size_t)(q - p)) : xstrdup(p);
	query = xstrdup(q ? q + 1 : "");
	xasprintf(&raw, "%s %s", rq->method, p);
	if (strcmp(path, "/events") == 0) {
		serve_events(fd, conn, raw, query);
		goto out;
	}
	if ((delay = start_delay(fd, path)) > 0)
		fake_sleep(conn, delay);
	pthread_mutex_lock(&fd->mu);
	fdm_refresh_all(fd);
	a = route(fd, rq->method, raw, path, query, rq->body);
	pthread_mutex_unlock(&fd->mu);
	if (a.raw) {
		snprintf(hdr, sizeof hdr, "Content-Type: application/"
		    "vnd.docker.raw-stream\r\nContent-Length: %zu\r\n", a.len);
		fake_head(conn, a.status, hdr);
		fake_send(conn, a.body, a.len);
	} else if (a.body != NULL && a.headers != NULL) {
		snprintf(hdr, sizeof hdr, "%sContent-Type: text/plain\r\n"
		    "Content-Length: %zu\r\n", a.headers, a.len);
		fake_head(conn, a.status, hdr);
		fake_send(conn, a.body, a.len);
	} else
		fake_reply(conn, a.status, NULL, a.body);
	free(a.body);
out:
	free(raw);
	free(query);
	free(path);
}
