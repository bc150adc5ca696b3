/*
 * shipctl import compose, its common half: paths relative to the unit
 * directory, and the round trip over the whole corpus (tests/compose/):
 * every case that deploys, imported and loaded back as units, gives every
 * service the spec hash that loading the compose project gives it.  The
 * corpus is copied first, so the units are written beside the projects
 * (their relative paths are tested) without touching the source tree.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "compose.h"
#include "composeimport.h"
#include "graph.h"
#include "stackgraph.h"
#include "unit.h"
#include "unitemit.h"
#include "util.h"

static char *tmp;		/* /tmp/import-ut/XXXXXX */
static char *const noenv[] = { NULL };

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	char *cmd;

	(void)state;
	mkdir("/tmp/import-ut", 0755);
	tmp = xstrdup("/tmp/import-ut/XXXXXX");
	assert_non_null(mkdtemp(tmp));
	xasprintf(&cmd, "cp -R %s '%s/compose'", getenv("SHIPD_COMPOSE_CORPUS")
	    ? getenv("SHIPD_COMPOSE_CORPUS") : "tests/compose", tmp);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(tmp);
	return 0;
}

static void
rel_is(const char *from, const char *to, const char *want)
{
	char *s = path_relative(from, to);

	if (strcmp(s, want) != 0)
		fail_msg("path_relative(%s, %s) = %s, not %s", from, to, s,
		    want);
	free(s);
}

static void
test_path_relative(void **state)
{
	(void)state;
	rel_is("/a/b", "/a/b", ".");
	rel_is("/a/b", "/a/b/c", "./c");
	rel_is("/a/b", "/a/b/c/d", "./c/d");
	rel_is("/a/b", "/a", "..");
	rel_is("/a/b/c", "/a", "../..");
	rel_is("/a/b", "/a/c/d", "../c/d");
	rel_is("/a/bc", "/a/b", "../b");
	rel_is("/a/b", "/a/bc", "../bc");
	rel_is("/", "/x/y", "./x/y");
	rel_is("/a", "/", "..");
}

/* One case's expect file: its outcome and args. */
struct expect {
	char	 outcome[512];
	char	*files[4];
	size_t	 nfiles;
	char	*profiles[4];
	size_t	 nprofiles;
	bool	 strict;
};

static void
expect_read(const char *dir, struct expect *e)
{
	char	*path, line[512], *w, *save;
	FILE	*f;

	memset(e, 0, sizeof *e);
	xasprintf(&path, "%s/expect", dir);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "outcome ", 8) == 0)
			snprintf(e->outcome, sizeof e->outcome, "%s", line + 8);
		if (strncmp(line, "args ", 5) != 0)
			continue;
		for (w = strtok_r(line + 5, " ", &save); w != NULL;
		    w = strtok_r(NULL, " ", &save)) {
			if (strcmp(w, "--strict") == 0)
				e->strict = true;
			else if (strcmp(w, "-f") == 0 && e->nfiles < 3 &&
			    (w = strtok_r(NULL, " ", &save)) != NULL)
				xasprintf(&e->files[e->nfiles++], "%s/%s",
				    dir, w);
			else if (strcmp(w, "--profile") == 0 &&
			    e->nprofiles < 3 &&
			    (w = strtok_r(NULL, " ", &save)) != NULL)
				e->profiles[e->nprofiles++] = xstrdup(w);
			else
				fail_msg("%s: args: '%s' is not known here",
				    path, w);
		}
	}
	fclose(f);
	free(path);
}

static void
expect_free(struct expect *e)
{
	size_t i;

	for (i = 0; i < e->nfiles; i++)
		free(e->files[i]);
	for (i = 0; i < e->nprofiles; i++)
		free(e->profiles[i]);
}

/* The case at dir, as deploy maps it: 0 with *out, or -EINVAL. */
static int
load_case(const char *dir, const struct expect *e, struct stack **out,
    char **projdir)
{
	struct compose_opts	 o;
	struct compose_map_opts	 mo = { e->strict };
	struct compose_project	*p = NULL;
	struct diag_list	 w, errs;
	int			 rc;

	diag_init(&w);
	diag_init(&errs);
	memset(&o, 0, sizeof o);
	o.dir = dir;
	o.files = e->files;
	o.nfiles = e->nfiles;
	o.profiles = e->profiles;
	o.nprofiles = e->nprofiles;
	o.envp = noenv;
	o.warns = &w;
	*out = NULL;
	if ((rc = compose_load(&o, &p, &errs)) == 0) {
		*projdir = xstrdup(p->dir);
		rc = compose_to_stack(p, &mo, out, &w, &errs);
	}
	if (p != NULL)
		compose_project_free(p);
	diag_free(&w);
	diag_free(&errs);
	return rc;
}

/* What import calls blocked: the project does not load, or its graph
 * cannot be built (a cycle, an unknown dependency). */
static bool
blocked(const char *dir, const struct expect *e)
{
	struct diag_list	 errs;
	struct stack		*s;
	struct graph		*g = NULL;
	char			*projdir = NULL;
	int			 rc;

	if (load_case(dir, e, &s, &projdir) != 0) {
		free(projdir);
		return true;
	}
	diag_init(&errs);
	rc = stack_graph_build(s, &g, &errs);
	if (g != NULL)
		graph_free(g);
	diag_free(&errs);
	stack_free(s);
	free(projdir);
	return rc != 0;
}

/* Import the case into DIR.units; the hashes must hold.  Whether a
 * bind or build context was made relative is counted in *rel. */
static void
import_case(const char *dir, const struct expect *e, int *rel)
{
	struct stack	*s;
	char		(*h)[65], *out, *projdir = NULL, *err = NULL;
	size_t		 i, j;

	if (load_case(dir, e, &s, &projdir) != 0)
		fail_msg("%s: outcome %s, but it does not load", dir,
		    e->outcome);
	h = xcalloc(s->nunits + 1, sizeof *h);
	for (i = 0; i < s->nunits; i++)
		unit_spec_hash(s->units[i], h[i]);
	xasprintf(&out, "%s.units", dir);
	assert_int_equal(mkdir(out, 0755), 0);
	assert_int_equal(compose_import_paths(s, projdir, out), 0);
	for (i = 0; i < s->nunits; i++) {
		for (j = 0; j < s->units[i]->nmounts; j++)
			if (s->units[i]->mounts[j].source[0] == '.')
				(*rel)++;
		if (s->units[i]->build.present &&
		    s->units[i]->build.context[0] == '.')
			(*rel)++;
	}
	if (stack_write_dir(s, out, &err) != 0)
		fail_msg("%s: %s", out, err);
	if (compose_import_verify(s, h, out, noenv, &err) != 0)
		fail_msg("%s: %s", dir, err);
	free(h);
	free(out);
	free(projdir);
	stack_free(s);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_corpus_round_trip(void **state)
{
	struct expect	 e;
	DIR		*d;
	struct dirent	*de;
	char		*corpus, *dir, **names = NULL;
	size_t		 n = 0, i;
	int		 done = 0, rel = 0, nblocked = 0;

	(void)state;
	xasprintf(&corpus, "%s/compose", tmp);
	assert_non_null(d = opendir(corpus));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && strchr(de->d_name, '.') == NULL) {
			names = xrealloc(names, (n + 1) * sizeof *names);
			names[n++] = xstrdup(de->d_name);
		}
	closedir(d);
	qsort(names, n, sizeof *names, name_cmp);
	for (i = 0; i < n; i++) {
		xasprintf(&dir, "%s/%s", corpus, names[i]);
		expect_read(dir, &e);
		if (strcmp(e.outcome, "deploys") == 0 ||
		    strcmp(e.outcome, "warns") == 0) {
			import_case(dir, &e, &rel);
			done++;
		} else {
			assert_string_equal(e.outcome, "fails");
			if (!blocked(dir, &e))
				fail_msg("%s: outcome fails, but it loads",
				    dir);
			nblocked++;
		}
		expect_free(&e);
		free(dir);
		free(names[i]);
	}
	free(names);
	free(corpus);
	print_message("  %d cases imported, %d paths made relative, %d "
	    "blocked\n", done, rel, nblocked);
	/* The corpus: 39 that deploy, several with binds, and 12 refused. */
	assert_true(done >= 39);
	assert_true(nblocked >= 10);
	assert_true(rel >= 5);
}

/* Units beside the project move with it; units elsewhere keep absolute
 * paths.  Runs after the round trip, which wrote 09's units. */
static void
test_moves_with_project(void **state)
{
	struct expect		 e;
	struct diag_list	 errs;
	struct stack		*s;
	struct graph		*g;
	char			*from, *to, *dir, *projdir = NULL, *prefix;
	size_t			 i, j, nbind = 0;

	(void)state;
	xasprintf(&from, "%s/compose", tmp);
	xasprintf(&to, "%s/moved", tmp);
	assert_int_equal(rename(from, to), 0);
	xasprintf(&dir, "%s/09-secrets-configs.units", to);
	xasprintf(&prefix, "%s/09-secrets-configs/", to);
	diag_init(&errs);
	assert_int_equal(stack_load_checked(dir, noenv, &s, &g, &errs), 0);
	for (i = 0; i < s->nunits; i++)
		for (j = 0; j < s->units[i]->nmounts; j++) {
			const struct unit_mount *m = &s->units[i]->mounts[j];

			if (m->kind != MOUNT_BIND)
				continue;
			nbind++;
			if (strncmp(m->source, prefix, strlen(prefix)) != 0)
				fail_msg("%s: %s is not under %s",
				    s->units[i]->name, m->source, prefix);
		}
	assert_true(nbind >= 4);
	graph_free(g);
	stack_free(s);
	free(dir);

	/* Elsewhere: nothing relative. */
	xasprintf(&dir, "%s/moved/09-secrets-configs", tmp);
	expect_read(dir, &e);
	assert_int_equal(load_case(dir, &e, &s, &projdir), 0);
	free(dir);
	xasprintf(&dir, "/tmp/import-ut/elsewhere-%d", (int)getpid());
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(compose_import_paths(s, projdir, dir), 0);
	for (i = 0; i < s->nunits; i++)
		for (j = 0; j < s->units[i]->nmounts; j++)
			assert_true(s->units[i]->mounts[j].source[0] != '.');
	rmdir(dir);
	expect_free(&e);
	stack_free(s);
	diag_free(&errs);
	free(projdir);
	free(dir);
	free(prefix);
	free(from);
	free(to);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_relative),
		cmocka_unit_test(test_corpus_round_trip),
		cmocka_unit_test(test_moves_with_project),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
