/*
 * Engine statistics streams (stats.h).  The engine sends one JSON object
 * a second on each; a sample replaces the last, so a container costs a
 * fixed amount however long it runs.  Streams have no deadline after
 * their headers: the event stream's pings tell a stalled engine, and a
 * stream that ends is found again by the next start event, a resync
 * after the event stream reconnects, or the periodic check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "core/shipd.h"
#include "engine/docker.h"
#include "engine/stats.h"
#include "engine/watch.h"
#include "log.h"
#include "proto.h"
#include "util.h"

struct follow {
	struct stats		*st;
	struct stats_sample	 s;
	struct docker_req	*stream;
	struct docker_req	*inspect;
	struct follow		*next;
};

struct stats {
	struct shipd		*sd;
	struct watch		*watch;
	struct docker_req	*list;
	uv_timer_t		 timer;
	struct follow		*follows;
	size_t			 n;
	bool			 full_warned;
};

static void	track(struct stats *, const char *id, json_t *labels);
static void	reconcile(struct stats *);

static uint64_t
jnum(json_t *o, const char *path)
{
	char	 key[64];
	const char *dot;
	size_t	 n;

	while ((dot = strchr(path, '.')) != NULL) {
		n = (size_t)(dot - path);
		if (n >= sizeof key)
			return 0;
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		path = dot + 1;
	}
	o = json_object_get(o, path);
	if (json_is_integer(o) && json_integer_value(o) > 0)
		return (uint64_t)json_integer_value(o);
	if (json_is_real(o) && json_real_value(o) > 0)
		return (uint64_t)json_real_value(o);
	return 0;
}

static time_t
jtime(json_t *v)
{
	long long	sec;
	long		nsec;
	const char	*s = json_string_value(v);

	/* The engine's zero time, 0001-01-01, reads as before 1970. */
	if (s == NULL || parse_rfc3339(s, &sec, &nsec) == 0 || sec <= 0)
		return 0;
	return (time_t)sec;
}

int
stats_parse(const char *json, size_t len, struct stats_sample *s)
{
	json_t		*o, *nets, *net, *per;
	const char	*key;
	uint64_t	 cpu, pcpu, sys, psys, cache;

	if ((o = json_loadb(json, len, 0, NULL)) == NULL)
		return -EPROTO;
	if (!json_is_object(o) || json_object_get(o, "cpu_stats") == NULL) {
		json_decref(o);
		return -EPROTO;
	}
	cpu = jnum(o, "cpu_stats.cpu_usage.total_usage");
	pcpu = jnum(o, "precpu_stats.cpu_usage.total_usage");
	sys = jnum(o, "cpu_stats.system_cpu_usage");
	psys = jnum(o, "precpu_stats.system_cpu_usage");
	s->online_cpus = (unsigned)jnum(o, "cpu_stats.online_cpus");
	per = json_object_get(json_object_get(json_object_get(o,
	    "cpu_stats"), "cpu_usage"), "percpu_usage");
	if (s->online_cpus == 0)
		s->online_cpus = (unsigned)json_array_size(per);
	if (s->online_cpus == 0)
		s->online_cpus = 1;
	/* As docker stats: the container's share of the host's CPU time
	 * between two samples, times the CPUs; none on the first one. */
	s->cpu_percent = 0;
	if (psys > 0 && sys > psys && cpu >= pcpu)
		s->cpu_percent = (double)(cpu - pcpu) / (double)(sys - psys) *
		    s->online_cpus * 100.0;
	/* cgroup v2 says inactive_file, v1 total_inactive_file. */
	cache = jnum(o, "memory_stats.stats.inactive_file");
	if (cache == 0)
		cache = jnum(o, "memory_stats.stats.total_inactive_file");
	s->mem_bytes = jnum(o, "memory_stats.usage");
	s->mem_bytes = s->mem_bytes > cache ? s->mem_bytes - cache : 0;
	s->mem_limit = jnum(o, "memory_stats.limit");
	s->rx_bytes = s->tx_bytes = 0;
	nets = json_object_get(o, "networks");
	json_object_foreach(nets, key, net) {
		s->rx_bytes += jnum(net, "rx_bytes");
		s->tx_bytes += jnum(net, "tx_bytes");
	}
	s->read = jtime(json_object_get(o, "read"));
	s->have = true;
	json_decref(o);
	return 0;
}

static struct follow *
find(struct stats *st, const char *id)
{
	struct follow *f;

	for (f = st->follows; f != NULL; f = f->next)
		if (strcmp(f->s.id, id) == 0)
			return f;
	return NULL;
}

static void
untrack(struct stats *st, struct follow *f)
{
	struct follow **fp;

	for (fp = &st->follows; *fp != NULL; fp = &(*fp)->next)
		if (*fp == f) {
			*fp = f->next;
			break;
		}
	st->n--;
	docker_cancel(f->stream);
	docker_cancel(f->inspect);
	free(f);
}

static void
on_line(const char *line, size_t len, void *arg)
{
	struct follow *f = arg;

	if (len > 0 && stats_parse(line, len, &f->s) < 0)
		log_debug("stats %.12s: not a stats object", f->s.id);
}

/* The stream ended: the container stopped (its die event drops it too)
 * or the engine went; a check later finds it again if it still runs. */
static void
on_stream_done(const struct docker_result *res, void *arg)
{
	struct follow *f = arg;

	f->stream = NULL;
	if (res->err != 0 && res->err != DOCKER_E_NOT_FOUND)
		log_debug("stats %.12s: %s", f->s.id, res->message);
	untrack(f->st, f);
}

static void
on_inspect(const struct docker_result *res, void *arg)
{
	struct follow	*f = arg;
	json_t		*state;
	const char	*h;

	f->inspect = NULL;
	if (res->err != 0)
		return;
	state = json_object_get(res->body, "State");
	f->s.started = jtime(json_object_get(state, "StartedAt"));
	f->s.restarts = (int)json_integer_value(json_object_get(res->body,
	    "RestartCount"));
	h = json_string_value(json_object_get(json_object_get(state,
	    "Health"), "Status"));
	snprintf(f->s.health, sizeof f->s.health, "%s", h ? h : "");
}

static void
set_identity(struct stats_sample *s, const char *id, json_t *labels)
{
	const char *v;

	snprintf(s->id, sizeof s->id, "%s", id);
	v = json_string_value(json_object_get(labels, LABEL_STACK));
	snprintf(s->stack, sizeof s->stack, "%s", v ? v : "");
	v = json_string_value(json_object_get(labels, LABEL_SERVICE));
	snprintf(s->service, sizeof s->service, "%s", v ? v : "");
	v = json_string_value(json_object_get(labels, LABEL_REPLICA));
	s->replica = v ? atoi(v) : 0;
	v = json_string_value(json_object_get(labels, "name"));
	if (v != NULL)
		snprintf(s->name, sizeof s->name, "%s", v);
}

static void
track(struct stats *st, const char *id, json_t *labels)
{
	struct docker_opts	 o;
	struct follow		*f;
	char			 path[128];

	const char		*stack;

	stack = json_string_value(json_object_get(labels, LABEL_STACK));
	if (find(st, id) != NULL || st->sd->docker == NULL || stack == NULL ||
	    (st->sd->stats_want != NULL && !st->sd->stats_want(st->sd, stack)))
		return;
	if (st->n >= STATS_MAX) {
		if (!st->full_warned)
			log_warn("stats: following %d containers already; "
			    "no more", STATS_MAX);
		st->full_warned = true;
		return;
	}
	f = xcalloc(1, sizeof *f);
	f->st = st;
	set_identity(&f->s, id, labels);
	snprintf(path, sizeof path, "/containers/%s/stats?stream=true", id);
	memset(&o, 0, sizeof o);
	o.method = "GET";
	o.path = path;
	o.flags = DOCKER_F_STREAM | DOCKER_F_NOSCAN;
	o.line = on_line;
	o.done = on_stream_done;
	o.arg = f;
	f->stream = docker_submit(st->sd->docker, &o);
	f->inspect = docker_container_inspect(st->sd->docker, id, on_inspect,
	    f);
	f->next = st->follows;
	st->follows = f;
	st->n++;
}

static void
on_event(const char *id, const char *action, json_t *ev, void *arg)
{
	struct stats	*st = arg;
	struct follow	*f;
	json_t		*attrs;
	const char	*h = "health_status: ";

	if (ev == NULL) {		/* WATCH_RESYNC */
		reconcile(st);
		return;
	}
	if (id == NULL)
		return;
	f = find(st, id);
	if (strcmp(action, "start") == 0) {
		/* A restart: a new stream and a fresh inspect. */
		if (f != NULL)
			untrack(st, f);
		attrs = json_object_get(json_object_get(ev, "Actor"),
		    "Attributes");
		track(st, id, attrs);
	} else if (f != NULL && (strcmp(action, "die") == 0 ||
	    strcmp(action, "destroy") == 0))
		untrack(st, f);
	else if (f != NULL && strncmp(action, h, strlen(h)) == 0)
		snprintf(f->s.health, sizeof f->s.health, "%s",
		    action + strlen(h));
	else if (f != NULL && strcmp(action, "rename") == 0)
		set_identity(&f->s, id, json_object_get(json_object_get(ev,
		    "Actor"), "Attributes"));
}

static void
on_list(const struct docker_result *res, void *arg)
{
	struct stats	*st = arg;
	struct follow	*f, *next;
	json_t		*c, *seen;
	const char	*id, *name;
	size_t		 i;

	st->list = NULL;
	if (res->err != 0 || !json_is_array(res->body))
		return;
	seen = json_object();
	json_array_foreach(res->body, i, c) {
		if ((id = json_string_value(json_object_get(c, "Id"))) == NULL)
			continue;
		json_object_set_new(seen, id, json_true());
		if ((f = find(st, id)) == NULL) {
			track(st, id, json_object_get(c, "Labels"));
			f = find(st, id);
		}
		name = json_string_value(json_array_get(json_object_get(c,
		    "Names"), 0));
		if (f != NULL && name != NULL)
			snprintf(f->s.name, sizeof f->s.name, "%s",
			    name[0] == '/' ? name + 1 : name);
	}
	for (f = st->follows; f != NULL; f = next) {
		next = f->next;
		if (json_object_get(seen, f->s.id) == NULL)
			untrack(st, f);
	}
	json_decref(seen);
}

/* What runs now against what is followed. */
static void
reconcile(struct stats *st)
{
	if (st->list != NULL || st->sd->docker == NULL)
		return;
	st->list = docker_containers_list(st->sd->docker, LABEL_STACK, 0,
	    on_list, st);
}

static void
on_timer(uv_timer_t *t)
{
	reconcile(t->data);
}

static void
collect(struct buf *b, void *arg)
{
	static const struct {
		const char	*name, *type, *help;
	} fams[] = {
		{ "shipd_container_cpu_percent", "gauge",
		  "CPU use as docker stats shows it (100 per CPU)" },
		{ "shipd_container_memory_bytes", "gauge",
		  "Memory in use, less the inactive file cache" },
		{ "shipd_container_memory_limit_bytes", "gauge",
		  "Memory limit (the host's memory without one)" },
		{ "shipd_container_network_receive_bytes_total", "counter",
		  "Bytes received on every network since the container started" },
		{ "shipd_container_network_transmit_bytes_total", "counter",
		  "Bytes sent on every network since the container started" },
	};
	struct stats	*st = arg;
	struct follow	*f;
	size_t		 i;
	double		 v;
	char		 rep[16];

	for (i = 0; i < nitems(fams); i++) {
		metrics_family(b, fams[i].name, fams[i].type, fams[i].help);
		for (f = st->follows; f != NULL; f = f->next) {
			if (!f->s.have)
				continue;
			v = i == 0 ? f->s.cpu_percent :
			    i == 1 ? (double)f->s.mem_bytes :
			    i == 2 ? (double)f->s.mem_limit :
			    i == 3 ? (double)f->s.rx_bytes :
			    (double)f->s.tx_bytes;
			snprintf(rep, sizeof rep, "%d", f->s.replica);
			metrics_sample(b, fams[i].name, v, "stack",
			    f->s.stack, "service", f->s.service, "replica",
			    rep, "container", f->s.name, NULL);
		}
	}
}

static void
on_timer_closed(uv_handle_t *h)
{
	free(h->data);
}

void
stats_start(struct shipd *sd)
{
	struct stats *st = sd->stats;

	if (st == NULL) {
		st = sd->stats = xcalloc(1, sizeof *st);
		st->sd = sd;
		st->watch = watch_stack(sd, NULL, on_event, st);
		uv_timer_init(sd->loop, &st->timer);
		st->timer.data = st;
		uv_timer_start(&st->timer, on_timer, STATS_RECONCILE_MS,
		    STATS_RECONCILE_MS);
		metrics_collector_add(collect, st);
	}
	reconcile(st);
}

void
stats_stop(struct shipd *sd)
{
	struct stats *st = sd->stats;

	if (st == NULL)
		return;
	sd->stats = NULL;
	metrics_collector_del(collect, st);
	watch_cancel(st->watch);
	if (sd->docker != NULL)
		docker_cancel(st->list);
	while (st->follows != NULL)
		untrack(st, st->follows);
	uv_timer_stop(&st->timer);
	uv_close((uv_handle_t *)&st->timer, on_timer_closed);
}

const struct stats_sample *
stats_get(struct shipd *sd, const char *id)
{
	struct follow *f;

	if (sd->stats == NULL || (f = find(sd->stats, id)) == NULL)
		return NULL;
	return &f->s;
}

void
stats_foreach(struct shipd *sd, void (*fn)(const struct stats_sample *,
    void *), void *arg)
{
	struct follow *f;

	if (sd->stats == NULL)
		return;
	for (f = sd->stats->follows; f != NULL; f = f->next)
		fn(&f->s, arg);
}
