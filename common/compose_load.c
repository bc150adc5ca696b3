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

#include "compose.h"
#include "unit.h"
#include "util.h"
#include "ytree.h"

#define COMPOSE_FILE_MAX	UNIT_FILE_MAX

static char *
path_join(const char *dir, const char *name)
{
	char *s;

	if (name[0] == '/' || dir == NULL)
		return xstrdup(name);
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
		p = path_join(dir, names[i]);
		if (file_exists(p))
			return p;
		free(p);
	}
	return NULL;
}

static char *
dir_of(const char *path)
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

/* Minimal: one file, no merge, no interpolation (the next steps add them). */
int
compose_load(const struct compose_opts *o, struct compose_project **out,
    struct diag_list *errs)
{
	struct compose_project	*p;
	struct yctx		 c;
	const struct ynode	*name_node = NULL;
	char			*first, *dir;
	size_t			 i;
	int			 rc;

	*out = NULL;
	p = xcalloc(1, sizeof *p);
	if (o->nfiles > 0)
		first = xstrdup(o->files[0]);
	else if ((first = compose_find(o->dir ? o->dir : ".")) == NULL) {
		diag_add(errs, o->dir ? o->dir : ".", 0, 0, "no compose file "
		    "(compose.yaml, compose.yml, docker-compose.yaml or "
		    "docker-compose.yml)");
		free(p);
		return -ENOENT;
	}
	dir = o->dir ? xstrdup(o->dir) : o->nfiles > 0 ? dir_of(first) :
	    xstrdup(".");
	if ((p->dir = abs_dir(dir)) == NULL) {
		rc = -errno;
		diag_add(errs, dir, 0, 0, "%s", strerror(errno));
		free(dir);
		free(first);
		free(p);
		return rc;
	}
	free(dir);
	p->files = xcalloc(2, sizeof *p->files);
	p->files[0] = first;
	memset(&c, 0, sizeof c);
	c.file = first;
	c.errs = errs;
	if ((rc = ytree_load_file(&c, first, COMPOSE_FILE_MAX, &p->root)) != 0)
		goto fail;
	if (p->root == NULL || p->root->type != Y_MAP) {
		diag_add(errs, first, p->root ? p->root->line : 0,
		    p->root ? p->root->col : 0, "a compose file must be a "
		    "mapping");
		rc = -EINVAL;
		goto fail;
	}
	for (i = 0; i + 1 < p->root->nkids; i += 2) {
		if (strcmp(p->root->kids[i]->str ? p->root->kids[i]->str : "",
		    "name") == 0)
			name_node = p->root->kids[i + 1];
	}
	if ((rc = project_name(o, NULL, name_node, name_node &&
	    name_node->type == Y_SCALAR ? name_node->str : NULL, p->dir,
	    &p->name, errs)) != 0)
		goto fail;
	*out = p;
	return 0;
fail:
	compose_project_free(p);
	return rc;
}
