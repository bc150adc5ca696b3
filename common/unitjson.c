/*
 * The JSON form of a stack: what shipctl sends and shipd stores, with every
 * default explicit, and a strict decoder for it that shipd runs on whatever
 * a client sends.  Also the normalised spec and its hash (io.shipd.spec-hash).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "jread.h"
#include "unit.h"
#include "unitcheck.h"
#include "unitnotify.h"
#include "unithost.h"
#include "util.h"

/* ---- encoding ----------------------------------------------------------- */

static json_t *
jstr_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
strv_json(char *const *v)
{
	json_t *a;

	if (v == NULL)
		return json_null();
	a = json_array();
	for (; *v != NULL; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *
names_json(char *const *v, size_t n)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
health_json(const struct unit_health *h)
{
	return json_pack("{s:s, s:o, s:o, s:i, s:I, s:I, s:I, s:I, s:i}",
	    "kind", unit_health_kind_name(h->kind),
	    "test", strv_json(h->test),
	    "http_path", jstr_or_null(h->http_path),
	    "port", h->port,
	    "interval_ms", (json_int_t)h->interval_ms,
	    "timeout_ms", (json_int_t)h->timeout_ms,
	    "start_period_ms", (json_int_t)h->start_period_ms,
	    "start_interval_ms", (json_int_t)h->start_interval_ms,
	    "retries", h->retries);
}

static json_t *
ports_json(const struct unit *u)
{
	const struct unit_port	*p;
	json_t			*a = json_array();
	size_t			 i;

	for (i = 0; i < u->nports; i++) {
		p = &u->ports[i];
		json_array_append_new(a, json_pack("{s:o, s:i, s:i, s:s}",
		    "host_ip", jstr_or_null(p->host_ip),
		    "host_port", p->host_port,
		    "container_port", p->container_port,
		    "protocol", p->proto));
	}
	return a;
}

static json_t *
mounts_json(const struct unit *u)
{
	const struct unit_mount	*m;
	json_t			*a = json_array();
	size_t			 i;

	for (i = 0; i < u->nmounts; i++) {
		m = &u->mounts[i];
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:b}",
		    "type", unit_mount_kind_name(m->kind),
		    "source", m->source, "target", m->target,
		    "read_only", m->ro));
	}
	return a;
}

/* The unit's networks: names for the hash, with positions on the wire. */
static json_t *
nets_json(const struct unit *u, bool where)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < u->nnetworks; i++) {
		const struct unit_net *n = &u->networks[i];

		json_array_append_new(a, !where ? json_string(n->name) :
		    json_pack("{s:s, s:i, s:i}", "name", n->name,
		    "line", n->line, "col", n->col));
	}
	return a;
}

json_t *
unit_spec_json(const struct unit *u)
{
	json_t *o;

	/* image is NULL only for a unit with build: loaded alone, before
	 * its stack names the tag (stack_build_tags()). */
	o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b,"
	    " s:{s:s, s:i}, s:I, s:o, s:{s:I, s:I}, s:o, s:o, s:o}",
	    "image", jstr_or_null(u->image),
	    "command", strv_json(u->command),
	    "entrypoint", strv_json(u->entrypoint),
	    "environment", unit_kv_json(u->env, u->nenv),
	    "ports", ports_json(u),
	    "mounts", mounts_json(u),
	    "health", health_json(&u->health),
	    "init", u->init,
	    "restart", "policy", u->restart, "max_retries", u->restart_max,
	    "stop_grace_ms", (json_int_t)u->stop_grace_ms,
	    "stop_signal", jstr_or_null(u->stop_signal),
	    "resources", "memory", (json_int_t)u->memory,
	    "nano_cpus", (json_int_t)u->nano_cpus,
	    "labels", unit_kv_json(u->labels, u->nlabels),
	    "user", jstr_or_null(u->user),
	    "working_dir", jstr_or_null(u->working_dir));
	if (u->nnetworks > 0)
		json_object_set_new(o, "networks", nets_json(u, false));
	unit_host_json(u, o);
	/* Only when set, as networks. */
	if (u->on_unhealthy != HEAL_DEFAULT)
		json_object_set_new(o, "on_unhealthy",
		    json_string(unit_heal_name(u->on_unhealthy)));
	if (u->hostname != NULL)
		json_object_set_new(o, "hostname", json_string(u->hostname));
	if (u->extra_hosts != NULL)
		json_object_set_new(o, "extra_hosts",
		    strv_json(u->extra_hosts));
	if (u->nsysctls > 0)
		json_object_set_new(o, "sysctls", unit_kv_json(u->sysctls,
		    u->nsysctls));
	if (u->tmpfs != NULL)
		json_object_set_new(o, "tmpfs", strv_json(u->tmpfs));
	if (u->nulimits > 0)
		json_object_set_new(o, "ulimits", unit_kv_json(u->ulimits,
		    u->nulimits));
	return o;
}

static json_t *
unit_json(const struct unit *u)
{
	const struct unit_backup	*b = &u->backup;
	json_t				*o, *deps;
	size_t				 i;

	o = json_pack("{s:s, s:o}", "name", u->name,
	    "file", jstr_or_null(u->file));
	json_object_update_new(o, unit_spec_json(u));
	deps = json_array();
	for (i = 0; i < u->ndeps; i++) {
		json_t *d = json_pack("{s:s, s:s, s:i, s:i}",
		    "service", u->deps[i].name,
		    "condition", unit_dep_cond_name(u->deps[i].cond),
		    "line", u->deps[i].line, "col", u->deps[i].col);

		/* Only when set: recorded revisions still compare equal. */
		if (u->deps[i].restart)
			json_object_set_new(d, "restart", json_true());
		json_array_append_new(deps, d);
	}
	json_object_set_new(o, "replicas", json_integer(u->replicas));
	json_object_set_new(o, "depends_on", deps);
	/* Only when listed: a unit without them writes what it wrote before
	 * the key existed, so recorded revisions still compare equal. */
	if (u->nnetworks > 0)
		json_object_set_new(o, "networks", nets_json(u, true));
	json_object_set_new(o, "update", json_pack("{s:s, s:i, s:I, s:I, s:s}",
	    "order", unit_update_order_name(u->update.order),
	    "parallelism", u->update.parallelism,
	    "healthy_deadline_ms", (json_int_t)u->update.healthy_deadline_ms,
	    "monitor_ms", (json_int_t)u->update.monitor_ms,
	    "on_failure", unit_update_failure_name(u->update.on_failure)));
	/* Only when set, as networks above. */
	if (u->update.deadline_ms > 0)
		json_object_set_new(json_object_get(o, "update"),
		    "deadline_ms", json_integer((json_int_t)
		    u->update.deadline_ms));
	json_object_set_new(o, "backup", !b->present ? json_null() :
	    json_pack("{s:o, s:o, s:o, s:b, s:i, s:I}", "paths",
	    strv_json(b->paths), "pre", strv_json(b->pre), "post",
	    strv_json(b->post), "stop", b->stop, "keep", b->keep,
	    "timeout_ms", (json_int_t)b->timeout_ms));
	/* Only when set, as networks above. */
	if (u->build.present)
		json_object_set_new(o, "build", unit_build_json(&u->build));
	if (u->pull_policy != PULL_MISSING)
		json_object_set_new(o, "pull_policy",
		    json_string(unit_pull_policy_name(u->pull_policy)));
	if (u->autoscale.present)
		json_object_set_new(o, "autoscale",
		    unit_autoscale_json(&u->autoscale));
	return o;
}

json_t *
stack_to_json(const struct stack *s)
{
	json_t	*units = json_array(), *o, *hooks;
	size_t	 i;

	for (i = 0; i < s->nunits; i++)
		json_array_append_new(units, unit_json(s->units[i]));
	o = json_pack("{s:s, s:o, s:i, s:o, s:o, s:o}", "name", s->name,
	    "dir", jstr_or_null(s->dir), "retain", s->retain,
	    "networks", names_json(s->networks, s->nnetworks),
	    "volumes", names_json(s->volumes, s->nvolumes),
	    "units", units);
	/* Only when set: revisions recorded before it have no member. */
	if ((hooks = notify_hooks_json(s)) != NULL)
		json_object_set_new(o, "notify", hooks);
	return o;
}

void
unit_spec_hash(const struct unit *u, char out[65])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;
	json_t			*spec = unit_spec_json(u);
	char			*text;

	text = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(spec);
	if (text == NULL ||
	    !EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != 32)
		abort();	/* out of memory, nothing else */
	free(text);
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[64] = '\0';
}

/* ---- decoding ------------------------------------------------------------ */

/*
 * Unit-specific readers on top of jread.h.  They check shapes and types;
 * the values are then held to unitcheck.c's rules, as a unit file's are.
 */

/* Names of networks or volumes. */
static void
jnames(struct jread *c, const char *path, const json_t *o, const char *key,
    char ***out, size_t *nout)
{
	char	**v;
	size_t	  i;

	jread_strv(c, path, o, key, 0, &v);
	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++) {
		*out = xrealloc(*out, (*nout + 1) * sizeof **out);
		(*out)[(*nout)++] = v[i];
	}
	free(v);
}

/* Each element of the array field key, decoded by fn. */
static void
jeach(struct jread *c, const char *path, const json_t *o, const char *key,
    void (*fn)(struct jread *, const char *, const json_t *, struct unit *),
    struct unit *u)
{
	const json_t	*v;
	char		 sub[JREAD_PATH], esub[JREAD_PATH + 16];
	size_t		 i;

	if ((v = jread_field(path, o, key, sub)) == NULL)
		return;
	if (!json_is_array(v)) {
		jread_err(c, sub, "expected an array, got %s", jread_kind(v));
		return;
	}
	for (i = 0; i < json_array_size(v); i++) {
		jread_path(esub, sizeof esub, "%s[%zu]", sub, i);
		fn(c, esub, json_array_get(v, i), u);
	}
}

static void
j_port(struct jread *c, const char *path, const json_t *v, struct unit *u)
{
	static const char *const f[] = {
		"host_ip", "host_port", "container_port", "protocol"
	};
	struct unit_port	 p;
	char			*proto;

	memset(&p, 0, sizeof p);
	if (!jread_obj(c, path, v, f, nitems(f)))
		return;
	jread_str(c, path, v, "host_ip", JREAD_NULL, &p.host_ip);
	jread_int_i(c, path, v, "host_port", 0, UNIT_PORT_MAX, &p.host_port);
	jread_int_i(c, path, v, "container_port", 1, UNIT_PORT_MAX,
	    &p.container_port);
	if (jread_str(c, path, v, "protocol", 0, &proto)) {
		if (!unit_proto_valid(proto))
			jread_err(c, path, "protocol: expected tcp or udp");
		else
			snprintf(p.proto, sizeof p.proto, "%s", proto);
		free(proto);
	}
	u->ports = xrealloc(u->ports, (u->nports + 1) * sizeof p);
	u->ports[u->nports++] = p;
}

static void
j_mount(struct jread *c, const char *path, const json_t *v, struct unit *u)
{
	static const char *const f[] = { "type", "source", "target",
	    "read_only" };
	struct unit_mount	 m;
	char			*type;

	memset(&m, 0, sizeof m);
	if (!jread_obj(c, path, v, f, nitems(f)))
		return;
	if (jread_str(c, path, v, "type", 0, &type) &&
	    unit_mount_kind_parse(type, &m.kind) != 0)
		jread_err(c, path, "type: expected volume or bind");
	free(type);
	jread_str(c, path, v, "source", 0, &m.source);
	jread_str(c, path, v, "target", 0, &m.target);
	jread_bool(c, path, v, "read_only", &m.ro);
	u->mounts = xrealloc(u->mounts, (u->nmounts + 1) * sizeof m);
	u->mounts[u->nmounts++] = m;
}

static void
j_dep(struct jread *c, const char *path, const json_t *v, struct unit *u)
{
	static const char *const f[] = { "service", "condition", "line",
	    "col" };
	static const char *const opt[] = { "restart" };
	struct unit_dep	 d;
	char		*cond;

	memset(&d, 0, sizeof d);
	if (!jread_obj_opt(c, path, v, f, nitems(f), opt, nitems(opt)))
		return;
	jread_str(c, path, v, "service", 0, &d.name);
	if (jread_str(c, path, v, "condition", 0, &cond) &&
	    unit_dep_cond_parse(cond, &d.cond) != 0)
		jread_err(c, path, "condition: expected started, healthy or "
		    "completed");
	free(cond);
	if (json_object_get(v, "restart") != NULL)
		jread_bool(c, path, v, "restart", &d.restart);
	jread_int_i(c, path, v, "line", 0, INT_MAX, &d.line);
	jread_int_i(c, path, v, "col", 0, INT_MAX, &d.col);
	u->deps = xrealloc(u->deps, (u->ndeps + 1) * sizeof d);
	u->deps[u->ndeps++] = d;
}

static void
j_net(struct jread *c, const char *path, const json_t *v, struct unit *u)
{
	static const char *const f[] = { "name", "line", "col" };
	struct unit_net	 n;

	memset(&n, 0, sizeof n);
	if (!jread_obj(c, path, v, f, nitems(f)))
		return;
	jread_str(c, path, v, "name", 0, &n.name);
	jread_int_i(c, path, v, "line", 0, INT_MAX, &n.line);
	jread_int_i(c, path, v, "col", 0, INT_MAX, &n.col);
	u->networks = xrealloc(u->networks, (u->nnetworks + 1) * sizeof n);
	u->networks[u->nnetworks++] = n;
}

/* null or absent: every network of the stack; a list names at least one,
 * as in a unit file. */
static void
j_nets(struct jread *c, const char *path, const json_t *v, struct unit *u)
{
	const json_t	*a;
	char		 sub[JREAD_PATH];

	a = jread_field(path, v, "networks", sub);
	if (a == NULL || json_is_null(a))
		return;
	if (json_is_array(a) && json_array_size(a) == 0) {
		jread_err(c, sub, "list at least one network, or null");
		return;
	}
	jeach(c, path, v, "networks", j_net, u);
}

/*
 * JSON writes a check as a kind and fields that must agree with it, where
 * a unit file writes one of test, http or tcp: decoding either form
 * yields one well-formed check, whose values unitcheck.c then judges.
 */
static void
j_health_check(struct jread *c, const char *path, const struct unit_health *h)
{
	bool probe = h->kind == HEALTH_HTTP || h->kind == HEALTH_TCP;
	bool own = probe || h->kind == HEALTH_CMD;

	if ((h->test != NULL) != (h->kind == HEALTH_CMD) ||
	    (h->test != NULL && !unit_health_test_valid(h->test)))
		jread_err(c, path, "test: expected [CMD, ...] or [CMD-SHELL, "
		    "\"...\"] for kind cmd and null otherwise");
	if ((h->http_path != NULL) != (h->kind == HEALTH_HTTP))
		jread_err(c, path, "http_path: expected a path starting "
		    "with / for kind http and null otherwise");
	if ((h->port != 0) != probe)
		jread_err(c, path, "port: expected 1-65535 for kinds http "
		    "and tcp and 0 otherwise");
	if (h->kind == HEALTH_DISABLED) {
		if (h->interval_ms || h->timeout_ms || h->start_period_ms ||
		    h->start_interval_ms || h->retries)
			jread_err(c, path, "timings must be 0 for kind "
			    "disabled");
		return;
	}
	if (own && (!h->interval_ms || !h->timeout_ms || !h->retries))
		jread_err(c, path, "interval_ms, timeout_ms and retries must "
		    "be at least 1 for kind %s",
		    unit_health_kind_name(h->kind));
}

static void
j_health(struct jread *c, const char *path, const json_t *o,
    struct unit_health *h)
{
	static const char *const f[] = { "kind", "test", "http_path", "port",
	    "interval_ms", "timeout_ms", "start_period_ms",
	    "start_interval_ms", "retries" };
	const json_t	*v;
	char		 sub[JREAD_PATH], *kind;
	size_t		 before = c->errs->n;

	if ((v = jread_field(path, o, "health", sub)) == NULL ||
	    !jread_obj(c, sub, v, f, nitems(f)))
		return;
	if (jread_str(c, sub, v, "kind", 0, &kind) &&
	    unit_health_kind_parse(kind, &h->kind) != 0)
		jread_err(c, sub, "kind: expected image, disabled, cmd, "
		    "http or tcp");
	free(kind);
	jread_strv(c, sub, v, "test", JREAD_NULL | JREAD_NONEMPTY, &h->test);
	jread_str(c, sub, v, "http_path", JREAD_NULL, &h->http_path);
	jread_int_i(c, sub, v, "port", 0, UNIT_PORT_MAX, &h->port);
	jread_ms(c, sub, v, "interval_ms", 0, &h->interval_ms);
	jread_ms(c, sub, v, "timeout_ms", 0, &h->timeout_ms);
	jread_ms(c, sub, v, "start_period_ms", 0, &h->start_period_ms);
	jread_ms(c, sub, v, "start_interval_ms", 0, &h->start_interval_ms);
	jread_int_i(c, sub, v, "retries", 0, UNIT_RETRIES_MAX, &h->retries);
	if (c->errs->n == before)
		j_health_check(c, sub, h);
}

static void
j_update(struct jread *c, const char *path, const json_t *o,
    struct unit_update *up)
{
	static const char *const f[] = { "order", "parallelism",
	    "healthy_deadline_ms", "monitor_ms", "on_failure" };
	static const char *const opt[] = { "deadline_ms" };
	const json_t	*v;
	char		 sub[JREAD_PATH], *s;

	if ((v = jread_field(path, o, "update", sub)) == NULL ||
	    !jread_obj_opt(c, sub, v, f, nitems(f), opt, nitems(opt)))
		return;
	if (jread_str(c, sub, v, "order", 0, &s) &&
	    unit_update_order_parse(s, &up->order) != 0)
		jread_err(c, sub, "order: expected stop-first or start-first");
	free(s);
	jread_int_i(c, sub, v, "parallelism", UNIT_PARALLELISM_MIN,
	    UNIT_PARALLELISM_MAX, &up->parallelism);
	jread_ms(c, sub, v, "healthy_deadline_ms", 1, &up->healthy_deadline_ms);
	jread_ms(c, sub, v, "monitor_ms", 0, &up->monitor_ms);
	jread_ms(c, sub, v, "deadline_ms", 1, &up->deadline_ms);
	if (jread_str(c, sub, v, "on_failure", 0, &s) &&
	    unit_update_failure_parse(s, &up->on_failure) != 0)
		jread_err(c, sub, "on_failure: expected rollback or pause");
	free(s);
}

static void
j_restart(struct jread *c, const char *path, const json_t *o, struct unit *u)
{
	static const char *const f[] = { "policy", "max_retries" };
	const json_t	*v;
	char		 sub[JREAD_PATH];

	if ((v = jread_field(path, o, "restart", sub)) == NULL ||
	    !jread_obj(c, sub, v, f, nitems(f)))
		return;
	jread_str(c, sub, v, "policy", 0, &u->restart);
	jread_int_i(c, sub, v, "max_retries", 0, INT_MAX, &u->restart_max);
}

static void
j_resources(struct jread *c, const char *path, const json_t *o,
    struct unit *u)
{
	static const char *const f[] = { "memory", "nano_cpus" };
	const json_t	*v;
	json_int_t	 n;
	char		 sub[JREAD_PATH];

	if ((v = jread_field(path, o, "resources", sub)) == NULL ||
	    !jread_obj(c, sub, v, f, nitems(f)))
		return;
	/* The engine takes both as int64; 0 is no limit. */
	if (jread_int(c, sub, v, "memory", 0, INT64_MAX, &n))
		u->memory = (uint64_t)n;
	if (jread_int(c, sub, v, "nano_cpus", 0, INT64_MAX, &n))
		u->nano_cpus = n;
}

static void
j_backup(struct jread *c, const char *path, const json_t *o,
    struct unit_backup *b)
{
	static const char *const f[] = { "paths", "pre", "post", "stop",
	    "keep" };
	/* Revisions recorded before hooks had a limit lack it. */
	static const char *const opt[] = { "timeout_ms" };
	const json_t	*v;
	char		 sub[JREAD_PATH];

	if ((v = jread_field(path, o, "backup", sub)) == NULL ||
	    json_is_null(v) || !jread_obj_opt(c, sub, v, f, nitems(f), opt,
	    nitems(opt)))
		return;
	b->present = true;
	b->timeout_ms = UNIT_DEF_BACKUP_TIMEOUT_MS;
	jread_ms(c, sub, v, "timeout_ms", 1, &b->timeout_ms);
	jread_strv(c, sub, v, "paths", JREAD_NONEMPTY, &b->paths);
	jread_strv(c, sub, v, "pre", JREAD_NULL | JREAD_NONEMPTY, &b->pre);
	jread_strv(c, sub, v, "post", JREAD_NULL | JREAD_NONEMPTY, &b->post);
	jread_bool(c, sub, v, "stop", &b->stop);
	jread_int_i(c, sub, v, "keep", UNIT_KEEP_MIN, UNIT_KEEP_MAX, &b->keep);
}

static void
j_unit_more(struct jread *c, const char *path, const json_t *v,
    struct unit *u)
{
	jread_bool(c, path, v, "init", &u->init);
	j_restart(c, path, v, u);
	jread_ms(c, path, v, "stop_grace_ms", 0, &u->stop_grace_ms);
	jread_str(c, path, v, "stop_signal", JREAD_NULL, &u->stop_signal);
	j_resources(c, path, v, u);
	unit_kv_from_json(c, path, v, "labels", NULL, &u->labels,
	    &u->nlabels);
	jread_str(c, path, v, "user", JREAD_NULL | JREAD_NONEMPTY, &u->user);
	jread_str(c, path, v, "working_dir", JREAD_NULL, &u->working_dir);
	if (json_object_get(v, "on_unhealthy") != NULL) {
		char *h = NULL;

		if (jread_str(c, path, v, "on_unhealthy", 0, &h) &&
		    unit_heal_parse(h, &u->on_unhealthy) != 0)
			jread_err(c, path, "on_unhealthy: expected restart or "
			    "none");
		free(h);
	}
	if (json_object_get(v, "hostname") != NULL)
		jread_str(c, path, v, "hostname", 0, &u->hostname);
	if (json_object_get(v, "extra_hosts") != NULL)
		jread_strv(c, path, v, "extra_hosts", 0, &u->extra_hosts);
	if (json_object_get(v, "sysctls") != NULL)
		unit_kv_from_json(c, path, v, "sysctls", NULL, &u->sysctls,
		    &u->nsysctls);
	if (json_object_get(v, "tmpfs") != NULL)
		jread_strv(c, path, v, "tmpfs", 0, &u->tmpfs);
	if (json_object_get(v, "ulimits") != NULL)
		unit_kv_from_json(c, path, v, "ulimits", NULL, &u->ulimits,
		    &u->nulimits);
	jread_int_i(c, path, v, "replicas", UNIT_REPLICAS_MIN,
	    UNIT_REPLICAS_MAX, &u->replicas);
	jeach(c, path, v, "depends_on", j_dep, u);
	j_nets(c, path, v, u);
	j_update(c, path, v, &u->update);
	j_backup(c, path, v, &u->backup);
}

/* arg is the object's path: "stack" or "stack.units.api". */
static void
j_at(void *arg, enum unit_field f, size_t item, struct unit_at *at)
{
	unit_field_json(at->path, sizeof at->path, arg, f, item);
}

static struct unit *
j_unit(struct jread *c, const char *path, const json_t *v)
{
	static const char *const f[] = { "name", "file", "image", "command",
	    "entrypoint", "environment", "ports", "mounts", "health", "init",
	    "restart", "stop_grace_ms", "stop_signal", "resources", "labels",
	    "user", "working_dir", "replicas", "depends_on", "update",
	    "backup" };
	static const char *const opt[] = { "networks", "hostname",
	    "on_unhealthy",
	    "extra_hosts", "sysctls", "tmpfs", "ulimits", "build",
	    "pull_policy", "autoscale", UNIT_HOST_JSON_KEYS };
	struct unit_where	 w = { j_at, NULL };
	struct unit		*u;
	const char		*name;
	char			 upath[JREAD_PATH];
	size_t			 before = c->errs->n;

	/* Messages name the service once its name is known to be sane. */
	name = json_string_value(json_object_get(v, "name"));
	if (name != NULL && unit_name_valid(name))
		jread_path(upath, sizeof upath, "stack.units.%s", name);
	else
		jread_path(upath, sizeof upath, "%s", path);
	if (!jread_obj_opt(c, upath, v, f, nitems(f), opt, nitems(opt)))
		return NULL;
	u = xcalloc(1, sizeof *u);
	jread_str(c, upath, v, "name", 0, &u->name);
	jread_str(c, upath, v, "file", JREAD_NULL, &u->file);
	jread_str(c, upath, v, "image", JREAD_NONEMPTY, &u->image);
	jread_strv(c, upath, v, "command", JREAD_NULL | JREAD_NONEMPTY,
	    &u->command);
	jread_strv(c, upath, v, "entrypoint", JREAD_NULL, &u->entrypoint);
	unit_kv_from_json(c, upath, v, "environment", NULL, &u->env,
	    &u->nenv);
	jeach(c, upath, v, "ports", j_port, u);
	jeach(c, upath, v, "mounts", j_mount, u);
	j_health(c, upath, v, &u->health);
	j_unit_more(c, upath, v, u);
	unit_host_from_json(c, upath, v, u);
	unit_build_from_json(c, upath, v, u);
	unit_autoscale_from_json(c, upath, v, u);
	/* Rules read whole units: a field missing here would be a false
	 * complaint there. */
	w.arg = upath;
	if (c->errs->n == before)
		unit_validate(u, &w, c->errs);
	return u;
}

int
stack_from_json(const json_t *j, struct stack **out, struct diag_list *errs)
{
	static const char *const f[] = { "name", "dir", "retain", "networks",
	    "volumes", "units" };
	static const char *const opt[] = { "notify" };
	struct jread		 c = { errs };
	struct unit_where	 w = { j_at, "stack" };
	struct stack		*s = stack_new();
	struct unit		*u;
	const json_t		*units;
	size_t			 before = errs->n, i;
	char			 sub[JREAD_PATH];

	*out = NULL;
	if (!jread_obj_opt(&c, "stack", j, f, nitems(f), opt, nitems(opt)))
		goto out;
	jread_str(&c, "stack", j, "name", 0, &s->name);
	jread_str(&c, "stack", j, "dir", JREAD_NULL, &s->dir);
	jread_int_i(&c, "stack", j, "retain", UNIT_RETAIN_MIN, UNIT_RETAIN_MAX,
	    &s->retain);
	jnames(&c, "stack", j, "networks", &s->networks, &s->nnetworks);
	jnames(&c, "stack", j, "volumes", &s->volumes, &s->nvolumes);
	if ((units = json_object_get(j, "notify")) != NULL)
		notify_hooks_from_json(&c, "stack.notify", units, s);
	stack_validate(s, &w, errs);
	if ((units = jread_field("stack", j, "units", sub)) != NULL &&
	    !json_is_array(units))
		jread_err(&c, sub, "expected an array, got %s",
		    jread_kind(units));
	for (i = 0; json_is_array(units) && i < json_array_size(units); i++) {
		jread_path(sub, sizeof sub, "stack.units[%zu]", i);
		if ((u = j_unit(&c, sub, json_array_get(units, i))) == NULL)
			continue;
		s->units = xrealloc(s->units, (s->nunits + 1) * sizeof u);
		s->units[s->nunits++] = u;
	}
	/* Sorting and cross checks need every field present. */
	if (errs->n == before) {
		for (i = 0; i < s->nunits; i++)
			unit_sort(s->units[i]);
		stack_finish(s, false, errs);
	}
out:
	if (errs->n != before) {
		stack_free(s);
		return -EINVAL;
	}
	*out = s;
	return 0;
}
