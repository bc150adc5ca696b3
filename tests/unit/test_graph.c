/*
 * Dependency graph: orders, error reports with their exact wording, the
 * readiness rules for each condition, and a long chain to show that no walk
 * recurses.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"
#include "graph.h"
#include "util.h"

/* Build a graph from "name" nodes (file "<name>.yaml") and "a>b" edges
 * meaning a depends on b (started), given as one space-separated spec. */
static struct graph *
build(const char *nodes, const char *edges)
{
	struct graph	*g = graph_new();
	char		*copy, *tok, *save, *gt, *file;
	int		 line = 1;

	copy = xstrdup(nodes);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		xasprintf(&file, "%s.yaml", tok);
		assert_true(graph_add_node(g, tok, file) >= 0);
		free(file);
	}
	free(copy);
	copy = xstrdup(edges);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		gt = strchr(tok, '>');
		assert_non_null(gt);
		*gt = '\0';
		assert_int_equal(graph_add_edge(g, tok, gt + 1, DEP_STARTED,
		    line++, 3), 0);
	}
	free(copy);
	return g;
}

/* Names in order, space-separated; caller frees. */
static char *
names(const struct graph *g, const size_t *order, size_t n)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? " " : "", graph_name(g, order[i]));
	return buf_steal(&b);
}

static void
assert_topo(const struct graph *g, const char *want)
{
	size_t	*order = xcalloc(graph_count(g) + 1, sizeof *order);
	char	*got;

	assert_int_equal(graph_topo_order(g, order), 0);
	got = names(g, order, graph_count(g));
	assert_string_equal(got, want);
	free(got);
	free(order);
}

static void
assert_diags(const struct diag_list *errs, const char **want, size_t n)
{
	size_t	i;
	char	*s;

	for (i = 0; i < errs->n && i < n; i++) {
		s = diag_format(&errs->v[i]);
		assert_string_equal(s, want[i]);
		free(s);
	}
	assert_int_equal(errs->n, n);
}

static void
test_linear_chain(void **state)
{
	struct graph		*g;
	struct diag_list	 errs;
	size_t			 order[3];
	char			*got;

	(void)state;
	diag_init(&errs);
	/* added in an order that is neither the answer nor name order */
	g = build("web db api", "web>api api>db");
	assert_int_equal(graph_check(g, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_topo(g, "db api web");
	assert_int_equal(graph_reverse_order(g, order), 0);
	got = names(g, order, 3);
	assert_string_equal(got, "web api db");
	free(got);
	assert_int_equal(graph_depth(g, (size_t)graph_index(g, "db")), 0);
	assert_int_equal(graph_depth(g, (size_t)graph_index(g, "api")), 1);
	assert_int_equal(graph_depth(g, (size_t)graph_index(g, "web")), 2);
	graph_free(g);
	diag_free(&errs);
}

static void
test_diamond(void **state)
{
	struct graph		*g;
	struct diag_list	 errs;
	size_t			 out[4], n;
	enum dep_cond		 conds[4];
	int			 top;

	(void)state;
	diag_init(&errs);
	g = build("top left right base",
	    "top>right top>left left>base right>base");
	assert_int_equal(graph_check(g, &errs), 0);
	assert_topo(g, "base left right top");

	top = graph_index(g, "top");
	n = graph_deps(g, (size_t)top, out, conds);
	assert_int_equal(n, 2);
	/* name order, whatever the order of declaration */
	assert_string_equal(graph_name(g, out[0]), "left");
	assert_string_equal(graph_name(g, out[1]), "right");
	assert_int_equal(conds[0], DEP_STARTED);
	assert_int_equal(graph_deps(g, (size_t)top, NULL, NULL), 2);

	n = graph_dependents(g, (size_t)graph_index(g, "base"), out);
	assert_int_equal(n, 2);
	assert_int_equal(graph_dependents(g, (size_t)top, out), 0);
	assert_int_equal(graph_depth(g, (size_t)top), 2);
	graph_free(g);
	diag_free(&errs);
}

static void
test_ties_by_name(void **state)
{
	struct graph		*g;
	struct diag_list	 errs;

	(void)state;
	diag_init(&errs);
	g = build("zeta mid alpha beta omega",
	    "omega>zeta mid>beta");
	assert_int_equal(graph_check(g, &errs), 0);
	/* free nodes come out alphabetically; omega waits for zeta */
	assert_topo(g, "alpha beta mid zeta omega");
	graph_free(g);
	diag_free(&errs);
}

static void
test_missing_dependency(void **state)
{
	struct graph		*g;
	struct diag_list	 errs;
	const char		*want[] = {
		"api.yaml:4:7: service 'api' depends on 'dbx', which is not "
		    "defined",
		"web.yaml:9:5: service 'web' depends on 'cache', which is not "
		    "defined",
	};

	(void)state;
	diag_init(&errs);
	g = graph_new();
	assert_int_equal(graph_add_node(g, "api", "api.yaml"), 0);
	assert_int_equal(graph_add_node(g, "web", "web.yaml"), 1);
	assert_int_equal(graph_add_node(g, "api", "x.yaml"), -EEXIST);
	assert_int_equal(graph_add_edge(g, "api", "dbx", DEP_HEALTHY, 4, 7), 0);
	assert_int_equal(graph_add_edge(g, "web", "api", DEP_STARTED, 8, 5), 0);
	assert_int_equal(graph_add_edge(g, "web", "cache", DEP_STARTED, 9, 5),
	    0);
	assert_int_equal(graph_add_edge(g, "nope", "api", DEP_STARTED, 1, 1),
	    -ENOENT);
	assert_int_equal(graph_check(g, &errs), -EINVAL);
	assert_diags(&errs, want, nitems(want));
	assert_int_equal(graph_index(g, "dbx"), -ENOENT);
	graph_free(g);
	diag_free(&errs);
}

/* An edge may name a service added after it. */
static void
test_forward_reference(void **state)
{
	struct graph		*g;
	struct diag_list	 errs;

	(void)state;
	diag_init(&errs);
	g = graph_new();
	graph_add_node(g, "api", "api.yaml");
	assert_int_equal(graph_add_edge(g, "api", "db", DEP_HEALTHY, 2, 3), 0);
	graph_add_node(g, "db", "db.yaml");
	assert_int_equal(graph_check(g, &errs), 0);
	assert_topo(g, "db api");
	graph_free(g);
	diag_free(&errs);
}

static void
test_self_dependency(void **state)
{
	struct graph		*g;
	struct diag_list	 errs;
	const char		*want[] = {
		"api.yaml:1:3: service 'api' depends on itself",
	};

	(void)state;
	diag_init(&errs);
	g = build("api db", "api>api api>db");
	assert_int_equal(graph_check(g, &errs), -EINVAL);
	/* reported once, not again as a cycle of one */
	assert_diags(&errs, want, nitems(want));
	graph_free(g);
	diag_free(&errs);
}

static void
test_two_node_cycle(void **state)
{
	struct graph		*g;
	struct diag_list	 errs;
	size_t			 order[3];
	const char		*want[] = {
		"api.yaml:2:3: dependency cycle: api -> worker -> api",
	};

	(void)state;
	diag_init(&errs);
	/* entered from worker's side too: the path still starts at api */
	g = build("worker api db", "worker>api api>worker api>db");
	assert_int_equal(graph_check(g, &errs), -EINVAL);
	assert_diags(&errs, want, nitems(want));
	assert_int_equal(graph_topo_order(g, order), -EINVAL);
	assert_int_equal(graph_depth(g, 0), -EINVAL);
	graph_free(g);
	diag_free(&errs);
}

static void
test_three_node_cycle(void **state)
{
	struct graph		*g;
	struct diag_list	 errs;
	const char		*want[] = {
		"b.yaml:4:3: dependency cycle: b -> c -> d -> b",
	};

	(void)state;
	diag_init(&errs);
	g = build("a d c b", "a>d d>b c>d b>c");
	assert_int_equal(graph_check(g, &errs), -EINVAL);
	assert_diags(&errs, want, nitems(want));
	graph_free(g);
	diag_free(&errs);
}

static void
test_two_cycles(void **state)
{
	struct graph		*g;
	struct diag_list	 errs;
	const char		*want[] = {
		"api.yaml:1:3: dependency cycle: api -> worker -> api",
		"cache.yaml:3:3: dependency cycle: cache -> db -> queue -> "
		    "cache",
	};

	(void)state;
	diag_init(&errs);
	g = build("api worker cache db queue web",
	    "api>worker worker>api cache>db db>queue queue>cache web>api");
	assert_int_equal(graph_check(g, &errs), -EINVAL);
	assert_diags(&errs, want, nitems(want));
	graph_free(g);
	diag_free(&errs);
}

static void
test_errors_all_reported(void **state)
{
	struct graph		*g;
	struct diag_list	 errs;
	const char		*want[] = {
		"a.yaml:1:3: service 'a' depends on 'ghost', which is not "
		    "defined",
		"c.yaml:2:3: service 'c' depends on itself",
		"a.yaml:3:3: dependency cycle: a -> b -> a",
	};

	(void)state;
	diag_init(&errs);
	g = build("a b c", "a>ghost c>c a>b b>a");
	assert_int_equal(graph_check(g, &errs), -EINVAL);
	assert_diags(&errs, want, nitems(want));
	graph_free(g);
	diag_free(&errs);
}

/* api needs db healthy, cache started and migrate completed. */
static void
test_readiness_conditions(void **state)
{
	struct graph		*g;
	struct diag_list	 errs;
	unsigned		 met[4] = { 0 };
	unsigned char		 started[4] = { 0 };
	size_t			 out[4], n;
	int			 api, db, cache, migrate;

	(void)state;
	diag_init(&errs);
	g = graph_new();
	api = graph_add_node(g, "api", "api.yaml");
	db = graph_add_node(g, "db", "db.yaml");
	cache = graph_add_node(g, "cache", "cache.yaml");
	migrate = graph_add_node(g, "migrate", "migrate.yaml");
	graph_add_edge(g, "api", "db", DEP_HEALTHY, 3, 5);
	graph_add_edge(g, "api", "cache", DEP_STARTED, 4, 5);
	graph_add_edge(g, "api", "migrate", DEP_COMPLETED, 5, 5);
	graph_add_edge(g, "migrate", "db", DEP_HEALTHY, 3, 5);
	assert_int_equal(graph_check(g, &errs), 0);

	n = graph_ready(g, met, started, out);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], db);
	assert_int_equal(out[1], cache);
	started[db] = started[cache] = 1;

	/* both running, db not yet healthy: nothing new may start */
	met[db] = met[cache] = DEP_STARTED;
	assert_int_equal(graph_ready(g, met, started, out), 0);
	assert_false(graph_can_start(g, (size_t)api, met));
	assert_false(graph_can_start(g, (size_t)migrate, met));

	met[db] |= DEP_HEALTHY;
	n = graph_ready(g, met, started, out);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], migrate);
	started[migrate] = 1;

	/* a one-shot that is merely running does not release api */
	met[migrate] = DEP_STARTED;
	assert_false(graph_can_start(g, (size_t)api, met));
	met[migrate] = DEP_STARTED | DEP_HEALTHY;
	assert_false(graph_can_start(g, (size_t)api, met));
	met[migrate] = DEP_STARTED | DEP_COMPLETED;
	assert_true(graph_can_start(g, (size_t)api, met));
	n = graph_ready(g, met, started, out);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], api);

	/* a started-gated dependency is released by started alone, and a
	 * NULL started array skips nothing */
	memset(met, 0, sizeof met);
	met[db] = DEP_STARTED | DEP_HEALTHY;
	met[migrate] = DEP_STARTED | DEP_COMPLETED;
	assert_false(graph_can_start(g, (size_t)api, met));
	met[cache] = DEP_STARTED;
	assert_true(graph_can_start(g, (size_t)api, met));
	assert_int_equal(graph_ready(g, met, NULL, out), 4);
	graph_free(g);
	diag_free(&errs);
}

static void
test_reverse_order(void **state)
{
	struct graph		*g;
	struct diag_list	 errs;
	size_t			 order[5];
	char			*got;

	(void)state;
	diag_init(&errs);
	g = build("web api db cache migrate",
	    "web>api api>db api>cache api>migrate migrate>db");
	assert_int_equal(graph_check(g, &errs), 0);
	assert_topo(g, "cache db migrate api web");
	assert_int_equal(graph_reverse_order(g, order), 0);
	got = names(g, order, 5);
	assert_string_equal(got, "web api migrate db cache");
	free(got);
	graph_free(g);
	diag_free(&errs);
}

static void
test_closure_dependents(void **state)
{
	struct graph		*g;
	struct diag_list	 errs;
	unsigned char		 mark[6] = { 0 };
	size_t			 i, n;
	char			*got;
	size_t			 picked[6];

	(void)state;
	diag_init(&errs);
	g = build("db api web worker cache lone",
	    "api>db web>api worker>db worker>cache web>worker");
	assert_int_equal(graph_check(g, &errs), 0);

	assert_int_equal(graph_closure_dependents(g,
	    (size_t)graph_index(g, "db"), mark), 3);
	for (i = n = 0; i < 6; i++)
		if (mark[i])
			picked[n++] = i;
	got = names(g, picked, n);
	assert_string_equal(got, "api web worker");
	free(got);

	/* accumulating: worker and web are already marked, nothing new */
	assert_int_equal(graph_closure_dependents(g,
	    (size_t)graph_index(g, "cache"), mark), 0);
	memset(mark, 0, sizeof mark);
	assert_int_equal(graph_closure_dependents(g,
	    (size_t)graph_index(g, "cache"), mark), 2);
	assert_int_equal(graph_closure_dependents(g,
	    (size_t)graph_index(g, "lone"), mark), 0);
	assert_int_equal(graph_closure_dependents(g,
	    (size_t)graph_index(g, "web"), mark), 0);
	graph_free(g);
	diag_free(&errs);
}

/*
 * 1000 services, s0000 depending on s0001 and so on, added in reverse so
 * the answer is the opposite of insertion order.  A recursive walk of this
 * depth would still fit a stack; the test pins behaviour and cost, and the
 * cycle variant makes the cycle finder walk the whole chain too.
 */
#define CHAIN	1000

static void
test_long_chain(void **state)
{
	struct graph		*g = graph_new();
	struct diag_list	 errs;
	size_t			*order = xcalloc(CHAIN, sizeof *order);
	unsigned char		*mark = xcalloc(CHAIN, 1);
	char			 a[16], b[16];
	int			 i;

	(void)state;
	diag_init(&errs);
	for (i = CHAIN - 1; i >= 0; i--) {
		snprintf(a, sizeof a, "s%04d", i);
		assert_int_equal(graph_add_node(g, a, NULL), CHAIN - 1 - i);
	}
	for (i = 0; i + 1 < CHAIN; i++) {
		snprintf(a, sizeof a, "s%04d", i);
		snprintf(b, sizeof b, "s%04d", i + 1);
		graph_add_edge(g, a, b, DEP_HEALTHY, i + 1, 1);
	}
	assert_int_equal(graph_check(g, &errs), 0);
	assert_int_equal(graph_topo_order(g, order), 0);
	for (i = 0; i < CHAIN; i++) {
		snprintf(a, sizeof a, "s%04d", CHAIN - 1 - i);
		assert_string_equal(graph_name(g, order[i]), a);
	}
	assert_int_equal(graph_depth(g, (size_t)graph_index(g, "s0000")),
	    CHAIN - 1);
	assert_int_equal(graph_closure_dependents(g,
	    (size_t)graph_index(g, "s0999"), mark), CHAIN - 1);

	/* close the chain into one long cycle */
	graph_add_edge(g, "s0999", "s0000", DEP_STARTED, 5000, 1);
	assert_int_equal(graph_check(g, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_null(errs.v[0].file);
	assert_int_equal(strncmp(errs.v[0].msg,
	    "dependency cycle: s0000 -> s0001 -> ", 36), 0);
	assert_non_null(strstr(errs.v[0].msg, "s0998 -> s0999 -> s0000"));
	free(order);
	free(mark);
	graph_free(g);
	diag_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linear_chain),
		cmocka_unit_test(test_diamond),
		cmocka_unit_test(test_ties_by_name),
		cmocka_unit_test(test_missing_dependency),
		cmocka_unit_test(test_forward_reference),
		cmocka_unit_test(test_self_dependency),
		cmocka_unit_test(test_two_node_cycle),
		cmocka_unit_test(test_three_node_cycle),
		cmocka_unit_test(test_two_cycles),
		cmocka_unit_test(test_errors_all_reported),
		cmocka_unit_test(test_readiness_conditions),
		cmocka_unit_test(test_reverse_order),
		cmocka_unit_test(test_closure_dependents),
		cmocka_unit_test(test_long_chain),
	};

	return cmocka_run_group_tests_name("graph", tests, NULL, NULL);
}
