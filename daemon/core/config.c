/*
 * The configuration file, read with the ytree reader: unknown keys and
 * wrong types are errors at file:line:col.  It is read before the loop
 * runs, so plain blocking reads are fine here.  A file that someone
 * other than root or shipd's own user could change would let them
 * rewrite the policy, so such a file is refused.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/metrics_http.h"
#include "unit.h"
#include "util.h"
#include "ytree.h"

static void
root_item(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct shipd_policy	*p = obj;
	char			*s, *tidy, real[PATH_MAX];

	if ((s = ytree_string(c, path, n)) == NULL)
		return;
	if (s[0] != '/') {
		ytree_err(c, n, "%s: '%s' must be an absolute path", path, s);
		free(s);
		return;
	}
	/* Sources are judged resolved, so the roots are too; a root that
	 * does not exist (yet) is kept as written. */
	tidy = path_clean(s);
	if (realpath(tidy, real) != NULL) {
		free(tidy);
		tidy = xstrdup(real);
	}
	if (strv_contains(p->bind_roots, tidy))
		ytree_err(c, n, "%s: '%s' is listed twice", path, s);
	else {
		strv_push(&p->bind_roots, tidy);
		tidy = NULL;
	}
	free(tidy);
	free(s);
}

static void
k_bind_roots(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct shipd_policy *p = obj;

	/* An empty list is a value: no bind mount at all. */
	if (ytree_each(c, path, n, root_item, obj) && p->bind_roots == NULL)
		p->bind_roots = xcalloc(1, sizeof *p->bind_roots);
}

static void
cap_item(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct shipd_policy	*p = obj;
	char			*s, *canon;

	if ((s = ytree_string(c, path, n)) == NULL)
		return;
	if ((canon = unit_cap_canon(s)) == NULL)
		ytree_err(c, n, "%s: '%s' is not a capability name (such as "
		    "NET_BIND_SERVICE, or ALL)", path, s);
	else if (strv_contains(p->cap_add, canon)) {
		ytree_err(c, n, "%s: '%s' is listed twice", path, s);
		free(canon);
	} else
		strv_push(&p->cap_add, canon);
	free(s);
}

static void
k_cap_add(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_each(c, path, n, cap_item, obj);
}

static void
k_privileged(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_bool(c, path, n, &((struct shipd_policy *)obj)->privileged);
}

static void
k_host_network(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_bool(c, path, n, &((struct shipd_policy *)obj)->host_network);
}

static void
k_host_pid(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_bool(c, path, n, &((struct shipd_policy *)obj)->host_pid);
}

static void
k_devices(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_bool(c, path, n, &((struct shipd_policy *)obj)->devices);
}

static const struct ykey policy_keys[] = {
	{ "bind_roots", k_bind_roots },
	{ "privileged", k_privileged },
	{ "host_network", k_host_network },
	{ "host_pid", k_host_pid },
	{ "devices", k_devices },
	{ "cap_add", k_cap_add },
};

static void
k_policy(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct shipd_policy *p = &((struct shipd_conf *)obj)->policy;

	p->set = true;
	/* "policy:" with nothing under it allows nothing. */
	if (ytree_null(n))
		return;
	ytree_walk(c, path, n, policy_keys, nitems(policy_keys), p, NULL);
}

static void
k_metrics_listen(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct shipd_conf	*conf = obj;
	struct sockaddr_storage	 ss;
	char			*s;

	if ((s = ytree_string(c, path, n)) == NULL)
		return;
	if (metrics_addr_parse(s, &ss) < 0) {
		ytree_err(c, n, "%s: '%s' is not HOST:PORT (such as "
		    "127.0.0.1:9464, [::1]:9464 or :9464)", path, s);
		free(s);
		return;
	}
	free(conf->metrics_listen);
	conf->metrics_listen = s;
}

static const struct ykey metrics_keys[] = {
	{ "listen", k_metrics_listen },
};

static void
k_metrics(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	if (ytree_null(n))
		return;
	ytree_walk(c, path, n, metrics_keys, nitems(metrics_keys), obj, NULL);
}

static const struct ykey conf_keys[] = {
	{ "policy", k_policy },
	{ "metrics", k_metrics },
};

/* Only root and shipd's own user may be able to change the policy. */
static int
check_owner(const char *path, struct diag_list *errs)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		diag_add(errs, path, 0, 0, "not a regular file");
		return -EINVAL;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		diag_add(errs, path, 0, 0, "may be changed by others than root "
		    "and shipd's user (owner uid %u, mode %04o): the policy in "
		    "it would not hold; chown root and chmod go-w it",
		    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -EINVAL;
	}
	return 0;
}

int
config_load(const char *path, bool must_exist, struct shipd_conf *conf,
    struct diag_list *errs)
{
	struct yctx	 c;
	struct ynode	*root = NULL;
	size_t		 before = errs->n;
	int		 rc;

	memset(conf, 0, sizeof *conf);
	if ((rc = check_owner(path, errs)) == -ENOENT && !must_exist)
		return 0;
	if (rc < 0) {
		if (rc != -EINVAL)
			diag_add(errs, path, 0, 0, "%s", strerror(-rc));
		return rc;
	}
	/* Messages name the file wherever shipd was started from. */
	conf->path = realpath(path, NULL);
	if (conf->path == NULL)
		conf->path = xstrdup(path);
	memset(&c, 0, sizeof c);
	c.file = conf->path;
	c.errs = errs;
	if ((rc = ytree_load_file(&c, path, CONFIG_FILE_MAX, &root)) != 0) {
		config_free(conf);
		return rc;
	}
	/* An empty file is the defaults. */
	if (root != NULL)
		ytree_walk(&c, NULL, root, conf_keys, nitems(conf_keys), conf,
		    NULL);
	ytree_free(root);
	diag_sort(errs, before);
	if (errs->n != before) {
		config_free(conf);
		return -EINVAL;
	}
	return 0;
}

void
config_free(struct shipd_conf *conf)
{
	free(conf->path);
	free(conf->metrics_listen);
	strv_free(conf->policy.bind_roots);
	strv_free(conf->policy.cap_add);
	memset(conf, 0, sizeof *conf);
}

static void
list_text(struct buf *b, char *const *v, const char *none)
{
	size_t i;

	if (v == NULL || v[0] == NULL) {
		buf_printf(b, "%s", none);
		return;
	}
	for (i = 0; v[i] != NULL; i++)
		buf_printf(b, "%s%s", i ? ", " : "", v[i]);
}

char *
config_policy_text(const struct shipd_policy *p)
{
	struct buf b;

	buf_init(&b);
	if (!p->set) {
		buf_printf(&b, "no policy: units may bind-mount any host path "
		    "and use privileged, network_mode: host, pid: host, "
		    "devices and any cap_add");
		return buf_steal(&b);
	}
	buf_printf(&b, "bind_roots: ");
	list_text(&b, p->bind_roots, "none");
	buf_printf(&b, "; privileged: %s; host_network: %s; host_pid: %s; "
	    "devices: %s; cap_add: ", p->privileged ? "true" : "false",
	    p->host_network ? "true" : "false", p->host_pid ? "true" :
	    "false", p->devices ? "true" : "false");
	list_text(&b, p->cap_add, "none");
	return buf_steal(&b);
}
