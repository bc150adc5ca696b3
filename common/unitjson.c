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

#include "unit.h"
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
kv_json(const struct unit_kv *v, size_t n)
{
	json_t	*o = json_object();
	size_t	 i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, v[i].key, json_string(v[i].value));
	return o;
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

json_t *
unit_spec_json(const struct unit *u)
{
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:b,"
	    " s:{s:s, s:i}, s:I, s:o, s:{s:I, s:I}, s:o, s:o, s:o}",
	    "image", u->image,
	    "command", strv_json(u->command),
	    "entrypoint", strv_json(u->entrypoint),
	    "environment", kv_json(u->env, u->nenv),
	    "ports", ports_json(u),
	    "mounts", mounts_json(u),
	    "health", health_json(&u->health),
	    "init", u->init,
	    "restart", "policy", u->restart, "max_retries", u->restart_max,
	    "stop_grace_ms", (json_int_t)u->stop_grace_ms,
	    "stop_signal", jstr_or_null(u->stop_signal),
	    "resources", "memory", (json_int_t)u->memory,
	    "nano_cpus", (json_int_t)u->nano_cpus,
	    "labels", kv_json(u->labels, u->nlabels),
	    "user", jstr_or_null(u->user),
	    "working_dir", jstr_or_null(u->working_dir));
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
		json_array_append_new(deps, json_pack("{s:s, s:s, s:i, s:i}",
		    "service", u->deps[i].name,
		    "condition", unit_dep_cond_name(u->deps[i].cond),
		    "line", u->deps[i].line, "col", u->deps[i].col));
	}
	json_object_set_new(o, "replicas", json_integer(u->replicas));
	json_object_set_new(o, "depends_on", deps);
	json_object_set_new(o, "update", json_pack("{s:s, s:i, s:I, s:I, s:s}",
	    "order", unit_update_order_name(u->update.order),
	    "parallelism", u->update.parallelism,
	    "healthy_deadline_ms", (json_int_t)u->update.healthy_deadline_ms,
	    "monitor_ms", (json_int_t)u->update.monitor_ms,
	    "on_failure", unit_update_failure_name(u->update.on_failure)));
	json_object_set_new(o, "backup", !b->present ? json_null() :
	    json_pack("{s:o, s:o, s:o, s:b, s:i}", "paths",
	    strv_json(b->paths), "pre", strv_json(b->pre), "post",
	    strv_json(b->post), "stop", b->stop, "keep", b->keep));
	return o;
}

json_t *
stack_to_json(const struct stack *s)
{
	json_t	*units = json_array();
	size_t	 i;

	for (i = 0; i < s->nunits; i++)
		json_array_append_new(units, unit_json(s->units[i]));
	return json_pack("{s:s, s:o, s:i, s:o, s:o, s:o}", "name", s->name,
	    "dir", jstr_or_null(s->dir), "retain", s->retain,
	    "networks", names_json(s->networks, s->nnetworks),
	    "volumes", names_json(s->volumes, s->nvolumes),
	    "units", units);
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
