/*
 * The keys of one compose service onto struct unit: the table of every
 * service key compose defines and what shipd makes of each (the ports,
 * volumes, secrets and configs are compose_io.c's).  docs/compose.md has
 * the same table for people.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "composemap.h"
#include "unithost.h"
#include "unityaml.h"
#include "util.h"

#define SV(obj)		CSVC(obj)
#define U(obj)		(CSVC(obj)->uc.u)
#define MARK(obj, f, n, path)	YMARK(&CSVC(obj)->uc.at, f, n, path)

/* A string split into words, or a list taken as it is. */
static char **
words(struct yctx *c, const char *path, const struct ynode *n, bool empty_ok)
{
	char **v, *s, *err;

	if (n->type != Y_SCALAR)
		return ytree_strv(c, path, n, false, empty_ok);
	if ((s = ytree_text(c, path, n, "a string or a list")) == NULL)
		return NULL;
	if ((v = cm_split_words(s, &err)) == NULL) {
		ytree_err(c, n, "%s: %s in '%s'", path, err, s);
		free(err);
	} else if (v[0] == NULL && !empty_ok) {
		ytree_err(c, n, "%s: must not be empty", path);
		strv_free(v);
		v = NULL;
	}
	free(s);
	return v;
}

/* ---- simple keys ---------------------------------------------------------- */

static void
k_image(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	if ((U(obj)->image = ytree_string(c, path, n)) != NULL)
		MARK(obj, UF_IMAGE, n, path);
}

/*
 * build: the keys shipd passes to the engine's build become the unit's
 * build (common/unitbuild.c); the others are losses.  The tag is image:
 * when given, else shipd's own per stack and service.
 */
static const char *const build_passed[] = {
	"context", "dockerfile", "args", "target", "labels", "cache_from",
};

static void
k_build(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct ynode	 kept = *n;
	size_t		 i, j;

	if (n->type != Y_MAP) {
		unit_yaml_build(c, path, n, obj);
		return;
	}
	kept.kids = xcalloc(n->nkids + 1, sizeof *kept.kids);
	kept.nkids = 0;
	for (i = 0; i + 1 < n->nkids; i += 2) {
		const struct ynode *k = n->kids[i];

		for (j = 0; j < nitems(build_passed); j++)
			if (k->type == Y_SCALAR &&
			    strcmp(k->str, build_passed[j]) == 0)
				break;
		if (j < nitems(build_passed)) {
			kept.kids[kept.nkids++] = n->kids[i];
			kept.kids[kept.nkids++] = n->kids[i + 1];
		} else if (k->type == Y_SCALAR && strncmp(k->str, "x-", 2) != 0)
			cm_loss(SV(obj)->m, k, "%s.%s: shipd does not pass it to "
			    "the engine's build; ignored", path, k->str);
	}
	unit_yaml_build(c, path, &kept, obj);
	free(kept.kids);
}

static void
k_command(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	if (ytree_null(n))
		return;
	strv_free(U(obj)->command);
	U(obj)->command = words(c, path, n, false);
}

static void
k_entrypoint(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	if (ytree_null(n))
		return;
	strv_free(U(obj)->entrypoint);
	U(obj)->entrypoint = words(c, path, n, true);
}

static void
kv_add(void *obj, enum unit_field f, const struct ynode *at,
    const char *path, char *key, char *value)
{
	struct unit	 *u = U(obj);
	struct unit_kv	**v = &u->labels;
	size_t		 *nv = &u->nlabels, i;

	if (f == UF_ENV) {
		v = &u->env;
		nv = &u->nenv;
	} else if (f == UF_SYSCTL) {
		v = &u->sysctls;
		nv = &u->nsysctls;
	} else if (f == UF_ULIMIT) {
		v = &u->ulimits;
		nv = &u->nulimits;
	}

	for (i = 0; i < *nv; i++) {
		if (strcmp((*v)[i].key, key) == 0)
			break;
	}
	if (i < *nv) {		/* compose: the later one wins */
		free((*v)[i].value);
		(*v)[i].value = value;
		free(key);
		return;
	}
	*v = xrealloc(*v, (*nv + 1) * sizeof **v);
	(*v)[*nv].key = key;
	(*v)[(*nv)++].value = value;
	MARK(obj, f, at, path);
}

struct kvarg {
	void		*obj;
	enum unit_field	 f;
};

/* A KEY with no value: compose passes the caller's, which the loader has
 * not put in; nothing to send. */
static void
kv_entry(struct yctx *c, const struct ykv *e, void *arg)
{
	struct kvarg *a = arg;

	(void)c;
	if (e->value != NULL)
		kv_add(a->obj, a->f, e->at, e->path, xstrdup(e->key),
		    xstrdup(e->value));
	else if (a->f != UF_ENV)
		kv_add(a->obj, a->f, e->at, e->epath, xstrdup(e->key),
		    xstrdup(""));
	else
		cm_loss(SV(a->obj)->m, e->at, "%s: %s has no value: compose "
		    "would pass the caller's $%s; shipd leaves it unset",
		    e->epath, e->key, e->key);
}

static void
kv_decode(struct yctx *c, const char *path, const struct ynode *n,
    void *obj, enum unit_field f)
{
	struct kvarg a = { obj, f };

	if (!ytree_null(n))
		ytree_kv(c, path, n, true, kv_entry, &a);
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
k_sysctls(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	kv_decode(c, path, n, obj, UF_SYSCTL);
}

/* NAME: N, or NAME: {soft: N, hard: M}; as "N" or "N:M". */
static void
k_ulimits(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	const struct ynode	*k, *v, *soft, *hard;
	char			*ipath, *s;
	size_t			 i;

	if (!ytree_is(c, path, n, Y_MAP))
		return;
	for (i = 0; i + 1 < n->nkids; i += 2) {
		if ((k = ytree_map_key(c, n, i)) == NULL)
			continue;
		v = n->kids[i + 1];
		ipath = ytree_path(path, k->str);
		s = NULL;
		if (v->type != Y_MAP)
			s = ytree_text(c, ipath, v, "a number or soft/hard");
		else if ((soft = cm_get(v, "soft")) == NULL ||
		    (hard = cm_get(v, "hard")) == NULL ||
		    soft->type != Y_SCALAR || hard->type != Y_SCALAR)
			ytree_err(c, v, "%s: expected soft: and hard: numbers",
			    ipath);
		else
			xasprintf(&s, "%s:%s", soft->str, hard->str);
		if (s != NULL)
			kv_add(obj, UF_ULIMIT, k, path, xstrdup(k->str), s);
		free(ipath);
	}
}

static void
env_file_one(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	const struct ynode	*p = n, *r;
	bool			 required = true;
	char			*name, *full;
	int			 rc;

	if (n->type == Y_MAP) {
		if ((p = cm_get(n, "path")) == NULL) {
			ytree_err(c, n, "%s: path: is required", path);
			return;
		}
		if ((r = cm_get(n, "required")) != NULL)
			ytree_bool(c, path, r, &required);
		if ((r = cm_get(n, "format")) != NULL && r->type ==
		    Y_SCALAR && strcmp(r->str, "raw") == 0)
			cm_loss(SV(obj)->m, r, "%s.format: raw is read as "
			    "KEY=VALUE lines like the default", path);
	}
	if ((name = ytree_string(c, path, p)) == NULL)
		return;
	full = cm_path(SV(obj)->m, name);
	rc = expand_envfile_load(full, &SV(obj)->uc.envf, c->errs);
	if (rc == -ENOENT && !required)
		;
	else if (rc != 0 && rc != -EINVAL)
		ytree_err(c, p, "%s: cannot read '%s': %s", path, name,
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

static void
k_scale(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	if (ytree_int(c, path, n, UNIT_REPLICAS_MIN, UNIT_REPLICAS_MAX,
	    &U(obj)->replicas) == 0)
		MARK(obj, UF_REPLICAS, n, path);
}

static void
k_init(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_bool(c, path, n, &U(obj)->init);
}

static void
k_stop_grace(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_duration(c, path, n, 0, &U(obj)->stop_grace_ms);
}

static void
k_stop_signal(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	if ((U(obj)->stop_signal = ytree_string(c, path, n)) != NULL)
		MARK(obj, UF_STOP_SIGNAL, n, path);
}

static void
k_user(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	U(obj)->user = ytree_string(c, path, n);
}

static void
k_working_dir(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	if ((U(obj)->working_dir = ytree_string(c, path, n)) != NULL)
		MARK(obj, UF_WORKING_DIR, n, path);
}

static void
k_hostname(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	free(U(obj)->hostname);
	if ((U(obj)->hostname = ytree_string(c, path, n)) != NULL)
		MARK(obj, UF_HOSTNAME, n, path);
}

static void
extra_host_add(void *obj, const struct ynode *at, const char *path,
    char *entry)
{
	struct unit	*u = U(obj);
	size_t		 n = 0;

	while (u->extra_hosts != NULL && u->extra_hosts[n] != NULL)
		n++;
	u->extra_hosts = xrealloc(u->extra_hosts, (n + 2) *
	    sizeof *u->extra_hosts);
	u->extra_hosts[n] = entry;
	u->extra_hosts[n + 1] = NULL;
	MARK(obj, UF_EXTRA_HOST, at, path);
}

/* A list of "HOST:IP" or "HOST=IP", or a mapping HOST: IP. */
static void
k_extra_hosts(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	const struct ynode	*k;
	char			*s, *ipath, *eq;
	size_t			 i;

	if (n->type == Y_SEQ) {
		for (i = 0; i < n->nkids; i++) {
			xasprintf(&ipath, "%s[%zu]", path, i);
			if ((s = ytree_text(c, ipath, n->kids[i],
			    "HOST:IP")) != NULL) {
				if ((eq = strchr(s, '=')) != NULL)
					*eq = ':';
				extra_host_add(obj, n->kids[i], ipath, s);
			}
			free(ipath);
		}
		return;
	}
	if (!ytree_is(c, path, n, Y_MAP))
		return;
	for (i = 0; i + 1 < n->nkids; i += 2) {
		if ((k = ytree_map_key(c, n, i)) == NULL)
			continue;
		ipath = ytree_path(path, k->str);
		if ((s = ytree_text(c, ipath, n->kids[i + 1], "an address")) !=
		    NULL) {
			xasprintf(&eq, "%s:%s", k->str, s);
			extra_host_add(obj, k, ipath, eq);
			free(s);
		}
		free(ipath);
	}
}

static void
k_mem_limit(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	cm_memory(c, path, n, obj);
}

static void
k_cpus(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	cm_cpus(c, path, n, obj);
}

/* ---- networks -------------------------------------------------------------- */

static void
net_add(struct yctx *c, const char *path, const struct ynode *at,
    const char *name, void *obj)
{
	struct unit	*u = U(obj);
	struct unit_net	*net;

	if (strcmp(name, "default") != 0 &&
	    !cm_declared(SV(obj)->m->networks, name)) {
		ytree_err(c, at, "%s: network '%s' is not declared under the "
		    "top-level networks:", path, name);
		return;
	}
	u->networks = xrealloc(u->networks, (u->nnetworks + 1) *
	    sizeof *u->networks);
	net = &u->networks[u->nnetworks++];
	net->name = xstrdup(name);
	net->line = at->line;
	net->col = at->col;
	MARK(obj, UF_UNIT_NET, at, path);
}

static void
k_networks(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	static const char *const keys[] = { NULL };
	const struct ynode	*k;
	char			*s, *ipath;
	size_t			 i;

	SV(obj)->networks_key = n;
	if (n->type == Y_SEQ) {
		for (i = 0; i < n->nkids; i++) {
			xasprintf(&ipath, "%s[%zu]", path, i);
			if ((s = ytree_text(c, ipath, n->kids[i],
			    "a network name")) != NULL)
				net_add(c, ipath, n->kids[i], s, obj);
			free(s);
			free(ipath);
		}
	} else if (ytree_is(c, path, n, Y_MAP)) {
		for (i = 0; i + 1 < n->nkids; i += 2) {
			if ((k = ytree_map_key(c, n, i)) == NULL)
				continue;
			ipath = ytree_path(path, k->str);
			net_add(c, ipath, k, k->str, obj);
			if (!ytree_null(n->kids[i + 1]))
				cm_lost_others(c, ipath, n->kids[i + 1], obj,
				    keys, "shipd attaches services by name "
				    "only; ignored");
			free(ipath);
		}
	}
	if (U(obj)->nnetworks == 0 && n->nkids == 0)
		ytree_err(c, n, "%s: list at least one network, or leave "
		    "networks out for the default one", path);
}

/* ---- what shipd refuses or cannot honour ------------------------------------ */

static void
k_ignore(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	(void)c;
	(void)path;
	(void)n;
	(void)obj;
}

static void
k_lost(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	(void)c;
	cm_loss(SV(obj)->m, n, "%s: not supported by shipd; ignored", path);
}

/* Changes what runs on the host: the policy decides, not the file. */
static void
k_host(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	(void)obj;
	if (ytree_null(n) || (n->type == Y_SCALAR && strcmp(n->str,
	    "false") == 0) || (n->type == Y_SEQ && n->nkids == 0))
		return;
	ytree_err(c, n, "%s changes what runs on the host, and shipd has no "
	    "unit key or policy rule for it (docs/compose.md): refused", path);
}

static void
k_container_name(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	(void)c;
	cm_loss(SV(obj)->m, n, "%s: shipd names containers itself "
	    "(STACK-SERVICE-N); ignored", path);
}

static void
k_links(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	(void)c;
	cm_loss(SV(obj)->m, n, "%s: services reach each other by service "
	    "name on the stack's networks; link aliases are ignored", path);
}

/* pull_policy: compose's always, never, missing (if_not_present) and
 * build are the unit's; daily, weekly and every_N pull as missing. */
static void
k_pull_policy(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	if (n->type == Y_SCALAR && strcmp(n->str, "if_not_present") == 0) {
		U(obj)->pull_policy = PULL_MISSING;
		return;
	}
	if (n->type == Y_SCALAR && unit_pull_policy_parse(n->str,
	    &U(obj)->pull_policy) == 0)
		return;
	if (n->type == Y_SCALAR && (strcmp(n->str, "daily") == 0 ||
	    strcmp(n->str, "weekly") == 0 || strncmp(n->str, "every_", 6) == 0)) {
		cm_loss(SV(obj)->m, n, "%s: shipd does not pull on a schedule; "
		    "'%s' pulls as missing does", path, n->str);
		return;
	}
	ytree_err(c, n, "%s: expected always, never, missing, build, "
	    "if_not_present, daily, weekly or every_<duration>", path);
}

/* x-shipd: what only a unit file can say. */
static const struct ykey shipd_keys[] = {
	{ "backup", unit_yaml_backup },
	{ "health", unit_yaml_health },
	{ "on_unhealthy", unit_yaml_on_unhealthy },
	{ "update", unit_yaml_update },
};

void
cm_service_shipd(struct csvc *sv, const struct ynode *k, const struct ynode *n)
{
	char *path;

	xasprintf(&path, "services.%s.x-shipd", sv->name);
	if (cm_get(n, "health") != NULL && sv->healthcheck != NULL)
		ytree_err(&sv->uc.y, cm_get(n, "health"), "%s.health: set "
		    "healthcheck: or x-shipd.health:, not both", path);
	else
		ytree_walk(&sv->uc.y, path, n, shipd_keys, nitems(shipd_keys),
		    sv, NULL);
	(void)k;
	free(path);
}

const struct cmkey cm_service_keys[] = {
	{ "annotations", k_lost },
	{ "attach", k_lost },
	{ "blkio_config", k_lost },
	{ "build", k_build },
	{ "cap_add", unit_yaml_cap_add },
	{ "cap_drop", unit_yaml_cap_drop },
	{ "cgroup", k_lost },
	{ "cgroup_parent", k_lost },
	{ "command", k_command },
	{ "configs", cm_configs },
	{ "container_name", k_container_name },
	{ "cpu_count", k_lost },
	{ "cpu_percent", k_lost },
	{ "cpu_period", k_lost },
	{ "cpu_quota", k_lost },
	{ "cpu_rt_period", k_lost },
	{ "cpu_rt_runtime", k_lost },
	{ "cpu_shares", k_lost },
	{ "cpus", k_cpus },
	{ "cpuset", k_lost },
	{ "credential_spec", k_lost },
	{ "depends_on", cm_depends_on },
	{ "deploy", cm_deploy },
	{ "develop", k_lost },
	{ "device_cgroup_rules", k_host },
	{ "devices", unit_yaml_devices },
	{ "dns", k_lost },
	{ "dns_opt", k_lost },
	{ "dns_search", k_lost },
	{ "domainname", k_lost },
	{ "entrypoint", k_entrypoint },
	{ "env_file", k_env_file },
	{ "environment", k_environment },
	{ "expose", cm_expose },
	{ "extends", k_ignore },	/* the loader resolved it */
	{ "external_links", k_links },
	{ "extra_hosts", k_extra_hosts },
	{ "gpus", k_host },
	{ "group_add", k_lost },
	{ "healthcheck", cm_healthcheck },
	{ "hostname", k_hostname },
	{ "image", k_image },
	{ "init", k_init },
	{ "ipc", k_host },
	{ "isolation", k_lost },
	{ "label_file", k_lost },
	{ "labels", k_labels },
	{ "links", k_links },
	{ "logging", k_lost },
	{ "mac_address", k_lost },
	{ "mem_limit", k_mem_limit },
	{ "mem_reservation", k_lost },
	{ "mem_swappiness", k_lost },
	{ "memswap_limit", k_lost },
	{ "network_mode", unit_yaml_network_mode },
	{ "networks", k_networks },
	{ "oom_kill_disable", k_lost },
	{ "oom_score_adj", k_lost },
	{ "pid", unit_yaml_pid },
	{ "pids_limit", k_lost },
	{ "platform", k_lost },
	{ "ports", cm_ports },
	{ "post_start", k_lost },
	{ "pre_stop", k_lost },
	{ "privileged", unit_yaml_privileged },
	{ "profiles", k_ignore },	/* the loader applied them */
	{ "pull_policy", k_pull_policy },
	{ "read_only", k_lost },
	{ "restart", unit_yaml_restart },
	{ "runtime", k_lost },
	{ "scale", k_scale },
	{ "secrets", cm_secrets },
	{ "security_opt", k_host },
	{ "shm_size", k_lost },
	{ "stdin_open", k_lost },
	{ "stop_grace_period", k_stop_grace },
	{ "stop_signal", k_stop_signal },
	{ "storage_opt", k_lost },
	{ "sysctls", k_sysctls },
	{ "tmpfs", cm_tmpfs },
	{ "tty", k_lost },
	{ "ulimits", k_ulimits },
	{ "user", k_user },
	{ "userns_mode", k_host },
	{ "uts", k_host },
	{ "volumes", cm_volumes },
	{ "volumes_from", k_lost },
	{ "working_dir", k_working_dir },
};

const size_t cm_nservice_keys = nitems(cm_service_keys);
