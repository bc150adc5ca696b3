/*
 * The deploy policy (core/config.h) held against units.  Anyone who may
 * deploy can otherwise do what root can: bind-mount /, run privileged,
 * join the host's namespaces.  The policy is an allow list read from a
 * file only root and shipd's user may change; no request can skip it.
 *
 * Bind sources are judged as the host resolves them: the unit loader has
 * already removed "." and ".." from the path as written, and here every
 * symlink in it is followed (realpath), so /srv/app/link -> /etc is
 * refused as /etc.  This runs at pre-flight, a metadata walk of local
 * paths as the disk check's statvfs is.  Between the check and the
 * engine's create someone who may write under an allowed root could
 * swap a directory for a symlink: give roots only to trusted writers.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"
#include "ops/policy.h"
#include "core/shipd.h"
#include "util.h"

bool
policy_path_under(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (strcmp(root, "/") == 0)
		return path[0] == '/';
	return strncmp(path, root, n) == 0 && (path[n] == '\0' ||
	    path[n] == '/');
}

static void
roots_text(struct buf *b, char *const *v)
{
	size_t i;

	if (v == NULL || v[0] == NULL) {
		buf_printf(b, "(none: bind mounts are not allowed)");
		return;
	}
	for (i = 0; v[i] != NULL; i++)
		buf_printf(b, "%s%s", i ? ", " : "", v[i]);
}

static void __attribute__((format(printf, 4, 5)))
refuse(json_t *out, const struct unit *u, const char *conf_path,
    const char *fmt, ...)
{
	struct buf	 b;
	va_list		 ap;
	char		*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	buf_init(&b);
	buf_printf(&b, "%s: %s (policy in %s)", u->name, msg, conf_path);
	json_array_append_new(out, json_string(b.data));
	buf_free(&b);
	free(msg);
}

static void
judge_binds(const struct shipd_policy *p, const char *cf,
    const struct unit *u, char *const *real, const int *real_err,
    json_t *out)
{
	const struct unit_mount	*m;
	struct buf		 roots;
	const char		*src;
	size_t			 i, k = 0, r;

	buf_init(&roots);
	roots_text(&roots, p->bind_roots);
	for (i = 0; i < u->nmounts; i++) {
		m = &u->mounts[i];
		if (m->kind != MOUNT_BIND)
			continue;
		src = real != NULL ? real[k] : m->source;
		if (src == NULL) {
			refuse(out, u, cf, "volumes: bind source %s (mounted "
			    "at %s) cannot be resolved on this host (%s), so "
			    "it cannot be held to the allowed roots %s",
			    m->source, m->target, strerror(real_err != NULL ?
			    real_err[k] : ENOENT), roots.data);
			k++;
			continue;
		}
		for (r = 0; p->bind_roots != NULL && p->bind_roots[r] != NULL;
		    r++)
			if (policy_path_under(src, p->bind_roots[r]))
				break;
		if (p->bind_roots == NULL || p->bind_roots[r] == NULL) {
			if (strcmp(src, m->source) != 0)
				refuse(out, u, cf, "volumes: bind source %s "
				    "(mounted at %s) resolves to %s on this "
				    "host, outside the allowed roots %s",
				    m->source, m->target, src, roots.data);
			else
				refuse(out, u, cf, "volumes: bind source %s "
				    "(mounted at %s) is outside the allowed "
				    "roots %s", m->source, m->target,
				    roots.data);
		}
		k++;
	}
	buf_free(&roots);
}

void
policy_judge(const struct shipd_policy *p, const char *cf,
    const struct unit *u, char *const *real, const int *real_err,
    json_t *out)
{
	size_t i;

	if (!p->set)
		return;
	judge_binds(p, cf, u, real, real_err, out);
	if (u->privileged && !p->privileged)
		refuse(out, u, cf, "privileged: true is not allowed: "
		    "policy.privileged is false");
	if (u->host_network && !p->host_network)
		refuse(out, u, cf, "network_mode: host is not allowed: "
		    "policy.host_network is false");
	if (u->host_pid && !p->host_pid)
		refuse(out, u, cf, "pid: host is not allowed: "
		    "policy.host_pid is false");
	if (u->ndevices > 0 && !p->devices)
		refuse(out, u, cf, "devices: %s%s is not allowed: "
		    "policy.devices is false", u->devices[0].host,
		    u->ndevices > 1 ? " and the others" : "");
	for (i = 0; u->cap_add != NULL && u->cap_add[i] != NULL; i++) {
		if (strv_contains(p->cap_add, "ALL") ||
		    strv_contains(p->cap_add, u->cap_add[i]))
			continue;
		if (p->cap_add == NULL || p->cap_add[0] == NULL)
			refuse(out, u, cf, "cap_add: %s is not allowed: "
			    "policy.cap_add allows none", u->cap_add[i]);
		else {
			struct buf b;

			buf_init(&b);
			roots_text(&b, p->cap_add);
			refuse(out, u, cf, "cap_add: %s is not allowed: "
			    "policy.cap_add allows %s", u->cap_add[i], b.data);
			buf_free(&b);
		}
	}
}

/* A service gets a container of its spec from this operation: one
 * created, or a kept one brought back. */
static bool
creates(const struct svc *s)
{
	size_t i;

	for (i = 0; i < s->nreps; i++)
		if (!s->reps[i].reuse && !s->reps[i].remove)
			return true;
	return false;
}

static void
check_unit(const struct shipd_policy *p, const char *cf,
    const struct unit *u, json_t *out)
{
	char	**real, buf[PATH_MAX];
	int	 *err;
	size_t	  i, k = 0;

	real = xcalloc(u->nmounts + 1, sizeof *real);
	err = xcalloc(u->nmounts + 1, sizeof *err);
	for (i = 0; i < u->nmounts; i++) {
		if (u->mounts[i].kind != MOUNT_BIND)
			continue;
		if (realpath(u->mounts[i].source, buf) != NULL)
			real[k] = xstrdup(buf);
		else
			err[k] = errno;
		k++;
	}
	policy_judge(p, cf, u, real, err, out);
	for (i = 0; i < k; i++)
		free(real[i]);
	free(real);
	free(err);
}

void
policy_check_op(const struct op *op, json_t *out)
{
	const struct shipd_conf	*conf = &op->sd->conf;
	size_t			 i;

	if (!conf->policy.set)
		return;
	for (i = 0; i < op->stack->nunits; i++) {
		if (creates(&op->svcs[i]))
			check_unit(&conf->policy, conf->path, op->svcs[i].unit,
			    out);
	}
}
