/*
 * shipctl export swarm: the resolved stack as a compose-format stack file
 * for `docker stack deploy`: a JSON tree written by export_yaml.c.  What swarm
 * cannot express is a warning naming the service and the key; swarm's
 * ignoring of dependencies is answered with deploy waves (docs/export.md,
 * Docker Swarm).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export.h"
#include "graph.h"
#include "unit.h"
#include "util.h"
#include "yemit.h"

struct sw {
	struct export_ctx	*x;
	struct export_style	 st;
	bool			 wget, curl, nc; /* --probe-tool */
};

/* A value: docker stack deploy interpolates, so every $ is doubled. */
static json_t *
str(const char *s)
{
	struct buf	 b;
	const char	*p;
	json_t		*v;

	buf_init(&b);
	buf_puts(&b, "");
	for (p = s; *p != '\0'; p++)
		buf_append(&b, *p == '$' ? "$$" : p, *p == '$' ? 2 : 1);
	v = json_string(b.data);
	buf_free(&b);
	return v;
}

static void
kstr(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, str(v));
}

/* A list of strings, [a, b]. */
static void
strv(struct sw *m, json_t *o, const char *k, char *const *v)
{
	json_t *a;

	if (v == NULL)
		return;
	a = export_flow(&m->st, json_array());
	for (; *v != NULL; v++)
		json_array_append_new(a, str(*v));
	json_object_set_new(o, k, a);
}

static void
kvs(json_t *o, const char *k, const struct unit_kv *v, size_t n)
{
	json_t	*kv;
	size_t	 i;

	if (n == 0)
		return;
	kv = json_object();
	for (i = 0; i < n; i++)
		kstr(kv, v[i].key, v[i].value);
	json_object_set_new(o, k, kv);
}

/* Compose durations: "1m30s", "250ms", written plain. */
static void
dur(struct sw *m, json_t *o, const char *k, uint64_t ms)
{
	char s[YAML_DURATION_MAX];

	yaml_duration(s, sizeof s, ms);
	json_object_set_new(o, k, export_plain(&m->st, s));
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
health(struct sw *m, json_t *svc, const struct unit *u)
{
	const struct unit_health	*h = &u->health;
	char				 url[300], port[16];
	json_t				*hc, *t;
	bool				 any;

	if (h->kind == HEALTH_DISABLED) {
		json_object_set_new(svc, "healthcheck", export_flow(&m->st,
		    json_pack("{s:b}", "disable", 1)));
		return;
	}
	any = h->interval_ms || h->timeout_ms || h->start_period_ms ||
	    h->retries;
	if (h->kind == HEALTH_IMAGE && !any)
		return;
	snprintf(port, sizeof port, "%d", h->port);
	if (h->kind == HEALTH_HTTP && !m->wget && !m->curl) {
		export_warn(m->x, u->name, "health.http", "left out: swarm has "
		    "no http check and no --probe-tool (wget, curl) says the "
		    "image can run one");
		return;
	}
	if (h->kind == HEALTH_TCP && !m->nc) {
		export_warn(m->x, u->name, "health.tcp", "left out: swarm has "
		    "no tcp check and no --probe-tool nc says the image can "
		    "run one");
		return;
	}
	hc = json_object();
	switch (h->kind) {
	case HEALTH_CMD:
		strv(m, hc, "test", h->test);
		break;
	case HEALTH_HTTP:
		snprintf(url, sizeof url, "http://127.0.0.1:%d%s", h->port,
		    h->http_path);
		t = m->wget ? json_pack("[s, s, s, s]", "CMD", "wget", "-q",
		    "-O") : json_pack("[s, s, s, s]", "CMD", "curl", "-fsS",
		    "-o");
		json_array_append_new(t, json_string("/dev/null"));
		json_array_append_new(t, str(url));
		json_object_set_new(hc, "test", export_flow(&m->st, t));
		break;
	case HEALTH_TCP:
		json_object_set_new(hc, "test", export_flow(&m->st, json_pack(
		    "[s, s, s, s, s, s]", "CMD", "nc", "-w", "1", "127.0.0.1",
		    port)));
		break;
	default:
		break;
	}
	if (h->interval_ms)
		dur(m, hc, "interval", h->interval_ms);
	if (h->timeout_ms)
		dur(m, hc, "timeout", h->timeout_ms);
	if (h->start_period_ms)
		dur(m, hc, "start_period", h->start_period_ms);
	if (h->retries)
		json_object_set_new(hc, "retries", json_integer(h->retries));
	json_object_set_new(svc, "healthcheck", hc);
	if (h->start_interval_ms != UNIT_DEF_START_INTERVAL_MS)
		export_warn(m->x, u->name, "health.start_interval", "left out: "
		    "needs engine API 1.44 on every node");
}

static json_t *
update(struct sw *m, const struct unit_update *up, bool rollback)
{
	json_t *o;

	o = json_pack("{s:i, s:s}", "parallelism", up->parallelism, "order",
	    unit_update_order_name(up->order));
	dur(m, o, "monitor", up->monitor_ms);
	kstr(o, "failure_action", rollback || up->on_failure == UPDATE_PAUSE ?
	    "pause" : "rollback");
	return o;
}

/* Compose's cpus: the decimal fraction, "0.5". */
static json_t *
cpus(int64_t nano)
{
	long long	 whole, frac;
	char		 num[64];
	int		 digits;

	whole = nano / 1000000000LL;
	frac = nano % 1000000000LL;
	digits = 9;
	while (frac != 0 && frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	if (frac != 0)
		snprintf(num, sizeof num, "%lld.%0*lld", whole, digits, frac);
	else
		snprintf(num, sizeof num, "%lld", whole);
	return json_string(num);
}

static json_t *
deploy(struct sw *m, size_t i, bool job)
{
	const struct cli_ctx	*c = m->x->c;
	const struct unit	*u = c->st->units[i];
	const char		*cond = "any";
	json_t			*d, *rp, *lim;
	char			 num[64];

	d = json_object();
	kstr(d, "mode", job ? "replicated-job" : "replicated");
	json_object_set_new(d, "replicas", json_integer(job ? 1 :
	    u->replicas));
	if (job || strcmp(u->restart, "no") == 0)
		cond = "none";
	else if (strcmp(u->restart, "on-failure") == 0)
		cond = "on-failure";
	rp = export_flow(&m->st, json_object());
	kstr(rp, "condition", cond);
	if (!job && u->restart_max > 0 && strcmp(cond, "on-failure") == 0)
		json_object_set_new(rp, "max_attempts",
		    json_integer(u->restart_max));
	json_object_set_new(d, "restart_policy", rp);
	if (job && strcmp(u->restart, "no") != 0)
		export_warn(m->x, u->name, "restart", "%s is not kept: a "
		    "completed dependency runs once, as a replicated-job",
		    u->restart);
	if (!job) {
		json_object_set_new(d, "update_config", update(m, &u->update,
		    false));
		json_object_set_new(d, "rollback_config", update(m, &u->update,
		    true));
	}
	if (u->memory || u->nano_cpus) {
		lim = json_object();
		if (u->nano_cpus)
			json_object_set_new(lim, "cpus", cpus(u->nano_cpus));
		if (u->memory) {
			snprintf(num, sizeof num, "%llu",
			    (unsigned long long)u->memory);
			json_object_set_new(lim, "memory", json_string(num));
		}
		json_object_set_new(d, "resources", json_pack("{s:o}",
		    "limits", lim));
	}
	snprintf(num, sizeof num, "%d", wave_of(c, i));
	json_object_set_new(d, "labels", export_flow(&m->st, json_pack(
	    "{s:s}", "io.shipd.wave", num)));
	return d;
}

/* The keys swarm has no word for, or that cannot be carried over. */
static void
warn_lost(struct sw *m, const struct unit *u, bool job)
{
	struct export_ctx	*x = m->x;
	size_t			 i;

	for (i = 0; i < u->nports; i++)
		if (u->ports[i].host_ip != NULL)
			export_warn(x, u->name, "ports", "%s:%d: the address is "
			    "lost: swarm publishes on every node's addresses",
			    u->ports[i].host_ip, u->ports[i].host_port);
	for (i = 0; i < u->nmounts; i++)
		if (u->mounts[i].kind == MOUNT_BIND)
			export_warn(x, u->name, "volumes", "%s: a bind mount: "
			    "the path must exist on every node the task may "
			    "run on", u->mounts[i].source);
	if (u->ndeps > 0)
		export_warn(x, u->name, "depends_on", "swarm starts services "
		    "in any order: deploy the waves in turn (the "
		    "io.shipd.wave label, --wave)");
	if (!job && u->update.healthy_deadline_ms)
		export_warn(x, u->name, "update.healthy_deadline", "no swarm "
		    "equivalent: a task that never turns healthy holds the "
		    "update, not fails it");
	if (!job && u->update.deadline_ms)
		export_warn(x, u->name, "update.deadline", "no swarm "
		    "equivalent");
	if (u->backup.present)
		export_warn(x, u->name, "backup", "not exported: swarm has no "
		    "backups; copy the volume with your own job");
	if (u->privileged)
		export_warn(x, u->name, "privileged", "not supported by swarm "
		    "services: left out");
	if (u->host_network)
		export_warn(x, u->name, "network_mode", "host: left out; "
		    "attach the service to swarm's host network by hand");
	if (u->host_pid)
		export_warn(x, u->name, "pid", "host: not supported by swarm "
		    "services: left out");
	if (u->ndevices > 0)
		export_warn(x, u->name, "devices", "not supported by swarm "
		    "services: left out");
	if (u->build.present)
		export_warn(x, u->name, "build", "swarm does not build: push "
		    "%s where every node can pull it", u->image);
	if (u->autoscale.present)
		export_warn(x, u->name, "autoscale", "swarm has no autoscaler: "
		    "deploy.replicas (%d) stays as it is; scale by hand "
		    "between %d and %d", u->replicas, u->autoscale.min,
		    u->autoscale.max);
	if (strcmp(u->restart, "unless-stopped") == 0 && !job)
		export_warn(x, u->name, "restart", "unless-stopped becomes "
		    "condition any: swarm has no stopped-by-hand state");
}

static json_t *
ports(struct sw *m, const struct unit *u)
{
	const struct unit_port	*p;
	json_t			*a, *o;
	size_t			 k;

	a = json_array();
	for (k = 0; k < u->nports; k++) {
		p = &u->ports[k];
		if (p->host_port == 0)
			continue;
		/* shipd binds the host's port, and so one replica. */
		o = json_pack("{s:i, s:i}", "target", p->container_port,
		    "published", p->host_port);
		kstr(o, "protocol", p->proto);
		kstr(o, "mode", "host");
		json_array_append_new(a, export_flow(&m->st, o));
	}
	return a;
}

static json_t *
volumes(struct sw *m, const struct unit *u)
{
	const struct unit_mount	*mt;
	json_t			*a, *o;
	char			*colon;
	size_t			 k;

	a = json_array();
	for (k = 0; k < u->nmounts; k++) {
		mt = &u->mounts[k];
		o = export_flow(&m->st, json_object());
		kstr(o, "type", mt->kind == MOUNT_BIND ? "bind" : "volume");
		kstr(o, "source", mt->source);
		kstr(o, "target", mt->target);
		if (mt->ro)
			json_object_set_new(o, "read_only", json_true());
		json_array_append_new(a, o);
	}
	for (k = 0; u->tmpfs != NULL && u->tmpfs[k] != NULL; k++) {
		o = export_flow(&m->st, json_object());
		kstr(o, "type", "tmpfs");
		if ((colon = strchr(u->tmpfs[k], ':')) != NULL) {
			export_warn(m->x, u->name, "tmpfs", "%s: the options "
			    "are left out", u->tmpfs[k]);
			*colon = '\0';
		}
		kstr(o, "target", u->tmpfs[k]);
		if (colon != NULL)
			*colon = ':';
		json_array_append_new(a, o);
	}
	return a;
}

/* ulimits: N, or {soft, hard}. */
static json_t *
ulimits(struct sw *m, const struct unit *u)
{
	json_t		*o;
	const char	*v, *colon;
	char		*soft;
	size_t		 k;

	o = json_object();
	for (k = 0; k < u->nulimits; k++) {
		v = u->ulimits[k].value;
		if ((colon = strchr(v, ':')) == NULL) {
			json_object_set_new(o, u->ulimits[k].key,
			    export_plain(&m->st, v));
			continue;
		}
		soft = xstrndup(v, (size_t)(colon - v));
		json_object_set_new(o, u->ulimits[k].key, export_flow(&m->st,
		    json_pack("{s:o, s:o}", "soft", export_plain(&m->st, soft),
		    "hard", export_plain(&m->st, colon + 1))));
		free(soft);
	}
	return o;
}

static json_t *
service(struct sw *m, size_t i)
{
	const struct cli_ctx	*c = m->x->c;
	const struct unit	*u = c->st->units[i];
	bool			 job = is_job(c->st, u);
	json_t			*o, *nets;
	size_t			 k;

	o = json_object();
	kstr(o, "image", u->image);
	strv(m, o, "entrypoint", u->entrypoint);
	strv(m, o, "command", u->command);
	kvs(o, "environment", u->env, u->nenv);
	for (k = 0; k < u->nports && u->ports[k].host_port == 0; k++)
		;
	if (k < u->nports)
		json_object_set_new(o, "ports", ports(m, u));
	if (u->nmounts > 0 || u->tmpfs != NULL)
		json_object_set_new(o, "volumes", volumes(m, u));
	if (!u->host_network) {
		nets = export_flow(&m->st, json_array());
		if (u->networks == NULL) {
			json_array_append_new(nets, str("default"));
			for (k = 0; k < c->st->nnetworks; k++)
				json_array_append_new(nets,
				    str(c->st->networks[k]));
		}
		for (k = 0; k < u->nnetworks; k++)
			json_array_append_new(nets, str(u->networks[k].name));
		json_object_set_new(o, "networks", nets);
	}
	health(m, o, u);
	if (u->init)
		json_object_set_new(o, "init", json_true());
	dur(m, o, "stop_grace_period", u->stop_grace_ms);
	if (u->stop_signal != NULL)
		kstr(o, "stop_signal", u->stop_signal);
	kvs(o, "labels", u->labels, u->nlabels);
	if (u->user != NULL)
		kstr(o, "user", u->user);
	if (u->working_dir != NULL)
		kstr(o, "working_dir", u->working_dir);
	/* shipd's SERVICE-N, in swarm's template language. */
	kstr(o, "hostname", u->hostname != NULL ? u->hostname :
	    "{{.Service.Name}}-{{.Task.Slot}}");
	strv(m, o, "extra_hosts", u->extra_hosts);
	kvs(o, "sysctls", u->sysctls, u->nsysctls);
	if (u->nulimits > 0)
		json_object_set_new(o, "ulimits", ulimits(m, u));
	strv(m, o, "cap_add", u->cap_add);
	strv(m, o, "cap_drop", u->cap_drop);
	json_object_set_new(o, "deploy", deploy(m, i, job));
	warn_lost(m, u, job);
	return o;
}

/* The stack file: services (of one wave, or all), networks, volumes. */
static json_t *
stack(struct sw *m, int wave)
{
	const struct cli_ctx	*c = m->x->c;
	const struct stack	*st = c->st;
	json_t			*top, *svcs, *nets, *vols;
	size_t			 i;

	top = json_object();
	kstr(top, "version", "3.9");
	svcs = json_object();
	json_object_set_new(top, "services", svcs);
	for (i = 0; i < st->nunits; i++)
		if (wave == 0 || wave_of(c, i) == wave)
			json_object_set_new(svcs, st->units[i]->name,
			    service(m, i));
	nets = json_object();
	json_object_set_new(nets, "default", export_flow(&m->st, json_pack(
	    "{s:s}", "driver", "overlay")));
	for (i = 0; i < st->nnetworks; i++)
		json_object_set_new(nets, st->networks[i], export_flow(&m->st,
		    json_pack("{s:s}", "driver", "overlay")));
	json_object_set_new(top, "networks", nets);
	if (st->nvolumes > 0) {
		vols = json_object();
		for (i = 0; i < st->nvolumes; i++)
			json_object_set_new(vols, st->volumes[i],
			    json_object());
		json_object_set_new(top, "volumes", vols);
	}
	return top;
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
export_swarm(struct export_ctx *x)
{
	struct cli_ctx	*c = x->c;
	struct sw	 m;
	struct buf	 all, out;
	const char	*v, *end;
	json_t		*docs;
	size_t		 i;
	int		 nwaves = 1, wave, rc;
	long		 n;

	memset(&m, 0, sizeof m);
	m.x = x;
	/* Keys and image references stay plain, as compose files have them. */
	m.st.plain_extra = "@+=";
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

	docs = json_pack("[o]", stack(&m, wave));
	buf_init(&out);
	rc = export_yaml(docs, &m.st, &out);
	json_decref(docs);
	export_style_free(&m.st);
	if (rc != 0) {
		buf_free(&out);
		cli_err("export swarm: %s", strerror(-rc));
		return EXIT_FAILED;
	}
	buf_init(&all);
	header(&all, c, nwaves, wave);
	buf_append(&all, out.data, out.len);
	rc = export_write_file(c, all.data, all.len);
	buf_free(&all);
	buf_free(&out);
	return rc;
}
