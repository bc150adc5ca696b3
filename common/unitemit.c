/*
 * The unit-file writer: a loaded stack back to YAML through libyaml's
 * emitter.  What it writes must load to the same stack, so every value is
 * escaped for ${VAR} expansion ($ as $$), strings that a YAML reader could
 * take for something else are quoted, and each default the loader would
 * fill in is written out.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unitemit.h"
#include "yemit.h"

struct emit {
	struct yemit	 y;		/* common/yemit.c */
};

/* Unit files also keep image references and KEY=VALUE plain. */
static bool
plain_ok(const char *s)
{
	return yaml_plain_ok(s, ":@+=");
}

static void
raw(struct emit *m, const char *s, yaml_scalar_style_t style)
{
	yemit_scalar(&m->y, s, style);
}

/* Keys are never expanded: written as they are. */
static void
key(struct emit *m, const char *s)
{
	raw(m, s, plain_ok(s) ? YAML_PLAIN_SCALAR_STYLE :
	    YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

/* A value: every $ doubled, since the loader expands values. */
static void
str(struct emit *m, const char *s)
{
	struct buf	b;
	const char	*p;

	buf_init(&b);
	buf_puts(&b, "");
	for (p = s; *p != '\0'; p++)
		buf_append(&b, *p == '$' ? "$$" : p, *p == '$' ? 2 : 1);
	raw(m, b.data, plain_ok(b.data) ? YAML_PLAIN_SCALAR_STYLE :
	    YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	buf_free(&b);
}

/* Numbers, booleans, durations and sizes we format ourselves. */
static void
lit(struct emit *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
lit(struct emit *m, const char *fmt, ...)
{
	char	s[64];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof s, fmt, ap);
	va_end(ap);
	raw(m, s, YAML_PLAIN_SCALAR_STYLE);
}

static void
map_begin(struct emit *m, bool flow)
{
	yemit_map(&m->y, flow);
}

static void
map_end(struct emit *m)
{
	yemit_map_end(&m->y);
}

static void
seq_begin(struct emit *m, bool flow)
{
	yemit_seq(&m->y, flow);
}

static void
seq_end(struct emit *m)
{
	yemit_seq_end(&m->y);
}

static void
strv(struct emit *m, const char *k, char *const *v)
{
	if (v == NULL)
		return;
	key(m, k);
	seq_begin(m, true);
	for (; *v != NULL; v++)
		str(m, *v);
	seq_end(m);
}

static void
names(struct emit *m, const char *k, char *const *v, size_t n)
{
	size_t i;

	key(m, k);
	seq_begin(m, true);
	for (i = 0; i < n; i++)
		str(m, v[i]);
	seq_end(m);
}

static void
dur(struct emit *m, const char *k, uint64_t ms)
{
	char s[YAML_DURATION_MAX];

	yaml_duration(s, sizeof s, ms);
	key(m, k);
	raw(m, s, YAML_PLAIN_SCALAR_STYLE);
}

static void
size(struct emit *m, const char *k, uint64_t v)
{
	static const char sfx[] = "kMGT";
	int i = -1;

	while (i < 3 && v != 0 && v % 1024 == 0) {
		v /= 1024;
		i++;
	}
	key(m, k);
	if (i < 0)
		lit(m, "%llu", (unsigned long long)v);
	else
		lit(m, "%llu%c", (unsigned long long)v, sfx[i]);
}

static void
kv(struct emit *m, const char *k, const struct unit_kv *v, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	key(m, k);
	map_begin(m, false);
	for (i = 0; i < n; i++) {
		key(m, v[i].key);
		str(m, v[i].value);
	}
	map_end(m);
}

static void
ports(struct emit *m, const struct unit *u)
{
	struct buf	b;
	size_t		i;

	if (u->nports == 0)
		return;
	buf_init(&b);
	key(m, "ports");
	seq_begin(m, true);
	for (i = 0; i < u->nports; i++) {
		const struct unit_port *p = &u->ports[i];

		buf_reset(&b);
		if (p->host_ip != NULL)
			buf_printf(&b, strchr(p->host_ip, ':') ? "[%s]:" :
			    "%s:", p->host_ip);
		if (p->host_port != 0)
			buf_printf(&b, "%d:", p->host_port);
		buf_printf(&b, "%d/%s", p->container_port, p->proto);
		str(m, b.data);
	}
	seq_end(m);
	buf_free(&b);
}

static void
mounts(struct emit *m, const struct unit *u)
{
	struct buf	b;
	size_t		i;

	if (u->nmounts == 0)
		return;
	buf_init(&b);
	key(m, "volumes");
	seq_begin(m, true);
	for (i = 0; i < u->nmounts; i++) {
		buf_reset(&b);
		buf_printf(&b, "%s:%s%s", u->mounts[i].source,
		    u->mounts[i].target, u->mounts[i].ro ? ":ro" : "");
		str(m, b.data);
	}
	seq_end(m);
	buf_free(&b);
}

static void
deps(struct emit *m, const struct unit *u)
{
	size_t i;

	if (u->ndeps == 0)
		return;
	key(m, "depends_on");
	map_begin(m, false);
	for (i = 0; i < u->ndeps; i++) {
		key(m, u->deps[i].name);
		raw(m, unit_dep_cond_name(u->deps[i].cond),
		    YAML_PLAIN_SCALAR_STYLE);
	}
	map_end(m);
}

static void
nets(struct emit *m, const struct unit *u)
{
	size_t i;

	if (u->nnetworks == 0)
		return;
	key(m, "networks");
	seq_begin(m, true);
	for (i = 0; i < u->nnetworks; i++)
		str(m, u->networks[i].name);
	seq_end(m);
}

/* The timings of a check the image runs are its own where 0. */
static void
timings(struct emit *m, const struct unit_health *h, bool all)
{
	if (all || h->interval_ms)
		dur(m, "interval", h->interval_ms);
	if (all || h->timeout_ms)
		dur(m, "timeout", h->timeout_ms);
	if (all || h->retries) {
		key(m, "retries");
		lit(m, "%d", h->retries);
	}
	if (all || h->start_period_ms)
		dur(m, "start_period", h->start_period_ms);
	dur(m, "start_interval", h->start_interval_ms);
}

static void
health(struct emit *m, const struct unit_health *h)
{
	key(m, "health");
	map_begin(m, false);
	switch (h->kind) {
	case HEALTH_DISABLED:
		key(m, "test");
		seq_begin(m, true);
		raw(m, "NONE", YAML_PLAIN_SCALAR_STYLE);
		seq_end(m);
		break;
	case HEALTH_CMD:
		strv(m, "test", h->test);
		break;
	case HEALTH_HTTP:
		key(m, "http");
		map_begin(m, true);
		key(m, "port");
		lit(m, "%d", h->port);
		key(m, "path");
		str(m, h->http_path);
		map_end(m);
		break;
	case HEALTH_TCP:
		key(m, "tcp");
		lit(m, "%d", h->port);
		break;
	case HEALTH_IMAGE:
		break;
	}
	if (h->kind != HEALTH_DISABLED)
		timings(m, h, h->kind != HEALTH_IMAGE);
	map_end(m);
}

static void
update(struct emit *m, const struct unit_update *up)
{
	key(m, "update");
	map_begin(m, false);
	key(m, "order");
	raw(m, unit_update_order_name(up->order), YAML_PLAIN_SCALAR_STYLE);
	key(m, "parallelism");
	lit(m, "%d", up->parallelism);
	dur(m, "healthy_deadline", up->healthy_deadline_ms);
	dur(m, "monitor", up->monitor_ms);
	/* 0 is "derived", which no duration says: left out. */
	if (up->deadline_ms != 0)
		dur(m, "deadline", up->deadline_ms);
	key(m, "on_failure");
	raw(m, unit_update_failure_name(up->on_failure),
	    YAML_PLAIN_SCALAR_STYLE);
	map_end(m);
}

static void
restart(struct emit *m, const struct unit *u)
{
	char s[64];

	if (u->restart_max > 0)
		snprintf(s, sizeof s, "%s:%d", u->restart, u->restart_max);
	else
		snprintf(s, sizeof s, "%s", u->restart);
	key(m, "restart");
	str(m, s);
}

/* No limit has no value in the file: a limit of 0 is left out. */
static void
resources(struct emit *m, const struct unit *u)
{
	if (u->memory == 0 && u->nano_cpus == 0)
		return;
	key(m, "resources");
	map_begin(m, false);
	if (u->memory != 0)
		size(m, "memory", u->memory);
	if (u->nano_cpus != 0) {
		char	s[32];
		size_t	len;

		len = (size_t)snprintf(s, sizeof s, "%lld.%09lld",
		    (long long)(u->nano_cpus / 1000000000),
		    (long long)(u->nano_cpus % 1000000000));
		while (s[len - 1] == '0')
			s[--len] = '\0';
		if (s[len - 1] == '.')
			s[--len] = '\0';
		key(m, "cpus");
		raw(m, s, YAML_PLAIN_SCALAR_STYLE);
	}
	map_end(m);
}

static void
backup(struct emit *m, const struct unit_backup *b)
{
	if (!b->present)
		return;
	key(m, "backup");
	map_begin(m, false);
	strv(m, "paths", b->paths);
	strv(m, "pre", b->pre);
	strv(m, "post", b->post);
	key(m, "stop");
	raw(m, b->stop ? "true" : "false", YAML_PLAIN_SCALAR_STYLE);
	key(m, "keep");
	lit(m, "%d", b->keep);
	dur(m, "timeout", b->timeout_ms);
	map_end(m);
}

static void
opt_str(struct emit *m, const char *k, const char *v)
{
	if (v == NULL)
		return;
	key(m, k);
	str(m, v);
}

/* The keys that change what runs on the host: only those set. */
static void
host(struct emit *m, const struct unit *u)
{
	const struct unit_device	*d;
	char				*spec;
	size_t				 i;

	if (u->privileged) {
		key(m, "privileged");
		raw(m, "true", YAML_PLAIN_SCALAR_STYLE);
	}
	if (u->host_network) {
		key(m, "network_mode");
		str(m, "host");
	}
	if (u->host_pid) {
		key(m, "pid");
		str(m, "host");
	}
	if (u->ndevices > 0) {
		key(m, "devices");
		seq_begin(m, true);
		for (i = 0; i < u->ndevices; i++) {
			d = &u->devices[i];
			xasprintf(&spec, "%s:%s%s%s", d->host, d->container ?
			    d->container : d->host, d->perms[0] ? ":" : "",
			    d->perms);
			str(m, spec);
			free(spec);
		}
		seq_end(m);
	}
	strv(m, "cap_add", u->cap_add);
	strv(m, "cap_drop", u->cap_drop);
}

/* Every key written out; image: beside it keeps the tag it makes. */
static void
build(struct emit *m, const struct unit *u)
{
	const struct unit_build *b = &u->build;

	if (b->present) {
		key(m, "build");
		map_begin(m, false);
		opt_str(m, "context", b->context);
		opt_str(m, "dockerfile", b->dockerfile);
		kv(m, "args", b->args, b->nargs);
		opt_str(m, "target", b->target);
		kv(m, "labels", b->labels, b->nlabels);
		strv(m, "cache_from", b->cache_from);
		map_end(m);
	}
	if (u->pull_policy != PULL_MISSING)
		opt_str(m, "pull_policy", unit_pull_policy_name(u->pull_policy));
}

static void
policy(struct emit *m, const char *k, const struct unit_scale_policy *p)
{
	key(m, k);
	map_begin(m, true);
	if (p->max_step != 0) {
		key(m, "max_step");
		lit(m, "%d", p->max_step);
	}
	if (p->max_percent != 0) {
		key(m, "max_percent");
		lit(m, "%d%%", p->max_percent);
	}
	dur(m, "every", p->every_ms);
	map_end(m);
}

static void
autoscale(struct emit *m, const struct unit_autoscale *a)
{
	if (!a->present)
		return;
	key(m, "autoscale");
	map_begin(m, false);
	key(m, "min");
	lit(m, "%d", a->min);
	key(m, "max");
	lit(m, "%d", a->max);
	if (a->cpu != 0) {
		key(m, "cpu");
		lit(m, "%d%%", a->cpu);
	}
	if (a->memory != 0) {
		key(m, "memory");
		lit(m, "%d%%", a->memory);
	}
	policy(m, "up", &a->up);
	policy(m, "down", &a->down);
	dur(m, "window", a->window_ms);
	dur(m, "stabilization", a->stabilization_ms);
	map_end(m);
}

static void
unit_body(struct emit *m, const struct unit *u)
{
	map_begin(m, false);
	opt_str(m, "image", u->image);
	strv(m, "command", u->command);
	strv(m, "entrypoint", u->entrypoint);
	kv(m, "environment", u->env, u->nenv);
	ports(m, u);
	mounts(m, u);
	deps(m, u);
	nets(m, u);
	health(m, &u->health);
	key(m, "replicas");
	lit(m, "%d", u->replicas);
	key(m, "init");
	raw(m, u->init ? "true" : "false", YAML_PLAIN_SCALAR_STYLE);
	update(m, &u->update);
	restart(m, u);
	opt_str(m, "on_unhealthy", unit_heal_name(u->on_unhealthy));
	dur(m, "stop_grace", u->stop_grace_ms);
	opt_str(m, "stop_signal", u->stop_signal);
	resources(m, u);
	kv(m, "labels", u->labels, u->nlabels);
	opt_str(m, "user", u->user);
	opt_str(m, "working_dir", u->working_dir);
	opt_str(m, "hostname", u->hostname);
	strv(m, "extra_hosts", u->extra_hosts);
	kv(m, "sysctls", u->sysctls, u->nsysctls);
	strv(m, "tmpfs", u->tmpfs);
	kv(m, "ulimits", u->ulimits, u->nulimits);
	host(m, u);
	backup(m, &u->backup);
	build(m, u);
	autoscale(m, &u->autoscale);
	map_end(m);
}

/* A notify: value: the string, or {env: VAR}. */
static void
nvalue(struct emit *m, const char *k, const struct notify_value *v)
{
	key(m, k);
	if (v->value != NULL) {
		str(m, v->value);
		return;
	}
	map_begin(m, true);
	key(m, "env");
	str(m, v->env);
	map_end(m);
}

static void
notify(struct emit *m, const struct stack *s)
{
	const struct notify_hook	*h;
	size_t				 i, j;
	int				 e;

	if (s->nhooks == 0)
		return;
	key(m, "notify");
	seq_begin(m, false);
	for (i = 0; i < s->nhooks; i++) {
		h = &s->hooks[i];
		map_begin(m, false);
		nvalue(m, "url", &h->url);
		key(m, "events");
		seq_begin(m, true);
		for (e = 0; e < NOTIFY_NEVENTS; e++) {
			if (h->events & (1u << e))
				str(m, notify_event_name(e));
		}
		seq_end(m);
		dur(m, "timeout", h->timeout_ms);
		key(m, "retries");
		lit(m, "%d", h->retries);
		if (h->nheaders > 0) {
			key(m, "headers");
			map_begin(m, false);
			for (j = 0; j < h->nheaders; j++)
				nvalue(m, h->headers[j].name,
				    &h->headers[j].v);
			map_end(m);
		}
		map_end(m);
	}
	seq_end(m);
}

static void
stack_body(struct emit *m, const struct stack *s)
{
	map_begin(m, false);
	key(m, "name");
	str(m, s->name);
	names(m, "networks", s->networks, s->nnetworks);
	names(m, "volumes", s->volumes, s->nvolumes);
	key(m, "retain");
	lit(m, "%d", s->retain);
	notify(m, s);
	map_end(m);
}

/* One document, start to end, through body. */
static int
emit_doc(struct buf *out, char **err, void (*body)(struct emit *,
    const void *), const void *arg)
{
	struct emit	m;

	*err = NULL;
	if (yemit_init(&m.y, out, 78) != 0) {
		*err = xstrdup("cannot set up the YAML emitter");
		return -ENOMEM;
	}
	yemit_doc(&m.y, true);
	body(&m, arg);
	yemit_doc_end(&m.y);
	return yemit_finish(&m.y, err);
}

static void
unit_doc(struct emit *m, const void *arg)
{
	unit_body(m, arg);
}

static void
stack_doc(struct emit *m, const void *arg)
{
	stack_body(m, arg);
}

int
unit_emit_yaml(const struct unit *u, struct buf *out, char **err)
{
	return emit_doc(out, err, unit_doc, u);
}

int
stack_emit_yaml(const struct stack *s, struct buf *out, char **err)
{
	return emit_doc(out, err, stack_doc, s);
}

static int
write_one(const char *dir, const char *name, struct buf *b, char **err)
{
	char	*path;
	int	 rc;

	xasprintf(&path, "%s/%s.yaml", dir, name);
	if ((rc = file_write_atomic(path, b->data, b->len, 0644)) < 0)
		xasprintf(err, "%s: %s", path, strerror(-rc));
	free(path);
	return rc;
}

int
stack_write_dir(const struct stack *s, const char *dir, char **err)
{
	struct buf	b;
	size_t		i;
	int		rc;

	*err = NULL;
	if ((rc = mkdir_p(dir, 0755)) < 0) {
		xasprintf(err, "%s: %s", dir, strerror(-rc));
		return rc;
	}
	buf_init(&b);
	if ((rc = stack_emit_yaml(s, &b, err)) == 0)
		rc = write_one(dir, "stack", &b, err);
	for (i = 0; rc == 0 && i < s->nunits; i++) {
		buf_reset(&b);
		if ((rc = unit_emit_yaml(s->units[i], &b, err)) == 0)
			rc = write_one(dir, s->units[i]->name, &b, err);
	}
	buf_free(&b);
	return rc;
}
