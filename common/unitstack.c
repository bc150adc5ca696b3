/*
 * A stack: a directory of unit files, its stack.yaml and .env, loaded into
 * struct stack and finished (sorted, volumes declared).  Each unit file is
 * unityaml.c's, the JSON form unitjson.c's, and the rules unitcheck.c's.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unitenv.h"
#include "unitnotify.h"
#include "unityaml.h"
#include "util.h"

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
unit_cmp(const void *a, const void *b)
{
	return strcmp((*(struct unit *const *)a)->name,
	    (*(struct unit *const *)b)->name);
}

static bool
names_has(char **v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i], s) == 0)
			return true;
	}
	return false;
}

/* Sort a name list and drop repeats: stack_validate() has named them. */
static void
names_tidy(char **v, size_t *n)
{
	size_t i, j;

	if (*n > 1)
		qsort(v, *n, sizeof *v, str_cmp);
	for (i = j = 0; i < *n; i++) {
		if (j > 0 && strcmp(v[j - 1], v[i]) == 0)
			free(v[i]);
		else
			v[j++] = v[i];
	}
	*n = j;
}

/* Unit files need not list the volumes they mount; JSON must. */
static void
declare_volumes(struct stack *s)
{
	const struct unit_mount	*m;
	size_t			 i, j;

	for (i = 0; i < s->nunits; i++) {
		for (j = 0; j < s->units[i]->nmounts; j++) {
			m = &s->units[i]->mounts[j];
			if (m->kind != MOUNT_VOLUME)
				continue;
			s->volumes = xrealloc(s->volumes,
			    (s->nvolumes + 1) * sizeof *s->volumes);
			s->volumes[s->nvolumes++] = xstrdup(m->source);
		}
	}
}

void
stack_finish(struct stack *s, bool declare, struct diag_list *errs)
{
	if (s->nunits > 1)
		qsort(s->units, s->nunits, sizeof *s->units, unit_cmp);
	if (declare)
		declare_volumes(s);
	names_tidy(s->networks, &s->nnetworks);
	names_tidy(s->volumes, &s->nvolumes);
	stack_validate_units(s, errs);
}

/* ---- stack.yaml ---------------------------------------------------------- */

struct sctx {
	struct stack	*s;
	struct unit_marks at;
};

static void
s_name(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct sctx *sc = obj;

	if ((sc->s->name = ytree_string(c, path, n)) != NULL)
		YMARK(&sc->at, UF_STACK_NAME, n, path);
}

static void
s_names(struct yctx *c, const char *path, const struct ynode *n,
    struct sctx *sc, enum unit_field f)
{
	char	**v, ***out;
	size_t	  i, *nout;

	if ((v = ytree_strv(c, path, n, false, true)) == NULL)
		return;
	out = f == UF_NETWORK ? &sc->s->networks : &sc->s->volumes;
	nout = f == UF_NETWORK ? &sc->s->nnetworks : &sc->s->nvolumes;
	for (i = 0; v[i] != NULL; i++) {
		*out = xrealloc(*out, (*nout + 1) * sizeof **out);
		(*out)[(*nout)++] = v[i];
	}
	free(v);
	for (i = 0; i < n->nkids; i++)
		unit_mark(&sc->at, f, n->kids[i]->file,
		    n->kids[i]->line, n->kids[i]->col,
		    "%s[%zu]", path, i);
}

static void
s_networks(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	s_names(c, path, n, obj, UF_NETWORK);
}

static void
s_volumes(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	s_names(c, path, n, obj, UF_VOLUME);
}

static void
s_retain(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct sctx *sc = obj;

	ytree_int(c, path, n, UNIT_RETAIN_MIN, UNIT_RETAIN_MAX, &sc->s->retain);
}

static void
s_notify(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	notify_yaml_load(c, path, n, ((struct sctx *)obj)->s);
}

static const struct ykey stack_keys[] = {
	{ "name", s_name },
	{ "networks", s_networks },
	{ "volumes", s_volumes },
	{ "retain", s_retain },
	{ "notify", s_notify },
};

/* path may be NULL (no stack.yaml) when over, the environment's, is not. */
static int
stack_yaml_load(const char *path, const char *over,
    const struct expand_ctx *x, struct stack *s, struct diag_list *errs)
{
	struct yctx		 c = { path, x, errs, false };
	struct sctx		 sc;
	struct unit_where	 w;
	struct ynode		*root = NULL;
	size_t			 before = errs->n;
	int			 rc;

	memset(&sc, 0, sizeof sc);
	sc.s = s;
	sc.at.file = path != NULL ? path : over;
	if ((rc = unit_env_tree(&c, over, "stack", &root)) != 0)
		return rc;
	if (root != NULL)
		ytree_walk(&c, NULL, root, stack_keys,
		    nitems(stack_keys), &sc, NULL);
	unit_marks_where(&sc.at, &w);
	stack_validate(s, &w, errs);
	diag_sort(errs, before);
	unit_marks_free(&sc.at);
	ytree_free(root);
	return 0;
}

/* compose's rule: lower case, keep [a-z0-9_-], start with a letter or digit. */
static char *
stack_name_from_dir(const char *dir)
{
	const char	*base = strrchr(dir, '/');
	char		*s, *p;

	base = base != NULL ? base + 1 : dir;
	s = p = xmalloc(strlen(base) + 1);
	for (; *base != '\0' && p - s < UNIT_NAME_MAX; base++) {
		int c = tolower((unsigned char)*base);

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    ((c == '_' || c == '-') && p != s))
			*p++ = (char)c;
	}
	*p = '\0';
	return s;
}

struct dirlist {
	char	**v;
	size_t	  n;
};

/* The *.yaml files in dir, sorted; hidden files and directories skipped. */
static int
dir_list(const char *dir, const char *shown, struct dirlist *out,
    struct diag_list *errs)
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	size_t		 n;
	int		 rc = 0;

	if ((d = opendir(dir)) == NULL) {
		rc = -errno;
		diag_add(errs, shown, 0, 0, "%s", strerror(errno));
		return rc;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || (n = strlen(e->d_name)) < 5)
			continue;
		if (strcmp(e->d_name + n - 4, ".yml") == 0) {
			/* Silently skipping these would drop a service. */
			diag_add(errs, NULL, 0, 0, "%s/%s: unit files end in "
			    ".yaml; rename it to %.*s.yaml", shown, e->d_name,
			    (int)(n - 4), e->d_name);
			continue;
		}
		if (n < 6 || strcmp(e->d_name + n - 5, ".yaml") != 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		/* NULL-terminated, for strv_free() */
		out->v = xrealloc(out->v, (out->n + 2) * sizeof *out->v);
		out->v[out->n++] = xstrdup(e->d_name);
		out->v[out->n] = NULL;
	}
	closedir(d);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, str_cmp);
	return 0;
}

static int
unit_load(const char *path, const char *over, const char *name,
    const char *dir, const struct expand_ctx *x, struct unit **u,
    struct diag_list *errs)
{
	struct yctx	 c = { path, x, errs, false };
	struct ynode	*root;
	int		 rc;

	*u = NULL;
	if (over == NULL)
		return unit_yaml_load(path, name, dir, x, u, errs);
	if ((rc = unit_env_tree(&c, over, NULL, &root)) != 0)
		return rc;
	return unit_yaml_decode(path, name, dir, x, root, u, errs);
}

static void
load_units(struct stack *s, const char *shown, const char *env,
    struct dirlist *files, const struct expand_ctx *x,
    struct diag_list *errs, int *ioerr)
{
	struct unit	*u;
	char		*path, *name, *err, *over = NULL;
	size_t		 i;
	int		 rc;

	for (i = 0; i < files->n; i++) {
		if (strcmp(files->v[i], "stack.yaml") == 0)
			continue;
		xasprintf(&path, "%s/%s", shown, files->v[i]);
		name = xstrndup(files->v[i], strlen(files->v[i]) - 5);
		/* The file names the service: no use reading a bad one. */
		if ((err = unit_name_problem(name)) != NULL) {
			diag_add(errs, path, 0, 0, "%s", err);
			free(err);
		} else {
			if (env != NULL)
				xasprintf(&over, "%s/env/%s/%s", shown, env,
				    files->v[i]);
			rc = unit_load(path, over, name, s->dir, x, &u, errs);
			if (rc == 0) {
				s->units = xrealloc(s->units,
				    (s->nunits + 1) * sizeof *s->units);
				s->units[s->nunits++] = u;
			} else if (rc != -EINVAL && *ioerr == 0)
				*ioerr = rc;
		}
		free(over);
		over = NULL;
		free(name);
		free(path);
	}
}

/* .env, then ENV.env: one envfile, where a later key wins. */
static void
load_dotenv(const char *shown, const char *env, struct envfile *dotenv,
    struct diag_list *errs, int *ioerr)
{
	char	*path;
	int	 rc;

	xasprintf(&path, "%s/.env", shown);
	rc = expand_envfile_load(path, dotenv, errs);
	if (rc != 0 && rc != -EINVAL && rc != -ENOENT) {
		diag_add(errs, path, 0, 0, "%s", strerror(-rc));
		*ioerr = rc;
	}
	free(path);
	if (env == NULL)
		return;
	xasprintf(&path, "%s/%s.env", shown, env);
	rc = expand_envfile_load(path, dotenv, errs);
	if (rc != 0 && rc != -EINVAL && rc != -ENOENT) {
		diag_add(errs, path, 0, 0, "%s", strerror(-rc));
		if (*ioerr == 0)
			*ioerr = rc;
	}
	free(path);
}

int
stack_load_dir(const char *dir, char *const *envp, struct stack **out,
    struct diag_list *errs)
{
	return stack_load_dir_env(dir, NULL, envp, out, errs);
}

int
stack_load_dir_env(const char *dir, const char *env, char *const *envp,
    struct stack **out, struct diag_list *errs)
{
	struct expand_ctx	 x;
	struct envfile		 dotenv = { NULL, 0 };
	struct dirlist		 files = { NULL, 0 };
	struct stack		*s = NULL;
	char			*shown, *path = NULL, *over = NULL;
	size_t			 before = errs->n, n;
	int			 rc = 0, ioerr = 0;

	*out = NULL;
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	shown = xstrndup(dir, n);
	s = stack_new();
	if ((s->dir = realpath(dir, NULL)) == NULL) {
		rc = -errno;
		diag_add(errs, shown, 0, 0, "%s", strerror(errno));
		goto out;
	}
	if ((rc = dir_list(s->dir, shown, &files, errs)) != 0)
		goto out;
	if (env != NULL && (rc = unit_env_check(s->dir, shown, env, files.v,
	    errs)) != 0)
		goto out;

	load_dotenv(shown, env, &dotenv, errs, &ioerr);
	x.envp = envp;
	x.dotenv = &dotenv;

	if (env != NULL)
		xasprintf(&over, "%s/env/%s/stack.yaml", shown, env);
	if (names_has(files.v, files.n, "stack.yaml"))
		xasprintf(&path, "%s/stack.yaml", shown);
	if (path != NULL || (over != NULL && access(over, F_OK) == 0)) {
		if ((rc = stack_yaml_load(path, over, &x, s, errs)) != 0 &&
		    rc != -EINVAL && ioerr == 0)
			ioerr = rc;
	}
	if (s->name == NULL) {
		s->name = stack_name_from_dir(s->dir);
		if (!stack_name_valid(s->name)) {
			diag_add(errs, shown, 0, 0, "cannot make a stack name "
			    "from the directory name; set name: in stack.yaml");
		}
	}
	load_units(s, shown, env, &files, &x, errs, &ioerr);
	stack_build_tags(s);
	if (s->nunits == 0 && errs->n == before)
		diag_add(errs, shown, 0, 0, "no unit files (*.yaml) here");
	stack_finish(s, true, errs);
	rc = ioerr != 0 ? ioerr : errs->n != before ? -EINVAL : 0;
out:
	if (rc == 0)
		*out = s;
	else
		stack_free(s);
	strv_free(files.v);
	expand_envfile_free(&dotenv);
	free(over);
	free(path);
	free(shown);
	return rc;
}
