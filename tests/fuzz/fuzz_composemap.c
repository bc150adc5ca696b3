/*
 * libFuzzer harness: the compose mapper (common/compose_map.c and its
 * parts) on one compose file as the loader would hand it over, then the
 * dependency graph, as shipctl runs them.
 *
 * What maps must be a stack shipd accepts: its JSON decodes again to the
 * same JSON and the same spec hashes.  Strict mode must refuse exactly
 * when there were warnings, with the same messages.  An input naming
 * env files is skipped: the mapper would read them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "compose.h"
#include "diag.h"
#include "fuzzdir.h"
#include "graph.h"
#include "stackgraph.h"
#include "unit.h"
#include "util.h"
#include "ytree.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
drain(struct diag_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(diag_format(&l->v[i]));
	diag_free(l);
	diag_init(l);
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
		abort();	/* a mapped stack shipd would refuse */
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
	struct compose_project	 p;
	struct compose_map_opts	 o = { false };
	struct diag_list	 perr, warns, errs, swarns, serrs;
	struct yctx		 c;
	struct stack		*s = NULL, *t = NULL;
	struct graph		*g = NULL;
	char			*text, *files[] = { "compose.yaml", NULL };
	size_t			 i;
	int			 rc, src;

	text = xstrndup((const char *)data, size);
	if (strlen(text) != size || strstr(text, "env_file") != NULL) {
		free(text);
		return 0;
	}
	diag_init(&perr);
	memset(&c, 0, sizeof c);
	c.file = files[0];
	c.errs = &perr;
	c.aliases = true;	/* as compose files are read */
	memset(&p, 0, sizeof p);
	p.name = "fz";
	p.dir = (char *)fuzzdir("map");
	p.files = files;
	if (ytree_parse(&c, text, size, &p.root) != 0 || p.root == NULL) {
		ytree_free(p.root);
		drain(&perr);
		free(text);
		return 0;
	}
	diag_init(&warns);
	diag_init(&errs);
	rc = compose_to_stack(&p, &o, &s, &warns, &errs);
	if ((rc == 0) != (s != NULL) || (rc == 0) != (errs.n == 0) ||
	    (rc != 0 && rc != -EINVAL))
		abort();
	if (s != NULL) {
		round_trip(s);
		if (stack_graph_build(s, &g, &errs) == 0)
			graph_free(g);
		stack_free(s);
	}
	/* strict: the warnings become the errors, nothing else changes */
	o.strict = true;
	diag_init(&swarns);
	diag_init(&serrs);
	src = compose_to_stack(&p, &o, &t, &swarns, &serrs);
	if (swarns.n != 0 || (warns.n > 0 && src == 0) ||
	    (warns.n == 0 && src != rc))
		abort();
	if (rc != 0 && src == 0)
		abort();
	for (i = 0; rc == 0 && i < warns.n; i++) {
		if (i >= serrs.n || strcmp(warns.v[i].msg, serrs.v[i].msg) != 0)
			abort();
	}
	if (t != NULL)
		stack_free(t);
	drain(&warns);
	drain(&errs);
	drain(&swarns);
	drain(&serrs);
	drain(&perr);
	ytree_free(p.root);
	free(text);
	return 0;
}
