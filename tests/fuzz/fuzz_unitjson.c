/*
 * libFuzzer harness: the JSON stack decoder (common/unitjson.c) as shipd
 * runs it on what a client sends with deploy or plan (ctl/stackarg.c):
 * stack_from_json, then the dependency graph.
 *
 * What decodes must survive the round trip: stack_to_json of it decodes
 * again to the same JSON, and its units hash the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "diag.h"
#include "graph.h"
#include "stackgraph.h"
#include "unit.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
diags_drop(struct diag_list *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		free(diag_format(&errs->v[i]));
	diag_free(errs);
	diag_init(errs);
}

static void
round_trip(const struct stack *s)
{
	struct diag_list	 errs;
	struct stack		*again = NULL;
	json_t			*j1, *j2;
	char			 h1[65], h2[65];
	size_t			 i;

	diag_init(&errs);
	j1 = stack_to_json(s);
	if (stack_from_json(j1, &again, &errs) != 0)
		abort();	/* what shipd accepted it cannot read back */
	j2 = stack_to_json(again);
	if (!json_equal(j1, j2) || again->nunits != s->nunits)
		abort();
	for (i = 0; i < s->nunits; i++) {
		unit_spec_hash(s->units[i], h1);
		unit_spec_hash(again->units[i], h2);
		if (strcmp(h1, h2) != 0)
			abort();
	}
	json_decref(j1);
	json_decref(j2);
	stack_free(again);
	diag_free(&errs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list	 errs;
	struct stack		*s = NULL;
	struct graph		*g = NULL;
	json_t			*j;

	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    NULL);
	if (j == NULL)
		return 0;
	diag_init(&errs);
	if (stack_from_json(j, &s, &errs) == 0) {
		if (errs.n != 0)
			abort();
		round_trip(s);
		if (stack_graph_build(s, &g, &errs) == 0)
			graph_free(g);
		stack_free(s);
	} else if (errs.n == 0 || s != NULL)
		abort();	/* refused without saying why */
	diags_drop(&errs);
	diag_free(&errs);
	json_decref(j);
	return 0;
}
