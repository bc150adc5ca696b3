/*
 * libFuzzer harness: the unit directory loader, stack_load_dir() and the
 * graph check after it (common/unitstack.c, unityaml.c, unitcheck.c ...),
 * as shipctl runs them on a directory.
 *
 * Input: files, each starting with a line "@@ NAME"; what comes before
 * the first such line is stack.yaml.  NAME has no '/' and is at most 64
 * bytes; a repeated name appends.  So stack.yaml, .env, units and the
 * env_file they name are all fuzzed together.  A stack that loads must
 * encode to JSON that shipd decodes (stack_from_json).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "diag.h"
#include "fuzzdir.h"
#include "graph.h"
#include "stackgraph.h"
#include "unit.h"

#define MAX_FILES	32
#define MARK		"@@ "

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *const envp[] = {
	"HOME=/root", "FOO=from-env", "EMPTY=", "TAG=2", NULL
};

static int
name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64 || memchr(s, '/', n) != NULL ||
	    memchr(s, '\0', n) != NULL)
		return 0;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	return 1;
}

/* Write the files of the input; 0 if it holds too many. */
static int
split(const char *p, size_t n)
{
	char		 name[65];
	const char	*end = p + n, *body, *next, *nl;
	size_t		 nfiles = 0;

	strcpy(name, "stack.yaml");
	body = p;
	for (;;) {
		/* The next "\n@@ " (or "@@ " at the very start). */
		next = body;
		if ((size_t)(end - next) >= 3 && memcmp(next, MARK, 3) == 0)
			;
		else {
			next = memmem(body, (size_t)(end - body), "\n" MARK, 4);
			next = next != NULL ? next + 1 : end;
		}
		if (next > body || nfiles == 0) {
			if (++nfiles > MAX_FILES)
				return 0;
			/* Appending keeps a repeated name one file. */
			if (fuzzdir_write(name, body,
			    (size_t)(next - body)) != 0)
				abort();
		}
		if (next == end)
			return 1;
		next += 3;
		nl = memchr(next, '\n', (size_t)(end - next));
		if (nl == NULL)
			nl = end;
		if (name_ok(next, (size_t)(nl - next))) {
			memcpy(name, next, (size_t)(nl - next));
			name[nl - next] = '\0';
		} else
			strcpy(name, "bad-name.yaml");
		body = nl < end ? nl + 1 : end;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list	 errs;
	struct stack		*s = NULL, *back = NULL;
	struct graph		*g = NULL;
	json_t			*j;
	const char		*dir;
	size_t			 i;

	dir = fuzzdir("demo");
	fuzzdir_clean();
	if (!split((const char *)data, size))
		return 0;
	diag_init(&errs);
	if (stack_load_checked(dir, envp, &s, &g, &errs) == 0) {
		j = stack_to_json(s);
		if (stack_from_json(j, &back, &errs) != 0)
			abort();	/* shipd would refuse what shipctl sent */
		stack_free(back);
		json_decref(j);
		graph_free(g);
		stack_free(s);
	} else if (errs.n == 0)
		abort();		/* refused without saying why */
	for (i = 0; i < errs.n; i++)
		free(diag_format(&errs.v[i]));
	diag_free(&errs);
	return 0;
}
