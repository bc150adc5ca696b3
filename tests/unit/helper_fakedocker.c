/*
 * A model of dockerd for the operations layer's tests (see
 * helper_fakedocker.h).  Requests arrive on the fake engine's connection
 * threads; one mutex guards the model, and a ticker thread lets time pass
 * for it (health that comes after a while, one-shots that exit) and wakes
 * the event streams.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helper_fakedocker.h"
#include "helper_fakeengine.h"
#include "util.h"

#define TICK_MS		5
#define LABEL_STACK_KEY	"io.shipd.stack"
#define LABEL_REV_KEY	"io.shipd.revision"

struct fimage {
	char			*ref;
	char			 id[72];
	struct fake_image	 k;
	struct fimage		*next;
};

struct fcont {
	char			 id[72];
	char			*name;
	char			*ref;
	char			 image_id[72];
	struct fake_image	 k;
	json_t			*labels;
	json_t			*hc;		/* Healthcheck of the spec, or NULL */
	json_t			*nets;		/* network -> [aliases] */
	char			 state[16];	/* created, running, exited */
	int			 exit_code;
	char			 health[16];	/* "", starting, healthy */
	uint64_t		 started;
	int			 ip;
	struct fcont		*next;
};

struct fcall {
	uint64_t	 at;
	char		*raw;
	char		*text;
};

struct fakedocker {
	struct fake_engine	*fe;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	pthread_t		 ticker;
	bool			 stopping;
	struct fimage		*images;
	struct fcont		*conts;
	json_t			*nets;		/* name -> {Id, Labels} */
	json_t			*vols;		/* name -> {Labels} */
	json_t			*execs;		/* id -> {cid, code} */
	json_t			*events;	/* every event, in order */
	struct fcall		*calls;
	int			 ncalls;
	int			 unknown;
	unsigned		 serial;
	int64_t			 last_ns;
};

/* What a route answers. */
struct answer {
	int		 status;
	char		*body;		/* NULL: none */
	size_t		 len;
	const char	*headers;
	bool		 raw;		/* a stdout frame stream */
};

/* ---- small things ------------------------------------------------------ */

static void
fmt_id(struct fakedocker *fd, unsigned tag, char *out)
{
	snprintf(out, 72, "%08x%056llx", tag, (unsigned long long)
	    ++fd->serial);
}

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

static void
logf_call(struct fakedocker *fd, const char *raw, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
logf_call(struct fakedocker *fd, const char *raw, const char *fmt, ...)
{
	struct fcall	*c;
	va_list		 ap;

	fd->calls = xrealloc(fd->calls, (size_t)(fd->ncalls + 1) *
	    sizeof *fd->calls);
	c = &fd->calls[fd->ncalls++];
	c->at = now_ms();
	c->raw = xstrdup(raw ? raw : "-");
	va_start(ap, fmt);
	if (vasprintf(&c->text, fmt, ap) < 0)
		abort();
	va_end(ap);
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

/* ---- the model --------------------------------------------------------- */

static struct fimage *
image_find(struct fakedocker *fd, const char *ref)
{
	struct fimage *im;

	for (im = fd->images; im != NULL; im = im->next)
		if (strcmp(im->ref, ref) == 0 || strcmp(im->id, ref) == 0)
			return im;
	return NULL;
}

static struct fcont *
cont_find(struct fakedocker *fd, const char *key)
{
	struct fcont	*c, *hit = NULL;
	size_t		 n = strlen(key);

	for (c = fd->conts; c != NULL; c = c->next)
		if (strcmp(c->id, key) == 0 || strcmp(c->name, key) == 0)
			return c;
	if (n < 4)
		return NULL;
	for (c = fd->conts; c != NULL; c = c->next)
		if (strncmp(c->id, key, n) == 0) {
			if (hit != NULL)
				return NULL;	/* ambiguous */
			hit = c;
		}
	return hit;
}

static void
cont_free(struct fcont *c)
{
	free(c->name);
	free(c->ref);
	json_decref(c->labels);
	json_decref(c->hc);
	json_decref(c->nets);
	free(c);
}

static int64_t
event_ns(struct fakedocker *fd)
{
	struct timespec	ts;
	int64_t		ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if (ns <= fd->last_ns)
		ns = fd->last_ns + 1;
	return fd->last_ns = ns;
}

static void
emit(struct fakedocker *fd, struct fcont *c, const char *action,
    const char *exit_code)
{
	json_t	*attrs = json_deep_copy(c->labels);
	int64_t	 ns = event_ns(fd);

	json_object_set_new(attrs, "name", json_string(c->name));
	json_object_set_new(attrs, "image", json_string(c->ref));
	if (exit_code != NULL)
		json_object_set_new(attrs, "exitCode", json_string(exit_code));
	json_array_append_new(fd->events, json_pack("{s:s, s:s, s:s, "
	    "s:{s:s, s:o}, s:I, s:I}", "Type", "container", "Action", action,
	    "scope", "local", "Actor", "ID", c->id, "Attributes", attrs,
	    "time", (json_int_t)(ns / 1000000000), "timeNano",
	    (json_int_t)ns));
	pthread_cond_broadcast(&fd->cv);
}

static bool
ready(const struct fcont *c, uint64_t now)
{
	return strcmp(c->state, "running") == 0 &&
	    c->k.healthy_after_ms >= 0 &&
	    now >= c->started + (uint64_t)c->k.healthy_after_ms;
}

static void
set_exited(struct fakedocker *fd, struct fcont *c, int code)
{
	char s[16];

	snprintf(c->state, sizeof c->state, "exited");
	c->exit_code = code;
	snprintf(s, sizeof s, "%d", code);
	emit(fd, c, "die", s);
}

/* Let time pass for one container: health, a one-shot's exit. */
static void
refresh(struct fakedocker *fd, struct fcont *c, uint64_t now)
{
	if (strcmp(c->state, "running") != 0)
		return;
	if (c->hc != NULL && strcmp(c->health, "starting") == 0 &&
	    ready(c, now)) {
		snprintf(c->health, sizeof c->health, "healthy");
		logf_call(fd, NULL, "healthy %s", c->name);
		emit(fd, c, "health_status: healthy", NULL);
	}
	if (c->k.exit_after_ms >= 0 &&
	    now >= c->started + (uint64_t)c->k.exit_after_ms) {
		logf_call(fd, NULL, "exited %s %d", c->name, c->k.exit_code);
		set_exited(fd, c, c->k.exit_code);
	}
}

static void
refresh_all(struct fakedocker *fd)
{
	struct fcont	*c;
	uint64_t	 now = now_ms();

	for (c = fd->conts; c != NULL; c = c->next)
		refresh(fd, c, now);
}

static void *
ticker_main(void *arg)
{
	struct fakedocker	*fd = arg;
	struct timespec		 ts = { 0, TICK_MS * 1000000L };

	for (;;) {
		pthread_mutex_lock(&fd->mu);
		if (fd->stopping) {
			pthread_mutex_unlock(&fd->mu);
			return NULL;
		}
		refresh_all(fd);
		pthread_mutex_unlock(&fd->mu);
		nanosleep(&ts, NULL);
	}
}

static bool
has_healthcheck(json_t *hc)
{
	json_t *t = json_object_get(hc, "Test");

	return json_array_size(t) > 0 && strcmp(json_string_value(
	    json_array_get(t, 0)) ? json_string_value(json_array_get(t, 0)) :
	    "", "NONE") != 0;
}

/* POST /containers/create's work; NULL with *a set on failure. */
static struct fcont *
cont_create(struct fakedocker *fd, const char *name, json_t *spec,
    bool check_net, struct answer *a)
{
	struct fimage	*im;
	struct fcont	*c, **cp;
	json_t		*eps, *ep;
	const char	*img = json_string_value(json_object_get(spec, "Image"));
	const char	*mode = json_string_value(json_object_get(json_object_get(
	    spec, "HostConfig"), "NetworkMode"));
	const char	*key;

	if (name != NULL && cont_find(fd, name) != NULL &&
	    strcmp(cont_find(fd, name)->name, name) == 0) {
		*a = msg_answer(409, "Conflict. The container name \"/%s\" is "
		    "already in use", name);
		return NULL;
	}
	if (img == NULL || (im = image_find(fd, img)) == NULL) {
		*a = msg_answer(404, "No such image: %s", img ? img : "?");
		return NULL;
	}
	if (check_net && mode != NULL && json_object_get(fd->nets, mode) ==
	    NULL) {
		*a = msg_answer(404, "network %s not found", mode);
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	fmt_id(fd, 0xc0, c->id);
	if (name != NULL)
		c->name = xstrdup(name);
	else
		xasprintf(&c->name, "anon_%u", fd->serial);
	c->ref = xstrdup(im->ref);
	snprintf(c->image_id, sizeof c->image_id, "%s", im->id);
	c->k = im->k;
	c->labels = json_object_get(spec, "Labels") ?
	    json_deep_copy(json_object_get(spec, "Labels")) : json_object();
	if (has_healthcheck(json_object_get(spec, "Healthcheck")))
		c->hc = json_deep_copy(json_object_get(spec, "Healthcheck"));
	snprintf(c->state, sizeof c->state, "created");
	c->nets = json_object();
	if (mode != NULL)
		json_object_set_new(c->nets, mode, json_array());
	eps = json_object_get(json_object_get(spec, "NetworkingConfig"),
	    "EndpointsConfig");
	json_object_foreach(eps, key, ep)
		json_object_set_new(c->nets, key, json_object_get(ep,
		    "Aliases") ? json_deep_copy(json_object_get(ep,
		    "Aliases")) : json_array());
	c->ip = (int)fd->serial % 250 + 2;
	for (cp = &fd->conts; *cp != NULL; cp = &(*cp)->next)
		;
	*cp = c;
	emit(fd, c, "create", NULL);
	return c;
}

static void
cont_start(struct fakedocker *fd, struct fcont *c)
{
	snprintf(c->state, sizeof c->state, "running");
	c->started = now_ms();
	c->exit_code = 0;
	snprintf(c->health, sizeof c->health, "%s", c->hc ? "starting" : "");
	emit(fd, c, "start", NULL);
	refresh(fd, c, c->started);
}

static json_t *
cont_inspect(const struct fcont *c)
{
	json_t		*nets = json_object(), *st, *cfg, *al;
	const char	*key;
	char		 ip[32];
	bool		 up = strcmp(c->state, "running") == 0;

	snprintf(ip, sizeof ip, "172.30.0.%d", c->ip);
	json_object_foreach(c->nets, key, al)
		json_object_set_new(nets, key, json_pack("{s:s, s:O}",
		    "IPAddress", up ? ip : "", "Aliases", al));
	st = json_pack("{s:s, s:b, s:i}", "Status", c->state, "Running", up,
	    "ExitCode", c->exit_code);
	if (c->hc != NULL && c->health[0] != '\0')
		json_object_set_new(st, "Health", json_pack("{s:s, s:i, s:[]}",
		    "Status", c->health, "FailingStreak", 0, "Log"));
	cfg = json_pack("{s:s, s:O}", "Image", c->ref, "Labels", c->labels);
	if (c->hc != NULL)
		json_object_set(cfg, "Healthcheck", c->hc);
	return json_pack("{s:s, s:s+, s:s, s:o, s:o, s:{s:o}}", "Id", c->id,
	    "Name", "/", c->name, "Image", c->image_id, "Config", cfg, "State",
	    st, "NetworkSettings", "Networks", nets);
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
	char		*name = query_get(query, "name");
	const char	*key;
	bool		 aliased = false;

	if (spec == NULL) {
		free(name);
		return msg_answer(400, "bad JSON");
	}
	json_object_foreach(json_object_get(json_object_get(spec,
	    "NetworkingConfig"), "EndpointsConfig"), key, al)
		if (json_array_size(json_object_get(al, "Aliases")) > 0)
			aliased = true;
	logf_call(fd, raw, "create %s%s", name ? name : "-", aliased ? "" :
	    " unaliased");
	if ((c = cont_create(fd, name, spec, true, &a)) != NULL)
		a = json_answer(201, json_pack("{s:s, s:[]}", "Id", c->id,
		    "Warnings"));
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
	fmt_id(fd, 0xe0, id);
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

	c = who ? cont_find(fd, who) : NULL;
	al = json_object_get(json_object_get(b, "EndpointConfig"), "Aliases");
	if (join)
		logf_call(fd, raw, "connect %s %s %s", net, c ? c->name : "?",
		    aliases_str(al, s, sizeof s));
	else
		logf_call(fd, raw, "disconnect %s %s", net, c ? c->name : "?");
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
	struct fcont	*c = cont_find(fd, dk), **cp;
	const char	*name = c ? c->name : dk;
	struct answer	 a;

	if (strcmp(what, "json") == 0)
		logf_call(fd, raw, "inspect %s", name);
	else if (strcmp(what, "rename") != 0 && strcmp(what, "exec") != 0)
		logf_call(fd, raw, "%s %s", *what ? what : "remove", name);
	if (c == NULL && strcmp(what, "rename") != 0) {
		a = msg_answer(404, "No such container: %s", dk);
		goto out;
	}
	if (strcmp(what, "json") == 0) {
		a = json_answer(200, cont_inspect(c));
	} else if (strcmp(what, "start") == 0) {
		if (strcmp(c->state, "running") == 0)
			a = empty_answer(304);
		else if (c->k.start_fails)
			a = msg_answer(500, "fake: cannot start container %s: "
			    "exec format error", c->name);
		else {
			cont_start(fd, c);
			a = empty_answer(204);
		}
	} else if (strcmp(what, "stop") == 0 || strcmp(what, "kill") == 0) {
		if (strcmp(c->state, "running") != 0)
			a = empty_answer(strcmp(what, "stop") == 0 ? 304 : 409);
		else {
			set_exited(fd, c, what[0] == 's' ? 143 : 137);
			emit(fd, c, what, NULL);
			a = empty_answer(204);
		}
	} else if (strcmp(what, "rename") == 0) {
		v = query_get(query, "name");
		logf_call(fd, raw, "rename %s %s", name, v ? v : "?");
		if (c == NULL)
			a = msg_answer(404, "No such container: %s", dk);
		else if (v == NULL)
			a = msg_answer(400, "name is required");
		else if (cont_find(fd, v) != NULL &&
		    strcmp(cont_find(fd, v)->name, v) == 0 &&
		    cont_find(fd, v) != c)
			a = msg_answer(409, "Conflict. The container name \"/%s\" "
			    "is already in use", v);
		else {
			free(c->name);
			c->name = xstrdup(v);
			emit(fd, c, "rename", NULL);
			a = empty_answer(204);
		}
		free(v);
	} else if (strcmp(what, "exec") == 0) {
		logf_call(fd, raw, "exec %s", name);
		a = container_exec(fd, c);
	} else if (*what == '\0' && strcmp(method, "DELETE") == 0) {
		v = query_get(query, "force");
		if (strcmp(c->state, "running") == 0 && (v == NULL ||
		    strcmp(v, "1") != 0))
			a = msg_answer(409, "You cannot remove a running "
			    "container %s", c->id);
		else {
			if (strcmp(c->state, "running") == 0)
				set_exited(fd, c, 137);
			emit(fd, c, "destroy", NULL);
			for (cp = &fd->conts; *cp != c; cp = &(*cp)->next)
				;
			*cp = c->next;
			cont_free(c);
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
	struct fcont	*c = x ? cont_find(fd, json_string_value(
	    json_object_get(x, "cid"))) : NULL;
	struct answer	 a = { 200, NULL, 0, NULL, false };
	const char	*out;
	int		 code;

	free(id);
	if (x == NULL)
		return msg_answer(404, "No such exec instance");
	if (slash != NULL && strcmp(slash, "/start") == 0) {
		code = c != NULL && (c->hc == NULL || ready(c, now_ms())) ? 0 :
		    1;
		logf_call(fd, raw, "execstart %s %d", c ? c->name : "?", code);
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
	logf_call(fd, raw, "execinspect %s", c ? c->name : "?");
	code = (int)json_integer_value(json_object_get(x, "code"));
	return json_answer(200, json_pack("{s:b, s:i, s:s}", "Running", 0,
	    "ExitCode", code < 0 ? 0 : code, "ContainerID", c ? c->id : ""));
}

static struct answer
objects_list(struct fakedocker *fd, json_t *set, bool volumes)
{
	json_t		*arr = json_array(), *o;
	const char	*name;

	json_object_foreach(set, name, o)
		json_array_append_new(arr, json_pack("{s:s, s:O}", "Name", name,
		    "Labels", json_object_get(o, "Labels")));
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
	struct answer	 a;
	char		 id[72];

	logf_call(fd, raw, "%s %s", volume ? "volcreate" : "netcreate",
	    name ? name : "?");
	if (name == NULL)
		a = msg_answer(400, "Name is required");
	else if (json_object_get(set, name) != NULL && !volume)
		a = msg_answer(409, "network with name %s already exists",
		    name);
	else {
		fmt_id(fd, 0x70, id);
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
		logf_call(fd, raw, "ping");
		a.body = xstrdup(pong);
		a.len = strlen(pong);
		a.headers = "Api-Version: 1.41\r\n";
		return a;
	}
	if (strcmp(path, "/version") == 0) {
		logf_call(fd, raw, "version");
		return json_answer(200, json_pack("{s:s, s:s, s:s}", "Version",
		    "20.10.99-fake", "ApiVersion", "1.41", "MinAPIVersion",
		    "1.12"));
	}
	if (strcmp(path, "/info") == 0) {
		logf_call(fd, raw, "info");
		return json_answer(200, json_pack("{s:s, s:s}", "Name", "fake",
		    "DockerRootDir", "/tmp"));
	}
	if (strcmp(path, "/containers/json") == 0) {
		logf_call(fd, raw, "list");
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
		logf_call(fd, raw, "image %s", s);
		a = image_find(fd, s) ? json_answer(200, json_pack("{s:s, "
		    "s:[s]}", "Id", image_find(fd, s)->id, "RepoTags", s)) :
		    msg_answer(404, "No such image: %s", s);
		free(s);
		return a;
	}
	if (strcmp(path, "/images/create") == 0) {
		s = query_get(query, "fromImage");
		logf_call(fd, raw, "pull %s", s ? s : "?");
		free(s);
		return msg_answer(404, "pull access denied: no registry here");
	}
	if (strcmp(path, "/networks") == 0) {
		logf_call(fd, raw, "networks");
		return objects_list(fd, fd->nets, false);
	}
	if (strcmp(path, "/volumes") == 0) {
		logf_call(fd, raw, "volumes");
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
	logf_call(fd, raw, "?? %s", raw);
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
	logf_call(fd, raw, "events");
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
	if ((c = cont_find(fd, key)) != NULL)
		ms = c->k.start_delay_ms;
	pthread_mutex_unlock(&fd->mu);
	free(key);
	return ms;
}

static void
handle(struct fake_conn *conn, const struct fake_request *rq, void *arg)
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
	refresh_all(fd);
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

/* ---- the test's side ---------------------------------------------------- */

int
fakedocker_start(struct fakedocker **out)
{
	struct fakedocker *fd = xcalloc(1, sizeof *fd);

	pthread_mutex_init(&fd->mu, NULL);
	pthread_cond_init(&fd->cv, NULL);
	fd->nets = json_object();
	fd->vols = json_object();
	fd->execs = json_object();
	fd->events = json_array();
	/* The engine's own networks. */
	json_object_set_new(fd->nets, "bridge", json_pack("{s:s, s:{}}", "Id",
	    "0000bridge", "Labels"));
	if (fake_engine_start(handle, fd, &fd->fe) < 0 ||
	    pthread_create(&fd->ticker, NULL, ticker_main, fd) != 0)
		abort();
	*out = fd;
	return 0;
}

void
fakedocker_stop(struct fakedocker *fd)
{
	struct fimage	*im;
	struct fcont	*c;
	int		 i;

	pthread_mutex_lock(&fd->mu);
	fd->stopping = true;
	pthread_cond_broadcast(&fd->cv);
	pthread_mutex_unlock(&fd->mu);
	pthread_join(fd->ticker, NULL);
	fake_engine_stop(fd->fe);
	while ((im = fd->images) != NULL) {
		fd->images = im->next;
		free(im->ref);
		free(im);
	}
	while ((c = fd->conts) != NULL) {
		fd->conts = c->next;
		cont_free(c);
	}
	for (i = 0; i < fd->ncalls; i++) {
		free(fd->calls[i].raw);
		free(fd->calls[i].text);
	}
	free(fd->calls);
	json_decref(fd->nets);
	json_decref(fd->vols);
	json_decref(fd->execs);
	json_decref(fd->events);
	pthread_cond_destroy(&fd->cv);
	pthread_mutex_destroy(&fd->mu);
	free(fd);
}

const char *
fakedocker_path(const struct fakedocker *fd)
{
	return fake_engine_path(fd->fe);
}

static const struct fake_image default_knobs = { 0, -1, 0, false, 0 };

void
fakedocker_image(struct fakedocker *fd, const char *ref,
    const struct fake_image *k, char *id_out)
{
	struct fimage *im;

	pthread_mutex_lock(&fd->mu);
	if ((im = image_find(fd, ref)) == NULL) {
		im = xcalloc(1, sizeof *im);
		im->ref = xstrdup(ref);
		im->next = fd->images;
		fd->images = im;
	}
	else if (im->id[0] != '\0') {
		/* The tag moves; the image it named stays, by its ID. */
		struct fimage *old = xcalloc(1, sizeof *old);

		*old = *im;
		old->ref = xstrdup("<none>");
		im->next = old;
	}
	im->k = k ? *k : default_knobs;
	snprintf(im->id, sizeof im->id, "sha256:%064llx",
	    (unsigned long long)++fd->serial * 7919);
	if (id_out != NULL)
		snprintf(id_out, 72, "%s", im->id);
	pthread_mutex_unlock(&fd->mu);
}

void
fakedocker_image_knobs(struct fakedocker *fd, const char *ref,
    const struct fake_image *k)
{
	struct fimage *im;

	pthread_mutex_lock(&fd->mu);
	if ((im = image_find(fd, ref)) != NULL)
		im->k = k ? *k : default_knobs;
	pthread_mutex_unlock(&fd->mu);
}

int
fakedocker_seed(struct fakedocker *fd, const char *name, json_t *spec,
    bool start)
{
	struct fcont	*c;
	struct answer	 a;
	int		 n;

	pthread_mutex_lock(&fd->mu);
	n = fd->ncalls;
	c = cont_create(fd, name, spec, false, &a);
	if (c == NULL)
		free(a.body);
	else if (start) {
		cont_start(fd, c);
		if (c->hc != NULL)
			snprintf(c->health, sizeof c->health, "healthy");
	}
	/* What the engine did on its own meanwhile is no call either. */
	while (fd->ncalls > n) {
		fd->ncalls--;
		free(fd->calls[fd->ncalls].raw);
		free(fd->calls[fd->ncalls].text);
	}
	pthread_mutex_unlock(&fd->mu);
	return c ? 0 : -1;
}

void
fakedocker_seed_network(struct fakedocker *fd, const char *name,
    const char *stack)
{
	pthread_mutex_lock(&fd->mu);
	json_object_set_new(fd->nets, name, json_pack("{s:s, s:o}", "Id",
	    name, "Labels", stack ? json_pack("{s:s}", LABEL_STACK_KEY,
	    stack) : json_object()));
	pthread_mutex_unlock(&fd->mu);
}

int
fakedocker_remove(struct fakedocker *fd, const char *name)
{
	struct fcont *c, **cp;

	pthread_mutex_lock(&fd->mu);
	if ((c = cont_find(fd, name)) != NULL) {
		for (cp = &fd->conts; *cp != c; cp = &(*cp)->next)
			;
		*cp = c->next;
		emit(fd, c, "destroy", NULL);
		cont_free(c);
	}
	pthread_mutex_unlock(&fd->mu);
	return c ? 0 : -1;
}

int
fakedocker_rename(struct fakedocker *fd, const char *name,
    const char *newname)
{
	struct fcont *c;

	pthread_mutex_lock(&fd->mu);
	if ((c = cont_find(fd, name)) != NULL) {
		free(c->name);
		c->name = xstrdup(newname);
		emit(fd, c, "rename", NULL);
	}
	pthread_mutex_unlock(&fd->mu);
	return c ? 0 : -1;
}

int
fakedocker_exit(struct fakedocker *fd, const char *name, int code)
{
	struct fcont *c;

	pthread_mutex_lock(&fd->mu);
	if ((c = cont_find(fd, name)) != NULL &&
	    strcmp(c->state, "running") == 0)
		set_exited(fd, c, code);
	pthread_mutex_unlock(&fd->mu);
	return c ? 0 : -1;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *
fakedocker_containers(struct fakedocker *fd)
{
	struct fcont	 *c;
	char		**v = NULL;
	size_t		  n = 0, i;
	struct buf	  b;

	pthread_mutex_lock(&fd->mu);
	refresh_all(fd);
	for (c = fd->conts; c != NULL; c = c->next) {
		const char *rev = json_string_value(json_object_get(c->labels,
		    LABEL_REV_KEY));

		v = xrealloc(v, (n + 1) * sizeof *v);
		xasprintf(&v[n++], "%s %s %s", c->name, c->state,
		    rev ? rev : "-");
	}
	pthread_mutex_unlock(&fd->mu);
	qsort(v, n, sizeof *v, str_cmp);
	buf_init(&b);
	buf_append(&b, "", 0);
	for (i = 0; i < n; i++) {
		buf_printf(&b, "%s\n", v[i]);
		free(v[i]);
	}
	free(v);
	return buf_steal(&b);
}

int
fakedocker_id(struct fakedocker *fd, const char *name, char *out)
{
	struct fcont	*c;
	int		 rc = -1;

	pthread_mutex_lock(&fd->mu);
	if ((c = cont_find(fd, name)) != NULL) {
		snprintf(out, 72, "%s", c->id);
		rc = 0;
	}
	pthread_mutex_unlock(&fd->mu);
	return rc;
}

json_t *
fakedocker_inspect(struct fakedocker *fd, const char *name)
{
	struct fcont	*c;
	json_t		*j = NULL;

	pthread_mutex_lock(&fd->mu);
	if ((c = cont_find(fd, name)) != NULL)
		j = cont_inspect(c);
	pthread_mutex_unlock(&fd->mu);
	return j;
}

json_t *
fakedocker_networks_of(struct fakedocker *fd, const char *name)
{
	struct fcont	*c;
	json_t		*j = NULL;

	pthread_mutex_lock(&fd->mu);
	if ((c = cont_find(fd, name)) != NULL)
		j = json_deep_copy(c->nets);
	pthread_mutex_unlock(&fd->mu);
	return j;
}

int
fakedocker_ncalls(struct fakedocker *fd)
{
	int n;

	pthread_mutex_lock(&fd->mu);
	n = fd->ncalls;
	pthread_mutex_unlock(&fd->mu);
	return n;
}

static bool
verb_in(const char *text, const char *verbs)
{
	size_t		 vl = strcspn(text, " ");
	const char	*p = verbs;

	if (verbs == NULL)
		return true;
	while (*p != '\0') {
		size_t n = strcspn(p, " ");

		if (n == vl && strncmp(p, text, n) == 0)
			return true;
		p += n;
		p += strspn(p, " ");
	}
	return false;
}

char *
fakedocker_trace(struct fakedocker *fd, int from, const char *verbs,
    const char *match)
{
	struct buf	b;
	int		i;

	buf_init(&b);
	buf_append(&b, "", 0);
	pthread_mutex_lock(&fd->mu);
	for (i = from < 0 ? 0 : from; i < fd->ncalls; i++) {
		const char *t = fd->calls[i].text;

		if (verb_in(t, verbs) && (match == NULL ||
		    strstr(t, match) != NULL))
			buf_printf(&b, "%s\n", t);
	}
	pthread_mutex_unlock(&fd->mu);
	return buf_steal(&b);
}

int
fakedocker_find(struct fakedocker *fd, int from, const char *text)
{
	int i, hit = -1;

	pthread_mutex_lock(&fd->mu);
	for (i = from < 0 ? 0 : from; i < fd->ncalls; i++)
		if (strcmp(fd->calls[i].text, text) == 0) {
			hit = i;
			break;
		}
	pthread_mutex_unlock(&fd->mu);
	return hit;
}

uint64_t
fakedocker_at(struct fakedocker *fd, int idx)
{
	uint64_t at = 0;

	pthread_mutex_lock(&fd->mu);
	if (idx >= 0 && idx < fd->ncalls)
		at = fd->calls[idx].at;
	pthread_mutex_unlock(&fd->mu);
	return at;
}

int
fakedocker_unknown(struct fakedocker *fd)
{
	int n;

	pthread_mutex_lock(&fd->mu);
	n = fd->unknown;
	pthread_mutex_unlock(&fd->mu);
	return n;
}
