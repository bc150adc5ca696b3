/*
 * extends (compose-spec 05-services.md "extends"), and the relative paths
 * of what comes from another directory (an extended file, an included
 * project), made absolute so they keep meaning what they meant there.
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

/* ---- relative paths ------------------------------------------------------ */

static bool
is_remote(const char *s)
{
	return strstr(s, "://") != NULL || strncmp(s, "git@", 4) == 0 ||
	    strncmp(s, "github.com/", 11) == 0;
}

static void
abs_scalar(struct ynode *n, const char *dir)
{
	char *s;

	if (n == NULL || n->type != Y_SCALAR || n->str[0] == '\0' ||
	    n->str[0] == '/' || n->str[0] == '~' || is_remote(n->str))
		return;
	s = cload_join(dir, n->str);
	free(n->str);
	n->str = s;
}

/* A string, a list of strings, or a list of { path: } (env_file). */
static void
abs_list(struct ynode *n, const char *dir)
{
	size_t i;

	if (n == NULL)
		return;
	if (n->type == Y_SCALAR) {
		abs_scalar(n, dir);
		return;
	}
	for (i = 0; n->type == Y_SEQ && i < n->nkids; i++) {
		if (n->kids[i]->type == Y_MAP)
			abs_scalar(ytree_get(n->kids[i], "path"), dir);
		else
			abs_scalar(n->kids[i], dir);
	}
}

/* A short volume "./src:/dst[:ro]": a bind when the source is a path. */
static void
abs_volume(struct ynode *v, const char *dir)
{
	const char	*colon;
	char		*s;

	if (v->type == Y_MAP) {
		if (strcmp(text(ytree_get(v, "type")), "bind") == 0)
			abs_scalar(ytree_get(v, "source"), dir);
		return;
	}
	if (v->type != Y_SCALAR || v->str[0] != '.' ||
	    (colon = strchr(v->str, ':')) == NULL)
		return;
	s = cload_join(dir, v->str);
	free(v->str);
	v->str = s;
}

void
compose_abs_service(struct ynode *svc, const char *dir)
{
	struct ynode	*b, *vols;
	size_t		 i;

	if (svc == NULL || svc->type != Y_MAP)
		return;
	if ((b = ytree_get(svc, "build")) != NULL) {
		if (b->type == Y_SCALAR)
			abs_scalar(b, dir);
		else
			abs_scalar(ytree_get(b, "context"), dir);
	}
	abs_list(ytree_get(svc, "env_file"), dir);
	abs_list(ytree_get(svc, "label_file"), dir);
	if ((vols = ytree_get(svc, "volumes")) != NULL && vols->type == Y_SEQ) {
		for (i = 0; i < vols->nkids; i++)
			abs_volume(vols->kids[i], dir);
	}
}

void
compose_abs_paths(struct ynode *root, const char *dir)
{
	static const char	*files[] = { "secrets", "configs" };
	struct ynode		*sec, *svcs;
	size_t			 i, k;

	if ((svcs = ytree_get(root, "services")) != NULL &&
	    svcs->type == Y_MAP) {
		for (i = 0; i + 1 < svcs->nkids; i += 2)
			compose_abs_service(svcs->kids[i + 1], dir);
	}
	for (k = 0; k < nitems(files); k++) {
		if ((sec = ytree_get(root, files[k])) == NULL ||
		    sec->type != Y_MAP)
			continue;
		for (i = 0; i + 1 < sec->nkids; i += 2)
			abs_scalar(ytree_get(sec->kids[i + 1], "file"), dir);
	}
}

/* ---- extends ------------------------------------------------------------- */

struct chain {
	const char	*file[COMPOSE_EXTENDS_DEPTH];
	const char	*svc[COMPOSE_EXTENDS_DEPTH];
	size_t		 n;
};

static int	resolve(struct cload *, const struct expand_ctx *,
		    struct ynode *root, const char *name, struct chain *);

/* The parsed, interpolated root of another file, read once. */
static struct ynode *
cached(struct cload *st, const struct expand_ctx *x, const char *path,
    const struct ynode *at, int *rc)
{
	struct ynode	*root;
	const char	*kept;
	size_t		 i;

	kept = cload_keep(st, path);
	for (i = 0; i < st->ncache; i++) {
		if (st->cache[i].path == kept)
			return st->cache[i].root;
	}
	if ((*rc = cload_parse(st, kept, &root)) != 0) {
		diag_add(st->errs, at->file, at->line, at->col, "extends: "
		    "cannot read '%s'", path);
		return NULL;
	}
	if ((*rc = compose_interpolate(st, x, root)) != 0) {
		ytree_free(root);
		return NULL;
	}
	st->cache = xrealloc(st->cache, (st->ncache + 1) * sizeof *st->cache);
	st->cache[st->ncache].path = kept;
	st->cache[st->ncache++].root = root;
	return root;
}

static void
chain_text(struct buf *b, const struct chain *ch, const char *last)
{
	size_t i;

	for (i = 0; i < ch->n; i++)
		buf_printf(b, "%s -> ", ch->svc[i]);
	buf_puts(b, last);
}

/* The base a service's extends names, resolved and copied, or NULL. */
static struct ynode *
base_of(struct cload *st, const struct expand_ctx *x, struct ynode *root,
    const char *name, const struct ynode *ext, struct chain *ch, int *rc)
{
	const struct ynode	*svcn, *filen;
	struct ynode		*from = root, *svcs, *base;
	const char		*bname, *bfile;
	char			*dir = NULL, *path = NULL;
	struct buf		 b;
	size_t			 i;

	if (ext->type == Y_SCALAR) {
		svcn = ext;
		filen = NULL;
	} else if (ext->type == Y_MAP) {
		svcn = ytree_get(ext, "service");
		filen = ytree_get(ext, "file");
	} else
		svcn = filen = NULL;
	if (svcn == NULL || svcn->type != Y_SCALAR || *text(svcn) == '\0') {
		diag_add(st->errs, ext->file, ext->line, ext->col,
		    "services.%s.extends: needs 'service', the name of the "
		    "service to extend", name);
		*rc = -EINVAL;
		return NULL;
	}
	bname = text(svcn);
	if (filen != NULL) {
		dir = cload_dir_of(filen->file);
		path = cload_join(dir, text(filen));
		free(dir);
		dir = cload_abs(cload_dir_of(path));
		if ((from = cached(st, x, path, filen, rc)) == NULL) {
			free(dir);
			free(path);
			return NULL;
		}
	}
	bfile = filen != NULL ? cload_keep(st, path) : svcn->file;
	for (i = 0; i < ch->n; i++) {
		if (strcmp(ch->svc[i], bname) == 0 && ch->file[i] == bfile)
			break;
	}
	if (i < ch->n || ch->n == COMPOSE_EXTENDS_DEPTH) {
		buf_init(&b);
		chain_text(&b, ch, bname);
		diag_add(st->errs, svcn->file, svcn->line, svcn->col,
		    "services.%s.extends: %s: %s", name, i < ch->n ?
		    "a cycle" : "too deep", b.data);
		buf_free(&b);
		*rc = -EINVAL;
		goto out;
	}
	svcs = ytree_get(from, "services");
	if (ytree_get(svcs, bname) == NULL) {
		diag_add(st->errs, svcn->file, svcn->line, svcn->col,
		    "services.%s.extends: no service '%s' in %s", name, bname,
		    bfile);
		*rc = -EINVAL;
		goto out;
	}
	if ((*rc = resolve(st, x, from, bname, ch)) != 0)
		goto out;
	base = ytree_clone(ytree_get(svcs, bname));
	if (filen != NULL) {
		/* Its paths meant what they mean in its own directory. */
		compose_abs_service(base, dir);
	}
	free(dir);
	free(path);
	return base;
out:
	free(dir);
	free(path);
	return NULL;
}

/* Resolve the extends of services.name in root, in place. */
static int
resolve(struct cload *st, const struct expand_ctx *x, struct ynode *root,
    const char *name, struct chain *ch)
{
	struct ynode	*svcs, *svc, *base, *ext;
	ssize_t		 i, e;
	char		*path;
	int		 rc = 0;

	svcs = ytree_get(root, "services");
	if ((i = ytree_find(svcs, name)) < 0)
		return 0;
	svc = svcs->kids[i + 1];
	if (svc->type != Y_MAP || (e = ytree_find(svc, "extends")) < 0)
		return 0;
	ext = svc->kids[e + 1];
	ch->file[ch->n] = svc->file;
	ch->svc[ch->n++] = name;
	base = base_of(st, x, root, name, ext, ch, &rc);
	ch->n--;
	if (base == NULL)
		return rc;
	/* Resolving the base replaced nodes of the same mapping: look the
	 * service up again. */
	i = ytree_find(svcs, name);
	svc = svcs->kids[i + 1];
	if ((e = ytree_find(svc, "extends")) >= 0)
		ytree_del(svc, (size_t)e);
	if (base->type == Y_MAP && (e = ytree_find(base, "extends")) >= 0)
		ytree_del(base, (size_t)e);
	xasprintf(&path, "services.%s", name);
	svcs->kids[i + 1] = ytree_merge(&compose_merge_rules, path, base, svc);
	free(path);
	if (svcs->kids[i + 1] == NULL)
		svcs->kids[i + 1] = ytree_scalar_at(svcs->kids[i], "", true);
	return 0;
}

int
compose_extends(struct cload *st, const struct expand_ctx *x,
    struct ynode *root)
{
	struct ynode	*svcs = ytree_get(root, "services");
	struct chain	 ch;
	char		*name;
	size_t		 i;
	int		 rc = 0;

	if (svcs == NULL || svcs->type != Y_MAP)
		return 0;
	for (i = 0; i + 1 < svcs->nkids; i += 2) {
		memset(&ch, 0, sizeof ch);
		name = xstrdup(text(svcs->kids[i]));
		cload_rc(&rc, resolve(st, x, root, name, &ch));
		free(name);
	}
	return rc;
}

