/*
 * Revision -> stack and graph, and what a revision deploys, to tell
 * revisions that repeat each other apart (revision.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "graph.h"
#include "stackgraph.h"
#include "state/revision.h"
#include "state/store.h"
#include "unit.h"

int
revision_load(struct store *store, const char *name, int rev,
    struct stack **st, struct graph **g, int *rev_out, char *why, size_t len)
{
	struct diag_list	 errs;
	const json_t		*doc;
	int			 rc = 0;

	*st = NULL;
	if (g != NULL)
		*g = NULL;
	if (rev == 0)
		rev = store_current(store, name);
	if (rev_out != NULL)
		*rev_out = rev;
	doc = rev > 0 ? store_revision_get(store, name, rev) : NULL;
	if (doc == NULL) {
		if (rev > 0)
			snprintf(why, len, "stack %s has no revision %d", name,
			    rev);
		else
			snprintf(why, len, "stack %s has no deployed revision",
			    name);
		return -ENOENT;
	}
	diag_init(&errs);
	if (stack_from_json(json_object_get(doc, "stack"), st, &errs) != 0) {
		snprintf(why, len, "stack %s: revision %d cannot be read back",
		    name, rev);
		*st = NULL;
		rc = -EINVAL;
	} else if (g != NULL && stack_graph_build(*st, g, &errs) != 0) {
		snprintf(why, len, "stack %s: revision %d has a bad dependency "
		    "graph", name, rev);
		stack_free(*st);
		*st = NULL;
		rc = -EINVAL;
	}
	diag_free(&errs);
	return rc;
}

/*
 * Less where the stack was read from (the directory, the unit files, the
 * positions of depends_on), which moving or reformatting a file changes
 * and nothing running ever sees.
 */
json_t *
revision_content(const json_t *doc)
{
	json_t	*st, *u, *d;
	size_t	 i, j;

	st = json_deep_copy(json_object_get(doc, "stack"));
	json_object_del(st, "dir");
	json_array_foreach(json_object_get(st, "units"), i, u) {
		json_object_del(u, "file");
		json_array_foreach(json_object_get(u, "depends_on"), j, d) {
			json_object_del(d, "line");
			json_object_del(d, "col");
		}
	}
	return json_pack("{s:o*, s:O*}", "stack", st, "images",
	    json_object_get(doc, "images"));
}

bool
revision_same(const json_t *a, const json_t *b)
{
	json_t	*ca, *cb;
	bool	 same;

	if (a == NULL || b == NULL)
		return false;
	ca = revision_content(a);
	cb = revision_content(b);
	same = json_equal(ca, cb);
	json_decref(ca);
	json_decref(cb);
	return same;
}

static bool
committed(const json_t *doc)
{
	const char *res = json_string_value(json_object_get(doc, "result"));

	return res != NULL && strcmp(res, "committed") == 0;
}

int
revision_prev_differing(struct store *store, const char *stack, int before)
{
	const json_t	*now = store_revision_get(store, stack, before);
	int		 rev = before;

	while ((rev = revision_prev_committed(store, stack, rev)) > 0)
		if (!revision_same(store_revision_get(store, stack, rev), now))
			return rev;
	return 0;
}

int
revision_prev_committed(struct store *store, const char *stack, int before)
{
	int	revs[256];
	size_t	n;

	n = store_revision_list(store, stack, revs, 256);
	while (n-- > 0) {
		if (revs[n] < before && committed(store_revision_get(store,
		    stack, revs[n])))
			return revs[n];
	}
	return 0;
}
