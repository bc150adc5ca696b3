/*
 * Loading a compose project: the files in order, each interpolated and
 * extended, merged, then include (compose-spec 14-include.md), the name
 * and the profiles.  See compose.h and docs/compose.md ("How shipd loads
 * a compose project"); the files are compose_files.c, the rules
 * compose_merge.c, extends compose_extends.c, name and profiles
 * compose_profiles.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose_int.h"
#include "util.h"
#include "ytree.h"

static const char *
text(const struct ynode *n)
{
	return n != NULL && n->type == Y_SCALAR && n->str != NULL ? n->str : "";
}

void
compose_project_free(struct compose_project *p)
{
	if (p == NULL)
		return;
	ytree_free(p->root);
	free(p->name);
	free(p->dir);
	strv_free(p->files);
	free(p);
}

int
cload_model(struct cload *st, const struct expand_ctx *x,
    struct ynode **trees, size_t n, struct ynode **out)
{
	struct ynode	*root = NULL;
	size_t		 i;
	int		 rc = 0;

	*out = NULL;
	for (i = 0; i < n; i++) {
		/* Per file, before the merge (12-interpolation.md), and
		 * extends within the file it is written in. */
		if (compose_interpolate(st, x, trees[i]) != 0)
			rc = rc ? rc : -EINVAL;
		else
			cload_rc(&rc, compose_extends(st, x, trees[i]));
		root = ytree_merge(&compose_merge_rules, NULL, root, trees[i]);
		trees[i] = NULL;
	}
	/* After the merge, so that a name defined twice is seen
	 * (14-include.md). */
	if (rc == 0 && root != NULL)
		rc = compose_include(st, x, root);
	if (rc != 0) {
		ytree_free(root);
		return rc;
	}
	*out = root;
	return 0;
}

/* ---- include ------------------------------------------------------------- */

static const char *sections[] = {
	"services", "networks", "volumes", "secrets", "configs"
};

/* Move what sub defines into root; a name defined twice is an error. */
static int
take(struct cload *st, struct ynode *root, struct ynode *sub,
    const char *from)
{
	struct ynode	*dst, *src, *k, *old;
	size_t		 s, i;
	int		 rc = 0;

	for (s = 0; s < nitems(sections); s++) {
		if ((src = ytree_get(sub, sections[s])) == NULL ||
		    src->type != Y_MAP)
			continue;
		if ((dst = ytree_get(root, sections[s])) == NULL) {
			ytree_put(root, ytree_scalar_at(src, sections[s], true),
			    ytree_scalar_at(src, "", true));
			dst = root->kids[root->nkids - 1];
			dst->type = Y_MAP;
			free(dst->str);
			dst->str = NULL;
			dst->plain = false;
		}
		if (dst->type != Y_MAP)
			continue;
		for (i = 0; i + 1 < src->nkids; i += 2) {
			k = src->kids[i];
			old = ytree_get(dst, text(k));
			if (old != NULL && ytree_equal(old, src->kids[i + 1]))
				continue;	/* the same file included twice */
			if (old != NULL) {
				const struct ynode *ok =
				    dst->kids[ytree_find(dst, text(k))];

				diag_add(st->errs, k->file, k->line, k->col,
				    "%s.%s, included from %s, is also defined "
				    "at %s:%d:%d; include does not merge: "
				    "rename one", sections[s], text(k), from,
				    ok->file ? ok->file : "?", ok->line,
				    ok->col);
				rc = -EINVAL;
				continue;
			}
			ytree_put(dst, k, src->kids[i + 1]);
			src->kids[i] = src->kids[i + 1] = NULL;
		}
	}
	return rc;
}

/* A string or a list of strings as paths from dir, into *v. */
static int
paths_of(struct cload *st, const struct ynode *n, const char *dir,
    const char *what, char ***v, size_t *nv)
{
	size_t i;

	*v = NULL;
	*nv = 0;
	if (n == NULL)
		return 0;
	if (n->type == Y_SCALAR && !ytree_null(n)) {
		*v = xcalloc(2, sizeof **v);
		(*v)[(*nv)++] = cload_join(dir, text(n));
		return 0;
	}
	if (n->type == Y_SEQ) {
		*v = xcalloc(n->nkids + 1, sizeof **v);
		for (i = 0; i < n->nkids; i++) {
			if (n->kids[i]->type != Y_SCALAR ||
			    ytree_null(n->kids[i])) {
				diag_add(st->errs, n->kids[i]->file,
				    n->kids[i]->line, n->kids[i]->col,
				    "include.%s: expected a path", what);
				return -EINVAL;
			}
			(*v)[(*nv)++] = cload_join(dir, text(n->kids[i]));
		}
		return 0;
	}
	diag_add(st->errs, n->file, n->line, n->col, "include.%s: expected a "
	    "path or a list of paths, got %s", what, ytree_kind(n));
	return -EINVAL;
}

static int
include_one(struct cload *st, const struct expand_ctx *x, struct ynode *root,
    const struct ynode *item)
{
	const struct ynode	*pathn, *pdirn = NULL, *envn = NULL;
	struct ynode		**trees = NULL, *sub = NULL;
	struct envfile		 ef = { NULL, 0 };
	struct expand_ctx	 x2;
	char			*dir, *pdir = NULL, **paths = NULL, **envs = NULL;
	char			*dot;
	const char		*kept;
	size_t			 np = 0, ne = 0, i, j;
	int			 rc;

	dir = cload_dir_of(item->file);
	if (item->type == Y_MAP) {
		pathn = ytree_get(item, "path");
		pdirn = ytree_get(item, "project_directory");
		envn = ytree_get(item, "env_file");
	} else
		pathn = item;
	if (pathn == NULL) {
		diag_add(st->errs, item->file, item->line, item->col,
		    "include: an entry needs 'path'");
		rc = -EINVAL;
		goto out;
	}
	if ((rc = paths_of(st, pathn, dir, "path", &paths, &np)) != 0)
		goto out;
	if (np == 0) {
		diag_add(st->errs, pathn->file, pathn->line, pathn->col,
		    "include.path: expected a path");
		rc = -EINVAL;
		goto out;
	}
	pdir = cload_abs(pdirn != NULL && pdirn->type == Y_SCALAR ?
	    cload_join(dir, text(pdirn)) : cload_dir_of(paths[0]));
	if ((rc = paths_of(st, envn, dir, "env_file", &envs, &ne)) != 0)
		goto out;
	if (envn == NULL) {
		dot = cload_join(pdir, ".env");
		if (access(dot, F_OK) == 0) {
			envs = xcalloc(2, sizeof *envs);
			envs[ne++] = dot;
		} else
			free(dot);
	}
	for (i = 0; i < st->nincl; i++) {
		if (strcmp(st->incl[i], paths[0]) == 0)
			break;
	}
	if (i < st->nincl || st->nincl == COMPOSE_INCLUDE_DEPTH) {
		diag_add(st->errs, pathn->file, pathn->line, pathn->col,
		    "include: %s '%s'", i < st->nincl ? "a cycle through" :
		    "nested too deeply at", paths[0]);
		rc = -EINVAL;
		goto out;
	}
	if ((rc = cload_env_files(st, envs, ne, NULL, &ef)) != 0)
		goto out;
	/* The including project's variables win over the included ones. */
	for (j = 0; x->dotenv != NULL && j < x->dotenv->n; j++) {
		ef.v = xrealloc(ef.v, (ef.n + 1) * sizeof *ef.v);
		ef.v[ef.n].key = xstrdup(x->dotenv->v[j].key);
		ef.v[ef.n].value = xstrdup(x->dotenv->v[j].value);
		ef.v[ef.n++].line = x->dotenv->v[j].line;
	}
	x2.envp = x->envp;
	x2.dotenv = &ef;
	trees = xcalloc(np, sizeof *trees);
	for (i = 0; i < np; i++) {
		kept = cload_keep(st, paths[i]);
		if ((rc = cload_parse(st, kept, &trees[i])) != 0) {
			diag_add(st->errs, pathn->file, pathn->line,
			    pathn->col, "include: cannot load '%s'", paths[i]);
			goto out;
		}
	}
	st->incl[st->nincl++] = cload_keep(st, paths[0]);
	rc = cload_model(st, &x2, trees, np, &sub);
	st->nincl--;
	np = 0;		/* consumed */
	if (rc != 0)
		goto out;
	compose_abs_paths(sub, pdir);
	rc = take(st, root, sub, cload_keep(st, paths[0]));
out:
	for (i = 0; trees != NULL && i < np; i++)
		ytree_free(trees[i]);
	free(trees);
	ytree_free(sub);
	expand_envfile_free(&ef);
	strv_free(paths);
	strv_free(envs);
	free(pdir);
	free(dir);
	return rc;
}

int
compose_include(struct cload *st, const struct expand_ctx *x,
    struct ynode *root)
{
	struct ynode	*inc;
	ssize_t		 at;
	size_t		 i;
	int		 rc = 0;

	if ((at = ytree_find(root, "include")) < 0)
		return 0;
	inc = root->kids[at + 1];
	if (inc->type != Y_SEQ) {
		if (!ytree_null(inc)) {
			diag_add(st->errs, inc->file, inc->line, inc->col,
			    "include: expected a list, got %s",
			    ytree_kind(inc));
			rc = -EINVAL;
		}
	} else {
		for (i = 0; i < inc->nkids; i++) {
			cload_rc(&rc, include_one(st, x, root, inc->kids[i]));
		}
	}
	ytree_del(root, (size_t)ytree_find(root, "include"));
	return rc;
}

/* ---- the project --------------------------------------------------------- */

/* The override file beside the one found, if there is one (compose applies
 * it when no -f is given). */
static char *
find_override(const char *dir)
{
	static const char *const names[] = { "compose.override.yaml",
	    "compose.override.yml", "docker-compose.override.yaml",
	    "docker-compose.override.yml", NULL };

	return cload_find_first(dir, names);
}

static void
cload_free(struct cload *st)
{
	size_t i;

	for (i = 0; i < st->ncache; i++)
		ytree_free(st->cache[i].root);
	free(st->cache);
	for (i = 0; i < st->nwarned; i++)
		free(st->warned[i]);
	free(st->warned);
	strv_free(st->files);
}

/* The top-level name: of the last file that has one, interpolated. */
static int
name_from_files(struct cload *st, const struct expand_ctx *x,
    struct ynode **trees, size_t n, const struct ynode **at, char **out)
{
	const struct ynode	*v = NULL;
	char			*err;
	size_t			 i;

	*out = NULL;
	*at = NULL;
	for (i = 0; i < n; i++) {
		if (ytree_get(trees[i], "name") != NULL)
			v = ytree_get(trees[i], "name");
	}
	if (v == NULL || ytree_null(v))
		return 0;
	*at = v;
	if (v->type != Y_SCALAR) {
		diag_add(st->errs, v->file, v->line, v->col, "name: expected "
		    "a string, got %s", ytree_kind(v));
		return -EINVAL;
	}
	if (expand_str_compose(x, v->str, NULL, NULL, out, &err) != 0) {
		diag_add(st->errs, v->file, v->line, v->col, "name: %s", err);
		free(err);
		return -EINVAL;
	}
	return 0;
}

int
compose_load(const struct compose_opts *o, struct compose_project **out,
    struct diag_list *errs)
{
	struct compose_project	*p;
	struct cload		 st;
	struct envfile		 ef = { NULL, 0 };
	struct expand_ctx	 x;
	struct ynode		**trees = NULL;
	const struct ynode	*name_at;
	char			*dir, *dot, *found, *over, *fname = NULL;
	char			**envp = NULL, **files = NULL;
	size_t			 nfiles = 0, i, n;
	int			 rc = 0;

	*out = NULL;
	memset(&st, 0, sizeof st);
	st.o = o;
	st.errs = errs;
	st.warns = o->warns;
	p = xcalloc(1, sizeof *p);

	/* The project directory: given, or the first file's, or here. */
	dir = o->dir ? xstrdup(o->dir) : o->nfiles > 0 ?
	    cload_dir_of(o->files[0]) : xstrdup(".");
	if ((p->dir = cload_abs_dir(dir)) == NULL) {
		rc = -errno;
		diag_add(errs, dir, 0, 0, "project directory: %s",
		    strerror(errno));
		free(dir);
		goto out;
	}
	free(dir);

	/* The files: -f in order, else the one found and its override. */
	files = xcalloc(o->nfiles + 3, sizeof *files);
	for (i = 0; i < o->nfiles; i++)
		files[nfiles++] = xstrdup(o->files[i]);
	if (nfiles == 0) {
		if ((found = compose_find(p->dir)) == NULL) {
			diag_add(errs, p->dir, 0, 0, "no compose file "
			    "(compose.yaml, compose.yml, docker-compose.yaml or "
			    "docker-compose.yml)");
			rc = -ENOENT;
			goto out;
		}
		files[nfiles++] = found;
		if ((over = find_override(p->dir)) != NULL)
			files[nfiles++] = over;
	}

	/* Variables: --env-file in order, else DIR/.env if there is one. */
	if (o->nenv_files > 0)
		rc = cload_env_files(&st, o->env_files, o->nenv_files, NULL,
		    &ef);
	else {
		dot = cload_join(p->dir, ".env");
		if (cload_exists(dot))
			rc = cload_env_files(&st, &dot, 1, NULL, &ef);
		free(dot);
	}
	if (rc != 0)
		goto out;

	trees = xcalloc(nfiles, sizeof *trees);
	for (i = 0; i < nfiles; i++) {
		int r = cload_parse(&st, files[i], &trees[i]);

		if (r != 0 && (rc == 0 || rc == -EINVAL))
			rc = r;
	}
	if (rc != 0)
		goto out;

	/* The name first: files may use ${COMPOSE_PROJECT_NAME}. */
	x.envp = o->envp;
	x.dotenv = &ef;
	if ((rc = name_from_files(&st, &x, trees, nfiles, &name_at,
	    &fname)) != 0)
		goto out;
	if ((rc = cload_project_name(o, expand_envfile_get(&ef,
	    "COMPOSE_PROJECT_NAME"), name_at, fname, p->dir, &p->name,
	    errs)) != 0)
		goto out;
	for (n = 0; o->envp != NULL && o->envp[n] != NULL; n++)
		;
	envp = xcalloc(n + 2, sizeof *envp);
	xasprintf(&envp[0], "COMPOSE_PROJECT_NAME=%s", p->name);
	for (i = 0; i < n; i++)
		envp[i + 1] = xstrdup(o->envp[i]);
	x.envp = envp;

	rc = cload_model(&st, &x, trees, nfiles, &p->root);
	nfiles = 0;
	if (rc == 0)
		rc = cload_profiles(&st, &x, p->root);
out:
	for (i = 0; trees != NULL && i < nfiles; i++)
		ytree_free(trees[i]);
	free(trees);
	strv_free(files);
	strv_free(envp);
	free(fname);
	expand_envfile_free(&ef);
	if (rc == 0) {
		p->files = st.files;
		st.files = NULL;
		*out = p;
	}
	cload_free(&st);
	if (rc != 0) {
		/* The trees name files in st.files, freed: none is left. */
		compose_project_free(p);
	}
	return rc;
}
