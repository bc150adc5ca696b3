/*
 * A model of dockerd for the operations layer's tests (see
 * helper_fakedocker.h): containers, images, networks, execs and the event
 * log, one mutex over them, and a ticker thread that lets time pass for
 * them (health that comes after a while, one-shots that exit) and wakes
 * the event streams.  The HTTP side is helper_fakedocker_http.c.
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

#define TICK_MS		5

static const struct fake_image default_knobs = { 0, -1, 0, false, 0 };

/* ---- the model --------------------------------------------------------- */

void
fdm_id(struct fakedocker *fd, unsigned tag, char *out)
{
	snprintf(out, 72, "%08x%056llx", tag, (unsigned long long)
	    ++fd->serial);
}

void
fdm_log(struct fakedocker *fd, const char *raw, const char *fmt, ...)
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

struct fimage *
fdm_image(struct fakedocker *fd, const char *ref)
{
	struct fimage *im;

	for (im = fd->images; im != NULL; im = im->next)
		if (strcmp(im->ref, ref) == 0 || strcmp(im->id, ref) == 0)
			return im;
	return NULL;
}

struct fcont *
fdm_cont(struct fakedocker *fd, const char *key)
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

void
fdm_cont_free(struct fcont *c)
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

void
fdm_emit(struct fakedocker *fd, struct fcont *c, const char *action,
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

bool
fdm_ready(const struct fcont *c, uint64_t now)
{
	return strcmp(c->state, "running") == 0 &&
	    c->k.healthy_after_ms >= 0 &&
	    now >= c->started + (uint64_t)c->k.healthy_after_ms;
}

void
fdm_exited(struct fakedocker *fd, struct fcont *c, int code)
{
	char s[16];

	snprintf(c->state, sizeof c->state, "exited");
	c->exit_code = code;
	snprintf(s, sizeof s, "%d", code);
	fdm_emit(fd, c, "die", s);
}

/* Let time pass for one container: health, a one-shot's exit. */
static void
refresh(struct fakedocker *fd, struct fcont *c, uint64_t now)
{
	if (strcmp(c->state, "running") != 0)
		return;
	if (c->hc != NULL && strcmp(c->health, "starting") == 0 &&
	    fdm_ready(c, now)) {
		snprintf(c->health, sizeof c->health, "healthy");
		fdm_log(fd, NULL, "healthy %s", c->name);
		fdm_emit(fd, c, "health_status: healthy", NULL);
	}
	if (c->k.exit_after_ms >= 0 &&
	    now >= c->started + (uint64_t)c->k.exit_after_ms) {
		fdm_log(fd, NULL, "exited %s %d", c->name, c->k.exit_code);
		fdm_exited(fd, c, c->k.exit_code);
	}
}

void
fdm_refresh_all(struct fakedocker *fd)
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
		fdm_refresh_all(fd);
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

struct fcont *
fdm_create(struct fakedocker *fd, const char *name, json_t *spec,
    bool check_net, int *status, char *msg, size_t len)
{
	struct fimage	*im;
	struct fcont	*c, **cp;
	json_t		*eps, *ep;
	const char	*img = json_string_value(json_object_get(spec, "Image"));
	const char	*mode = json_string_value(json_object_get(json_object_get(
	    spec, "HostConfig"), "NetworkMode"));
	const char	*key;

	if (name != NULL && fdm_cont(fd, name) != NULL &&
	    strcmp(fdm_cont(fd, name)->name, name) == 0) {
		*status = 409;
		snprintf(msg, len, "Conflict. The container name \"/%s\" is "
		    "already in use", name);
		return NULL;
	}
	if (img == NULL || (im = fdm_image(fd, img)) == NULL) {
		*status = 404;
		snprintf(msg, len, "No such image: %s", img ? img : "?");
		return NULL;
	}
	if (check_net && mode != NULL && json_object_get(fd->nets, mode) ==
	    NULL) {
		*status = 404;
		snprintf(msg, len, "network %s not found", mode);
		return NULL;
	}
	/* Only the API's creates (check_net) are refused, not a seed. */
	if (check_net && fd->no_create) {
		*status = 500;
		snprintf(msg, len, "fake: cannot create container %s",
		    name ? name : "-");
		return NULL;
	}
	/* One network at create, as dockerd before API 1.44 insists. */
	eps = json_object_get(json_object_get(spec, "NetworkingConfig"),
	    "EndpointsConfig");
	if (check_net && json_object_size(eps) > 1 &&
	    strcmp(fd->api, "1.44") < 0) {
		*status = 400;
		snprintf(msg, len, "Container cannot be connected to network "
		    "endpoints: %zu of them", json_object_size(eps));
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	fdm_id(fd, 0xc0, c->id);
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
	json_object_foreach(eps, key, ep)
		json_object_set_new(c->nets, key, json_object_get(ep,
		    "Aliases") ? json_deep_copy(json_object_get(ep,
		    "Aliases")) : json_array());
	c->ip = fd->loopback ? 0 : (int)fd->serial % 250 + 2;
	for (cp = &fd->conts; *cp != NULL; cp = &(*cp)->next)
		;
	*cp = c;
	fdm_emit(fd, c, "create", NULL);
	return c;
}

void
fdm_start(struct fakedocker *fd, struct fcont *c)
{
	snprintf(c->state, sizeof c->state, "running");
	c->started = now_ms();
	c->exit_code = 0;
	snprintf(c->health, sizeof c->health, "%s", c->hc ? "starting" : "");
	fdm_emit(fd, c, "start", NULL);
	refresh(fd, c, c->started);
}

json_t *
fdm_inspect(const struct fcont *c)
{
	json_t		*nets = json_object(), *st, *cfg, *al;
	const char	*key;
	char		 ip[32];
	bool		 up = strcmp(c->state, "running") == 0;

	if (c->ip == 0)
		snprintf(ip, sizeof ip, "127.0.0.1");
	else
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
	fakedocker_api(fd, "1.41");
	if (fake_engine_start(fdm_handle, fd, &fd->fe) < 0 ||
	    pthread_create(&fd->ticker, NULL, ticker_main, fd) != 0)
		abort();
	*out = fd;
	return 0;
}

void
fakedocker_api(struct fakedocker *fd, const char *version)
{
	pthread_mutex_lock(&fd->mu);
	snprintf(fd->api, sizeof fd->api, "%s", version);
	snprintf(fd->api_hdr, sizeof fd->api_hdr, "Api-Version: %s\r\n",
	    version);
	pthread_mutex_unlock(&fd->mu);
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
		fdm_cont_free(c);
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

void
fakedocker_image(struct fakedocker *fd, const char *ref,
    const struct fake_image *k, char *id_out)
{
	struct fimage *im;

	pthread_mutex_lock(&fd->mu);
	if ((im = fdm_image(fd, ref)) == NULL) {
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
fakedocker_loopback(struct fakedocker *fd, bool on)
{
	pthread_mutex_lock(&fd->mu);
	fd->loopback = on;
	pthread_mutex_unlock(&fd->mu);
}

void
fakedocker_refuse_creates(struct fakedocker *fd, bool on)
{
	pthread_mutex_lock(&fd->mu);
	fd->no_create = on;
	pthread_mutex_unlock(&fd->mu);
}

void
fakedocker_image_knobs(struct fakedocker *fd, const char *ref,
    const struct fake_image *k)
{
	struct fimage *im;

	pthread_mutex_lock(&fd->mu);
	if ((im = fdm_image(fd, ref)) != NULL)
		im->k = k ? *k : default_knobs;
	pthread_mutex_unlock(&fd->mu);
}

int
fakedocker_seed(struct fakedocker *fd, const char *name, json_t *spec,
    bool start)
{
	struct fcont	*c;
	char		 msg[256];
	int		 n, status;

	pthread_mutex_lock(&fd->mu);
	n = fd->ncalls;
	c = fdm_create(fd, name, spec, false, &status, msg, sizeof msg);
	if (c != NULL && start) {
		fdm_start(fd, c);
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
fakedocker_remove_network(struct fakedocker *fd, const char *name)
{
	int rc;

	pthread_mutex_lock(&fd->mu);
	rc = json_object_del(fd->nets, name);
	pthread_mutex_unlock(&fd->mu);
	return rc;
}

int
fakedocker_remove(struct fakedocker *fd, const char *name)
{
	struct fcont *c, **cp;

	pthread_mutex_lock(&fd->mu);
	if ((c = fdm_cont(fd, name)) != NULL) {
		for (cp = &fd->conts; *cp != c; cp = &(*cp)->next)
			;
		*cp = c->next;
		fdm_emit(fd, c, "destroy", NULL);
		fdm_cont_free(c);
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
	if ((c = fdm_cont(fd, name)) != NULL) {
		free(c->name);
		c->name = xstrdup(newname);
		fdm_emit(fd, c, "rename", NULL);
	}
	pthread_mutex_unlock(&fd->mu);
	return c ? 0 : -1;
}

int
fakedocker_exit(struct fakedocker *fd, const char *name, int code)
{
	struct fcont *c;

	pthread_mutex_lock(&fd->mu);
	if ((c = fdm_cont(fd, name)) != NULL &&
	    strcmp(c->state, "running") == 0)
		fdm_exited(fd, c, code);
	pthread_mutex_unlock(&fd->mu);
	return c ? 0 : -1;
}

int
fakedocker_removing(struct fakedocker *fd, const char *name)
{
	struct fcont *c;

	pthread_mutex_lock(&fd->mu);
	if ((c = fdm_cont(fd, name)) != NULL) {
		if (strcmp(c->state, "running") == 0)
			fdm_exited(fd, c, 137);
		snprintf(c->state, sizeof c->state, "removing");
	}
	pthread_mutex_unlock(&fd->mu);
	return c ? 0 : -1;
}

int
fakedocker_unhealthy(struct fakedocker *fd, const char *name)
{
	struct fcont	*c;
	int		 rc = -1;

	pthread_mutex_lock(&fd->mu);
	if ((c = fdm_cont(fd, name)) != NULL && c->hc != NULL &&
	    strcmp(c->state, "running") == 0) {
		snprintf(c->health, sizeof c->health, "unhealthy");
		fdm_log(fd, NULL, "unhealthy %s", c->name);
		fdm_emit(fd, c, "health_status: unhealthy", NULL);
		rc = 0;
	}
	pthread_mutex_unlock(&fd->mu);
	return rc;
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
	fdm_refresh_all(fd);
	for (c = fd->conts; c != NULL; c = c->next) {
		const char *rev = json_string_value(json_object_get(c->labels,
		    LABEL_REV_KEY));

		v = xrealloc(v, (n + 1) * sizeof *v);
		xasprintf(&v[n++], "%s %s %s", c->name, c->state,
		    rev ? rev : "-");
	}
	pthread_mutex_unlock(&fd->mu);
	if (n > 0)		/* qsort of NULL, even for 0, is undefined */
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
	if ((c = fdm_cont(fd, name)) != NULL) {
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
	if ((c = fdm_cont(fd, name)) != NULL)
		j = fdm_inspect(c);
	pthread_mutex_unlock(&fd->mu);
	return j;
}

json_t *
fakedocker_networks_of(struct fakedocker *fd, const char *name)
{
	struct fcont	*c;
	json_t		*j = NULL;

	pthread_mutex_lock(&fd->mu);
	if ((c = fdm_cont(fd, name)) != NULL)
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
