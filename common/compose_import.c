/*
 * What `shipctl import compose` adds to the compose mapper and the unit
 * writer: host paths that still point at the project's files from the
 * directory the units are written to, and the check that those units
 * load to the same services (composeimport.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "composeimport.h"
#include "diag.h"
#include "graph.h"
#include "stackgraph.h"
#include "unit.h"
#include "util.h"

/* Whether path is dir or inside it; *rest gets what follows dir. */
static bool
path_under(const char *path, const char *dir, const char **rest)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0) {
		*rest = path;
		return true;
	}
	if (strncmp(path, dir, n) != 0 || (path[n] != '\0' && path[n] != '/'))
		return false;
	*rest = path + n;
	return true;
}

char *
path_relative(const char *from, const char *to)
{
	struct buf	 b;
	const char	*f, *t, *seg;
	size_t		 common = 0, i;

	/* The longest leading run of whole segments the two share. */
	for (i = 0; from[i] != '\0' && from[i] == to[i]; i++)
		if (from[i] == '/')
			common = i;
	if (strcmp(from, "/") == 0) {
		common = 0;
		from = "";
	} else if (from[i] == '\0' && (to[i] == '\0' || to[i] == '/'))
		common = i;
	else if (to[i] == '\0' && from[i] == '/')
		common = i;
	buf_init(&b);
	f = from + common;
	t = to + common;
	for (seg = f; *seg != '\0'; seg++)
		if (*seg == '/')
			buf_puts(&b, b.len == 0 ? ".." : "/..");
	if (b.len == 0)
		buf_puts(&b, ".");
	if (*t == '/' && t[1] != '\0')
		buf_puts(&b, t);
	return buf_steal(&b);
}

static int
rewrite(char **path, const char *projdir, const char *projreal,
    const char *outreal)
{
	const char	*rest;
	char		*abs;

	if (*path == NULL || (*path)[0] != '/' ||
	    !path_under(*path, projdir, &rest))
		return 0;
	xasprintf(&abs, "%s%s", projreal, rest);
	free(*path);
	*path = path_relative(outreal, abs);
	free(abs);
	return 0;
}

int
compose_import_paths(struct stack *s, const char *projdir, const char *outdir)
{
	struct unit	*u;
	const char	*rest;
	char		*projreal, *outreal, *parent, *slash;
	size_t		 i, j;
	int		 rc = 0;

	if ((projreal = realpath(projdir, NULL)) == NULL)
		return -errno;
	if ((outreal = realpath(outdir, NULL)) == NULL) {
		rc = -errno;
		free(projreal);
		return rc;
	}
	/* Relative only from inside the project's parent: /srv/app/units
	 * for /srv/app/compose, not ../../../home/... . */
	parent = xstrdup(projreal);
	if ((slash = strrchr(parent, '/')) != NULL)
		*slash = '\0';
	if (parent[0] == '\0' || !path_under(outreal, parent, &rest))
		goto out;
	for (i = 0; i < s->nunits; i++) {
		u = s->units[i];
		for (j = 0; j < u->nmounts; j++)
			if (u->mounts[j].kind == MOUNT_BIND)
				rewrite(&u->mounts[j].source, projdir,
				    projreal, outreal);
		if (u->build.present)
			rewrite(&u->build.context, projdir, projreal,
			    outreal);
	}
out:
	free(parent);
	free(projreal);
	free(outreal);
	return rc;
}

int
compose_import_verify(const struct stack *s, char (*hashes)[65],
    const char *dir, char *const *envp, char **err)
{
	struct diag_list	 errs;
	struct stack		*back = NULL;
	struct graph		*g = NULL;
	const struct unit	*u;
	char			 h[65];
	size_t			 i;
	int			 rc = 0;

	*err = NULL;
	diag_init(&errs);
	if (stack_load_checked(dir, envp, &back, &g, &errs) != 0) {
		*err = errs.n > 0 ? diag_format(&errs.v[0]) :
		    xstrdup("the written units do not load");
		rc = -EINVAL;
		goto out;
	}
	if (strcmp(back->name, s->name) != 0) {
		xasprintf(err, "the stack is named '%s', not '%s'",
		    back->name, s->name);
		rc = -EINVAL;
		goto out;
	}
	if (back->nunits != s->nunits) {
		xasprintf(err, "%zu services written, %zu loaded", s->nunits,
		    back->nunits);
		rc = -EINVAL;
		goto out;
	}
	for (i = 0; i < s->nunits; i++) {
		if ((u = stack_unit(back, s->units[i]->name)) == NULL) {
			xasprintf(err, "service %s was not written",
			    s->units[i]->name);
			rc = -EINVAL;
			break;
		}
		unit_spec_hash(u, h);
		if (strcmp(h, hashes[i]) != 0) {
			xasprintf(err, "service %s loads to spec %.12s, the "
			    "compose project's is %.12s", u->name, h,
			    hashes[i]);
			rc = -EINVAL;
			break;
		}
	}
out:
	if (g != NULL)
		graph_free(g);
	if (back != NULL)
		stack_free(back);
	diag_free(&errs);
	return rc;
}
