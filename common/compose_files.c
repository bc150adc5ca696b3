/*
 * The compose loader's files: where they are (compose's lookup order,
 * compose-spec 03-compose-file.md), reading and parsing them, the env
 * files that feed interpolation, and paths.  See compose.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose_int.h"
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

bool
cload_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

char *
cload_find_first(const char *dir, const char *const *names)
{
	char	*p;
	size_t	 i;

	for (i = 0; names[i] != NULL; i++) {
		p = cload_join(dir, names[i]);
		if (cload_exists(p))
			return p;
		free(p);
	}
	return NULL;
}

char *
compose_find(const char *dir)
{
	static const char *const names[] = COMPOSE_FILE_NAMES;

	return cload_find_first(dir, names);
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

char *
cload_abs_dir(const char *dir)
{
	char buf[PATH_MAX];

	if (realpath(dir, buf) == NULL)
		return NULL;
	return xstrdup(buf);
}

char *
cload_abs(char *dir)
{
	char	 cwd[PATH_MAX], *a = cload_abs_dir(dir);

	/* One that does not exist (yet) is still made absolute. */
	if (a == NULL && dir[0] != '/' && getcwd(cwd, sizeof cwd) != NULL)
		a = cload_join(cwd, dir);
	if (a == NULL)
		return dir;
	free(dir);
	return a;
}


void
cload_rc(int *rc, int r)
{
	if (r != 0 && (*rc == 0 || (*rc == -EINVAL && r != -EINVAL)))
		*rc = r;
}

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
	c.aliases = true;
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
