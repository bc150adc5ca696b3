/*
 * What a compose service exchanges with the host: ports and expose,
 * tmpfs, volumes (named, anonymous, bind, tmpfs; short and long syntax),
 * and secrets and configs as read-only binds of their files.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "composemap.h"
#include "util.h"

#define SV(obj)		CSVC(obj)
#define U(obj)		(CSVC(obj)->uc.u)
#define MARK(obj, f, n, path)	YMARK(&CSVC(obj)->uc.at, f, n, path)

/* Longest port range one entry may stand for. */
#define CM_RANGE_MAX	1000

/* ---- ports ------------------------------------------------------------------ */

static void
port_push(void *obj, const struct ynode *at, const char *path,
    const struct unit_port *p)
{
	struct unit *u = U(obj);

	u->ports = xrealloc(u->ports, (u->nports + 1) * sizeof *p);
	u->ports[u->nports++] = *p;
	MARK(obj, UF_PORT, at, path);
}

/* "N" or "N-M": 0 or -EINVAL. */
static int
port_range(const char *s, int *lo, int *hi)
{
	const char	*dash = strchr(s, '-');
	char		*a;
	int		 rc;

	if (dash == NULL) {
		rc = unit_port_number(s, lo);
		*hi = *lo;
		return rc;
	}
	a = xstrndup(s, (size_t)(dash - s));
	rc = unit_port_number(a, lo);
	free(a);
	if (rc != 0 || unit_port_number(dash + 1, hi) != 0 || *hi < *lo ||
	    *hi - *lo >= CM_RANGE_MAX)
		return -EINVAL;
	return 0;
}

/* One port given by its parts; a range becomes one port per number. */
static void
port_parts(struct yctx *c, const char *path, const struct ynode *at,
    void *obj, const char *ip, const char *host, const char *cont,
    const char *proto)
{
	struct unit_port	 p;
	int			 clo, chi, hlo = 0, hhi = 0, i;
	char			*err;

	if (port_range(cont, &clo, &chi) != 0) {
		ytree_err(c, at, "%s: invalid container port '%s' (expected "
		    "1-65535 or a range)", path, cont);
		return;
	}
	if (host != NULL && *host != '\0' && port_range(host, &hlo, &hhi) !=
	    0) {
		ytree_err(c, at, "%s: invalid host port '%s' (expected "
		    "1-65535 or a range)", path, host);
		return;
	}
	if (hlo != 0 && hhi - hlo != chi - clo && hhi != hlo) {
		ytree_err(c, at, "%s: the host range and the container range "
		    "differ in length", path);
		return;
	}
	if (proto != NULL && !unit_proto_valid(proto)) {
		ytree_err(c, at, "%s: protocol must be tcp or udp, not '%s'",
		    path, proto);
		return;
	}
	if (hlo == 0 && (host == NULL || *host == '\0') && ip == NULL)
		cm_loss(SV(obj)->m, at, "%s: compose would publish %s on a "
		    "random host port; shipd exposes it to the stack only",
		    path, cont);
	for (i = 0; i <= chi - clo; i++) {
		memset(&p, 0, sizeof p);
		snprintf(p.proto, sizeof p.proto, "%s", proto ? proto : "tcp");
		p.container_port = clo + i;
		p.host_port = hlo == 0 ? 0 : hhi == hlo ? hlo : hlo + i;
		if (ip != NULL && *ip != '\0')
			p.host_ip = xstrdup(ip);
		if ((err = unit_port_problem(&p)) != NULL) {
			ytree_err(c, at, "%s: %s", path, err);
			free(err);
			free(p.host_ip);
			return;
		}
		port_push(obj, at, path, &p);
	}
}

static void
port_short(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	char	*s, *proto, *cont, *host = NULL, *ip = NULL, *q;

	if ((s = ytree_text(c, path, n, "a port")) == NULL)
		return;
	if ((proto = strrchr(s, '/')) != NULL)
		*proto++ = '\0';
	if ((cont = strrchr(s, ':')) == NULL)
		cont = s;
	else {
		*cont++ = '\0';
		host = s;
		if ((q = strrchr(s, ':')) != NULL) {
			*q++ = '\0';
			ip = s;
			host = q;
			/* [::1] */
			if (ip[0] == '[' && ip[strlen(ip) - 1] == ']') {
				ip[strlen(ip) - 1] = '\0';
				ip++;
			}
		}
	}
	port_parts(c, path, n, obj, ip, host, cont, proto);
	free(s);
}

static void
port_long(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	const struct ynode	*k, *v;
	char			*target = NULL, *pub = NULL, *ip = NULL;
	char			*proto = NULL, *ipath;
	size_t			 i;

	for (i = 0; i + 1 < n->nkids; i += 2) {
		if ((k = ytree_map_key(c, n, i)) == NULL)
			continue;
		v = n->kids[i + 1];
		ipath = ytree_path(path, k->str);
		if (strcmp(k->str, "target") == 0)
			target = ytree_text(c, ipath, v, "a port");
		else if (strcmp(k->str, "published") == 0)
			pub = ytree_text(c, ipath, v, "a port");
		else if (strcmp(k->str, "host_ip") == 0)
			ip = ytree_text(c, ipath, v, "an address");
		else if (strcmp(k->str, "protocol") == 0)
			proto = ytree_text(c, ipath, v, "tcp or udp");
		else if (strcmp(k->str, "mode") == 0 || strcmp(k->str,
		    "name") == 0 || strcmp(k->str, "app_protocol") == 0 ||
		    strncmp(k->str, "x-", 2) == 0)
			;	/* one host: every mode is host; names are
				 * for people */
		else
			cm_loss(SV(obj)->m, k, "%s: not supported by shipd; "
			    "ignored", ipath);
		free(ipath);
	}
	if (target == NULL)
		ytree_err(c, n, "%s: target: is required", path);
	else
		port_parts(c, path, n, obj, ip, pub, target, proto);
	free(target);
	free(pub);
	free(ip);
	free(proto);
}

static void
port_item(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	if (n->type == Y_MAP)
		port_long(c, path, n, obj);
	else
		port_short(c, path, n, obj);
}

void
cm_ports(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_each(c, path, n, port_item, obj);
}

static bool
has_port(const struct unit *u, int port, const char *proto)
{
	size_t i;

	for (i = 0; i < u->nports; i++) {
		if (u->ports[i].container_port == port &&
		    strcmp(u->ports[i].proto, proto) == 0)
			return true;
	}
	return false;
}

static void
expose_item(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct unit_port	 p;
	char			*s, *proto;
	int			 lo, hi, i;

	if ((s = ytree_text(c, path, n, "a port")) == NULL)
		return;
	if ((proto = strchr(s, '/')) != NULL)
		*proto++ = '\0';
	if (port_range(s, &lo, &hi) != 0)
		ytree_err(c, n, "%s: invalid port '%s' (expected 1-65535 or a "
		    "range)", path, s);
	else if (proto != NULL && !unit_proto_valid(proto))
		ytree_err(c, n, "%s: protocol must be tcp or udp, not '%s'",
		    path, proto);
	else {
		for (i = lo; i <= hi; i++) {
			memset(&p, 0, sizeof p);
			snprintf(p.proto, sizeof p.proto, "%s",
			    proto ? proto : "tcp");
			p.container_port = i;
			if (!has_port(U(obj), i, p.proto))
				port_push(obj, n, path, &p);
		}
	}
	free(s);
}

void
cm_expose(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_each(c, path, n, expose_item, obj);
}

/* ---- tmpfs ---------------------------------------------------------------------- */

void
cm_tmpfs_add(void *obj, const struct ynode *at, const char *path,
    char *entry)
{
	struct unit	*u = U(obj);
	size_t		 n = 0;

	while (u->tmpfs != NULL && u->tmpfs[n] != NULL)
		n++;
	u->tmpfs = xrealloc(u->tmpfs, (n + 2) * sizeof *u->tmpfs);
	u->tmpfs[n] = entry;
	u->tmpfs[n + 1] = NULL;
	MARK(obj, UF_TMPFS, at, path);
}

/* tmpfs: a path, or a list of "PATH[:OPTIONS]". */
void
cm_tmpfs(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	char	*s, *ipath;
	size_t	 i;

	if (n->type != Y_SEQ) {
		if ((s = ytree_string(c, path, n)) != NULL)
			cm_tmpfs_add(obj, n, path, s);
		return;
	}
	for (i = 0; i < n->nkids; i++) {
		xasprintf(&ipath, "%s[%zu]", path, i);
		if ((s = ytree_string(c, ipath, n->kids[i])) != NULL)
			cm_tmpfs_add(obj, n->kids[i], ipath, s);
		free(ipath);
	}
}

/* A long-syntax volume of type tmpfs: its size and mode as options. */
static void
tmpfs_long(struct yctx *c, const char *path, const struct ynode *n,
    void *obj, char *target)
{
	const struct ynode	*t = cm_get(n, "tmpfs"), *v;
	struct buf		 b;
	uint64_t		 size;
	char			*s;

	buf_init(&b);
	buf_printf(&b, "%s", target);
	if ((v = cm_get(t, "size")) != NULL && (s = ytree_text(c, path, v,
	    "a size")) != NULL) {
		if (parse_size(s, &size) != 0)
			ytree_err(c, v, "%s.tmpfs.size: expected a size such as "
			    "64m, got '%s'", path, s);
		else
			buf_printf(&b, ":size=%llu", (unsigned long long)size);
		free(s);
	}
	if ((v = cm_get(t, "mode")) != NULL && v->type == Y_SCALAR)
		buf_printf(&b, "%smode=%o", strchr(b.data, ':') ? "," : ":",
		    (unsigned)strtoul(v->str, NULL, v->str[0] == '0' ? 8 : 10));
	cm_tmpfs_add(obj, n, path, xstrdup(b.data));
	buf_free(&b);
	free(target);
}

/* ---- volumes ------------------------------------------------------------------ */

static void
mount_push(struct yctx *c, const char *path, const struct ynode *at,
    void *obj, struct unit_mount *m)
{
	struct unit	*u = U(obj);
	struct stat	 st;
	char		*err;

	if ((err = unit_mount_problem(m)) != NULL) {
		ytree_err(c, at, "%s: %s", path, err);
		free(err);
		free(m->source);
		free(m->target);
		return;
	}
	if (m->kind == MOUNT_BIND && stat(m->source, &st) != 0 &&
	    (errno == ENOENT || errno == ENOTDIR))
		ytree_err(c, at, "%s: bind source '%s' does not exist: compose "
		    "would create it, shipd does not", path, m->source);
	u->mounts = xrealloc(u->mounts, (u->nmounts + 1) * sizeof *m);
	u->mounts[u->nmounts++] = *m;
	MARK(obj, UF_MOUNT, at, path);
}

/* A named volume must be declared, as compose requires. */
static bool
volume_known(struct yctx *c, const char *path, const struct ynode *at,
    void *obj, const char *name)
{
	if (cm_declared(SV(obj)->m->volumes, name))
		return true;
	ytree_err(c, at, "%s: volume '%s' is not declared under the "
	    "top-level volumes:", path, name);
	return false;
}

/* A path alone: compose makes an anonymous volume for the container.
 * shipd has none; it gives the mount a named volume of its own. */
static void
anon_volume(struct yctx *c, const char *path, const struct ynode *at,
    void *obj, struct unit_mount *m)
{
	struct csvc *sv = SV(obj);

	xasprintf(&m->source, "%s-anon%d", sv->name, ++sv->nanon);
	m->kind = MOUNT_VOLUME;
	cm_loss(sv->m, at, "%s: anonymous volume at %s: shipd mounts the "
	    "named volume '%s' instead, shared by every replica and kept "
	    "across deploys", path, m->target, m->source);
	mount_push(c, path, at, obj, m);
}

static bool
bind_source(const char *s)
{
	return s[0] == '/' || s[0] == '.' || s[0] == '~';
}

static void
volume_short(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct unit_mount	 m;
	char			*s, *f[3], *q, *opt, *save;
	size_t			 nf = 0;

	memset(&m, 0, sizeof m);
	if ((s = ytree_text(c, path, n, "a volume")) == NULL)
		return;
	for (q = s, f[nf++] = q; (q = strchr(q, ':')) != NULL && nf < 3;
	    f[nf++] = q)
		*q++ = '\0';
	if (q != NULL || *f[0] == '\0') {
		ytree_err(c, n, "%s: expected [SOURCE:]TARGET[:MODE], got "
		    "'%s'", path, n->str);
		goto out;
	}
	if (nf == 3) {
		for (opt = strtok_r(f[2], ",", &save); opt != NULL;
		    opt = strtok_r(NULL, ",", &save)) {
			if (strcmp(opt, "ro") == 0)
				m.ro = true;
			else if (strcmp(opt, "rw") == 0)
				m.ro = false;
			else if (strcmp(opt, "cached") == 0 || strcmp(opt,
			    "delegated") == 0 || strcmp(opt,
			    "consistent") == 0)
				;	/* macOS only */
			else
				cm_loss(SV(obj)->m, n, "%s: mount option '%s' "
				    "is not supported by shipd; ignored", path,
				    opt);
		}
	}
	if (nf == 1) {
		m.target = xstrdup(f[0]);
		anon_volume(c, path, n, obj, &m);
		goto out;
	}
	m.target = xstrdup(f[1]);
	if (f[0][0] == '~') {
		ytree_err(c, n, "%s: '~' is not expanded by shipd; write the "
		    "path out", path);
		free(m.target);
		goto out;
	}
	if (bind_source(f[0])) {
		m.kind = MOUNT_BIND;
		m.source = cm_path(SV(obj)->m, f[0]);
	} else if (volume_known(c, path, n, obj, f[0])) {
		m.kind = MOUNT_VOLUME;
		m.source = xstrdup(f[0]);
	} else {
		free(m.target);
		goto out;
	}
	mount_push(c, path, n, obj, &m);
out:
	free(s);
}

static void
volume_long(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct unit_mount	 m;
	const struct ynode	*k, *v, *type = NULL;
	char			*src = NULL, *ipath;
	size_t			 i;

	memset(&m, 0, sizeof m);
	for (i = 0; i + 1 < n->nkids; i += 2) {
		if ((k = ytree_map_key(c, n, i)) == NULL)
			continue;
		v = n->kids[i + 1];
		ipath = ytree_path(path, k->str);
		if (strcmp(k->str, "type") == 0)
			type = v;
		else if (strcmp(k->str, "source") == 0) {
			free(src);
			src = ytree_string(c, ipath, v);
		} else if (strcmp(k->str, "target") == 0) {
			free(m.target);
			m.target = ytree_string(c, ipath, v);
		} else if (strcmp(k->str, "read_only") == 0)
			ytree_bool(c, ipath, v, &m.ro);
		else if (strcmp(k->str, "consistency") == 0 ||
		    strncmp(k->str, "x-", 2) == 0)
			;
		else if (strcmp(k->str, "bind") == 0 && v->type == Y_MAP &&
		    v->nkids == 2 && strcmp(v->kids[0]->str,
		    "create_host_path") == 0)
			;	/* shipd checks the source exists instead */
		else if (strcmp(k->str, "tmpfs") == 0 && type != NULL &&
		    type->type == Y_SCALAR && strcmp(type->str, "tmpfs") == 0)
			;	/* size and mode: below */
		else
			cm_loss(SV(obj)->m, k, "%s: not supported by shipd; "
			    "ignored", ipath);
		free(ipath);
	}
	if (type == NULL || type->type != Y_SCALAR) {
		ytree_err(c, n, "%s: type: volume, bind or tmpfs is required",
		    path);
		goto bad;
	}
	if (m.target == NULL) {
		ytree_err(c, n, "%s: target: is required", path);
		goto bad;
	}
	if (strcmp(type->str, "tmpfs") == 0) {
		tmpfs_long(c, path, n, obj, m.target);
		free(src);
		return;
	}
	if (strcmp(type->str, "volume") == 0 && src == NULL) {
		anon_volume(c, path, n, obj, &m);
		free(src);
		return;
	}
	if (src == NULL) {
		ytree_err(c, n, "%s: source: is required", path);
		goto bad;
	}
	if (strcmp(type->str, "volume") == 0) {
		if (!volume_known(c, path, n, obj, src))
			goto bad;
		m.kind = MOUNT_VOLUME;
		m.source = src;
	} else if (strcmp(type->str, "bind") == 0) {
		if (src[0] == '~') {
			ytree_err(c, n, "%s: '~' is not expanded by shipd; "
			    "write the path out", path);
			goto bad;
		}
		m.kind = MOUNT_BIND;
		m.source = cm_path(SV(obj)->m, src);
		free(src);
	} else {
		ytree_err(c, type, "%s.type: shipd mounts volume, bind and "
		    "tmpfs, not '%s'", path, type->str);
		goto bad;
	}
	mount_push(c, path, n, obj, &m);
	return;
bad:
	free(src);
	free(m.target);
}

static void
volume_item(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	if (n->type == Y_MAP)
		volume_long(c, path, n, obj);
	else
		volume_short(c, path, n, obj);
}

void
cm_volumes(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_each(c, path, n, volume_item, obj);
}

/* ---- secrets and configs -------------------------------------------------------- */

struct fileref {
	const char	*kind;		/* "secrets" or "configs" */
	const struct ynode *section;
};

static void
fileref_item(struct yctx *c, const char *path, const struct ynode *n,
    void *obj, const struct fileref *fr)
{
	const struct ynode	*src = n, *tgt = NULL, *k, *d, *f;
	struct unit_mount	 m;
	char			*name = NULL, *target = NULL;
	size_t			 i;

	if (n->type == Y_MAP) {
		src = cm_get(n, "source");
		tgt = cm_get(n, "target");
		for (i = 0; i + 1 < n->nkids; i += 2) {
			k = n->kids[i];
			if (k->type == Y_SCALAR && strcmp(k->str, "source") !=
			    0 && strcmp(k->str, "target") != 0 &&
			    strncmp(k->str, "x-", 2) != 0)
				cm_loss(SV(obj)->m, k, "%s.%s: shipd binds the "
				    "file as it is, read-only; ignored", path,
				    k->str);
		}
		if (src == NULL) {
			ytree_err(c, n, "%s: source: is required", path);
			return;
		}
	}
	if ((name = ytree_string(c, path, src)) == NULL)
		return;
	if (!cm_declared(fr->section, name)) {
		ytree_err(c, src, "%s: '%s' is not declared under the "
		    "top-level %s:", path, name, fr->kind);
		goto out;
	}
	d = NULL;
	for (i = 0; i + 1 < fr->section->nkids; i += 2) {
		if (strcmp(fr->section->kids[i]->str, name) == 0)
			d = fr->section->kids[i + 1];
	}
	if ((f = cm_get(d, "file")) == NULL || f->type != Y_SCALAR)
		goto out;	/* reported with the declaration */
	if (tgt != NULL && (target = ytree_string(c, path, tgt)) == NULL)
		goto out;
	memset(&m, 0, sizeof m);
	m.kind = MOUNT_BIND;
	m.ro = true;
	m.source = cm_path(SV(obj)->m, f->str);
	if (target != NULL && target[0] == '/')
		m.target = xstrdup(target);
	else if (strcmp(fr->kind, "secrets") == 0)
		xasprintf(&m.target, "/run/secrets/%s", target ? target : name);
	else
		xasprintf(&m.target, "/%s", target ? target : name);
	mount_push(c, path, src, obj, &m);
out:
	free(target);
	free(name);
}

static void
secret_item(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct fileref fr = { "secrets", SV(obj)->m->secrets };

	fileref_item(c, path, n, obj, &fr);
}

static void
config_item(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct fileref fr = { "configs", SV(obj)->m->configs };

	fileref_item(c, path, n, obj, &fr);
}

void
cm_secrets(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_each(c, path, n, secret_item, obj);
}

void
cm_configs(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_each(c, path, n, config_item, obj);
}
