/*
 * The unit-file schema: each key of <service>.yaml decoded from a ytree
 * into struct unit, with the checks that span keys.  docs/units.md is the
 * reference for what is accepted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expand.h"
#include "unit.h"
#include "util.h"
#include "ytree.h"

struct uctx {
	struct yctx		 y;
	const char		*dir;		/* absolute: bind sources */
	struct unit		*u;
	struct envfile		 envf;		/* env_file:, merged last */
	const struct ynode	*replicas;	/* for checks across keys */
	const struct ynode	*order;
};

#define UCTX(obj)	((struct uctx *)(obj))

/* ---- unit keys ---------------------------------------------------------- */

static void
k_image(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	UCTX(obj)->u->image = ytree_string(c, path, n);
}

static void
k_command(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	UCTX(obj)->u->command = ytree_strv(c, path, n, true, false);
}

static void
k_entrypoint(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	UCTX(obj)->u->entrypoint = ytree_strv(c, path, n, true, true);
}

static bool
kv_has(const struct unit_kv *v, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i].key, key) == 0)
			return true;
	}
	return false;
}

static void
kv_push(struct unit_kv **v, size_t *n, char *key, char *value)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[*n].key = key;
	(*v)[*n].value = value;
	(*n)++;
}

static bool
kv_key_ok(struct yctx *c, const char *path, const struct ynode *n,
    const char *key, bool labels)
{
	if (!labels && !unit_env_key_valid(key)) {
		ytree_err(c, n, "%s: invalid variable name '%s'", path, key);
		return false;
	}
	if (labels && *key == '\0') {
		ytree_err(c, n, "%s: a label key must not be empty", path);
		return false;
	}
	if (labels && strncmp(key, UNIT_LABEL_RESERVED,
	    strlen(UNIT_LABEL_RESERVED)) == 0) {
		ytree_err(c, n, "%s: '%s' is reserved: keys starting %s are "
		    "set by shipd", path, key, UNIT_LABEL_RESERVED);
		return false;
	}
	return true;
}

/* One "KEY=VALUE" of a list. */
static void
kv_item(struct yctx *c, const char *path, const struct ynode *n, bool labels,
    struct unit_kv **v, size_t *nv)
{
	char *s, *eq;

	if ((s = ytree_text(c, path, n, "KEY=VALUE")) == NULL)
		return;
	if ((eq = strchr(s, '=')) == NULL)
		ytree_err(c, n, "%s: expected KEY=VALUE, got '%s'", path, s);
	else {
		*eq = '\0';
		if (kv_has(*v, *nv, s))
			ytree_err(c, n, "%s: '%s' is set twice", path, s);
		else if (kv_key_ok(c, path, n, s, labels))
			kv_push(v, nv, xstrdup(s), xstrdup(eq + 1));
	}
	free(s);
}

/* KEY: value mapping, or a list of "KEY=VALUE". */
static void
kv_decode(struct yctx *c, const char *path, const struct ynode *n,
    bool labels, struct unit_kv **v, size_t *nv)
{
	const struct ynode	*k, *val;
	char			*kpath, *s;
	size_t			 i;

	if (n->type == Y_SEQ) {
		for (i = 0; i < n->nkids; i++) {
			xasprintf(&kpath, "%s[%zu]", path, i);
			kv_item(c, kpath, n->kids[i], labels, v, nv);
			free(kpath);
		}
		return;
	}
	if (n->type != Y_MAP) {
		ytree_err(c, n, "%s: expected a mapping or a list of "
		    "KEY=VALUE, got %s", path, ytree_kind(n));
		return;
	}
	for (i = 0; i + 1 < n->nkids; i += 2) {
		if ((k = ytree_map_key(c, n, i)) == NULL ||
		    !kv_key_ok(c, path, k, k->str, labels))
			continue;
		val = n->kids[i + 1];
		kpath = ytree_path(path, k->str);
		if (ytree_null(val))
			ytree_err(c, val, "%s: no value; write %s: \"\" for "
			    "an empty string", kpath, k->str);
		else if ((s = ytree_text(c, kpath, val, "a string")) != NULL)
			kv_push(v, nv, xstrdup(k->str), s);
		free(kpath);
	}
}

static void
k_environment(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct unit *u = UCTX(obj)->u;

	kv_decode(c, path, n, false, &u->env, &u->nenv);
}

static void
k_labels(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct unit *u = UCTX(obj)->u;

	kv_decode(c, path, n, true, &u->labels, &u->nlabels);
}

static void
env_file_one(struct uctx *uc, const char *path, const struct ynode *n)
{
	const char	*slash = strrchr(uc->y.file, '/');
	char		*name, *full;
	int		 rc;

	if ((name = ytree_string(&uc->y, path, n)) == NULL)
		return;
	/* Beside the unit file, named as it was so messages match. */
	if (name[0] == '/' || slash == NULL)
		full = xstrdup(name);
	else
		xasprintf(&full, "%.*s/%s", (int)(slash - uc->y.file),
		    uc->y.file, name);
	rc = expand_envfile_load(full, &uc->envf, uc->y.errs);
	if (rc != 0 && rc != -EINVAL)
		ytree_err(&uc->y, n, "%s: cannot read '%s': %s", path, name,
		    rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc));
	free(full);
	free(name);
}

static void
k_env_file(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	char	*ipath;
	size_t	 i;

	if (n->type != Y_SEQ) {
		env_file_one(UCTX(obj), path, n);
		return;
	}
	for (i = 0; i < n->nkids; i++) {
		xasprintf(&ipath, "%s[%zu]", path, i);
		env_file_one(UCTX(obj), ipath, n->kids[i]);
		free(ipath);
	}
}

static void
port_item(struct yctx *c, const char *path, const struct ynode *n,
    struct unit *u)
{
	struct unit_port	 p;
	char			*s, *err;
	size_t			 i;

	if ((s = ytree_text(c, path, n, "a port")) == NULL)
		return;
	if ((err = unit_port_parse(s, &p)) != NULL) {
		ytree_err(c, n, "%s: %s in '%s'", path, err, s);
		free(err);
		free(s);
		return;
	}
	free(s);
	for (i = 0; i < u->nports && p.host_port != 0; i++) {
		if (p.host_port == u->ports[i].host_port &&
		    strcmp(p.proto, u->ports[i].proto) == 0) {
			ytree_err(c, n, "%s: host port %d/%s is published "
			    "twice", path, p.host_port, p.proto);
			free(p.host_ip);
			return;
		}
	}
	u->ports = xrealloc(u->ports, (u->nports + 1) * sizeof p);
	u->ports[u->nports++] = p;
}

static void
mount_item(struct yctx *c, const char *path, const struct ynode *n,
    struct uctx *uc)
{
	struct unit		*u = uc->u;
	struct unit_mount	 m;
	char			*s, *err;
	size_t			 i;

	if ((s = ytree_text(c, path, n, "a volume")) == NULL)
		return;
	if ((err = unit_mount_parse(s, uc->dir, &m)) != NULL) {
		ytree_err(c, n, "%s: %s in '%s'", path, err, s);
		free(err);
		free(s);
		return;
	}
	free(s);
	for (i = 0; i < u->nmounts; i++) {
		if (strcmp(u->mounts[i].target, m.target) == 0) {
			ytree_err(c, n, "%s: '%s' is mounted twice", path,
			    m.target);
			free(m.source);
			free(m.target);
			return;
		}
	}
	u->mounts = xrealloc(u->mounts, (u->nmounts + 1) * sizeof m);
	u->mounts[u->nmounts++] = m;
}

static void
k_ports(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	char	*ipath;
	size_t	 i;

	if (!ytree_is(c, path, n, Y_SEQ))
		return;
	for (i = 0; i < n->nkids; i++) {
		xasprintf(&ipath, "%s[%zu]", path, i);
		port_item(c, ipath, n->kids[i], UCTX(obj)->u);
		free(ipath);
	}
}

static void
k_volumes(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	char	*ipath;
	size_t	 i;

	if (!ytree_is(c, path, n, Y_SEQ))
		return;
	for (i = 0; i < n->nkids; i++) {
		xasprintf(&ipath, "%s[%zu]", path, i);
		mount_item(c, ipath, n->kids[i], UCTX(obj));
		free(ipath);
	}
}

static void
dep_add(struct yctx *c, struct unit *u, const struct ynode *at,
    const char *path, const char *name, enum dep_cond cond)
{
	struct unit_dep	*d;
	size_t		 i;

	if (!unit_name_valid(name)) {
		ytree_err(c, at, "%s: '%s' is not a valid service name", path,
		    name);
		return;
	}
	for (i = 0; i < u->ndeps; i++) {
		if (strcmp(u->deps[i].name, name) == 0) {
			ytree_err(c, at, "%s: '%s' is listed twice", path,
			    name);
			return;
		}
	}
	u->deps = xrealloc(u->deps, (u->ndeps + 1) * sizeof *u->deps);
	d = &u->deps[u->ndeps++];
	d->name = xstrdup(name);
	d->cond = cond;
	d->line = at->line;
	d->col = at->col;
}

static void
k_depends_on(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct unit		*u = UCTX(obj)->u;
	const struct ynode	*k;
	enum dep_cond		 cond;
	char			*s, *ipath;
	size_t			 i;

	if (n->type == Y_SEQ) {
		for (i = 0; i < n->nkids; i++) {
			xasprintf(&ipath, "%s[%zu]", path, i);
			if ((s = ytree_text(c, ipath, n->kids[i],
			    "a service name")) != NULL)
				dep_add(c, u, n->kids[i], ipath, s,
				    DEP_STARTED);
			free(s);
			free(ipath);
		}
		return;
	}
	if (n->type != Y_MAP) {
		ytree_err(c, n, "%s: expected a mapping of service: condition "
		    "or a list of services, got %s", path, ytree_kind(n));
		return;
	}
	for (i = 0; i + 1 < n->nkids; i += 2) {
		if ((k = ytree_map_key(c, n, i)) == NULL)
			continue;
		ipath = ytree_path(path, k->str);
		s = ytree_text(c, ipath, n->kids[i + 1], "a condition");
		if (s != NULL && unit_dep_cond_parse(s, &cond) != 0)
			ytree_err(c, n->kids[i + 1], "%s: expected started, "
			    "healthy or completed, got '%s'", ipath, s);
		else if (s != NULL)
			dep_add(c, u, k, path, k->str, cond);
		free(s);
		free(ipath);
	}
}

static void
k_replicas(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	UCTX(obj)->replicas = n;
	ytree_int(c, path, n, 0, UNIT_REPLICAS_MAX, &UCTX(obj)->u->replicas);
}

static void
k_init(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_bool(c, path, n, &UCTX(obj)->u->init);
}

static void
k_restart(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct unit	*u = UCTX(obj)->u;
	char		*s, *name;

	if ((s = ytree_text(c, path, n, "a restart policy")) == NULL)
		return;
	if (unit_restart_parse(s, &name, &u->restart_max) != 0)
		ytree_err(c, n, "%s: expected no, always, unless-stopped or "
		    "on-failure[:N], got '%s'", path, s);
	else {
		free(u->restart);
		u->restart = name;
	}
	free(s);
}

static void
k_stop_grace(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_duration(c, path, n, 0, &UCTX(obj)->u->stop_grace_ms);
}

static void
k_stop_signal(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	char *s;

	if ((s = ytree_string(c, path, n)) == NULL)
		return;
	if (!unit_signal_valid(s)) {
		ytree_err(c, n, "%s: expected a signal such as SIGTERM or 15, "
		    "got '%s'", path, s);
		free(s);
		return;
	}
	UCTX(obj)->u->stop_signal = s;
}

static void
k_user(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	UCTX(obj)->u->user = ytree_string(c, path, n);
}

static void
k_working_dir(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	char *s;

	if ((s = ytree_string(c, path, n)) != NULL && !unit_abs_path_valid(s)) {
		ytree_err(c, n, "%s: '%s' must be an absolute path", path, s);
		free(s);
		s = NULL;
	}
	UCTX(obj)->u->working_dir = s;
}

/* ---- health ------------------------------------------------------------ */

enum { HK_TEST, HK_HTTP, HK_TCP, HK_INTERVAL, HK_TIMEOUT, HK_START_PERIOD,
    HK_START_INTERVAL, HK_RETRIES, HK_N };

static void
h_test(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct unit_health	*h = &UCTX(obj)->u->health;
	char			**v, *s;
	size_t			  argc;

	if (n->type == Y_SCALAR && !ytree_null(n)) {
		if ((s = ytree_text(c, path, n, "a string")) == NULL)
			return;
		v = xcalloc(3, sizeof *v);
		v[0] = xstrdup("CMD-SHELL");
		v[1] = s;
	} else if ((v = ytree_strv(c, path, n, false, false)) == NULL)
		return;
	for (argc = 0; v[argc] != NULL; argc++)
		;
	if (strcmp(v[0], "NONE") == 0 && argc == 1)
		h->kind = HEALTH_DISABLED;
	else if (unit_health_test_valid(v)) {
		h->kind = HEALTH_CMD;
		h->test = v;
		return;
	} else
		ytree_err(c, n, "%s: expected [CMD, arg...], [CMD-SHELL, "
		    "\"command\"] or [NONE]", path);
	for (argc = 0; v[argc] != NULL; argc++)
		free(v[argc]);
	free(v);
}

static void
hh_path(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct unit_health	*h = &UCTX(obj)->u->health;
	char			*s;

	if ((s = ytree_string(c, path, n)) != NULL && s[0] != '/') {
		ytree_err(c, n, "%s: '%s' must start with /", path, s);
		free(s);
		return;
	}
	free(h->http_path);
	h->http_path = s;
}

static void
hh_port(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_int(c, path, n, 1, 65535, &UCTX(obj)->u->health.port);
}

static const struct ykey http_keys[] = {
	{ "path", hh_path },
	{ "port", hh_port },
};

static void
h_http(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct unit_health	*h = &UCTX(obj)->u->health;
	const struct ynode	*seen[nitems(http_keys)] = { NULL };
	char			*s, *slash;

	h->kind = HEALTH_HTTP;
	if (n->type == Y_MAP) {
		ytree_walk(c, path, n, http_keys, nitems(http_keys), obj, seen);
		if (seen[1] == NULL)
			ytree_err(c, n, "%s: 'port' is required", path);
		if (h->http_path == NULL)
			h->http_path = xstrdup("/");
		return;
	}
	/* "8080/healthz" */
	if ((s = ytree_text(c, path, n, "PORT/path or a mapping")) == NULL)
		return;
	if ((slash = strchr(s, '/')) != NULL)
		*slash = '\0';
	if (unit_port_number(s, &h->port) != 0)
		ytree_err(c, n, "%s: expected PORT/path with a port from 1 to "
		    "65535, got '%s'", path, s);
	else {
		if (slash != NULL)
			*slash = '/';
		h->http_path = xstrdup(slash != NULL ? slash : "/");
	}
	free(s);
}

static void
h_tcp(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	UCTX(obj)->u->health.kind = HEALTH_TCP;
	ytree_int(c, path, n, 1, 65535, &UCTX(obj)->u->health.port);
}

static void
h_interval(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_duration(c, path, n, 1, &UCTX(obj)->u->health.interval_ms);
}

static void
h_timeout(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_duration(c, path, n, 1, &UCTX(obj)->u->health.timeout_ms);
}

static void
h_start_period(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_duration(c, path, n, 0, &UCTX(obj)->u->health.start_period_ms);
}

static void
h_start_interval(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	/* 0 turns shipd's startup probing off: the engine's checks alone
	 * decide. */
	ytree_duration(c, path, n, 0,
	    &UCTX(obj)->u->health.start_interval_ms);
}

static void
h_retries(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_int(c, path, n, 1, UNIT_RETRIES_MAX,
	    &UCTX(obj)->u->health.retries);
}

static const struct ykey health_keys[HK_N] = {
	[HK_TEST] = { "test", h_test },
	[HK_HTTP] = { "http", h_http },
	[HK_TCP] = { "tcp", h_tcp },
	[HK_INTERVAL] = { "interval", h_interval },
	[HK_TIMEOUT] = { "timeout", h_timeout },
	[HK_START_PERIOD] = { "start_period", h_start_period },
	[HK_START_INTERVAL] = { "start_interval", h_start_interval },
	[HK_RETRIES] = { "retries", h_retries },
};

static void
k_health(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct unit_health	*h = &UCTX(obj)->u->health;
	const struct ynode	*seen[HK_N] = { NULL }, *first = NULL;
	int			 i;

	ytree_walk(c, path, n, health_keys, HK_N, obj, seen);
	for (i = HK_TEST; i <= HK_TCP; i++) {
		if (seen[i] == NULL)
			continue;
		if (first != NULL)
			ytree_err(c, seen[i], "%s: set one of test, http or "
			    "tcp, not both %s and %s", path, first->str,
			    seen[i]->str);
		else
			first = seen[i];
	}
	if (h->kind == HEALTH_DISABLED) {
		for (i = HK_INTERVAL; i < HK_N; i++) {
			if (seen[i] != NULL)
				ytree_err(c, seen[i], "%s.%s: has no effect "
				    "with test: [NONE]", path, seen[i]->str);
		}
		h->interval_ms = h->timeout_ms = h->start_period_ms = 0;
		h->start_interval_ms = 0;
		h->retries = 0;
		return;
	}
	if (h->kind == HEALTH_IMAGE)
		return;	/* zero means the image's own value */
	if (seen[HK_INTERVAL] == NULL)
		h->interval_ms = UNIT_DEF_INTERVAL_MS;
	if (seen[HK_TIMEOUT] == NULL)
		h->timeout_ms = UNIT_DEF_TIMEOUT_MS;
	if (seen[HK_RETRIES] == NULL)
		h->retries = UNIT_DEF_RETRIES;
}

/* ---- update, resources, backup ------------------------------------------ */

static void
u_order(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct unit	*u = UCTX(obj)->u;
	char		*s;

	if ((s = ytree_text(c, path, n, "stop-first or start-first")) == NULL)
		return;
	if (unit_update_order_parse(s, &u->update.order) != 0)
		ytree_err(c, n, "%s: expected stop-first or start-first, got "
		    "'%s'", path, s);
	else
		UCTX(obj)->order = n;
	free(s);
}

static void
u_parallelism(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_int(c, path, n, 1, UNIT_PARALLELISM_MAX,
	    &UCTX(obj)->u->update.parallelism);
}

static void
u_deadline(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_duration(c, path, n, 1,
	    &UCTX(obj)->u->update.healthy_deadline_ms);
}

static void
u_monitor(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_duration(c, path, n, 0, &UCTX(obj)->u->update.monitor_ms);
}

static void
u_on_failure(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct unit	*u = UCTX(obj)->u;
	char		*s;

	if ((s = ytree_text(c, path, n, "rollback or pause")) == NULL)
		return;
	if (unit_update_failure_parse(s, &u->update.on_failure) != 0)
		ytree_err(c, n, "%s: expected rollback or pause, got '%s'",
		    path, s);
	free(s);
}

static const struct ykey update_keys[] = {
	{ "order", u_order },
	{ "parallelism", u_parallelism },
	{ "healthy_deadline", u_deadline },
	{ "monitor", u_monitor },
	{ "on_failure", u_on_failure },
};

static void
k_update(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_walk(c, path, n, update_keys, nitems(update_keys), obj, NULL);
}

static void
r_memory(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	uint64_t	 v;
	char		*s;

	if ((s = ytree_text(c, path, n, "a size")) == NULL)
		return;
	if (parse_size(s, &v) != 0 || v > INT64_MAX)
		ytree_err(c, n, "%s: invalid size '%s' (expected a number "
		    "with an optional k, M, G or T: 512M, 1G)", path, s);
	else if (v < UNIT_MEMORY_MIN)
		ytree_err(c, n, "%s: '%s' is below the engine's minimum of "
		    "6M", path, s);
	else
		UCTX(obj)->u->memory = v;
	free(s);
}

static void
r_cpus(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	double	 v = 0;
	char	*s, *end;
	size_t	 len;

	if ((s = ytree_text(c, path, n, "a number")) == NULL)
		return;
	/* Digits and one dot only: strtod would also take "inf", "0x1p3". */
	len = strlen(s);
	if (len > 0 && len < 16 && strspn(s, "0123456789.") == len) {
		v = strtod(s, &end);
		if (*end != '\0')
			v = 0;
	}
	if (v * 1e9 < (double)UNIT_NANO_CPUS_MIN ||
	    v * 1e9 > (double)UNIT_NANO_CPUS_MAX)
		ytree_err(c, n, "%s: expected a number of CPUs from 0.01 to "
		    "4096, got '%s'", path, s);
	else
		UCTX(obj)->u->nano_cpus = (int64_t)(v * 1e9 + 0.5);
	free(s);
}

static const struct ykey resources_keys[] = {
	{ "memory", r_memory },
	{ "cpus", r_cpus },
};

static void
k_resources(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_walk(c, path, n, resources_keys, nitems(resources_keys), obj,
	    NULL);
}

static void
b_paths(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	char	**v;
	size_t	  i;

	if ((v = ytree_strv(c, path, n, false, false)) == NULL)
		return;
	for (i = 0; v[i] != NULL; i++) {
		if (!unit_abs_path_valid(v[i]))
			ytree_err(c, n->kids[i], "%s[%zu]: '%s' must be an "
			    "absolute path", path, i, v[i]);
	}
	UCTX(obj)->u->backup.paths = v;
}

static void
b_pre(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	UCTX(obj)->u->backup.pre = ytree_strv(c, path, n, true, false);
}

static void
b_post(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	UCTX(obj)->u->backup.post = ytree_strv(c, path, n, true, false);
}

static void
b_stop(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_bool(c, path, n, &UCTX(obj)->u->backup.stop);
}

static void
b_keep(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_int(c, path, n, 1, UNIT_KEEP_MAX, &UCTX(obj)->u->backup.keep);
}

static const struct ykey backup_keys[] = {
	{ "paths", b_paths },
	{ "pre", b_pre },
	{ "post", b_post },
	{ "stop", b_stop },
	{ "keep", b_keep },
};

static void
k_backup(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct unit_backup	*b = &UCTX(obj)->u->backup;
	const struct ynode	*seen[nitems(backup_keys)] = { NULL };

	b->present = true;
	b->keep = UNIT_DEF_BACKUP_KEEP;
	if (!ytree_is(c, path, n, Y_MAP))
		return;
	ytree_walk(c, path, n, backup_keys, nitems(backup_keys), obj, seen);
	if (seen[0] == NULL)
		ytree_err(c, n, "%s: 'paths' is required", path);
}

/* ---- unit files ---------------------------------------------------------- */

static const struct ykey unit_keys[] = {
	{ "image", k_image },
	{ "command", k_command },
	{ "entrypoint", k_entrypoint },
	{ "environment", k_environment },
	{ "env_file", k_env_file },
	{ "ports", k_ports },
	{ "volumes", k_volumes },
	{ "depends_on", k_depends_on },
	{ "health", k_health },
	{ "replicas", k_replicas },
	{ "init", k_init },
	{ "update", k_update },
	{ "restart", k_restart },
	{ "stop_grace", k_stop_grace },
	{ "stop_signal", k_stop_signal },
	{ "resources", k_resources },
	{ "labels", k_labels },
	{ "user", k_user },
	{ "working_dir", k_working_dir },
	{ "backup", k_backup },
};

/* environment: wins over env_file:, and a later env file over an earlier. */
static void
env_merge(struct uctx *uc)
{
	struct unit		*u = uc->u;
	struct envfile_var	*v;
	size_t			 i;

	for (i = uc->envf.n; i > 0; i--) {
		v = &uc->envf.v[i - 1];
		if (!kv_has(u->env, u->nenv, v->key))
			kv_push(&u->env, &u->nenv, xstrdup(v->key),
			    xstrdup(v->value));
	}
}

/* Two containers cannot bind one host port: not two replicas, and not the
 * new and the old replica side by side during a start-first update. */
static void
check_host_ports(struct uctx *uc)
{
	struct unit	*u = uc->u;
	size_t		 i;

	for (i = 0; i < u->nports && u->ports[i].host_port == 0; i++)
		;
	if (i == u->nports)
		return;
	if (u->replicas > 1)
		ytree_err(&uc->y, uc->replicas, "replicas: %d replicas cannot "
		    "all publish host port %d; drop the host port or run one",
		    u->replicas, u->ports[i].host_port);
	if (u->update.order == UPDATE_START_FIRST)
		ytree_err(&uc->y, uc->order, "update.order: start-first "
		    "cannot be used with host port %d: the new container "
		    "could not bind it while the old one runs",
		    u->ports[i].host_port);
}

static void
unit_decode(struct uctx *uc, const struct ynode *root)
{
	const struct ynode *seen[nitems(unit_keys)] = { NULL };

	if (root == NULL) {
		diag_add(uc->y.errs, uc->y.file, 1, 1, "empty unit file: "
		    "expected a mapping with at least 'image'");
		return;
	}
	ytree_walk(&uc->y, NULL, root, unit_keys, nitems(unit_keys), uc, seen);
	if (root->type != Y_MAP)
		return;
	if (seen[0] == NULL)
		ytree_err(&uc->y, root, "missing required key 'image'");
	check_host_ports(uc);
	env_merge(uc);
	unit_sort(uc->u);
}

int
unit_yaml_load(const char *path, const char *name, const char *dir,
    const struct expand_ctx *x, struct unit **out, struct diag_list *errs)
{
	struct uctx	 uc;
	struct ynode	*root = NULL;
	size_t		 before = errs->n;
	int		 rc;

	*out = NULL;
	memset(&uc, 0, sizeof uc);
	uc.y.file = path;
	uc.y.x = x;
	uc.y.errs = errs;
	uc.dir = dir;
	if ((rc = ytree_load_file(&uc.y, path, UNIT_FILE_MAX, &root)) != 0)
		return rc;
	uc.u = xcalloc(1, sizeof *uc.u);
	uc.u->name = xstrdup(name);
	uc.u->file = xstrdup(path);
	unit_defaults(uc.u);
	unit_decode(&uc, root);
	expand_envfile_free(&uc.envf);
	ytree_free(root);
	if (errs->n != before) {
		unit_free(uc.u);
		return -EINVAL;
	}
	*out = uc.u;
	return 0;
}
