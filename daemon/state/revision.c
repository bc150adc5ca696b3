/*
 * Revision -> stack and graph (revision.h).
 */
#include <errno.h>
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

int
revision_prev_committed(struct store *store, const char *stack, int before)
{
	int	revs[256];
	size_t	n;

	n = store_revision_list(store, stack, revs, 256);
	while (n-- > 0) {
		const json_t *doc = store_revision_get(store, stack, revs[n]);
		const char *res = json_string_value(json_object_get(doc,
		    "result"));

		if (revs[n] < before && res != NULL &&
		    strcmp(res, "committed") == 0)
			return revs[n];
	}
	return 0;
}
