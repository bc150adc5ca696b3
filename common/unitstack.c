/*
 * A stack: a directory of unit files, its stack.yaml and .env, loaded into
 * struct stack, and the checks that span units.  Each unit file is
 * unityaml.c's; the JSON form is unitjson.c's.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expand.h"
#include "unit.h"
#include "util.h"
#include "ytree.h"

struct stack *
stack_new(void)
{
	struct stack *s = xcalloc(1, sizeof *s);

	s->retain = UNIT_DEF_RETAIN;
	return s;
}

static void
names_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
stack_free(struct stack *s)
{
	size_t i;

	if (s == NULL)
		return;
	free(s->name);
	free(s->dir);
	for (i = 0; i < s->nunits; i++)
		unit_free(s->units[i]);
	free(s->units);
	names_free(s->networks, s->nnetworks);
	names_free(s->volumes, s->nvolumes);
	free(s);
}

const struct unit *
stack_unit(const struct stack *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nunits; i++) {
		if (strcmp(s->units[i]->name, name) == 0)
			return s->units[i];
	}
	return NULL;
}

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

/* Sort a name list and drop repeats, each reported as an error. */
static void
names_tidy(char **v, size_t *n, const char *what, struct diag_list *errs)
{
	size_t i, j;

	if (*n > 1)
		qsort(v, *n, sizeof *v, str_cmp);
	for (i = j = 0; i < *n; i++) {
		if (j > 0 && strcmp(v[j - 1], v[i]) == 0) {
			diag_add(errs, NULL, 0, 0, "%s '%s' is declared twice",
			    what, v[i]);
			free(v[i]);
		} else
			v[j++] = v[i];
	}
	*n = j;
}

static void
check_deps(struct stack *s, const struct unit *u, struct diag_list *errs)
{
	const struct unit	*t;
	size_t			 i;

	for (i = 0; i < u->ndeps; i++) {
		t = stack_unit(s, u->deps[i].name);
		/* A missing target is the graph's to report. */
		if (t == NULL || u->deps[i].cond != DEP_COMPLETED ||
		    t->replicas == 1)
			continue;
		diag_add(errs, u->file, u->deps[i].line, u->deps[i].col,
		    "depends_on: '%s' is completed only with exactly one "
		    "replica, but it has replicas: %d", t->name, t->replicas);
	}
}

static void
check_volumes(struct stack *s, const struct unit *u, bool declare,
    struct diag_list *errs)
{
	const struct unit_mount	*m;
	size_t			 i;

	for (i = 0; i < u->nmounts; i++) {
		m = &u->mounts[i];
		if (m->kind != MOUNT_VOLUME ||
		    names_has(s->volumes, s->nvolumes, m->source))
			continue;
		if (!declare) {
			diag_add(errs, u->file, 0, 0, "service '%s' mounts "
			    "volume '%s' that the stack does not declare",
			    u->name, m->source);
			continue;
		}
		s->volumes = xrealloc(s->volumes,
		    (s->nvolumes + 1) * sizeof *s->volumes);
		s->volumes[s->nvolumes++] = xstrdup(m->source);
	}
}

static bool
ports_clash(const struct unit_port *p, const struct unit_port *q)
{
	if (p->host_port == 0 || p->host_port != q->host_port ||
	    strcmp(p->proto, q->proto) != 0)
		return false;
	return p->host_ip == NULL || q->host_ip == NULL ||
	    strcmp(p->host_ip, q->host_ip) == 0;
}

static void
check_ports(struct stack *s, size_t ui, struct diag_list *errs)
{
	const struct unit	*u = s->units[ui], *o;
	size_t			 i, j, k;

	for (i = 0; i < u->nports; i++) {
		for (j = 0; j < ui; j++) {
			o = s->units[j];
			for (k = 0; k < o->nports; k++) {
				if (!ports_clash(&u->ports[i], &o->ports[k]))
					continue;
				diag_add(errs, u->file, 0, 0, "service '%s' "
				    "publishes host port %d/%s, as does "
				    "service '%s'", u->name,
				    u->ports[i].host_port, u->ports[i].proto,
				    o->name);
			}
		}
	}
}

void
stack_finish(struct stack *s, bool declare_volumes, struct diag_list *errs)
{
	size_t i;

	if (s->nunits > 1)
		qsort(s->units, s->nunits, sizeof *s->units, unit_cmp);
	for (i = 1; i < s->nunits; i++) {
		if (strcmp(s->units[i - 1]->name, s->units[i]->name) == 0) {
			diag_add(errs, s->units[i]->file, 0, 0,
			    "service '%s' is defined twice", s->units[i]->name);
		}
	}
	names_tidy(s->networks, &s->nnetworks, "network", errs);
	names_tidy(s->volumes, &s->nvolumes, "volume", errs);
	for (i = 0; i < s->nunits; i++) {
		check_deps(s, s->units[i], errs);
		check_volumes(s, s->units[i], declare_volumes, errs);
		check_ports(s, i, errs);
	}
	names_tidy(s->volumes, &s->nvolumes, "volume", errs);
}

/* ---- stack.yaml ---------------------------------------------------------- */

static void
s_name(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct stack	*s = obj;
	char		*v;

	if ((v = ytree_string(c, path, n)) == NULL)
		return;
	if (!stack_name_valid(v)) {
		ytree_err(c, n, "%s: invalid stack name '%s': use lower-case "
		    "letters, digits, '_' and '-', starting with a letter or "
		    "digit, at most %d characters", path, v, UNIT_NAME_MAX);
		free(v);
		return;
	}
	s->name = v;
}

static void
s_names(struct yctx *c, const char *path, const struct ynode *n,
    char ***out, size_t *nout)
{
	char	**v;
	size_t	  i, j;

	if ((v = ytree_strv(c, path, n, false, true)) == NULL)
		return;
	for (i = 0; v[i] != NULL; i++) {
		for (j = 0; j < i && strcmp(v[i], v[j]) != 0; j++)
			;
		if (!unit_volume_name_valid(v[i]))
			ytree_err(c, n->kids[i], "%s[%zu]: invalid name '%s'",
			    path, i, v[i]);
		else if (j < i)
			ytree_err(c, n->kids[i], "%s[%zu]: '%s' is listed "
			    "twice", path, i, v[i]);
		else {
			*out = xrealloc(*out, (*nout + 1) * sizeof **out);
			(*out)[(*nout)++] = v[i];
			continue;
		}
		free(v[i]);
	}
	free(v);
}

static void
s_networks(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct stack *s = obj;

	s_names(c, path, n, &s->networks, &s->nnetworks);
}

static void
s_volumes(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct stack *s = obj;

	s_names(c, path, n, &s->volumes, &s->nvolumes);
}

static void
s_retain(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct stack *s = obj;

	ytree_int(c, path, n, 0, UNIT_RETAIN_MAX, &s->retain);
}

static const struct ykey stack_keys[] = {
	{ "name", s_name },
	{ "networks", s_networks },
	{ "volumes", s_volumes },
	{ "retain", s_retain },
};

static int
stack_yaml_load(const char *path, const struct expand_ctx *x, struct stack *s,
    struct diag_list *errs)
{
	struct yctx	 c = { path, x, errs };
	struct ynode	*root = NULL;
	int		 rc;

	if ((rc = ytree_load_file(&c, path, UNIT_FILE_MAX, &root)) != 0)
		return rc;
	if (root != NULL)
		ytree_walk(&c, NULL, root, stack_keys,
		    nitems(stack_keys), s, NULL);
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
		out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		out->v[out->n++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, str_cmp);
	return 0;
}

static void
load_units(struct stack *s, const char *shown, struct dirlist *files,
    const struct expand_ctx *x, struct diag_list *errs, int *ioerr)
{
	struct unit	*u;
	char		*path, *name;
	size_t		 i;
	int		 rc;

	for (i = 0; i < files->n; i++) {
		if (strcmp(files->v[i], "stack.yaml") == 0)
			continue;
		xasprintf(&path, "%s/%s", shown, files->v[i]);
		name = xstrndup(files->v[i], strlen(files->v[i]) - 5);
		if (!unit_name_valid(name)) {
			diag_add(errs, path, 0, 0, "invalid service name '%s': "
			    "use lower-case letters, digits, '_', '.' and '-', "
			    "starting with a letter or digit, at most %d "
			    "characters", name, UNIT_NAME_MAX);
		} else {
			rc = unit_yaml_load(path, name, s->dir, x, &u, errs);
			if (rc == 0) {
				s->units = xrealloc(s->units,
				    (s->nunits + 1) * sizeof *s->units);
				s->units[s->nunits++] = u;
			} else if (rc != -EINVAL && *ioerr == 0)
				*ioerr = rc;
		}
		free(name);
		free(path);
	}
}

int
stack_load_dir(const char *dir, char *const *envp, struct stack **out,
    struct diag_list *errs)
{
	struct expand_ctx	 x;
	struct envfile		 dotenv = { NULL, 0 };
	struct dirlist		 files = { NULL, 0 };
	struct stack		*s = NULL;
	char			*shown, *path = NULL;
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

	xasprintf(&path, "%s/.env", shown);
	rc = expand_envfile_load(path, &dotenv, errs);
	if (rc != 0 && rc != -EINVAL && rc != -ENOENT) {
		diag_add(errs, path, 0, 0, "%s", strerror(-rc));
		ioerr = rc;
	}
	x.envp = envp;
	x.dotenv = &dotenv;

	if (names_has(files.v, files.n, "stack.yaml")) {
		free(path);
		xasprintf(&path, "%s/stack.yaml", shown);
		if ((rc = stack_yaml_load(path, &x, s, errs)) != 0 &&
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
	load_units(s, shown, &files, &x, errs, &ioerr);
	if (s->nunits == 0 && errs->n == before)
		diag_add(errs, shown, 0, 0, "no unit files (*.yaml) here");
	stack_finish(s, true, errs);
	rc = ioerr != 0 ? ioerr : errs->n != before ? -EINVAL : 0;
out:
	if (rc == 0)
		*out = s;
	else
		stack_free(s);
	names_free(files.v, files.n);
	expand_envfile_free(&dotenv);
	free(path);
	free(shown);
	return rc;
}
