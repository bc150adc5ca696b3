/*
 * Loading a compose project: which files, in what order, and the project's
 * name.  See compose.h and docs/compose.md ("How shipd loads a compose
 * project").  The rules follow the compose specification
 * (compose-spec/compose-spec: 04-version-and-name.md for the name,
 * 03-compose-file.md for the file lookup).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose_int.h"
#include "unit.h"
#include "util.h"
#include "ytree.h"


char *
cload_join(const char *dir, const char *name)
{
	char *s;

	if (name[0] == '/' || dir == NULL)
		return xstrdup(name);
	while (name[0] == '.' && name[1] == '/')
		for (name += 2; *name == '/'; name++)
			;
	if (strcmp(name, ".") == 0 || *name == '\0')
		return xstrdup(dir);
	xasprintf(&s, "%s/%s", dir, name);
	return s;
}

static bool
file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

char *
compose_find(const char *dir)
{
	static const char	*names[] = COMPOSE_FILE_NAMES;
	char			*p;
	size_t			 i;

	for (i = 0; names[i] != NULL; i++) {
		p = cload_join(dir, names[i]);
		if (file_exists(p))
			return p;
		free(p);
	}
	return NULL;
}

char *
cload_dir_of(const char *path)
{
	const char *s = strrchr(path, '/');

	if (s == NULL)
		return xstrdup(".");
	if (s == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(s - path));
}

static char *
abs_dir(const char *dir)
{
	char buf[PATH_MAX];

	if (realpath(dir, buf) == NULL)
		return NULL;
	return xstrdup(buf);
}

/*
 * compose's normalisation of a directory's name into a project name:
 * lower case, only [a-z0-9_-] kept, no leading '_' or '-'.
 */
static char *
compose_name_normalise(const char *s)
{
	char	*out = xmalloc(strlen(s) + 1), *o = out;
	int	 c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-'))
			continue;
		if (o == out && (c == '_' || c == '-'))
			continue;
		*o++ = (char)c;
	}
	*o = '\0';
	return out;
}

static const char *
env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++) {
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	}
	return NULL;
}

/*
 * The project's name: -p, COMPOSE_PROJECT_NAME, top-level name:, else the
 * directory's name normalised.  A name given explicitly must already be
 * valid: shipd (like compose) does not silently rename a project.
 */
static int
project_name(const struct compose_opts *o, const char *dotenv_name,
    const struct ynode *name_node, const char *name_text, const char *dir,
    char **out, struct diag_list *errs)
{
	const char	*given = NULL, *what = NULL, *base;
	char		*norm;

	*out = NULL;
	if (o->project != NULL && *o->project != '\0') {
		given = o->project;
		what = "-p";
	} else if ((given = env_get(o->envp, "COMPOSE_PROJECT_NAME")) != NULL &&
	    *given != '\0')
		what = "COMPOSE_PROJECT_NAME";
	else if ((given = dotenv_name) != NULL && *given != '\0')
		what = "COMPOSE_PROJECT_NAME (from the .env file)";
	else if (name_text != NULL && *name_text != '\0') {
		given = name_text;
		what = "name:";
	} else
		given = NULL;
	if (given != NULL) {
		if (stack_name_valid(given)) {
			*out = xstrdup(given);
			return 0;
		}
		norm = compose_name_normalise(given);
		if (what != NULL && strcmp(what, "name:") == 0 &&
		    name_node != NULL)
			diag_add(errs, name_node->file, name_node->line,
			    name_node->col, "invalid project name '%s': use "
			    "lower-case letters, digits, '_' and '-', starting "
			    "with a letter or digit%s%s%s", given,
			    *norm ? " (for example '" : "", norm,
			    *norm ? "')" : "");
		else
			diag_add(errs, NULL, 0, 0, "invalid project name '%s' "
			    "(%s): use lower-case letters, digits, '_' and '-', "
			    "starting with a letter or digit%s%s%s", given,
			    what, *norm ? " (for example '" : "", norm,
			    *norm ? "')" : "");
		free(norm);
		return -EINVAL;
	}
	base = strrchr(dir, '/');
	base = base != NULL ? base + 1 : dir;
	norm = compose_name_normalise(base);
	if (!stack_name_valid(norm)) {
		diag_add(errs, NULL, 0, 0, "the project directory's name '%s' "
		    "gives no valid project name; name the project with -p, "
		    "COMPOSE_PROJECT_NAME or a top-level 'name:'", base);
		free(norm);
		return -EINVAL;
	}
	*out = norm;
	return 0;
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

/* ---- files --------------------------------------------------------------- */

const char *
cload_keep(struct cload *st, const char *path)
{
	size_t i;

	for (i = 0; i < st->nfiles; i++) {
		if (strcmp(st->files[i], path) == 0)
			return st->files[i];
	}
	st->files = xrealloc(st->files, (st->nfiles + 2) * sizeof *st->files);
	st->files[st->nfiles] = xstrdup(path);
	st->files[st->nfiles + 1] = NULL;
	return st->files[st->nfiles++];
}

int
cload_parse(struct cload *st, const char *path, struct ynode **root)
{
	struct yctx	c;
	int		rc;

	memset(&c, 0, sizeof c);
	c.file = cload_keep(st, path);
	c.errs = st->errs;
	if ((rc = ytree_load_file(&c, c.file, COMPOSE_FILE_MAX, root)) != 0)
		return rc;
	if (*root == NULL) {
		diag_add(st->errs, c.file, 0, 0, "empty compose file: it needs "
		    "at least 'services'");
		return -EINVAL;
	}
	if ((*root)->type != Y_MAP) {
		diag_add(st->errs, c.file, (*root)->line, (*root)->col, "a "
		    "compose file must be a mapping, not %s",
		    ytree_kind(*root));
		ytree_free(*root);
		*root = NULL;
		return -EINVAL;
	}
	return 0;
}

int
cload_env_files(struct cload *st, char *const *paths, size_t n,
    const char *rel, struct envfile *ef)
{
	char	*path;
	size_t	 i;
	int	 rc, ret = 0;

	for (i = 0; i < n; i++) {
		path = cload_join(rel, paths[i]);
		if ((rc = expand_envfile_load(path, ef, st->errs)) < 0 &&
		    rc != -EINVAL) {
			diag_add(st->errs, path, 0, 0, "env file: %s",
			    strerror(-rc));
			if (ret == 0 || ret == -EINVAL)
				ret = rc;
		} else if (rc != 0 && ret == 0)
			ret = rc;
		free(path);
	}
	return ret;
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
		if (compose_interpolate(st, x, trees[i]) != 0 ||
		    compose_extends(st, x, trees[i]) != 0)
			rc = -EINVAL;
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

/* ---- profiles ------------------------------------------------------------ */

struct profiles {
	char	**v;
	size_t	  n;
	bool	  all;		/* "*" */
};

static void
profiles_add(struct profiles *pr, const char *s, size_t len)
{
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return;
	if (len == 1 && *s == '*')
		pr->all = true;
	pr->v = xrealloc(pr->v, (pr->n + 1) * sizeof *pr->v);
	pr->v[pr->n++] = xstrndup(s, len);
}

static bool
svc_enabled(const struct profiles *pr, const struct ynode *svc)
{
	const struct ynode	*l = ytree_get(svc, "profiles");
	size_t			 i, j;

	if (l == NULL || ytree_null(l) || (l->type == Y_SEQ && l->nkids == 0))
		return true;
	if (pr->all)
		return true;
	for (i = 0; l->type == Y_SEQ && i < l->nkids; i++) {
		for (j = 0; j < pr->n; j++) {
			if (l->kids[i]->type == Y_SCALAR &&
			    strcmp(l->kids[i]->str, pr->v[j]) == 0)
				return true;
		}
	}
	/* A single string is one profile. */
	for (j = 0; l->type == Y_SCALAR && j < pr->n; j++) {
		if (strcmp(l->str, pr->v[j]) == 0)
			return true;
	}
	return false;
}

static void
disabled_ref(struct cload *st, const struct ynode *svcs, const char *from,
    const char *key, const struct ynode *at, const char *to, size_t tolen,
    const bool *on)
{
	const struct ynode	*l;
	struct buf		 b;
	char			*name = xstrndup(to, tolen);
	ssize_t			 j;
	size_t			 i;

	if ((j = ytree_find(svcs, name)) < 0 || on[j / 2]) {
		free(name);
		return;
	}
	buf_init(&b);
	l = ytree_get(svcs->kids[j + 1], "profiles");
	for (i = 0; l != NULL && l->type == Y_SEQ && i < l->nkids; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", l->kids[i]->str ?
		    l->kids[i]->str : "?");
	if (l != NULL && l->type == Y_SCALAR)
		buf_puts(&b, l->str);
	diag_add(st->errs, at->file, at->line, at->col, "services.%s.%s: "
	    "service '%s' needs '%s', which its profiles (%s) leave out: "
	    "enable one with --profile or COMPOSE_PROFILES, or give '%s' the "
	    "profiles of '%s'", from, key, from, name, b.len ? b.data : "",
	    from, name);
	buf_free(&b);
	free(name);
}

/* A service that an enabled one needs must be enabled too (15-profiles.md). */
static void
check_refs(struct cload *st, const struct ynode *svcs, const char *name,
    const struct ynode *svc, const bool *on)
{
	const struct ynode	*d, *v, *req;
	const char		*s, *c;
	size_t			 i;

	if ((d = ytree_get(svc, "depends_on")) != NULL) {
		for (i = 0; d->type == Y_SEQ && i < d->nkids; i++) {
			if (d->kids[i]->type == Y_SCALAR)
				disabled_ref(st, svcs, name, "depends_on",
				    d->kids[i], d->kids[i]->str,
				    strlen(d->kids[i]->str), on);
		}
		for (i = 0; d->type == Y_MAP && i + 1 < d->nkids; i += 2) {
			v = d->kids[i + 1];
			req = v->type == Y_MAP ? ytree_get(v, "required") :
			    NULL;
			if (req != NULL && req->type == Y_SCALAR &&
			    strcasecmp(req->str, "false") == 0)
				continue;
			disabled_ref(st, svcs, name, "depends_on", d->kids[i],
			    d->kids[i]->str ? d->kids[i]->str : "",
			    d->kids[i]->str ? strlen(d->kids[i]->str) : 0, on);
		}
	}
	if ((d = ytree_get(svc, "links")) != NULL && d->type == Y_SEQ) {
		for (i = 0; i < d->nkids; i++) {
			if (d->kids[i]->type != Y_SCALAR)
				continue;
			s = d->kids[i]->str;
			c = strchr(s, ':');
			disabled_ref(st, svcs, name, "links", d->kids[i], s,
			    c ? (size_t)(c - s) : strlen(s), on);
		}
	}
	if ((d = ytree_get(svc, "volumes_from")) != NULL && d->type == Y_SEQ) {
		for (i = 0; i < d->nkids; i++) {
			if (d->kids[i]->type != Y_SCALAR ||
			    strncmp(d->kids[i]->str, "container:", 10) == 0)
				continue;
			s = d->kids[i]->str;
			c = strchr(s, ':');
			disabled_ref(st, svcs, name, "volumes_from",
			    d->kids[i], s, c ? (size_t)(c - s) : strlen(s), on);
		}
	}
	for (i = 0; i < 3; i++) {
		static const char *keys[] = { "network_mode", "ipc", "pid" };

		d = ytree_get(svc, keys[i]);
		if (d != NULL && d->type == Y_SCALAR &&
		    strncmp(d->str, "service:", 8) == 0)
			disabled_ref(st, svcs, name, keys[i], d, d->str + 8,
			    strlen(d->str + 8), on);
	}
}

static int
apply_profiles(struct cload *st, const struct expand_ctx *x,
    struct ynode *root)
{
	struct profiles	 pr = { NULL, 0, false };
	struct ynode	*svcs = ytree_get(root, "services");
	const char	*env, *c;
	size_t		 i, before = st->errs->n, n;
	bool		*on;

	if (svcs == NULL || svcs->type != Y_MAP)
		return 0;
	for (i = 0; i < st->o->nprofiles; i++)
		profiles_add(&pr, st->o->profiles[i],
		    strlen(st->o->profiles[i]));
	if ((env = expand_lookup(x, "COMPOSE_PROFILES")) != NULL) {
		for (; (c = strchr(env, ',')) != NULL; env = c + 1)
			profiles_add(&pr, env, (size_t)(c - env));
		profiles_add(&pr, env, strlen(env));
	}
	n = svcs->nkids / 2;
	on = xcalloc(n + 1, sizeof *on);
	for (i = 0; i < n; i++)
		on[i] = svcs->kids[2 * i + 1]->type != Y_MAP ||
		    svc_enabled(&pr, svcs->kids[2 * i + 1]);
	for (i = 0; i < n; i++) {
		if (on[i] && svcs->kids[2 * i + 1]->type == Y_MAP)
			check_refs(st, svcs, svcs->kids[2 * i]->str ?
			    svcs->kids[2 * i]->str : "", svcs->kids[2 * i + 1],
			    on);
	}
	for (i = n; i > 0; i--) {
		if (!on[i - 1])
			ytree_del(svcs, 2 * (i - 1));
	}
	free(on);
	strv_free(pr.v ? (pr.v = xrealloc(pr.v, (pr.n + 1) *
	    sizeof *pr.v), pr.v[pr.n] = NULL, pr.v) : NULL);
	return st->errs->n == before ? 0 : -EINVAL;
}

/* ---- the project --------------------------------------------------------- */

/* The override file beside the one found, if there is one (compose applies
 * it when no -f is given). */
static char *
find_override(const char *dir)
{
	static const char	*names[] = { "compose.override.yaml",
	    "compose.override.yml", "docker-compose.override.yaml",
	    "docker-compose.override.yml", NULL };
	char			*p;
	size_t			 i;

	for (i = 0; names[i] != NULL; i++) {
		p = cload_join(dir, names[i]);
		if (file_exists(p))
			return p;
		free(p);
	}
	return NULL;
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
	if ((p->dir = abs_dir(dir)) == NULL) {
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
		if (file_exists(dot))
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
	if ((rc = project_name(o, expand_envfile_get(&ef,
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
		rc = apply_profiles(&st, &x, p->root);
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
