/*
 * libFuzzer harness: the compose loader's interpolation and merge
 * (common/compose_load.c, compose_merge.c, ytree_merge.c, expand.c), as
 * compose_load() runs them on two -f files.
 *
 * Input: a .env text, a line "%%", the first compose file, a line "%%",
 * the second (merged over the first).  What loads must be one mapping
 * holding no !reset or !override tag and no merge key '<<' (anchors,
 * aliases and merge keys are resolved while parsing) whose every node
 * names one of the project's files; every message must be formatted.  An input that could
 * name a file outside the scratch directory (a '/' with include or a
 * file: key) is skipped: the loader would read it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "diag.h"
#include "fuzzdir.h"
#include "util.h"
#include "ytree.h"

#define SEP	"\n%%\n"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *const envp[] = {
	"HOME=/root", "FOO=from-env", "EMPTY=", "TAG=2", NULL
};

static void
check(const struct compose_project *p, const struct ynode *n)
{
	size_t i;
	bool   known = false;

	if (n->tag != NULL && (strcmp(n->tag, "!reset") == 0 ||
	    strcmp(n->tag, "!override") == 0))
		abort();
	for (i = 0; p->files[i] != NULL; i++) {
		if (n->file == p->files[i])
			known = true;
	}
	if (!known || (n->type == Y_MAP && n->nkids % 2 != 0) ||
	    (n->type == Y_SCALAR && n->str == NULL))
		abort();
	for (i = 0; n->type == Y_MAP && i < n->nkids; i += 2) {
		if (n->kids[i]->type == Y_SCALAR && n->kids[i]->plain &&
		    n->kids[i]->tag == NULL &&
		    strcmp(n->kids[i]->str, "<<") == 0)
			abort();
	}
	for (i = 0; i < n->nkids; i++)
		check(p, n->kids[i]);
}

static void
drain(struct diag_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(diag_format(&l->v[i]));
	diag_free(l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct compose_project	*p = NULL;
	struct compose_opts	 o;
	struct diag_list	 errs, warns;
	const char		*dir;
	char			*text, *a, *b, *files[2];
	int			 rc;

	text = xstrndup((const char *)data, size);
	if (strlen(text) != size || (strchr(text, '/') != NULL &&
	    (strstr(text, "include") != NULL || strstr(text, "file") != NULL))) {
		free(text);
		return 0;
	}
	dir = fuzzdir("proj");
	fuzzdir_clean();
	if ((a = strstr(text, SEP)) != NULL) {
		*a = '\0';
		a += strlen(SEP);
		if ((b = strstr(a, SEP)) != NULL) {
			*b = '\0';
			b += strlen(SEP);
		}
	} else {
		a = text;
		text = NULL;
		b = NULL;
	}
	if (text != NULL)
		fuzzdir_write(".env", text, strlen(text));
	fuzzdir_write("a.yaml", a, strlen(a));
	if (b != NULL)
		fuzzdir_write("b.yaml", b, strlen(b));
	xasprintf(&files[0], "%s/a.yaml", dir);
	xasprintf(&files[1], "%s/b.yaml", dir);
	memset(&o, 0, sizeof o);
	o.files = files;
	o.nfiles = b != NULL ? 2 : 1;
	o.envp = envp;
	diag_init(&errs);
	diag_init(&warns);
	o.warns = &warns;
	rc = compose_load(&o, &p, &errs);
	if (rc == 0) {
		if (p == NULL || p->root == NULL || p->root->type != Y_MAP ||
		    p->name == NULL || errs.n != 0)
			abort();
		check(p, p->root);
		compose_project_free(p);
	} else if (p != NULL || errs.n == 0)
		abort();
	drain(&errs);
	drain(&warns);
	free(files[0]);
	free(files[1]);
	free(text != NULL ? text : a);
	return 0;
}
