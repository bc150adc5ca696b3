/*
 * compose's merge rules as a table for ytree_merge (compose-spec
 * 13-merge.md; 05-services.md "extends", "Merging service definitions")
 * and its interpolation of values (12-interpolation.md).  What the
 * specification leaves open (nulls, a string for a list, which entries
 * are the same) follows compose-go's override/merge.go and uncity.go.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose_int.h"
#include "util.h"

static const char *
text(const struct ynode *n)
{
	return n != NULL && n->type == Y_SCALAR && n->str != NULL ? n->str : "";
}

/* The target of "src:target[:mode]", of "target" alone, or of a long
 * syntax's target: member. */
static char *
target_key(const struct ynode *n)
{
	const char *s, *a, *b;

	if (n->type == Y_MAP) {
		/* No target: an error for the mapper, not a match. */
		s = text(ytree_get(n, "target"));
		return *s ? xstrdup(s) : NULL;
	}
	if (n->type != Y_SCALAR)
		return NULL;
	s = text(n);
	if ((a = strchr(s, ':')) == NULL)
		return xstrdup(s);
	a++;
	b = strchr(a, ':');
	return b ? xstrndup(a, (size_t)(b - a)) : xstrdup(a);
}

/* A volume is one per target: "src:target[:mode]", "target", or long. */
char *
compose_volume_key(const struct ynode *n)
{
	return target_key(n);
}

/* Secrets and configs: the target path, given or implied by the source. */
static char *
mount_key(const struct ynode *n, const char *dir)
{
	const char	*t;
	char		*k;

	if (n->type == Y_MAP) {
		t = text(ytree_get(n, "target"));
		if (*t == '\0')
			t = text(ytree_get(n, "source"));
	} else if (n->type == Y_SCALAR)
		t = text(n);
	else
		return NULL;
	if (*t == '\0')
		return NULL;
	if (*t == '/')
		return xstrdup(t);
	xasprintf(&k, "%s/%s", dir, t);
	return k;
}

static char *
secret_key(const struct ynode *n)
{
	return mount_key(n, "/run/secrets");
}

static char *
config_key(const struct ynode *n)
{
	return mount_key(n, "");
}

/*
 * A port's identity: host ip, published port, target port and protocol,
 * whether it is written "[ip:][published:]target[/proto]" or long.
 */
char *
compose_port_key(const struct ynode *n)
{
	const char	*ip = "", *pub = "", *tgt, *proto = "tcp";
	char		*s, *p, *slash, *colon, *k;

	if (n->type == Y_MAP) {
		if (ytree_get(n, "host_ip"))
			ip = text(ytree_get(n, "host_ip"));
		if (ytree_get(n, "published"))
			pub = text(ytree_get(n, "published"));
		if (ytree_get(n, "protocol"))
			proto = text(ytree_get(n, "protocol"));
		if (*text(ytree_get(n, "target")) == '\0')
			return NULL;
		xasprintf(&k, "%s|%s|%s/%s", ip, pub,
		    text(ytree_get(n, "target")), proto);
		return k;
	}
	if (n->type != Y_SCALAR)
		return NULL;
	s = xstrdup(text(n));
	if ((slash = strrchr(s, '/')) != NULL) {
		*slash = '\0';
		proto = slash + 1;
	}
	p = s;
	if ((colon = strrchr(p, ':')) != NULL) {
		*colon = '\0';
		tgt = colon + 1;
		if ((colon = strrchr(p, ':')) != NULL) {
			*colon = '\0';
			ip = p;
			pub = colon + 1;
		} else
			pub = p;
	} else
		tgt = p;
	xasprintf(&k, "%s|%s|%s/%s", ip, pub, tgt, proto);
	free(s);
	return k;
}

/* A device is one per container path: "host[:container[:perms]]". */
char *
compose_device_key(const struct ynode *n)
{
	return target_key(n);
}

char *
compose_envfile_key(const struct ynode *n)
{
	if (n->type == Y_MAP)
		return xstrdup(text(ytree_get(n, "path")));
	return n->type == Y_SCALAR ? xstrdup(text(n)) : NULL;
}

/* depends_on in list form means condition service_started. */
static struct ynode *
depends_fill(const struct ynode *item)
{
	struct ynode *m = xcalloc(1, sizeof *m);

	m->type = Y_MAP;
	m->file = item->file;
	m->line = item->line;
	m->col = item->col;
	ytree_put(m, ytree_scalar_at(item, "condition", true),
	    ytree_scalar_at(item, "service_started", true));
	ytree_put(m, ytree_scalar_at(item, "required", true),
	    ytree_scalar_at(item, "true", true));
	return m;
}

#define KV(p)		{ p, YM_KV, NULL, "=", NULL, NULL }
#define UNIQ(p)		{ p, YM_KEYED, NULL, NULL, NULL, NULL }
#define KEYED(p, f)	{ p, YM_KEYED, f, NULL, NULL, NULL }
#define REPLACE(p)	{ p, YM_REPLACE, NULL, NULL, NULL, NULL }

static const struct ymerge_rule rules[] = {
	REPLACE("services.*.command"),
	REPLACE("services.*.entrypoint"),
	REPLACE("services.*.healthcheck.test"),
	KV("services.*.environment"),
	KV("services.*.labels"),
	KV("services.*.annotations"),
	KV("services.*.sysctls"),
	KV("services.*.build.args"),
	KV("services.*.build.labels"),
	KV("services.*.deploy.labels"),
	KV("networks.*.labels"),
	KV("volumes.*.labels"),
	KV("secrets.*.labels"),
	KV("configs.*.labels"),
	/* A host may have several addresses: only the same entry twice
	 * is one. */
	UNIQ("services.*.extra_hosts"),
	UNIQ("services.*.build.extra_hosts"),
	UNIQ("services.*.build.tags"),
	UNIQ("services.*.build.platforms"),
	UNIQ("services.*.networks.*.link_local_ips"),
	KEYED("services.*.devices", compose_device_key),
	KEYED("services.*.volumes", compose_volume_key),
	KEYED("services.*.secrets", secret_key),
	KEYED("services.*.configs", config_key),
	KEYED("services.*.ports", compose_port_key),
	KEYED("services.*.env_file", compose_envfile_key),
	KEYED("services.*.label_file", compose_envfile_key),
	UNIQ("services.*.expose"),
	UNIQ("services.*.cap_add"),
	UNIQ("services.*.cap_drop"),
	UNIQ("services.*.dns"),
	UNIQ("services.*.dns_opt"),
	UNIQ("services.*.dns_search"),
	UNIQ("services.*.profiles"),
	UNIQ("services.*.security_opt"),
	UNIQ("services.*.tmpfs"),
	UNIQ("services.*.links"),
	UNIQ("services.*.external_links"),
	UNIQ("services.*.group_add"),
	UNIQ("services.*.networks.*.aliases"),
	{ "services.*.depends_on", YM_MAPLIST, NULL, NULL, NULL,
	    depends_fill },
	{ "services.*.networks", YM_MAPLIST, NULL, NULL, NULL, NULL },
	{ "services.*.build", YM_SHORT, NULL, NULL, "context", NULL },
	{ "services.*.logging", YM_SWITCH, NULL, NULL, "driver", NULL },
};

const struct ymerge_rules compose_merge_rules = { rules, nitems(rules) };

/* ---- interpolation ------------------------------------------------------ */

struct interp {
	struct cload		*st;
	const struct ynode	*at;
	const char		*path;
};

static void
unset_var(void *arg, const char *name)
{
	struct interp	*ip = arg;
	struct cload	*st = ip->st;
	size_t		 i;

	if (st->warns == NULL)
		return;
	for (i = 0; i < st->nwarned; i++) {
		if (strcmp(st->warned[i], name) == 0)
			return;
	}
	st->warned = xrealloc(st->warned, (st->nwarned + 1) *
	    sizeof *st->warned);
	st->warned[st->nwarned++] = xstrdup(name);
	diag_add(st->warns, ip->at->file, ip->at->line, ip->at->col,
	    "%s: variable '%s' is not set; it is replaced by an empty string",
	    ip->path, name);
}

static int
interp_node(struct cload *st, const struct expand_ctx *x, const char *path,
    struct ynode *n)
{
	struct interp	 ip = { st, n, path };
	char		*out, *err, *sub;
	size_t		 i;
	int		 rc = 0;

	switch (n->type) {
	case Y_SCALAR:
		if (strchr(n->str, '$') == NULL)
			return 0;
		if (expand_str_compose(x, n->str, unset_var, &ip, &out,
		    &err) != 0) {
			diag_add(st->errs, n->file, n->line, n->col, "%s: %s",
			    path, err);
			free(err);
			return -EINVAL;
		}
		free(n->str);
		n->str = out;
		/* What interpolation made is a string, never null. */
		n->plain = false;
		return 0;
	case Y_SEQ:
		for (i = 0; i < n->nkids; i++) {
			xasprintf(&sub, "%s[%zu]", path, i);
			if (interp_node(st, x, sub, n->kids[i]) != 0)
				rc = -EINVAL;
			free(sub);
		}
		return rc;
	case Y_MAP:
		for (i = 0; i + 1 < n->nkids; i += 2) {
			/* Keys are not interpolated (12-interpolation.md). */
			sub = ytree_path(*path ? path : NULL,
			    text(n->kids[i]));
			if (interp_node(st, x, sub, n->kids[i + 1]) != 0)
				rc = -EINVAL;
			free(sub);
		}
		return rc;
	}
	return 0;
}

int
compose_interpolate(struct cload *st, const struct expand_ctx *x,
    struct ynode *root)
{
	return interp_node(st, x, "", root);
}
