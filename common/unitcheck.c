/*
 * The rules of units and stacks, each written once.  The decoders only
 * turn text or JSON into values; whether the values may be deployed is
 * decided here, so a unit file, the JSON shipctl sends and a scale are
 * held to the same rules in the same words.  See unitcheck.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unitcheck.h"
#include "util.h"

/* How each form names each field. */
static const struct {
	const char	*file;		/* in unit files: the default */
	const char	*json;		/* NULL: the object itself */
	bool		 indexed;	/* a list: "name[i]" */
} fields[UF_N] = {
	[UF_UNIT] = { "", NULL, false },
	[UF_NAME] = { "name", "name", false },
	[UF_IMAGE] = { "image", "image", false },
	[UF_ENV] = { "environment", "environment", false },
	[UF_LABEL] = { "labels", "labels", false },
	[UF_PORT] = { "ports", "ports", true },
	[UF_MOUNT] = { "volumes", "mounts", true },
	[UF_DEP] = { "depends_on", "depends_on", true },
	[UF_UNIT_NET] = { "networks", "networks", true },
	[UF_HEALTH_PATH] = { "health.http.path", "health.http_path", false },
	[UF_REPLICAS] = { "replicas", "replicas", false },
	[UF_ORDER] = { "update.order", "update.order", false },
	[UF_RESTART] = { "restart", "restart", false },
	[UF_STOP_SIGNAL] = { "stop_signal", "stop_signal", false },
	[UF_MEMORY] = { "resources.memory", "resources.memory", false },
	[UF_CPUS] = { "resources.cpus", "resources.nano_cpus", false },
	[UF_WORKING_DIR] = { "working_dir", "working_dir", false },
	[UF_HOSTNAME] = { "hostname", "hostname", false },
	[UF_EXTRA_HOST] = { "extra_hosts", "extra_hosts", true },
	[UF_SYSCTL] = { "sysctls", "sysctls", false },
	[UF_TMPFS] = { "tmpfs", "tmpfs", true },
	[UF_ULIMIT] = { "ulimits", "ulimits", false },
	[UF_BACKUP_PATH] = { "backup.paths", "backup.paths", true },
	[UF_PRIVILEGED] = { "privileged", "privileged", false },
	[UF_NETWORK_MODE] = { "network_mode", "network_mode", false },
	[UF_PID] = { "pid", "pid", false },
	[UF_DEVICE] = { "devices", "devices", true },
	[UF_CAP_ADD] = { "cap_add", "cap_add", true },
	[UF_CAP_DROP] = { "cap_drop", "cap_drop", true },
	[UF_AUTOSCALE] = { "autoscale", "autoscale", false },
	[UF_STACK_NAME] = { "name", "name", false },
	[UF_STACK_DIR] = { "dir", "dir", false },
	[UF_NETWORK] = { "networks", "networks", true },
	[UF_VOLUME] = { "volumes", "volumes", true },
};

void
unit_mark(struct unit_marks *m, enum unit_field f, const char *file,
    int line, int col, const char *fmt, ...)
{
	struct unit_mark	*k;
	va_list			 ap;

	m->v[f] = xrealloc(m->v[f], (m->n[f] + 1) * sizeof *m->v[f]);
	k = &m->v[f][m->n[f]++];
	k->file = file;
	k->line = line;
	k->col = col;
	va_start(ap, fmt);
	if (vasprintf(&k->path, fmt, ap) < 0)
		abort();
	va_end(ap);
}

static void
marks_at(void *arg, enum unit_field f, size_t item, struct unit_at *at)
{
	struct unit_marks	*m = arg;
	const struct unit_mark	*k;

	at->file = m->file;
	if (item >= m->n[f])
		return;
	k = &m->v[f][item];
	if (k->file != NULL)
		at->file = k->file;
	at->line = k->line;
	at->col = k->col;
	at->given = true;
	snprintf(at->path, sizeof at->path, "%s", k->path);
}

void
unit_marks_where(struct unit_marks *m, struct unit_where *w)
{
	w->at = marks_at;
	w->arg = m;
}

void
unit_marks_free(struct unit_marks *m)
{
	size_t f, i;

	for (f = 0; f < UF_N; f++) {
		for (i = 0; i < m->n[f]; i++)
			free(m->v[f][i].path);
		free(m->v[f]);
		m->v[f] = NULL;
		m->n[f] = 0;
	}
}

void
unit_field_json(char *buf, size_t len, const char *obj, enum unit_field f,
    size_t item)
{
	if (fields[f].json == NULL)
		snprintf(buf, len, "%s", obj);
	else if (fields[f].indexed)
		snprintf(buf, len, "%s.%s[%zu]", obj, fields[f].json, item);
	else
		snprintf(buf, len, "%s.%s", obj, fields[f].json);
}

static void
where(const struct unit_where *w, enum unit_field f, size_t item,
    struct unit_at *at)
{
	memset(at, 0, sizeof *at);
	if (fields[f].indexed)
		snprintf(at->path, sizeof at->path, "%s[%zu]", fields[f].file,
		    item);
	else
		snprintf(at->path, sizeof at->path, "%s", fields[f].file);
	if (w != NULL)
		w->at(w->arg, f, item, at);
}

bool
unit_given(const struct unit_where *w, enum unit_field f)
{
	struct unit_at at;

	where(w, f, 0, &at);
	return at.given;
}

void
unit_report(const struct unit_where *w, struct diag_list *errs,
    enum unit_field f, size_t item, const char *fmt, ...)
{
	struct unit_at	at;
	va_list		ap;

	where(w, f, item, &at);
	va_start(ap, fmt);
	diag_vadd(errs, at.file, at.line, at.col,
	    at.path[0] != '\0' ? at.path : NULL, fmt, ap);
	va_end(ap);
}

/* ---- single rules -------------------------------------------------------- */

char *
unit_name_problem(const char *name)
{
	char *err;

	if (unit_name_valid(name))
		return NULL;
	xasprintf(&err, "invalid service name '%s': use lower-case letters, "
	    "digits, '_', '.' and '-', starting with a letter or digit, at "
	    "most %d characters", name, UNIT_NAME_MAX);
	return err;
}

char *
unit_port_problem(const struct unit_port *p)
{
	char *err = NULL;

	if (p->host_ip != NULL && !unit_ip_valid(p->host_ip))
		xasprintf(&err, "invalid IP address '%s'", p->host_ip);
	else if (p->host_ip != NULL && p->host_port == 0)
		err = xstrdup("an IP address without a host port publishes "
		    "nothing");
	return err;
}

/* Mount paths may reach the engine as "src:dst:mode", so no ':' in them. */
char *
unit_mount_problem(const struct unit_mount *m)
{
	const char	*src = m->source, *dst = m->target;
	char		*err = NULL;

	if (dst == NULL)
		return NULL;	/* not decoded, and said so */
	if (!unit_abs_path_valid(dst))
		xasprintf(&err, "target '%s' must be an absolute path", dst);
	else if (src != NULL && m->kind == MOUNT_VOLUME &&
	    !unit_volume_name_valid(src))
		xasprintf(&err, "invalid volume name '%s'", src);
	else if (src != NULL && m->kind == MOUNT_BIND &&
	    !unit_abs_path_valid(src))
		xasprintf(&err, "bind source '%s' must be an absolute path",
		    src);
	else if (src != NULL && m->kind == MOUNT_BIND &&
	    strchr(src, ':') != NULL)
		xasprintf(&err, "bind source '%s' contains ':'", src);
	else if (strchr(dst, ':') != NULL)
		xasprintf(&err, "target '%s' contains ':'", dst);
	else if (strcmp(dst, "/") == 0)
		err = xstrdup("cannot mount over /");
	return err;
}

/* ---- one service --------------------------------------------------------- */

static void
check_kv(const struct unit_kv *v, size_t n, enum unit_field f,
    const struct unit_where *w, struct diag_list *errs)
{
	size_t	 	 rl = strlen(UNIT_LABEL_RESERVED), i, j;
	long long	 lo, hi;
	char		*k;

	if (n > UNIT_KV_MAX) {
		unit_report(w, errs, f, 0, "%zu entries; a service may have at "
		    "most %d", n, UNIT_KV_MAX);
		return;
	}
	for (i = 0; i < n; i++) {
		k = v[i].key;
		for (j = 0; j < i && strcmp(v[j].key, k) != 0; j++)
			;
		if (f == UF_ENV && !unit_env_key_valid(k))
			unit_report(w, errs, f, i, "invalid variable name '%s'", k);
		else if (f == UF_SYSCTL && !unit_sysctl_key_valid(k))
			unit_report(w, errs, f, i, "invalid sysctl name '%s'", k);
		else if (f == UF_ULIMIT && !unit_ulimit_name_valid(k))
			unit_report(w, errs, f, i, "unknown limit '%s' (nofile, "
			    "nproc, core, memlock, stack, ...)", k);
		else if (f == UF_ULIMIT && unit_ulimit_parse(v[i].value, &lo,
		    &hi) != 0)
			unit_report(w, errs, f, i, "%s: expected N or SOFT:HARD "
			    "(-1: unlimited; soft at most hard), got '%s'", k,
			    v[i].value);
		else if (f == UF_LABEL && *k == '\0')
			unit_report(w, errs, f, i, "a label key must not be empty");
		else if (f == UF_LABEL && strncmp(k, UNIT_LABEL_RESERVED,
		    rl) == 0)
			unit_report(w, errs, f, i, "'%s' is reserved: keys "
			    "starting %s are set by shipd", k,
			    UNIT_LABEL_RESERVED);
		else if (j < i)
			unit_report(w, errs, f, i, "'%s' is set twice", k);
	}
}

static void
check_ports(const struct unit *u, const struct unit_where *w,
    struct diag_list *errs)
{
	const struct unit_port	*p, *q;
	char			*err;
	size_t			 i, j;

	for (i = 0; i < u->nports; i++) {
		p = &u->ports[i];
		if ((err = unit_port_problem(p)) != NULL) {
			unit_report(w, errs, UF_PORT, i, "%s", err);
			free(err);
			continue;
		}
		for (j = 0; j < i && p->host_port != 0; j++) {
			q = &u->ports[j];
			if (p->host_port == q->host_port &&
			    strcmp(p->proto, q->proto) == 0)
				break;
		}
		if (p->host_port != 0 && j < i)
			unit_report(w, errs, UF_PORT, i, "host port %d/%s is "
			    "published twice", p->host_port, p->proto);
	}
}

static void
check_mounts(const struct unit *u, const struct unit_where *w,
    struct diag_list *errs)
{
	const struct unit_mount	*m;
	char			*err;
	size_t			 i, j;

	for (i = 0; i < u->nmounts; i++) {
		m = &u->mounts[i];
		if ((err = unit_mount_problem(m)) != NULL) {
			unit_report(w, errs, UF_MOUNT, i, "%s", err);
			free(err);
			continue;
		}
		for (j = 0; m->target != NULL && j < i; j++) {
			if (u->mounts[j].target != NULL &&
			    strcmp(u->mounts[j].target, m->target) == 0) {
				unit_report(w, errs, UF_MOUNT, i, "'%s' is mounted "
				    "twice", m->target);
				break;
			}
		}
	}
}

static void
check_deps(const struct unit *u, const struct unit_where *w,
    struct diag_list *errs)
{
	const char	*name;
	size_t		 i, j;

	for (i = 0; i < u->ndeps; i++) {
		if ((name = u->deps[i].name) == NULL)
			continue;
		for (j = 0; j < i; j++) {
			if (u->deps[j].name != NULL &&
			    strcmp(u->deps[j].name, name) == 0)
				break;
		}
		if (!unit_name_valid(name))
			unit_report(w, errs, UF_DEP, i, "'%s' is not a valid service "
			    "name", name);
		else if (j < i)
			unit_report(w, errs, UF_DEP, i, "'%s' is listed twice",
			    name);
	}
}

static void
check_nets(const struct unit *u, const struct unit_where *w,
    struct diag_list *errs)
{
	const char	*name;
	size_t		 i, j;

	for (i = 0; i < u->nnetworks; i++) {
		if ((name = u->networks[i].name) == NULL)
			continue;
		for (j = 0; j < i; j++) {
			if (u->networks[j].name != NULL &&
			    strcmp(u->networks[j].name, name) == 0)
				break;
		}
		if (!unit_volume_name_valid(name))
			unit_report(w, errs, UF_UNIT_NET, i, "invalid name '%s'",
			    name);
		else if (j < i)
			unit_report(w, errs, UF_UNIT_NET, i, "'%s' is listed twice",
			    name);
	}
}

static void
check_health(const struct unit_health *h, const struct unit_where *w,
    struct diag_list *errs)
{
	if (h->http_path != NULL && h->http_path[0] != '/')
		unit_report(w, errs, UF_HEALTH_PATH, 0, "'%s' must start with /",
		    h->http_path);
}

/* The first host port u publishes, or 0. */
static int
host_port(const struct unit *u)
{
	size_t i;

	for (i = 0; i < u->nports; i++) {
		if (u->ports[i].host_port != 0)
			return u->ports[i].host_port;
	}
	return 0;
}

/* Two containers cannot bind one host port: not two replicas, and not the
 * new and the old replica side by side during a start-first update. */
void
unit_check_count(const struct unit *u, int n, const struct unit_where *w,
    struct diag_list *errs)
{
	int port = host_port(u);

	if (n < UNIT_REPLICAS_MIN || n > UNIT_REPLICAS_MAX)
		unit_report(w, errs, UF_REPLICAS, 0, "expected an integer from %d "
		    "to %d, got %d", UNIT_REPLICAS_MIN, UNIT_REPLICAS_MAX, n);
	else if (n > 1 && port != 0)
		unit_report(w, errs, UF_REPLICAS, 0, "%d replicas cannot all "
		    "publish host port %d; drop the host port or run one", n,
		    port);
}

static void
check_order(const struct unit *u, const struct unit_where *w,
    struct diag_list *errs)
{
	int port = host_port(u);

	if (u->update.order == UPDATE_START_FIRST && port != 0)
		unit_report(w, errs, UF_ORDER, 0, "start-first cannot be used with "
		    "host port %d: the new container could not bind it while "
		    "the old one runs", port);
}

/* "6M", "512k", or bytes: a size as a unit file would write it. */
static void
size_text(char *buf, size_t len, uint64_t v)
{
	static const char	units[] = "kMGT";
	int			i;

	for (i = 4; i > 0; i--) {
		if (v != 0 && v % (1ULL << (10 * i)) == 0) {
			snprintf(buf, len, "%llu%c",
			    (unsigned long long)(v >> (10 * i)), units[i - 1]);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)v);
}

/* 0 means no limit, unless the form wrote it: then it is a limit. */
static void
check_resources(const struct unit *u, const struct unit_where *w,
    struct diag_list *errs)
{
	char buf[32];

	if (u->memory < UNIT_MEMORY_MIN &&
	    (u->memory != 0 || unit_given(w, UF_MEMORY))) {
		size_text(buf, sizeof buf, u->memory);
		unit_report(w, errs, UF_MEMORY, 0, "'%s' is below the engine's "
		    "minimum of 6M", buf);
	}
	if ((u->nano_cpus != 0 || unit_given(w, UF_CPUS)) &&
	    (u->nano_cpus < UNIT_NANO_CPUS_MIN ||
	    u->nano_cpus > UNIT_NANO_CPUS_MAX))
		unit_report(w, errs, UF_CPUS, 0, "expected " UNIT_CPUS_WANT ", got "
		    "'%.9g'", (double)u->nano_cpus / 1e9);
}

static void
check_scalars(const struct unit *u, const struct unit_where *w,
    struct diag_list *errs)
{
	char	**p;
	char	 *err;

	if (u->name != NULL && (err = unit_name_problem(u->name)) != NULL) {
		unit_report(w, errs, UF_NAME, 0, "%s", err);
		free(err);
	}
	if (u->image != NULL && (err = unit_image_problem(u->image)) !=
	    NULL) {
		unit_report(w, errs, UF_IMAGE, 0, "%s", err);
		free(err);
	}
	if (u->restart != NULL && !unit_restart_valid(u->restart,
	    u->restart_max))
		unit_report(w, errs, UF_RESTART, 0, "expected no, always, "
		    "unless-stopped or on-failure (max_retries only with "
		    "on-failure)");
	if (u->stop_signal != NULL && !unit_signal_valid(u->stop_signal))
		unit_report(w, errs, UF_STOP_SIGNAL, 0, "expected a signal such as "
		    "SIGTERM or 15, got '%s'", u->stop_signal);
	if (u->working_dir != NULL && !unit_abs_path_valid(u->working_dir))
		unit_report(w, errs, UF_WORKING_DIR, 0, "'%s' must be an absolute "
		    "path", u->working_dir);
	if (u->hostname != NULL && !unit_hostname_valid(u->hostname))
		unit_report(w, errs, UF_HOSTNAME, 0, "invalid host name '%s': "
		    "letters, digits and '-', at most %d characters",
		    u->hostname, UNIT_NAME_MAX);
	for (p = u->extra_hosts; p != NULL && *p != NULL; p++) {
		if (!unit_extra_host_valid(*p))
			unit_report(w, errs, UF_EXTRA_HOST,
			    (size_t)(p - u->extra_hosts), "expected HOST:IP, "
			    "got '%s'", *p);
	}
	for (p = u->tmpfs; p != NULL && *p != NULL; p++) {
		if (!unit_tmpfs_valid(*p))
			unit_report(w, errs, UF_TMPFS, (size_t)(p - u->tmpfs),
			    "expected an absolute path, then :OPTIONS if any "
			    "(size=64m,mode=1777), got '%s'", *p);
	}
	for (p = u->backup.paths; p != NULL && *p != NULL; p++) {
		if (!unit_abs_path_valid(*p))
			unit_report(w, errs, UF_BACKUP_PATH,
			    (size_t)(p - u->backup.paths), "'%s' must be an "
			    "absolute path", *p);
	}
}

/* Each capability once, and not both added and dropped. */
static void
check_caps(char *const *v, char *const *other, enum unit_field f,
    const struct unit_where *w, struct diag_list *errs)
{
	size_t i, j;

	for (i = 0; v != NULL && v[i] != NULL; i++) {
		for (j = 0; j < i && strcmp(v[j], v[i]) != 0; j++)
			;
		if (j < i)
			unit_report(w, errs, f, i, "'%s' is listed twice", v[i]);
		for (j = 0; f == UF_CAP_ADD && other != NULL &&
		    other[j] != NULL; j++) {
			if (strcmp(other[j], v[i]) == 0)
				unit_report(w, errs, f, i, "'%s' is both added and "
				    "dropped", v[i]);
		}
	}
}

/*
 * The keys that change what runs on the host.  A container on the host's
 * network has no port of its own to publish and no stack network to join,
 * and no address of its own for shipd's http and tcp probes.
 */
static void
check_host(const struct unit *u, const struct unit_where *w,
    struct diag_list *errs)
{
	const struct unit_device	*d;
	size_t				 i, j;

	for (i = 0; i < u->ndevices; i++) {
		d = &u->devices[i];
		if (d->host == NULL || !unit_abs_path_valid(d->host) ||
		    d->container == NULL ||
		    !unit_abs_path_valid(d->container)) {
			unit_report(w, errs, UF_DEVICE, i, "host and container "
			    "paths must be absolute");
			continue;
		}
		for (j = 0; j < i; j++) {
			if (u->devices[j].container != NULL &&
			    strcmp(u->devices[j].container, d->container) == 0)
				break;
		}
		if (j < i)
			unit_report(w, errs, UF_DEVICE, i, "'%s' is given twice",
			    d->container);
	}
	check_caps(u->cap_add, u->cap_drop, UF_CAP_ADD, w, errs);
	check_caps(u->cap_drop, NULL, UF_CAP_DROP, w, errs);
	if (!u->host_network)
		return;
	if (u->nports > 0)
		unit_report(w, errs, UF_NETWORK_MODE, 0, "host: a service on the "
		    "host's network publishes no ports (it binds the host's "
		    "own); drop ports");
	if (u->nnetworks > 0)
		unit_report(w, errs, UF_NETWORK_MODE, 0, "host: a service on the "
		    "host's network joins no stack network; drop networks");
	if (u->health.kind == HEALTH_HTTP || u->health.kind == HEALTH_TCP)
		unit_report(w, errs, UF_NETWORK_MODE, 0, "host: shipd's %s check "
		    "needs an address of the container's own; use a test: "
		    "check", unit_health_kind_name(u->health.kind));
}

/* autoscale: against the rest of the unit; the decoders bound each number. */
static void
check_autoscale(const struct unit *u, const struct unit_where *w,
    struct diag_list *errs)
{
	const struct unit_autoscale	*a = &u->autoscale;
	size_t				 i;

	if (!a->present)
		return;
	if (a->min < 1 || a->max < a->min || a->max > UNIT_REPLICAS_MAX)
		unit_report(w, errs, UF_AUTOSCALE, 0, "expected 1 <= min <= "
		    "max <= %d, got min %d, max %d", UNIT_REPLICAS_MAX,
		    a->min, a->max);
	if (a->cpu == 0 && a->memory == 0)
		unit_report(w, errs, UF_AUTOSCALE, 0, "no target: give cpu, "
		    "memory or both");
	if (a->memory != 0 && u->memory == 0)
		unit_report(w, errs, UF_AUTOSCALE, 0, "a memory target is a "
		    "share of the memory limit: set resources.memory");
	if (u->replicas < a->min || u->replicas > a->max)
		unit_report(w, errs, UF_REPLICAS, 0, "%d is outside "
		    "autoscale's %d to %d; leave replicas out (autoscaled "
		    "services start at min)", u->replicas, a->min, a->max);
	for (i = 0; a->max > 1 && i < u->nports; i++) {
		if (u->ports[i].host_port == 0)
			continue;
		unit_report(w, errs, UF_AUTOSCALE, 0, "max %d replicas cannot "
		    "all publish host port %d; drop the host port or use max: "
		    "1", a->max, u->ports[i].host_port);
		break;
	}
}

void
unit_validate(const struct unit *u, const struct unit_where *w,
    struct diag_list *errs)
{
	check_host(u, w, errs);
	check_scalars(u, w, errs);
	check_kv(u->env, u->nenv, UF_ENV, w, errs);
	check_kv(u->labels, u->nlabels, UF_LABEL, w, errs);
	check_kv(u->sysctls, u->nsysctls, UF_SYSCTL, w, errs);
	check_kv(u->ulimits, u->nulimits, UF_ULIMIT, w, errs);
	check_ports(u, w, errs);
	check_mounts(u, w, errs);
	check_deps(u, w, errs);
	check_nets(u, w, errs);
	check_health(&u->health, w, errs);
	unit_check_count(u, u->replicas, w, errs);
	check_autoscale(u, w, errs);
	check_order(u, w, errs);
	check_resources(u, w, errs);
}
