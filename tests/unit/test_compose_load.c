/*
 * The compose project loader: file lookup, project names, and (as they
 * land) merge, interpolation, profiles, extends and include.  Each test
 * writes a project into a fresh directory under /tmp and loads it.
 */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "compose.h"
#include "diag.h"
#include "util.h"
#include "ytree.h"

static char *const no_env[] = { NULL };

/* ---- helpers ------------------------------------------------------------- */

static char *
mkproj(const char *name)
{
	char *dir, *sub;

	dir = xstrdup("/tmp/shipd-cload-XXXXXX");
	assert_non_null(mkdtemp(dir));
	if (name == NULL)
		return dir;
	xasprintf(&sub, "%s/%s", dir, name);
	assert_int_equal(mkdir(sub, 0755), 0);
	free(dir);
	return sub;
}

static void
put(const char *dir, const char *name, const char *text)
{
	char	*path, *slash;
	FILE	*f;

	xasprintf(&path, "%s/%s", dir, name);
	if ((slash = strrchr(path, '/')) != NULL && slash != path) {
		*slash = '\0';
		mkdir_p(path, 0755);
		*slash = '/';
	}
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	free(path);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Remove the mkdtemp directory (a named project sits one below it). */
static void
rmproj(char *dir, bool named)
{
	char *top = dir, *s;

	if (named && (s = strrchr(dir, '/')) != NULL)
		*s = '\0';
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* Whether some error's text holds want (all of them printed if not). */
static bool
has_err(const struct diag_list *errs, const char *want)
{
	char	*s;
	size_t	 i;
	bool	 found = false;

	for (i = 0; i < errs->n; i++) {
		s = diag_format(&errs->v[i]);
		if (strstr(s, want) != NULL)
			found = true;
		free(s);
	}
	if (!found) {
		fprintf(stderr, "no error with '%s' among %zu:\n", want,
		    errs->n);
		for (i = 0; i < errs->n; i++) {
			s = diag_format(&errs->v[i]);
			fprintf(stderr, "  %s\n", s);
			free(s);
		}
	}
	return found;
}

/* The value at a dotted path of maps ("services.api.image"), or NULL. */
static const struct ynode *
at(const struct ynode *n, const char *path)
{
	char		*p = xstrdup(path), *save = NULL, *k;
	size_t		 i;
	const struct ynode *cur = n;

	for (k = strtok_r(p, ".", &save); k != NULL && cur != NULL;
	    k = strtok_r(NULL, ".", &save)) {
		const struct ynode *next = NULL;

		if (cur->type != Y_MAP) {
			cur = NULL;
			break;
		}
		for (i = 0; i + 1 < cur->nkids; i += 2) {
			if (strcmp(cur->kids[i]->str, k) == 0)
				next = cur->kids[i + 1];
		}
		cur = next;
	}
	free(p);
	return cur;
}

static const char *
str_at(const struct ynode *n, const char *path)
{
	const struct ynode *v = at(n, path);

	return v != NULL && v->type == Y_SCALAR ? v->str : NULL;
}

static int
load(const char *dir, struct compose_project **p, struct diag_list *errs)
{
	struct compose_opts o;

	memset(&o, 0, sizeof o);
	o.dir = dir;
	o.envp = no_env;
	return compose_load(&o, p, errs);
}

/* ---- lookup and names ---------------------------------------------------- */

static void
test_lookup_order(void **state)
{
	char			*dir = mkproj(NULL), *f;
	struct compose_project	*p;
	struct diag_list	 errs;

	diag_init(&errs);
	assert_null(compose_find(dir));
	put(dir, "docker-compose.yml", "services: {a: {image: x:old}}\n");
	put(dir, "compose.yml", "services: {a: {image: x:yml}}\n");
	f = compose_find(dir);
	assert_non_null(strstr(f, "/compose.yml"));
	free(f);
	put(dir, "compose.yaml", "services: {a: {image: x:yaml}}\n");
	f = compose_find(dir);
	assert_non_null(strstr(f, "/compose.yaml"));
	free(f);
	assert_int_equal(load(dir, &p, &errs), 0);
	assert_string_equal(str_at(p->root, "services.a.image"), "x:yaml");
	compose_project_free(p);
	diag_free(&errs);
	rmproj(dir, false);
}

static void
test_no_file(void **state)
{
	char			*dir = mkproj(NULL);
	struct compose_project	*p;
	struct diag_list	 errs;

	diag_init(&errs);
	assert_int_equal(load(dir, &p, &errs), -ENOENT);
	assert_null(p);
	assert_true(has_err(&errs, "no compose file"));
	diag_free(&errs);
	rmproj(dir, false);
}

static void
test_name_from_dir(void **state)
{
	char			*dir = mkproj("My.App_1");
	struct compose_project	*p;
	struct diag_list	 errs;

	diag_init(&errs);
	put(dir, "compose.yaml", "services: {a: {image: x}}\n");
	assert_int_equal(load(dir, &p, &errs), 0);
	assert_string_equal(p->name, "myapp_1");
	assert_non_null(strstr(p->dir, "/My.App_1"));
	assert_non_null(strstr(p->files[0], "compose.yaml"));
	assert_null(p->files[1]);
	compose_project_free(p);
	diag_free(&errs);
	rmproj(dir, true);
}

static void
test_name_order(void **state)
{
	char			*dir = mkproj("dirname");
	char			*env[] = { "COMPOSE_PROJECT_NAME=fromenv", NULL };
	struct compose_project	*p;
	struct compose_opts	 o;
	struct diag_list	 errs;

	diag_init(&errs);
	put(dir, "compose.yaml", "name: fromfile\nservices: {a: {image: x}}\n");
	assert_int_equal(load(dir, &p, &errs), 0);
	assert_string_equal(p->name, "fromfile");
	compose_project_free(p);

	memset(&o, 0, sizeof o);
	o.dir = dir;
	o.envp = env;
	assert_int_equal(compose_load(&o, &p, &errs), 0);
	assert_string_equal(p->name, "fromenv");
	compose_project_free(p);

	o.project = "fromflag";
	assert_int_equal(compose_load(&o, &p, &errs), 0);
	assert_string_equal(p->name, "fromflag");
	compose_project_free(p);
	assert_int_equal(errs.n, 0);
	diag_free(&errs);
	rmproj(dir, true);
}

static void
test_name_invalid(void **state)
{
	char			*dir = mkproj("__");
	struct compose_project	*p;
	struct compose_opts	 o;
	struct diag_list	 errs;

	diag_init(&errs);
	put(dir, "compose.yaml", "services: {a: {image: x}}\n");
	assert_int_equal(load(dir, &p, &errs), -EINVAL);
	assert_true(has_err(&errs, "gives no valid project name"));
	diag_free(&errs);

	diag_init(&errs);
	put(dir, "compose.yaml", "name: My App\nservices: {a: {image: x}}\n");
	assert_int_equal(load(dir, &p, &errs), -EINVAL);
	assert_true(has_err(&errs, "compose.yaml:1:7: invalid project name "
	    "'My App'"));
	assert_true(has_err(&errs, "'myapp'"));
	diag_free(&errs);

	diag_init(&errs);
	memset(&o, 0, sizeof o);
	o.dir = dir;
	o.envp = no_env;
	o.project = "-x";
	assert_int_equal(compose_load(&o, &p, &errs), -EINVAL);
	assert_true(has_err(&errs, "invalid project name '-x' (-p)"));
	diag_free(&errs);
	rmproj(dir, true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_order),
		cmocka_unit_test(test_no_file),
		cmocka_unit_test(test_name_from_dir),
		cmocka_unit_test(test_name_order),
		cmocka_unit_test(test_name_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
