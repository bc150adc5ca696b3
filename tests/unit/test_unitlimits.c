/*
 * The unit loaders on hostile input: stack.yaml name lists with bad and
 * repeated names (once a use-after-free), and the bounds that keep every
 * loader's cost linear: entries per mapping or list, environment per
 * service from any source, services per stack, for files and JSON alike.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "helper_stack.h"
#include "unit.h"
#include "util.h"

static char *const no_env[] = { NULL };

static char *
mkdir_tmp(void)
{
	char *dir = xstrdup("/tmp/shipd-limits-XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static void
put(const char *dir, const char *name, const char *text)
{
	char	*path;
	FILE	*f;

	xasprintf(&path, "%s/%s", dir, name);
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

static void
rmdir_tmp(char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* head, then n lines: pre, the line's index, post. */
static char *
lines(const char *head, const char *pre, const char *post, size_t n)
{
	struct buf	 b;
	char		*line;
	size_t		 i;

	buf_init(&b);
	buf_append(&b, head, strlen(head));
	for (i = 0; i < n; i++) {
		xasprintf(&line, "%s%zu%s", pre, i, post);
		buf_append(&b, line, strlen(line));
		free(line);
	}
	buf_append(&b, "", 1);
	return buf_steal(&b);
}

/* Loading dir fails with -EINVAL and a diag containing want. */
static void
load_fails(const char *dir, const char *want)
{
	struct diag_list	 errs;
	struct stack		*s = NULL;

	diag_init(&errs);
	assert_int_equal(stack_load_dir(dir, no_env, &s, &errs), -EINVAL);
	assert_null(s);
	if (!hs_has_diag(&errs, want))
		fail_msg("no diag with: %s", want);
	diag_free(&errs);
}

static void
test_stack_names(void **state)
{
	static const char *const cases[][2] = {
		{ "networks: [\"Bad!\", \"x\"]\n",
		  "stack.yaml:1:12: networks[0]: invalid name 'Bad!'" },
		{ "volumes: [a, a, b]\n",
		  "stack.yaml:1:14: volumes[1]: 'a' is listed twice" },
		{ "networks: [x, \"Bad!\", x, \"B@d\", y, y]\nvolumes: [b, a, "
		  "a, \"\", a]\n", "stack.yaml:2:24: volumes[4]: 'a' is "
		  "listed twice" },
	};
	char	*dir;
	size_t	 i;

	for (i = 0; i < nitems(cases); i++) {
		dir = mkdir_tmp();
		put(dir, "stack.yaml", cases[i][0]);
		put(dir, "api.yaml", "image: x\nnetworks: [x]\n"
		    "volumes: [\"a:/a\", \"b:/b\"]\n");
		load_fails(dir, cases[i][1]);
		rmdir_tmp(dir);
	}
}

static void
test_yaml_entries(void **state)
{
	char	*dir = mkdir_tmp(), *text;

	/* the bound itself loads */
	text = lines("image: x\nenvironment:\n", "  K", ": v\n", 4096);
	put(dir, "api.yaml", text);
	free(text);
	{
		struct diag_list	 errs;
		struct stack		*s = NULL;

		diag_init(&errs);
		assert_int_equal(stack_load_dir(dir, no_env, &s, &errs), 0);
		assert_int_equal(s->units[0]->nenv, 4096);
		stack_free(s);
		diag_free(&errs);
	}
	text = lines("image: x\nenvironment:\n", "  K", ": v\n", 4097);
	put(dir, "api.yaml", text);
	free(text);
	load_fails(dir, "api.yaml:3:3: a mapping holds at most 4096 entries");
	text = lines("image: x\nenvironment:\n", "  - K", "=v\n", 80000);
	put(dir, "api.yaml", text);
	free(text);
	load_fails(dir, "api.yaml:3:3: a list holds at most 4096 entries");
	text = lines("image: x\nlabels:\n", "  k", ": v\n", 80000);
	put(dir, "api.yaml", text);
	free(text);
	load_fails(dir, "api.yaml:3:3: a mapping holds at most 4096 entries");
	rmdir_tmp(dir);
}

/* Env files add to environment: their variables count with it. */
static void
test_env_files(void **state)
{
	char	*dir = mkdir_tmp(), *text;

	text = lines("", "K", "=v\n", 3000);
	put(dir, "a.env", text);
	free(text);
	text = lines("", "L", "=v\n", 3000);
	put(dir, "b.env", text);
	free(text);
	put(dir, "api.yaml", "image: x\nenv_file: [a.env, b.env]\n");
	load_fails(dir, "b.env:1097:1: more than 4096 variables; a service "
	    "may have at most 4096");
	text = lines("", "K", "=v\n", 80000);
	put(dir, ".env", text);
	free(text);
	put(dir, "api.yaml", "image: x\n");
	load_fails(dir, ".env:4097:1: more than 4096 variables");
	rmdir_tmp(dir);
}

static void
test_services(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = NULL;
	char			*dir = mkdir_tmp(), name[32];
	size_t			 i;

	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "s%zu.yaml", i);
		put(dir, name, "image: x\n");
	}
	diag_init(&errs);
	assert_int_equal(stack_load_dir(dir, no_env, &s, &errs), 0);
	assert_int_equal(s->nunits, 1000);
	stack_free(s);
	diag_free(&errs);
	put(dir, "s1000.yaml", "image: x\n");
	load_fails(dir, ": 1001 services; a stack may have at most 1000");
	rmdir_tmp(dir);
}

/* What shipd decodes is held to the same bounds by the same validator. */
static void
test_json(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = NULL, *t = NULL;
	json_t			*j, *units, *u, *env;
	char			*dir = mkdir_tmp(), key[32], name[32];
	size_t			 i;

	put(dir, "api.yaml", "image: x\n");
	diag_init(&errs);
	assert_int_equal(stack_load_dir(dir, no_env, &s, &errs), 0);
	j = stack_to_json(s);
	units = json_object_get(j, "units");
	u = json_array_get(units, 0);
	env = json_object_get(u, "environment");
	assert_true(json_is_object(env));
	for (i = 0; i < 4097; i++) {
		snprintf(key, sizeof key, "K%zu", i);
		json_object_set_new(env, key, json_string("v"));
	}
	assert_int_equal(stack_from_json(j, &t, &errs), -EINVAL);
	assert_null(t);
	assert_true(hs_has_diag(&errs, "environment: 4097 entries; a service "
	    "may have at most 4096"));
	diag_free(&errs);
	json_object_set_new(u, "environment", json_object());
	for (i = 1; i <= 1000; i++) {
		u = json_deep_copy(json_array_get(units, 0));
		snprintf(name, sizeof name, "s%zu", i);
		json_object_set_new(u, "name", json_string(name));
		json_array_append_new(units, u);
	}
	diag_init(&errs);
	assert_int_equal(stack_from_json(j, &t, &errs), -EINVAL);
	assert_true(hs_has_diag(&errs, "1001 services; a stack may have at most "
	    "1000"));
	diag_free(&errs);
	json_decref(j);
	stack_free(s);
	rmdir_tmp(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stack_names),
		cmocka_unit_test(test_yaml_entries),
		cmocka_unit_test(test_env_files),
		cmocka_unit_test(test_services),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests_name("unitlimits", tests, NULL, NULL);
}
