/*
 * shipctl export swarm: the resolved stack as a compose-format stack file
 * for `docker stack deploy`, written with libyaml's emitter.  What swarm
 * cannot express is a warning naming the service and the key; swarm's
 * ignoring of dependencies is answered with deploy waves (docs/export.md,
 * Docker Swarm).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "cli.h"
#include "export.h"
#include "unitemit.h"
#include "graph.h"
#include "unit.h"
#include "util.h"

struct sw {
	yaml_emitter_t	 e;
	struct buf	 out;
	int		 rc;		/* the first failure */
	size_t		 nwarn;
	bool		 wget, curl, nc; /* --probe-tool */
};

static int
on_write(void *arg, unsigned char *p, size_t n)
{
	buf_append(arg, p, n);
	return 1;
}

static void
ev(struct sw *m, yaml_event_t *e, int ok)
{
	if (m->rc != 0) {
		if (ok)
			yaml_event_delete(e);
		return;
	}
	if (!ok || !yaml_emitter_emit(&m->e, e))
		m->rc = ok ? -EINVAL : -ENOMEM;
}

static void warn(struct sw *, const char *, const char *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static void
warn(struct sw *m, const char *svc, const char *k, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "shipctl: warning: %s: %s: ", svc, k);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	m->nwarn++;
}

static bool
plain_ok(const char *s)
{
	return yaml_plain_ok(s, "@+=");
}

static void
raw(struct sw *m, const char *s, bool plain)
{
	yaml_event_t e;

	ev(m, &e, yaml_scalar_event_initialize(&e, NULL, NULL,
	    (yaml_char_t *)s, (int)strlen(s), 1, 1, plain ?
	    YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE));
}

static void
key(struct sw *m, const char *s)
{
	raw(m, s, plain_ok(s));
}

/* A value: docker stack deploy interpolates, so every $ is doubled. */
static void
str(struct sw *m, const char *s)
{
	struct buf	 b;
	const char	*p;

	buf_init(&b);
	buf_puts(&b, "");
	for (p = s; *p != '\0'; p++)
		buf_append(&b, *p == '$' ? "$$" : p, *p == '$' ? 2 : 1);
	raw(m, b.data, plain_ok(b.data));
	buf_free(&b);
}

static void lit(struct sw *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
lit(struct sw *m, const char *fmt, ...)
{
	char	s[64];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof s, fmt, ap);
	va_end(ap);
	raw(m, s, true);
}

static void
kstr(struct sw *m, const char *k, const char *v)
{
	key(m, k);
	str(m, v);
}

static void
map_begin(struct sw *m, bool flow)
{
	yaml_event_t e;

	ev(m, &e, yaml_mapping_start_event_initialize(&e, NULL, NULL, 1,
	    flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE));
}

static void
map_end(struct sw *m)
{
	yaml_event_t e;

	ev(m, &e, yaml_mapping_end_event_initialize(&e));
}

static void
seq_begin(struct sw *m, bool flow)
{
	yaml_event_t e;

	ev(m, &e, yaml_sequence_start_event_initialize(&e, NULL, NULL, 1,
	    flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE));
}

static void
seq_end(struct sw *m)
{
	yaml_event_t e;

	ev(m, &e, yaml_sequence_end_event_initialize(&e));
}

static void
strv(struct sw *m, const char *k, char *const *v)
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
kvs(struct sw *m, const char *k, const struct unit_kv *v, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	key(m, k);
	map_begin(m, false);
	for (i = 0; i < n; i++)
		kstr(m, v[i].key, v[i].value);
	map_end(m);
}

/* Compose durations: "1m30s", "250ms". */
static void
dur(struct sw *m, const char *k, uint64_t ms)
{
	static const struct { const char *u; uint64_t ms; } units[] = {
		{ "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 }
	};
	char	s[64];
	size_t	i, len = 0;

	snprintf(s, sizeof s, "0s");
	for (i = 0; i < nitems(units) && ms > 0; i++) {
		if (ms < units[i].ms)
			continue;
		len += (size_t)snprintf(s + len, sizeof s - len, "%llu%s",
		    (unsigned long long)(ms / units[i].ms), units[i].u);
		ms %= units[i].ms;
	}
	key(m, k);
	raw(m, s, true);
}

/* The deploy wave of each service: 1 + its longest dependency chain. */
static int
wave_of(const struct cli_ctx *c, size_t i)
{
	int d = graph_depth(c->g, i);

	return d < 0 ? 1 : d + 1;
}

/* A one-shot: something waits for it to have completed. */
static bool
is_job(const struct stack *st, const struct unit *u)
{
	size_t i, j;

	for (i = 0; i < st->nunits; i++)
		for (j = 0; j < st->units[i]->ndeps; j++)
			if (st->units[i]->deps[j].cond == DEP_COMPLETED &&
			    strcmp(st->units[i]->deps[j].name, u->name) == 0)
				return true;
	return false;
}

static void
emit_health(struct sw *m, const struct unit *u)
{
	const struct unit_health	*h = &u->health;
	char				 url[300], port[16];
	bool				 any;

	if (h->kind == HEALTH_DISABLED) {
		key(m, "healthcheck");
		map_begin(m, true);
		key(m, "disable");
		lit(m, "true");
		map_end(m);
		return;
	}
	any = h->interval_ms || h->timeout_ms || h->start_period_ms ||
	    h->retries;
	if (h->kind == HEALTH_IMAGE && !any)
		return;
	snprintf(port, sizeof port, "%d", h->port);
	if (h->kind == HEALTH_HTTP && !m->wget && !m->curl) {
		warn(m, u->name, "health.http", "left out: swarm has no http "
		    "check and no --probe-tool (wget, curl) says the image "
		    "can run one");
		return;
	}
	if (h->kind == HEALTH_TCP && !m->nc) {
		warn(m, u->name, "health.tcp", "left out: swarm has no tcp "
		    "check and no --probe-tool nc says the image can run "
		    "one");
		return;
	}
	key(m, "healthcheck");
	map_begin(m, false);
	switch (h->kind) {
	case HEALTH_CMD:
		strv(m, "test", h->test);
		break;
	case HEALTH_HTTP:
		snprintf(url, sizeof url, "http://127.0.0.1:%d%s", h->port,
		    h->http_path);
		key(m, "test");
		seq_begin(m, true);
		str(m, "CMD");
		if (m->wget) {
			str(m, "wget");
			str(m, "-q");
			str(m, "-O");
		} else {
			str(m, "curl");
			str(m, "-fsS");
			str(m, "-o");
		}
		str(m, "/dev/null");
		str(m, url);
		seq_end(m);
		break;
	case HEALTH_TCP:
		key(m, "test");
		seq_begin(m, true);
		str(m, "CMD");
		str(m, "nc");
		str(m, "-w");
		str(m, "1");
		str(m, "127.0.0.1");
		str(m, port);
		seq_end(m);
		break;
	default:
		break;
	}
	if (h->interval_ms)
		dur(m, "interval", h->interval_ms);
	if (h->timeout_ms)
		dur(m, "timeout", h->timeout_ms);
	if (h->start_period_ms)
		dur(m, "start_period", h->start_period_ms);
	if (h->retries) {
		key(m, "retries");
		lit(m, "%d", h->retries);
	}
	map_end(m);
	if (h->start_interval_ms != UNIT_DEF_START_INTERVAL_MS)
		warn(m, u->name, "health.start_interval", "left out: needs "
		    "engine API 1.44 on every node");
}

static void
emit_update(struct sw *m, const char *k, const struct unit_update *up,
    bool rollback)
{
	key(m, k);
	map_begin(m, false);
	key(m, "parallelism");
	lit(m, "%d", up->parallelism);
	kstr(m, "order", unit_update_order_name(up->order));
	dur(m, "monitor", up->monitor_ms);
	kstr(m, "failure_action", rollback || up->on_failure == UPDATE_PAUSE ?
	    "pause" : "rollback");
	map_end(m);
}

static void
emit_deploy(struct sw *m, const struct cli_ctx *c, size_t i, bool job)
{
	const struct unit	*u = c->st->units[i];
	const char		*cond = "any";
	long long		 whole, frac;
	char			 num[64];
	int			 digits;

	key(m, "deploy");
	map_begin(m, false);
	kstr(m, "mode", job ? "replicated-job" : "replicated");
	if (job) {
		key(m, "replicas");
		lit(m, "1");
	} else {
		key(m, "replicas");
		lit(m, "%d", u->replicas);
	}
	if (job || strcmp(u->restart, "no") == 0)
		cond = "none";
	else if (strcmp(u->restart, "on-failure") == 0)
		cond = "on-failure";
	key(m, "restart_policy");
	map_begin(m, true);
	kstr(m, "condition", cond);
	if (!job && u->restart_max > 0 && strcmp(cond, "on-failure") == 0) {
		key(m, "max_attempts");
		lit(m, "%d", u->restart_max);
	}
	map_end(m);
	if (job && strcmp(u->restart, "no") != 0)
		warn(m, u->name, "restart", "%s is not kept: a completed "
		    "dependency runs once, as a replicated-job", u->restart);
	if (!job) {
		emit_update(m, "update_config", &u->update, false);
		emit_update(m, "rollback_config", &u->update, true);
	}
	if (u->memory || u->nano_cpus) {
		key(m, "resources");
		map_begin(m, false);
		key(m, "limits");
		map_begin(m, false);
		if (u->nano_cpus) {
			whole = u->nano_cpus / 1000000000LL;
			frac = u->nano_cpus % 1000000000LL;
			digits = 9;
			while (frac != 0 && frac % 10 == 0) {
				frac /= 10;
				digits--;
			}
			key(m, "cpus");
			if (frac != 0)
				snprintf(num, sizeof num, "%lld.%0*lld", whole,
				    digits, frac);
			else
				snprintf(num, sizeof num, "%lld", whole);
			raw(m, num, false);
		}
		if (u->memory) {
			key(m, "memory");
			snprintf(num, sizeof num, "%llu",
			    (unsigned long long)u->memory);
			raw(m, num, false);
		}
		map_end(m);
		map_end(m);
	}
	key(m, "labels");
	map_begin(m, true);
	key(m, "io.shipd.wave");
	snprintf(num, sizeof num, "%d", wave_of(c, i));
	raw(m, num, false);
	map_end(m);
	map_end(m);
}

/* The keys swarm has no word for, or that cannot be carried over. */
static void
warn_lost(struct sw *m, const struct unit *u, bool job)
{
	size_t i;

	for (i = 0; i < u->nports; i++)
		if (u->ports[i].host_ip != NULL)
			warn(m, u->name, "ports", "%s:%d: the address is lost: "
			    "swarm publishes on every node's addresses",
			    u->ports[i].host_ip, u->ports[i].host_port);
	for (i = 0; i < u->nmounts; i++)
		if (u->mounts[i].kind == MOUNT_BIND)
			warn(m, u->name, "volumes", "%s: a bind mount: the "
			    "path must exist on every node the task may run "
			    "on", u->mounts[i].source);
	if (u->ndeps > 0)
		warn(m, u->name, "depends_on", "swarm starts services in any "
		    "order: deploy the waves in turn (the io.shipd.wave "
		    "label, --wave)");
	if (!job && u->update.healthy_deadline_ms)
		warn(m, u->name, "update.healthy_deadline", "no swarm "
		    "equivalent: a task that never turns healthy holds the "
		    "update, not fails it");
	if (!job && u->update.deadline_ms)
		warn(m, u->name, "update.deadline", "no swarm equivalent");
	if (u->backup.present)
		warn(m, u->name, "backup", "not exported: swarm has no "
		    "backups; copy the volume with your own job");
	if (u->privileged)
		warn(m, u->name, "privileged", "not supported by swarm "
		    "services: left out");
	if (u->host_network)
		warn(m, u->name, "network_mode", "host: left out; attach the "
		    "service to swarm's host network by hand");
	if (u->host_pid)
		warn(m, u->name, "pid", "host: not supported by swarm "
		    "services: left out");
	if (u->ndevices > 0)
		warn(m, u->name, "devices", "not supported by swarm "
		    "services: left out");
	if (u->build.present)
		warn(m, u->name, "build", "swarm does not build: push %s "
		    "where every node can pull it", u->image);
	if (strcmp(u->restart, "unless-stopped") == 0 && !job)
		warn(m, u->name, "restart", "unless-stopped becomes "
		    "condition any: swarm has no stopped-by-hand state");
}

static void
emit_service(struct sw *m, const struct cli_ctx *c, size_t i)
{
	const struct unit	*u = c->st->units[i];
	const struct unit_port	*p;
	const struct unit_mount	*mt;
	bool			 job = is_job(c->st, u);
	char			*colon;
	size_t			 k;

	key(m, u->name);
	map_begin(m, false);
	kstr(m, "image", u->image);
	strv(m, "entrypoint", u->entrypoint);
	strv(m, "command", u->command);
	kvs(m, "environment", u->env, u->nenv);
	for (k = 0; k < u->nports && u->ports[k].host_port == 0; k++)
		;
	if (k < u->nports) {
		key(m, "ports");
		seq_begin(m, false);
		for (k = 0; k < u->nports; k++) {
			p = &u->ports[k];
			if (p->host_port == 0)
				continue;
			map_begin(m, true);
			key(m, "target");
			lit(m, "%d", p->container_port);
			key(m, "published");
			lit(m, "%d", p->host_port);
			kstr(m, "protocol", p->proto);
			/* shipd binds the host's port, and so one replica. */
			kstr(m, "mode", "host");
			map_end(m);
		}
		seq_end(m);
	}
	if (u->nmounts > 0 || u->tmpfs != NULL) {
		key(m, "volumes");
		seq_begin(m, false);
		for (k = 0; k < u->nmounts; k++) {
			mt = &u->mounts[k];
			map_begin(m, true);
			kstr(m, "type", mt->kind == MOUNT_BIND ? "bind" :
			    "volume");
			kstr(m, "source", mt->source);
			kstr(m, "target", mt->target);
			if (mt->ro) {
				key(m, "read_only");
				lit(m, "true");
			}
			map_end(m);
		}
		for (k = 0; u->tmpfs != NULL && u->tmpfs[k] != NULL; k++) {
			map_begin(m, true);
			kstr(m, "type", "tmpfs");
			if ((colon = strchr(u->tmpfs[k], ':')) != NULL) {
				warn(m, u->name, "tmpfs", "%s: the options are "
				    "left out", u->tmpfs[k]);
				*colon = '\0';
			}
			kstr(m, "target", u->tmpfs[k]);
			if (colon != NULL)
				*colon = ':';
			map_end(m);
		}
		seq_end(m);
	}
	if (!u->host_network) {
		key(m, "networks");
		seq_begin(m, true);
		if (u->networks == NULL) {
			str(m, "default");
			for (k = 0; k < c->st->nnetworks; k++)
				str(m, c->st->networks[k]);
		}
		for (k = 0; k < u->nnetworks; k++)
			str(m, u->networks[k].name);
		seq_end(m);
	}
	emit_health(m, u);
	if (u->init) {
		key(m, "init");
		lit(m, "true");
	}
	dur(m, "stop_grace_period", u->stop_grace_ms);
	if (u->stop_signal != NULL)
		kstr(m, "stop_signal", u->stop_signal);
	kvs(m, "labels", u->labels, u->nlabels);
	if (u->user != NULL)
		kstr(m, "user", u->user);
	if (u->working_dir != NULL)
		kstr(m, "working_dir", u->working_dir);
	/* shipd's SERVICE-N, in swarm's template language. */
	kstr(m, "hostname", u->hostname != NULL ? u->hostname :
	    "{{.Service.Name}}-{{.Task.Slot}}");
	strv(m, "extra_hosts", u->extra_hosts);
	kvs(m, "sysctls", u->sysctls, u->nsysctls);
	if (u->nulimits > 0) {
		key(m, "ulimits");
		map_begin(m, false);
		for (k = 0; k < u->nulimits; k++) {
			key(m, u->ulimits[k].key);
			if ((colon = strchr(u->ulimits[k].value, ':')) ==
			    NULL) {
				raw(m, u->ulimits[k].value, true);
				continue;
			}
			map_begin(m, true);
			key(m, "soft");
			lit(m, "%.*s", (int)(colon - u->ulimits[k].value),
			    u->ulimits[k].value);
			key(m, "hard");
			raw(m, colon + 1, true);
			map_end(m);
		}
		map_end(m);
	}
	strv(m, "cap_add", u->cap_add);
	strv(m, "cap_drop", u->cap_drop);
	emit_deploy(m, c, i, job);
	map_end(m);
	warn_lost(m, u, job);
}

static void
emit_stack(struct sw *m, const struct cli_ctx *c, int wave)
{
	const struct stack	*st = c->st;
	yaml_event_t		 e;
	size_t			 i;

	ev(m, &e, yaml_stream_start_event_initialize(&e, YAML_UTF8_ENCODING));
	ev(m, &e, yaml_document_start_event_initialize(&e, NULL, NULL, NULL,
	    1));
	map_begin(m, false);
	kstr(m, "version", "3.9");
	key(m, "services");
	map_begin(m, false);
	for (i = 0; i < st->nunits; i++)
		if (wave == 0 || wave_of(c, i) == wave)
			emit_service(m, c, i);
	map_end(m);
	key(m, "networks");
	map_begin(m, false);
	key(m, "default");
	map_begin(m, true);
	kstr(m, "driver", "overlay");
	map_end(m);
	for (i = 0; i < st->nnetworks; i++) {
		key(m, st->networks[i]);
		map_begin(m, true);
		kstr(m, "driver", "overlay");
		map_end(m);
	}
	map_end(m);
	if (st->nvolumes > 0) {
		key(m, "volumes");
		map_begin(m, false);
		for (i = 0; i < st->nvolumes; i++) {
			key(m, st->volumes[i]);
			map_begin(m, true);
			map_end(m);
		}
		map_end(m);
	}
	map_end(m);
	ev(m, &e, yaml_document_end_event_initialize(&e, 1));
	ev(m, &e, yaml_stream_end_event_initialize(&e));
}

/* The header: the waves, and how to deploy them, as YAML comments. */
static void
header(struct buf *b, const struct cli_ctx *c, int nwaves, int wave)
{
	size_t	i;
	int	w;

	buf_printf(b, "# Stack %s for Docker Swarm, from shipctl export "
	    "swarm.\n", c->st->name);
	buf_printf(b, "# Swarm ignores dependencies: deploy wave by wave, "
	    "each once the last has\n# converged (docs/export.md):\n");
	for (w = 1; w <= nwaves; w++) {
		buf_printf(b, "#   wave %d:", w);
		for (i = 0; i < c->st->nunits; i++)
			if (wave_of(c, i) == w)
				buf_printf(b, " %s", c->st->units[i]->name);
		buf_printf(b, "\n");
	}
	buf_printf(b, "#   shipctl export swarm --wave N DIR > wave-N.yaml\n"
	    "#   docker stack deploy --resolve-image never --detach=false "
	    "-c wave-N.yaml %s\n", c->st->name);
	buf_printf(b, "# Each wave's file holds its own services only, so "
	    "deploying it leaves\n# the others alone (a one-shot job runs "
	    "again whenever it is deployed).\n");
	if (wave > 0)
		buf_printf(b, "# This file: wave %d of %d.\n", wave, nwaves);
	else
		buf_printf(b, "# This file: every wave.\n");
}

int
export_swarm(struct cli_ctx *c)
{
	struct sw	 m;
	struct buf	 all;
	const char	*v, *end;
	size_t		 i;
	int		 nwaves = 1, wave, rc;
	long		 n;

	memset(&m, 0, sizeof m);
	for (i = 0; i < c->nopts; i++) {
		if (c->opts[i].ch != EXPORT_OPT_PROBE_TOOL)
			continue;
		v = c->opts[i].arg;
		if (strcmp(v, "wget") == 0)
			m.wget = true;
		else if (strcmp(v, "curl") == 0)
			m.curl = true;
		else if (strcmp(v, "nc") == 0)
			m.nc = true;
		else
			return cli_usage_error(c, "--probe-tool: %s: one of "
			    "wget, curl, nc", v);
	}
	for (i = 0; i < c->st->nunits; i++)
		if (wave_of(c, i) > nwaves)
			nwaves = wave_of(c, i);
	wave = 0;
	if ((v = cli_opt_get(c, EXPORT_OPT_WAVE)) != NULL) {
		errno = 0;
		n = strtol(v, (char **)&end, 10);
		if (errno != 0 || end == v || *end != '\0' || n < 1 ||
		    n > nwaves)
			return cli_usage_error(c, "--wave: %s: a wave from 1 "
			    "to %d", v, nwaves);
		wave = (int)n;
	}

	buf_init(&m.out);
	if (!yaml_emitter_initialize(&m.e)) {
		buf_free(&m.out);
		cli_err("out of memory");
		return EXIT_FAILED;
	}
	yaml_emitter_set_output(&m.e, on_write, &m.out);
	yaml_emitter_set_unicode(&m.e, 1);
	yaml_emitter_set_width(&m.e, -1);
	emit_stack(&m, c, wave);
	yaml_emitter_delete(&m.e);
	if (m.rc != 0) {
		buf_free(&m.out);
		cli_err("export swarm: %s", strerror(-m.rc));
		return EXIT_FAILED;
	}
	buf_init(&all);
	header(&all, c, nwaves, wave);
	buf_append(&all, m.out.data, m.out.len);
	rc = export_write_file(c, all.data, all.len);
	if (m.nwarn > 0)
		fprintf(stderr, "shipctl: %zu warning%s: what swarm cannot "
		    "express (docs/export.md)\n", m.nwarn,
		    m.nwarn == 1 ? "" : "s");
	buf_free(&all);
	buf_free(&m.out);
	return rc;
}
