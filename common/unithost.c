/*
 * The unit keys that change what a container may do on the host:
 * privileged, network_mode: host, pid: host, devices, cap_add, cap_drop.
 * Decoded from unit files and from JSON into struct unit; each written to
 * JSON (and so into the spec hash) only when set, so that a unit without
 * them hashes as it did before they existed.  Whether a unit may use
 * them is the policy's to decide (daemon/ops/policy.c), whether the
 * values are sane unitcheck.c's.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "unithost.h"
#include "unityaml.h"
#include "util.h"

/* ---- short syntax --------------------------------------------------------- */

char *
unit_cap_canon(const char *in)
{
	const char	*p = in;
	char		*out, *o;

	if (strncasecmp(p, "CAP_", 4) == 0)
		p += 4;
	if (*p == '\0' || strlen(p) > 32)
		return NULL;
	o = out = xmalloc(strlen(p) + 1);
	for (; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_') {
			free(out);
			return NULL;
		}
		*o++ = (char)toupper((unsigned char)*p);
	}
	*o = '\0';
	if (!isalpha((unsigned char)out[0])) {
		free(out);
		return NULL;
	}
	return out;
}

static bool
perms_valid(const char *s)
{
	const char	*p;

	if (*s == '\0' || strlen(s) > 3)
		return false;
	for (p = s; *p != '\0'; p++) {
		if (strchr("rwm", *p) == NULL || strchr(p + 1, *p) != NULL)
			return false;
	}
	return true;
}

char *
unit_device_parse(const char *spec, struct unit_device *d)
{
	char	*s = xstrdup(spec), *f[4], *q = s, *err = NULL;
	size_t	 n = 0;

	memset(d, 0, sizeof *d);
	for (f[n++] = q; (q = strchr(q, ':')) != NULL && n < 4; f[n++] = q)
		*q++ = '\0';
	if (q != NULL || n > 3) {
		err = xstrdup("expected HOST[:CONTAINER][:PERMISSIONS]");
		goto out;
	}
	/* "/dev/x:rwm": the second field is permissions, not a path. */
	if (n == 2 && f[1][0] != '/') {
		f[2] = f[1];
		f[1] = f[0];
		n = 3;
	}
	if (!unit_abs_path_valid(f[0])) {
		xasprintf(&err, "host path '%s' must be absolute", f[0]);
		goto out;
	}
	if (n >= 2 && !unit_abs_path_valid(f[1])) {
		xasprintf(&err, "container path '%s' must be absolute", f[1]);
		goto out;
	}
	if (n == 3 && !perms_valid(f[2])) {
		xasprintf(&err, "permissions must be some of r, w and m, not "
		    "'%s'", f[2]);
		goto out;
	}
	d->host = xstrdup(f[0]);
	d->container = xstrdup(n >= 2 ? f[1] : f[0]);
	snprintf(d->perms, sizeof d->perms, "%s", n == 3 ? f[2] : "rwm");
out:
	free(s);
	return err;
}

/* ---- unit files ----------------------------------------------------------- */

void
unit_yaml_privileged(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_bool(c, path, n, &UCTX(obj)->u->privileged);
	YMARK(&UCTX(obj)->at, UF_PRIVILEGED, n, path);
}

/* network_mode: and pid: take one value besides leaving them out. */
static bool
host_only(struct yctx *c, const char *path, const struct ynode *n,
    const char *leave)
{
	char	*s;
	bool	 ok;

	if ((s = ytree_text(c, path, n, "host")) == NULL)
		return false;
	if (!(ok = strcmp(s, "host") == 0))
		ytree_err(c, n, "%s: expected host, got '%s' (leave %s out "
		    "for %s)", path, s, path, leave);
	free(s);
	return ok;
}

void
unit_yaml_network_mode(struct yctx *c, const char *path,
    const struct ynode *n, void *obj)
{
	if (host_only(c, path, n, "the stack's networks")) {
		UCTX(obj)->u->host_network = true;
		YMARK(&UCTX(obj)->at, UF_NETWORK_MODE, n, path);
	}
}

void
unit_yaml_pid(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	if (host_only(c, path, n, "the container's own pid namespace")) {
		UCTX(obj)->u->host_pid = true;
		YMARK(&UCTX(obj)->at, UF_PID, n, path);
	}
}

static void
device_item(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct unit		*u = UCTX(obj)->u;
	struct unit_device	 d;
	char			*s, *err;

	if ((s = ytree_text(c, path, n, "a device")) == NULL)
		return;
	if ((err = unit_device_parse(s, &d)) != NULL) {
		ytree_err(c, n, "%s: %s in '%s'", path, err, s);
		free(err);
	} else {
		u->devices = xrealloc(u->devices, (u->ndevices + 1) *
		    sizeof d);
		u->devices[u->ndevices++] = d;
		YMARK(&UCTX(obj)->at, UF_DEVICE, n, path);
	}
	free(s);
}

void
unit_yaml_devices(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_each(c, path, n, device_item, obj);
}

static void
cap_item(struct yctx *c, const char *path, const struct ynode *n,
    struct uctx *uc, char ***v, enum unit_field f)
{
	char *s, *canon;

	if ((s = ytree_text(c, path, n, "a capability")) == NULL)
		return;
	if ((canon = unit_cap_canon(s)) == NULL)
		ytree_err(c, n, "%s: '%s' is not a capability name (such as "
		    "NET_ADMIN or CAP_NET_ADMIN, or ALL)", path, s);
	else {
		strv_push(v, canon);
		YMARK(&uc->at, f, n, path);
	}
	free(s);
}

static void
cap_add_item(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	cap_item(c, path, n, obj, &UCTX(obj)->u->cap_add, UF_CAP_ADD);
}

static void
cap_drop_item(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	cap_item(c, path, n, obj, &UCTX(obj)->u->cap_drop, UF_CAP_DROP);
}

void
unit_yaml_cap_add(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_each(c, path, n, cap_add_item, obj);
}

void
unit_yaml_cap_drop(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_each(c, path, n, cap_drop_item, obj);
}

/* ---- JSON ----------------------------------------------------------------- */

static json_t *
strv_json(char *const *v)
{
	json_t *a = json_array();

	for (; v != NULL && *v != NULL; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

void
unit_host_json(const struct unit *u, json_t *o)
{
	json_t	*a;
	size_t	 i;

	if (u->privileged)
		json_object_set_new(o, "privileged", json_true());
	if (u->host_network)
		json_object_set_new(o, "network_mode", json_string("host"));
	if (u->host_pid)
		json_object_set_new(o, "pid", json_string("host"));
	if (u->ndevices > 0) {
		a = json_array();
		for (i = 0; i < u->ndevices; i++)
			json_array_append_new(a, json_pack("{s:s, s:s, s:s}",
			    "host", u->devices[i].host, "container",
			    u->devices[i].container, "permissions",
			    u->devices[i].perms));
		json_object_set_new(o, "devices", a);
	}
	if (u->cap_add != NULL)
		json_object_set_new(o, "cap_add", strv_json(u->cap_add));
	if (u->cap_drop != NULL)
		json_object_set_new(o, "cap_drop", strv_json(u->cap_drop));
}

static void
j_host_only(struct jread *c, const char *path, const json_t *o,
    const char *key, bool *out)
{
	char *s;

	if (!jread_str(c, path, o, key, 0, &s))
		return;
	if (strcmp(s, "host") != 0)
		jread_err(c, path, "%s: expected \"host\" (or leave it out)",
		    key);
	else
		*out = true;
	free(s);
}

static void
j_device(struct jread *c, const char *path, const json_t *v, struct unit *u)
{
	static const char *const f[] = { "host", "container", "permissions" };
	struct unit_device	 d;
	char			*perms = NULL;

	memset(&d, 0, sizeof d);
	if (!jread_obj(c, path, v, f, nitems(f)))
		return;
	jread_str(c, path, v, "host", 0, &d.host);
	jread_str(c, path, v, "container", 0, &d.container);
	if (jread_str(c, path, v, "permissions", 0, &perms)) {
		if (!perms_valid(perms))
			jread_err(c, path, "permissions: expected some of r, "
			    "w and m");
		else
			snprintf(d.perms, sizeof d.perms, "%s", perms);
	}
	free(perms);
	u->devices = xrealloc(u->devices, (u->ndevices + 1) * sizeof d);
	u->devices[u->ndevices++] = d;
}

/* Names as the YAML half writes them: canonical, or an error. */
static void
j_caps(struct jread *c, const char *path, const json_t *o, const char *key,
    char ***out)
{
	char	**v, *canon, sub[JREAD_PATH + 16];
	size_t	  i;

	jread_strv(c, path, o, key, 0, &v);
	for (i = 0; v != NULL && v[i] != NULL; i++) {
		canon = unit_cap_canon(v[i]);
		if (canon == NULL || strcmp(canon, v[i]) != 0) {
			jread_path(sub, sizeof sub, "%s.%s[%zu]", path, key, i);
			jread_err(c, sub, "expected a capability name in upper "
			    "case without CAP_, got '%s'", v[i]);
		}
		free(canon);
	}
	*out = v;
}

void
unit_host_from_json(struct jread *c, const char *path, const json_t *v,
    struct unit *u)
{
	const json_t	*a;
	char		 sub[JREAD_PATH], esub[JREAD_PATH + 16];
	size_t		 i;

	jread_bool(c, path, v, "privileged", &u->privileged);
	j_host_only(c, path, v, "network_mode", &u->host_network);
	j_host_only(c, path, v, "pid", &u->host_pid);
	if ((a = jread_field(path, v, "devices", sub)) != NULL) {
		if (!json_is_array(a))
			jread_err(c, sub, "expected an array, got %s",
			    jread_kind(a));
		for (i = 0; json_is_array(a) && i < json_array_size(a); i++) {
			jread_path(esub, sizeof esub, "%s[%zu]", sub, i);
			j_device(c, esub, json_array_get(a, i), u);
		}
	}
	j_caps(c, path, v, "cap_add", &u->cap_add);
	j_caps(c, path, v, "cap_drop", &u->cap_drop);
}
