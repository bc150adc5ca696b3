/*
 * Stacks from text for the unit tests (helper_stack.h).
 */
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "helper_stack.h"
#include "util.h"

static char *const no_env[] = { NULL };

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int
hs_load(const char *stack, const char *const *files, struct stack **s,
    struct diag_list *errs)
{
	char	*top = xstrdup("/tmp/shipd-ustack-XXXXXX"), *dir, *path;
	FILE	*f;
	size_t	 i;
	int	 rc;

	assert_non_null(mkdtemp(top));
	xasprintf(&dir, "%s/%s", top, stack);
	assert_int_equal(mkdir(dir, 0700), 0);
	for (i = 0; files[i] != NULL; i += 2) {
		xasprintf(&path, "%s/%s", dir, files[i]);
		assert_non_null(f = fopen(path, "w"));
		fputs(files[i + 1], f);
		assert_int_equal(fclose(f), 0);
		free(path);
	}
	diag_init(errs);
	rc = stack_load_dir(dir, no_env, s, errs);
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
	free(top);
	return rc;
}

bool
hs_has_diag(const struct diag_list *errs, const char *want)
{
	size_t	 i;
	char	*s;
	bool	 found = false;

	for (i = 0; i < errs->n && !found; i++) {
		s = diag_format(&errs->v[i]);
		found = strstr(s, want) != NULL;
		free(s);
	}
	for (i = 0; i < errs->n && !found; i++) {
		s = diag_format(&errs->v[i]);
		print_message("  diag: %s\n", s);
		free(s);
	}
	return found;
}
