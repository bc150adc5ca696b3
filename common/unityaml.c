/*
 * A unit file, <service>.yaml: its top-level keys and their short syntax
 * ("8080:80", "./data:/data:ro") decoded from a ytree into struct unit
 * (the mapping-valued keys are unitsections.c's), then held to
 * unitcheck.c's rules with each field's line and column.
 * docs/units.md is the reference for what is accepted.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unithost.h"
#include "unityaml.h"
#include "util.h"

/* ---- scalars and lists --------------------------------------------------- */

static void
k_image(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	if ((UCTX(obj)->u->image = ytree_string(c, path, n)) != NULL)
		YMARK(&UCTX(obj)->at, UF_IMAGE, n, path);
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

/* One entry of environment: or labels: (f), noted at node at. */
static void
kv_add(struct uctx *uc, enum unit_field f, const struct ynode *at,
    const char *path, char *key, char *value)
{
	struct unit *u = uc->u;

	if (f == UF_ENV)
		unit_kv_push(&u->env, &u->nenv, key, value);
	else if (f == UF_SYSCTL)
		unit_kv_push(&u->sysctls, &u->nsysctls, key, value);
	else if (f == UF_ULIMIT)
		unit_kv_push(&u->ulimits, &u->nulimits, key, value);
	else
		unit_kv_push(&u->labels, &u->nlabels, key, value);
	YMARK(&uc->at, f, at, path);
}

struct kvarg {
	struct uctx	*uc;
	enum unit_field	 f;
};

static void
kv_entry(struct yctx *c, const struct ykv *e, void *arg)
{
	struct kvarg *a = arg;

	(void)c;
	kv_add(a->uc, a->f, e->at, e->path, xstrdup(e->key),
	    xstrdup(e->value));
}

/* KEY: value mapping, or (environment, labels) a list of "KEY=VALUE". */
static void
kv_decode(struct yctx *c, const char *path, const struct ynode *n,
    struct uctx *uc, enum unit_field f)
{
	struct kvarg a = { uc, f };

	/* sysctls: and ulimits: are mappings only. */
	if (f != UF_ENV && f != UF_LABEL && !ytree_is(c, path, n, Y_MAP))
		return;
	ytree_kv(c, path, n, false, kv_entry, &a);
}

static void
k_environment(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	kv_decode(c, path, n, obj, UF_ENV);
}

static void
k_labels(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	kv_decode(c, path, n, obj, UF_LABEL);
}

static void
env_file_one(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct uctx	*uc = obj;
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
	if (n->type != Y_SEQ)
		env_file_one(c, path, n, obj);
	else
		ytree_each(c, path, n, env_file_one, obj);
}

/* Whether a short-syntax entry parsed; if not, says so naming it. */
static bool
entry_ok(struct yctx *c, const char *path, const struct ynode *n,
    const char *text, char *err)
{
	if (err == NULL)
		return true;
	ytree_err(c, n, "%s: %s in '%s'", path, err, text);
	free(err);
	return false;
}

static void
port_item(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct unit		*u = UCTX(obj)->u;
	struct unit_port	 p;
	char			*s;

	if (n->type == Y_MAP) {
		ytree_err(c, n, "%s: write \"HOST:CONTAINER\" or \"CONTAINER\" "
		    "(compose's long syntax {target, published} differs, see "
		    "docs/units.md)", path);
		return;
	}
	if ((s = ytree_text(c, path, n, "a port")) == NULL)
		return;
	if (entry_ok(c, path, n, s, unit_port_parse(s, &p))) {
		u->ports = xrealloc(u->ports, (u->nports + 1) * sizeof p);
		u->ports[u->nports++] = p;
		YMARK(&UCTX(obj)->at, UF_PORT, n, path);
	}
	free(s);
}

/*
 * The engine does not create bind sources, and only shipctl may look at
 * the caller's files (shipd never opens client paths), so the loader
 * checks here, with the caller's permissions.  A path it may not search
 * is left to the engine: it may well exist.
 */
static void
bind_check(struct yctx *c, const char *path, const struct ynode *n,
    const struct unit_mount *m)
{
	struct stat st;

	if (m->kind != MOUNT_BIND || stat(m->source, &st) == 0)
		return;
	if (errno == ENOENT || errno == ENOTDIR)
		ytree_err(c, n, "%s: bind source '%s' does not exist (the "
		    "engine does not create it)", path, m->source);
	else if (errno != EACCES)
		ytree_err(c, n, "%s: bind source '%s': %s", path, m->source,
		    strerror(errno));
}

static void
mount_item(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct unit		*u = UCTX(obj)->u;
	struct unit_mount	 m;
	char			*s;

	if (n->type == Y_MAP) {
		ytree_err(c, n, "%s: write \"SOURCE:TARGET[:ro]\" (compose's "
		    "long syntax {type, source, target} differs, see "
		    "docs/units.md)", path);
		return;
	}
	if ((s = ytree_text(c, path, n, "a volume")) == NULL)
		return;
	if (entry_ok(c, path, n, s, unit_mount_parse(s, UCTX(obj)->dir, &m))) {
		u->mounts = xrealloc(u->mounts, (u->nmounts + 1) * sizeof m);
		u->mounts[u->nmounts++] = m;
		YMARK(&UCTX(obj)->at, UF_MOUNT, n, path);
		bind_check(c, path, n, &m);
	}
	free(s);
}

static void
k_ports(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_each(c, path, n, port_item, obj);
}

static void
k_volumes(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_each(c, path, n, mount_item, obj);
}

void
unit_yaml_dep_add(struct uctx *uc, const struct ynode *at, const char *path,
    const char *name, enum dep_cond cond)
{
	struct unit	*u = uc->u;
	struct unit_dep	*d;

	u->deps = xrealloc(u->deps, (u->ndeps + 1) * sizeof *u->deps);
	d = &u->deps[u->ndeps++];
	memset(d, 0, sizeof *d);
	d->name = xstrdup(name);
	d->cond = cond;
	d->line = at->line;
	d->col = at->col;
	YMARK(&uc->at, UF_DEP, at, path);
}

static void
dep_item(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	char *s;

	if ((s = ytree_text(c, path, n, "a service name")) != NULL)
		unit_yaml_dep_add(obj, n, path, s, DEP_STARTED);
	free(s);
}

static void
k_depends_on(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	const struct ynode	*k;
	enum dep_cond		 cond;
	char			*s, *ipath;
	size_t			 i;

	if (n->type == Y_SEQ) {
		ytree_each(c, path, n, dep_item, obj);
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
		if (n->kids[i + 1]->type == Y_MAP) {
			ytree_err(c, n->kids[i + 1], "%s: write %s: healthy (or "
			    "started, completed): compose's {condition: "
			    "service_healthy} differs, see docs/units.md", ipath,
			    k->str);
			free(ipath);
			continue;
		}
		s = ytree_text(c, ipath, n->kids[i + 1], "a condition");
		if (s != NULL && unit_dep_cond_parse(s, &cond) != 0)
			ytree_err(c, n->kids[i + 1], "%s: expected started, "
			    "healthy or completed, got '%s'%s", ipath, s,
			    strncmp(s, "service_", 8) == 0 ? " (compose's "
			    "service_healthy is healthy here, see docs/units.md)"
			    : "");
		else if (s != NULL)
			unit_yaml_dep_add(obj, k, path, k->str, cond);
		free(s);
		free(ipath);
	}
}

static void
net_item(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct unit	*u = UCTX(obj)->u;
	struct unit_net	*net;
	char		*s;

	if ((s = ytree_text(c, path, n, "a network name")) == NULL)
		return;
	u->networks = xrealloc(u->networks, (u->nnetworks + 1) *
	    sizeof *u->networks);
	net = &u->networks[u->nnetworks++];
	net->name = s;
	net->line = n->line;
	net->col = n->col;
	YMARK(&UCTX(obj)->at, UF_UNIT_NET, n, path);
}

/* An empty list would be a service on no network at all: unreachable,
 * and the engine would put it on its own bridge instead. */
static void
k_networks(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	if (n->type == Y_SEQ && n->nkids == 0) {
		ytree_err(c, n, "%s: list at least one network, or leave "
		    "networks out to join every network of the stack", path);
		return;
	}
	ytree_each(c, path, n, net_item, obj);
}

static void
k_replicas(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	if (ytree_int(c, path, n, UNIT_REPLICAS_MIN, UNIT_REPLICAS_MAX,
	    &UCTX(obj)->u->replicas) == 0)
		YMARK(&UCTX(obj)->at, UF_REPLICAS, n, path);
}

static void
k_init(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_bool(c, path, n, &UCTX(obj)->u->init);
}

void
unit_yaml_on_unhealthy(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	char *s;

	if ((s = ytree_text(c, path, n, "restart or none")) == NULL)
		return;
	if (unit_heal_parse(s, &UCTX(obj)->u->on_unhealthy) != 0)
		ytree_err(c, n, "%s: expected restart or none, got '%s'", path,
		    s);
	free(s);
}

void
unit_yaml_restart(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
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
		YMARK(&UCTX(obj)->at, UF_RESTART, n, path);
	}
	free(s);
}

static void
k_stop_grace(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_duration(c, path, n, 0, &UCTX(obj)->u->stop_grace_ms);
}

/* A string the validator judges, noted where it was written. */
static char *
noted_string(struct yctx *c, const char *path, const struct ynode *n,
    void *obj, enum unit_field f)
{
	char *s;

	if ((s = ytree_string(c, path, n)) != NULL)
		YMARK(&UCTX(obj)->at, f, n, path);
	return s;
}

static void
k_stop_signal(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	UCTX(obj)->u->stop_signal = noted_string(c, path, n, obj,
	    UF_STOP_SIGNAL);
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
	UCTX(obj)->u->working_dir = noted_string(c, path, n, obj,
	    UF_WORKING_DIR);
}

static void
k_hostname(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	UCTX(obj)->u->hostname = noted_string(c, path, n, obj, UF_HOSTNAME);
}

static void
k_extra_hosts(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	size_t i;

	if ((UCTX(obj)->u->extra_hosts = ytree_strv(c, path, n, false,
	    true)) == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		unit_mark(&UCTX(obj)->at, UF_EXTRA_HOST, n->kids[i]->file,
		    n->kids[i]->line,
		    n->kids[i]->col, "%s[%zu]", path, i);
}

static void
k_sysctls(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	kv_decode(c, path, n, obj, UF_SYSCTL);
}

static void
k_ulimits(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	kv_decode(c, path, n, obj, UF_ULIMIT);
}

static void
k_tmpfs(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	size_t i;

	if ((UCTX(obj)->u->tmpfs = ytree_strv(c, path, n, false, true)) ==
	    NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		unit_mark(&UCTX(obj)->at, UF_TMPFS, n->kids[i]->file,
		    n->kids[i]->line,
		    n->kids[i]->col, "%s[%zu]", path, i);
}

/* ---- short syntax ------------------------------------------------------- */

char *
unit_port_parse(const char *spec, struct unit_port *p)
{
	char	*s = xstrdup(spec), *proto, *f[3], *q, *err = NULL;
	size_t	 n = 0;

	memset(p, 0, sizeof *p);
	snprintf(p->proto, sizeof p->proto, "tcp");
	if ((proto = strrchr(s, '/')) != NULL) {
		*proto++ = '\0';
		if (!unit_proto_valid(proto)) {
			xasprintf(&err, "protocol must be tcp or udp, not '%s'",
			    proto);
			goto out;
		}
		snprintf(p->proto, sizeof p->proto, "%s", proto);
	}
	q = s;
	if (*q == '[') {	/* [::1]:8080:80 */
		f[n++] = q + 1;
		if ((q = strchr(q, ']')) == NULL || q[1] != ':') {
			err = xstrdup("expected [IPV6]:HOST:CONTAINER");
			goto out;
		}
		*q = '\0';
		q += 2;
	}
	for (f[n++] = q; (q = strchr(q, ':')) != NULL && n < 3; f[n++] = q)
		*q++ = '\0';
	if (q != NULL) {
		err = xstrdup("expected CONTAINER, HOST:CONTAINER or "
		    "IP:HOST:CONTAINER");
		goto out;
	}
	if (n >= 2 && unit_port_number(f[n - 2], &p->host_port) != 0) {
		xasprintf(&err, "invalid host port '%s' (expected 1-65535)",
		    f[n - 2]);
		goto out;
	}
	if (unit_port_number(f[n - 1], &p->container_port) != 0) {
		xasprintf(&err, "invalid container port '%s' (expected "
		    "1-65535)", f[n - 1]);
		goto out;
	}
	if (n == 3)
		p->host_ip = xstrdup(f[0]);
	if ((err = unit_port_problem(p)) != NULL) {
		free(p->host_ip);
		p->host_ip = NULL;
	}
out:
	free(s);
	return err;
}


static bool
is_relative_bind(const char *s)
{
	return strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
	    strncmp(s, "./", 2) == 0 || strncmp(s, "../", 3) == 0;
}

char *
unit_mount_parse(const char *spec, const char *dir, struct unit_mount *m)
{
	char	*s = xstrdup(spec), *f[4], *q = s, *err = NULL, *tmp;
	size_t	 n = 0;

	memset(m, 0, sizeof *m);
	for (f[n++] = q; (q = strchr(q, ':')) != NULL && n < 4; f[n++] = q)
		*q++ = '\0';
	if (n < 2 || n > 3 || *f[0] == '\0') {
		err = xstrdup("expected SOURCE:TARGET or SOURCE:TARGET:ro");
		goto out;
	}
	if (n == 3 && strcmp(f[2], "ro") != 0 && strcmp(f[2], "rw") != 0) {
		xasprintf(&err, "mode must be ro or rw, not '%s'", f[2]);
		goto out;
	}
	m->ro = n == 3 && strcmp(f[2], "ro") == 0;
	if (f[0][0] == '/' || is_relative_bind(f[0])) {
		m->kind = MOUNT_BIND;
		if (f[0][0] == '/')
			m->source = path_clean(f[0]);
		else {
			xasprintf(&tmp, "%s/%s", dir, f[0]);
			m->source = path_clean(tmp);
			free(tmp);
		}
	} else if (unit_volume_name_valid(f[0])) {
		m->kind = MOUNT_VOLUME;
		m->source = xstrdup(f[0]);
	}
	/* A relative target stays as written, for the message. */
	m->target = f[1][0] == '/' ? path_clean(f[1]) : xstrdup(f[1]);
	/* A bad target is named first, then a source that is neither. */
	if (m->source == NULL && unit_abs_path_valid(m->target))
		xasprintf(&err, "'%s' is neither a volume name nor a path "
		    "(bind mounts start with /, ./ or ../)", f[0]);
	else
		err = unit_mount_problem(m);
	if (err != NULL) {
		free(m->source);
		free(m->target);
		m->source = m->target = NULL;
	}
out:
	free(s);
	return err;
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
	{ "networks", k_networks },
	{ "health", unit_yaml_health },
	{ "replicas", k_replicas },
	{ "init", k_init },
	{ "update", unit_yaml_update },
	{ "restart", unit_yaml_restart },
	{ "on_unhealthy", unit_yaml_on_unhealthy },
	{ "stop_grace", k_stop_grace },
	{ "stop_signal", k_stop_signal },
	{ "resources", unit_yaml_resources },
	{ "labels", k_labels },
	{ "user", k_user },
	{ "working_dir", k_working_dir },
	{ "hostname", k_hostname },
	{ "extra_hosts", k_extra_hosts },
	{ "sysctls", k_sysctls },
	{ "tmpfs", k_tmpfs },
	{ "ulimits", k_ulimits },
	{ "backup", unit_yaml_backup },
	{ "privileged", unit_yaml_privileged },
	{ "network_mode", unit_yaml_network_mode },
	{ "pid", unit_yaml_pid },
	{ "devices", unit_yaml_devices },
	{ "cap_add", unit_yaml_cap_add },
	{ "cap_drop", unit_yaml_cap_drop },
	{ "build", unit_yaml_build },
	{ "pull_policy", unit_yaml_pull_policy },
	{ "autoscale", unit_yaml_autoscale },
};

/* environment: wins over env_file:, and a later env file over an earlier.
 * After the validator: env files check their own keys, at their lines. */
void
unit_yaml_env_merge(struct uctx *uc)
{
	struct unit		*u = uc->u;
	struct envfile_var	*v;
	size_t			 i;

	for (i = uc->envf.n; i > 0; i--) {
		v = &uc->envf.v[i - 1];
		if (!unit_kv_has(u->env, u->nenv, v->key))
			unit_kv_push(&u->env, &u->nenv, xstrdup(v->key),
			    xstrdup(v->value));
	}
}

static void
unit_decode(struct uctx *uc, const struct ynode *root)
{
	const struct ynode	*seen[nitems(unit_keys)] = { NULL };
	struct unit_where	 w;

	if (root == NULL) {
		diag_add(uc->y.errs, uc->y.file, 1, 1, "empty unit file: "
		    "expected a mapping with at least 'image'");
		return;
	}
	unit_yaml_walk(&uc->y, NULL, root, unit_keys, nitems(unit_keys), uc,
	    seen);
	if (root->type != Y_MAP)
		return;
	if (seen[0] == NULL && !uc->u->build.present)
		ytree_err(&uc->y, root, "missing required key 'image' "
		    "(or 'build')");
	/* An autoscaled service starts at min unless replicas says. */
	if (uc->u->autoscale.present && uc->at.n[UF_REPLICAS] == 0)
		uc->u->replicas = uc->u->autoscale.min;
	/* Before sorting: items are noted in file order. */
	unit_marks_where(&uc->at, &w);
	unit_validate(uc->u, &w, uc->y.errs);
	unit_yaml_env_merge(uc);
	unit_sort(uc->u);
}

int
unit_yaml_load(const char *path, const char *name, const char *dir,
    const struct expand_ctx *x, struct unit **out, struct diag_list *errs)
{
	struct yctx	 c = { path, x, errs, false };
	struct ynode	*root = NULL;
	int		 rc;

	*out = NULL;
	if ((rc = ytree_load_file(&c, path, UNIT_FILE_MAX, &root)) != 0)
		return rc;
	return unit_yaml_decode(path, name, dir, x, root, out, errs);
}

int
unit_yaml_decode(const char *path, const char *name, const char *dir,
    const struct expand_ctx *x, struct ynode *root, struct unit **out,
    struct diag_list *errs)
{
	struct uctx	 uc;
	size_t		 before = errs->n;

	*out = NULL;
	memset(&uc, 0, sizeof uc);
	uc.y.file = path;
	uc.y.x = x;
	uc.y.errs = errs;
	uc.dir = dir;
	uc.at.file = path;
	uc.u = xcalloc(1, sizeof *uc.u);
	uc.u->name = xstrdup(name);
	uc.u->file = xstrdup(path);
	unit_defaults(uc.u);
	unit_decode(&uc, root);
	diag_sort(errs, before);
	unit_marks_free(&uc.at);
	expand_envfile_free(&uc.envf);
	ytree_free(root);
	if (errs->n != before) {
		unit_free(uc.u);
		return -EINVAL;
	}
	*out = uc.u;
	return 0;
}
