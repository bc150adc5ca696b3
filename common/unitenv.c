/*
 * The environments of a unit directory (docs/units.md, Environments):
 * ENV.env read after .env, and env/ENV/NAME.yaml merged over NAME.yaml
 * (env/ENV/stack.yaml over stack.yaml) with compose's merge rules, through
 * the one merge engine (ytree_merge.c) and a table of the unit keys that
 * have a compose counterpart.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "unitenv.h"
#include "util.h"

/* depends_on in list form means started, as it does in a unit file. */
static struct ynode *
depends_fill(const struct ynode *item)
{
	return ytree_scalar_at(item, "started", true);
}

#define KV(p)		{ p, YM_KV, NULL, "=", NULL, NULL }
#define UNIQ(p)		{ p, YM_KEYED, NULL, NULL, NULL, NULL }
#define KEYED(p, f)	{ p, YM_KEYED, f, NULL, NULL, NULL }
#define REPLACE(p)	{ p, YM_REPLACE, NULL, NULL, NULL, NULL }

/* Paths from the root of a unit file; stack.yaml's keys are "stack.*". */
static const struct ymerge_rule rules[] = {
	REPLACE("command"),
	REPLACE("entrypoint"),
	REPLACE("health.test"),
	KV("environment"),
	KV("labels"),
	KV("sysctls"),
	KV("build.args"),
	KV("build.labels"),
	UNIQ("extra_hosts"),
	UNIQ("tmpfs"),
	UNIQ("cap_add"),
	UNIQ("cap_drop"),
	UNIQ("networks"),
	UNIQ("backup.paths"),
	UNIQ("build.cache_from"),
	KEYED("volumes", compose_volume_key),
	KEYED("ports", compose_port_key),
	KEYED("devices", compose_device_key),
	KEYED("env_file", compose_envfile_key),
	{ "depends_on", YM_MAPLIST, NULL, NULL, NULL, depends_fill },
	{ "build", YM_SHORT, NULL, NULL, "context", NULL },
	UNIQ("stack.networks"),
	UNIQ("stack.volumes"),
};

const struct ymerge_rules unit_merge_rules = { rules, nitems(rules) };

bool
unit_env_name_valid(const char *s)
{
	size_t i;

	if (*s == '\0' || strlen(s) > UNIT_NAME_MAX)
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || (i > 0 && (s[i] == '_' || s[i] == '-'))))
			return false;
	}
	return true;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
names_add(char ***v, size_t *n, const char *s, size_t len)
{
	char	*name = xstrndup(s, len);
	size_t	 i;

	if (!unit_env_name_valid(name)) {	/* not one -e could name */
		free(name);
		return;
	}
	for (i = 0; i < *n; i++) {
		if (strcmp((*v)[i], name) == 0) {
			free(name);
			return;
		}
	}
	*v = xrealloc(*v, (*n + 2) * sizeof **v);
	(*v)[(*n)++] = name;
	(*v)[*n] = NULL;
}

char **
unit_env_names(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	char		**v = xcalloc(1, sizeof *v), *sub;
	size_t		  n = 0, len;

	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			len = strlen(e->d_name);
			if (len > 4 && strcmp(e->d_name + len - 4, ".env") == 0 &&
			    fstatat(dirfd(d), e->d_name, &st, 0) == 0 &&
			    S_ISREG(st.st_mode) && e->d_name[0] != '.')
				names_add(&v, &n, e->d_name, len - 4);
		}
		closedir(d);
	}
	xasprintf(&sub, "%s/env", dir);
	if ((d = opendir(sub)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] != '.' && fstatat(dirfd(d),
			    e->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode))
				names_add(&v, &n, e->d_name, strlen(e->d_name));
		}
		closedir(d);
	}
	free(sub);
	if (n > 1)
		qsort(v, n, sizeof *v, str_cmp);
	return v;
}

static bool
is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool
has(char *const *v, const char *s)
{
	for (; v != NULL && *v != NULL; v++) {
		if (strcmp(*v, s) == 0)
			return true;
	}
	return false;
}

int
unit_env_check(const char *dir, const char *shown, const char *env,
    char *const *files, struct diag_list *errs)
{
	DIR		*d;
	struct dirent	*e;
	struct buf	 b;
	char		**names, *path, *sub;
	size_t		 before = errs->n, i, len;
	bool		 any;

	if (!unit_env_name_valid(env)) {
		diag_add(errs, NULL, 0, 0, "environment '%s': a name is "
		    "lower-case letters, digits, '_' and '-', starting with a "
		    "letter or digit", env);
		return -EINVAL;
	}
	xasprintf(&path, "%s/%s.env", dir, env);
	xasprintf(&sub, "%s/env/%s", dir, env);
	any = is_file(path) || is_dir(sub);
	free(path);
	if (!any) {
		names = unit_env_names(dir);
		buf_init(&b);
		for (i = 0; names[i] != NULL; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", names[i]);
		diag_add(errs, shown, 0, 0, "no environment '%s' (no %s.env, "
		    "no env/%s/); %s%s", env, env, env, names[0] == NULL ?
		    "this directory has no environments" :
		    "environments here: ", names[0] == NULL ? "" : b.data);
		buf_free(&b);
		strv_free(names);
		free(sub);
		return -EINVAL;
	}
	if ((d = opendir(sub)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' || (len = strlen(e->d_name)) < 5)
				continue;
			if (strcmp(e->d_name + len - 4, ".yml") == 0) {
				diag_add(errs, NULL, 0, 0, "%s/env/%s/%s: "
				    "overlays end in .yaml; rename it to "
				    "%.*s.yaml", shown, env, e->d_name,
				    (int)(len - 4), e->d_name);
				continue;
			}
			if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0 ||
			    strcmp(e->d_name, "stack.yaml") == 0 ||
			    has(files, e->d_name))
				continue;
			diag_add(errs, NULL, 0, 0, "%s/env/%s/%s: an overlay "
			    "for service '%.*s', which has no unit file "
			    "(%s/%s)", shown, env, e->d_name, (int)(len - 5),
			    e->d_name, shown, e->d_name);
		}
		closedir(d);
	}
	free(sub);
	return errs->n == before ? 0 : -EINVAL;
}

int
unit_env_tree(struct yctx *c, const char *over, const char *key,
    struct ynode **root)
{
	struct yctx	 oc = *c;
	struct ynode	*base = NULL, *top = NULL, *m;
	int		 rc;

	*root = NULL;
	if (c->file != NULL && (rc = ytree_load_file(c, c->file,
	    UNIT_FILE_MAX, &base)) != 0)
		return rc;
	if (over == NULL || !is_file(over)) {
		*root = base;
		return 0;
	}
	oc.file = over;
	if ((rc = ytree_load_file(&oc, over, UNIT_FILE_MAX, &top)) != 0) {
		ytree_free(base);
		return rc;
	}
	if (top != NULL && top->type != Y_MAP) {
		ytree_err(&oc, top, "expected a mapping, got %s",
		    ytree_kind(top));
		ytree_free(base);
		ytree_free(top);
		return -EINVAL;
	}
	/* A base that is not a mapping is the decoder's to report. */
	if (base != NULL && base->type != Y_MAP) {
		ytree_free(top);
		*root = base;
		return 0;
	}
	m = ytree_merge(&unit_merge_rules, key, base, top);
	*root = m;
	return 0;
}
