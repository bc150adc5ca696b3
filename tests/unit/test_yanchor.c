/*
 * Anchors, aliases and merge keys in ytree_parse (yctx.aliases): copies
 * and their positions, YAML 1.1 merge order, and the limits that stop
 * alias bombs, cycles and deep copies.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"
#include "util.h"
#include "yanchor.h"
#include "ytree.h"
#include "ytree_merge.h"

static struct diag_list	 errs;

static int
parse(bool aliases, const char *text, struct ynode **root)
{
	struct yctx c;

	memset(&c, 0, sizeof c);
	c.file = "t.yaml";
	c.errs = &errs;
	c.aliases = aliases;
	return ytree_parse(&c, text, strlen(text), root);
}

static int
setup(void **state)
{
	diag_init(&errs);
	return 0;
}

static int
teardown(void **state)
{
	diag_free(&errs);
	return 0;
}

/* The one error there is, formatted, must hold want. */
static void
one_err(const char *want)
{
	char *s;

	assert_int_equal(errs.n, 1);
	s = diag_format(&errs.v[0]);
	if (strstr(s, want) == NULL)
		fail_msg("error '%s' lacks '%s'", s, want);
	free(s);
}

static const struct ynode *
get(const struct ynode *map, const char *key)
{
	const struct ynode *v = ytree_get(map, key);

	if (v == NULL)
		fail_msg("no key %s", key);
	return v;
}

/* Keys of a mapping in order, joined by spaces. */
static char *
keys(const struct ynode *map)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	for (i = 0; i < map->nkids; i += 2)
		buf_printf(&b, "%s%s", i ? " " : "", map->kids[i]->str);
	return b.data != NULL ? b.data : xstrdup("");
}

static void
assert_keys(const struct ynode *map, const char *want)
{
	char *k = keys(map);

	assert_string_equal(k, want);
	free(k);
}

static void
test_alias_copies(void **state)
{
	struct ynode *r;
	const struct ynode *v;

	assert_int_equal(parse(true,
	    "x-env: &env\n"
	    "  A: \"1\"\n"
	    "  B: two\n"
	    "name: &n web\n"
	    "a: *env\n"
	    "b: [*n, *env]\n", &r), 0);
	assert_int_equal(errs.n, 0);
	v = ytree_get(r, "a");
	assert_int_equal(v->type, Y_MAP);
	assert_keys(v, "A B");
	/* A copy keeps the anchored text's position, not the alias's
	 * (the mapping starts at its anchor). */
	assert_int_equal(v->line, 1);
	assert_int_equal(v->col, 8);
	assert_int_equal(get(v, "B")->line, 3);
	assert_int_equal(get(v, "B")->col, 6);
	assert_false(get(v, "A")->plain);
	assert_string_equal(get(r, "b")->kids[0]->str, "web");
	assert_int_equal(get(r, "b")->kids[0]->line, 4);
	assert_true(ytree_equal(get(r, "b")->kids[1], v));
	/* Copies, not shared nodes: changing one leaves the others. */
	assert_ptr_not_equal(get(r, "x-env"), v);
	ytree_free(r);
}

static void
test_merge_explicit_wins(void **state)
{
	struct ynode *r;
	const struct ynode *s;

	assert_int_equal(parse(true,
	    "x-common: &common\n"
	    "  image: svc:1\n"
	    "  restart: always\n"
	    "  environment: {LOG: info}\n"
	    "services:\n"
	    "  api:\n"
	    "    <<: *common\n"
	    "    restart: \"no\"\n", &r), 0);
	assert_int_equal(errs.n, 0);
	s = ytree_get(get(r, "services"), "api");
	/* The merged keys sit where '<<' was, the own key wins. */
	assert_keys(s, "image environment restart");
	assert_string_equal(get(s, "restart")->str, "no");
	assert_int_equal(get(s, "restart")->line, 8);
	assert_int_equal(get(s, "image")->line, 2);
	assert_string_equal(get(get(s, "environment"), "LOG")->str, "info");
	ytree_free(r);
}

static void
test_merge_list_earlier_wins(void **state)
{
	struct ynode *r;
	const struct ynode *s;

	assert_int_equal(parse(true,
	    "a: &a {x: a, y: a}\n"
	    "b: &b {x: b, z: b}\n"
	    "s:\n"
	    "  w: own\n"
	    "  <<: [*a, *b, {z: inline, q: inline}]\n"
	    "  y: own\n", &r), 0);
	assert_int_equal(errs.n, 0);
	s = get(r, "s");
	assert_keys(s, "w x z q y");
	assert_string_equal(get(s, "x")->str, "a");
	assert_string_equal(get(s, "y")->str, "own");
	assert_string_equal(get(s, "z")->str, "b");
	assert_string_equal(get(s, "q")->str, "inline");
	ytree_free(r);
}

/* A merge inside an anchored mapping is done before an alias copies it;
 * a merged source that had its own anchor can still be aliased. */
static void
test_merge_nested_and_buried(void **state)
{
	struct ynode *r;

	assert_int_equal(parse(true,
	    "base: &base {a: 1}\n"
	    "mid: &mid\n"
	    "  <<: [*base, &extra {b: 2}]\n"
	    "  c: 3\n"
	    "top: {<<: *mid, a: 0}\n"
	    "again: *extra\n", &r), 0);
	assert_int_equal(errs.n, 0);
	assert_keys(get(r, "mid"), "a b c");
	assert_keys(get(r, "top"), "b c a");
	assert_string_equal(get(get(r, "top"), "a")->str, "0");
	assert_keys(get(r, "again"), "b");
	ytree_free(r);
}

static void
test_merge_errors(void **state)
{
	struct ynode *r;

	assert_int_equal(parse(true, "s: &s x\nm:\n  <<: *s\n", &r),
	    -EINVAL);
	one_err("t.yaml:1:4: the merge key '<<' takes a mapping or a list "
	    "of mappings, not a scalar");
	assert_null(r);
	diag_free(&errs);
	diag_init(&errs);
	assert_int_equal(parse(true, "m:\n  <<: [{a: 1}, [x]]\n", &r),
	    -EINVAL);
	one_err("t.yaml:2:16: the merge key '<<' takes a mapping or a list "
	    "of mappings, not a list");
	diag_free(&errs);
	diag_init(&errs);
	assert_int_equal(parse(true, "m:\n  <<: {a: 1}\n  <<: {b: 1}\n", &r),
	    -EINVAL);
	one_err("t.yaml:3:3: one merge key '<<' per mapping");
}

/* A quoted "<<" is an ordinary key, and so is '<<' with aliases off. */
static void
test_merge_only_plain_and_on(void **state)
{
	struct ynode *r;

	assert_int_equal(parse(true, "m:\n  \"<<\": {a: 1}\n", &r), 0);
	assert_keys(get(r, "m"), "<<");
	ytree_free(r);
	assert_int_equal(parse(false, "m:\n  <<: {a: 1}\n  b: 2\n", &r), 0);
	assert_keys(get(r, "m"), "<< b");
	ytree_free(r);
	assert_int_equal(parse(true, "m:\n  !!merge <<: {a: 1}\n  b: 2\n",
	    &r), 0);
	assert_keys(get(r, "m"), "a b");
	ytree_free(r);
}

static void
test_aliases_off(void **state)
{
	struct ynode *r;

	/* An anchor alone is harmless; an alias is refused where it is. */
	assert_int_equal(parse(false, "a: &x 1\nb: *x\n", &r), -EINVAL);
	one_err("t.yaml:2:4: aliases (*x) are not supported here");
	assert_null(r);
}

static void
test_undefined_and_redefined(void **state)
{
	struct ynode *r;

	assert_int_equal(parse(true, "a: *nope\n", &r), -EINVAL);
	one_err("t.yaml:1:4: alias *nope: no anchor &nope before it");
	diag_free(&errs);
	diag_init(&errs);
	/* YAML lets an anchor be defined again: later aliases see the new
	 * node, earlier ones kept the old. */
	assert_int_equal(parse(true, "a: &x 1\nb: *x\nc: &x 2\nd: *x\n", &r),
	    0);
	assert_string_equal(get(r, "b")->str, "1");
	assert_string_equal(get(r, "d")->str, "2");
	ytree_free(r);
}

/* Many anchors (the table grows), each found by its own alias, and one
 * redefined after the growth. */
static void
test_many_anchors(void **state)
{
	struct buf	 b;
	struct ynode	*r;
	const struct ynode *u;
	char		 want[16];
	int		 i;

	buf_init(&b);
	for (i = 0; i < 300; i++)
		buf_printf(&b, "k%d: &a%d v%d\n", i, i, i);
	buf_puts(&b, "r: &a7 again\nuse: [");
	for (i = 299; i >= 0; i--)
		buf_printf(&b, "*a%d%s", i, i ? ", " : "]\n");
	assert_int_equal(parse(true, b.data, &r), 0);
	u = get(r, "use");
	assert_int_equal(u->nkids, 300);
	for (i = 0; i < 300; i++) {
		snprintf(want, sizeof want, "v%d", 299 - i);
		assert_string_equal(u->kids[i]->str, 299 - i == 7 ? "again" :
		    want);
	}
	ytree_free(r);
	buf_free(&b);
}

static void
test_cycle(void **state)
{
	struct ynode *r;

	assert_int_equal(parse(true, "a: &a\n  b: [1, *a]\n", &r), -EINVAL);
	one_err("t.yaml:2:10: alias *a is inside the node it names (line 1): "
	    "a cycle");
	diag_free(&errs);
	diag_init(&errs);
	assert_int_equal(parse(true, "a: &a {<<: *a}\n", &r), -EINVAL);
	one_err("alias *a is inside the node it names");
}

/* Billion laughs: nine levels of ten aliases each. */
static void
test_alias_bomb(void **state)
{
	struct buf	 b;
	struct ynode	*r;
	char		*s;
	int		 i;

	buf_init(&b);
	buf_puts(&b, "l0: &l0 [lol]\n");
	for (i = 1; i < 10; i++)
		buf_printf(&b, "l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, "
		    "*l%d, *l%d, *l%d, *l%d]\n", i, i, i - 1, i - 1, i - 1,
		    i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	assert_int_equal(parse(true, b.data, &r), -EINVAL);
	assert_null(r);
	one_err("past 10000 copied nodes (an alias bomb?)");
	s = diag_format(&errs.v[0]);
	/* At the alias where the budget ran out: line 5 (l4), past 1e4. */
	assert_non_null(strstr(s, "t.yaml:5:"));
	free(s);
	buf_free(&b);
}

/* The same through merge keys: each level merges the one below twice
 * under new keys, so it doubles without any list of aliases. */
static void
test_merge_bomb(void **state)
{
	struct buf	 b;
	struct ynode	*r;
	int		 i;

	buf_init(&b);
	buf_puts(&b, "m0: &m0 {k: [a, b, c, d, e, f, g, h]}\n");
	for (i = 1; i < 30; i++)
		buf_printf(&b, "m%d: &m%d {x: *m%d, y: *m%d}\n", i, i, i - 1,
		    i - 1);
	assert_int_equal(parse(true, b.data, &r), -EINVAL);
	one_err("an alias bomb?");
	buf_free(&b);
}

/* A big document gets a bigger budget: 100 copies per written node. */
static void
test_budget_scales(void **state)
{
	struct buf	 b;
	struct ynode	*r;
	int		 i;

	buf_init(&b);
	buf_puts(&b, "big: &big [");
	for (i = 0; i < 300; i++)
		buf_printf(&b, "%s%d", i ? ", " : "", i);
	buf_puts(&b, "]\nuse: [");
	/* 60 copies of 301 nodes: 18060, past the floor of 10000 but
	 * within 100 x ~365 written nodes. */
	for (i = 0; i < 60; i++)
		buf_printf(&b, "%s*big", i ? ", " : "");
	buf_puts(&b, "]\n");
	assert_int_equal(parse(true, b.data, &r), 0);
	assert_int_equal(get(r, "use")->nkids, 60);
	assert_int_equal(get(r, "use")->kids[59]->nkids, 300);
	ytree_free(r);
	buf_free(&b);
}

static void
test_alias_depth(void **state)
{
	struct buf	 b;
	struct ynode	*r;
	int		 i;

	/* 40 levels anchored, then used 40 levels down: 80 > 64. */
	buf_init(&b);
	buf_puts(&b, "a: &deep ");
	for (i = 0; i < 40; i++)
		buf_puts(&b, "[");
	for (i = 0; i < 40; i++)
		buf_puts(&b, "]");
	buf_puts(&b, "\nb: ");
	for (i = 0; i < 40; i++)
		buf_puts(&b, "[");
	buf_puts(&b, "*deep");
	for (i = 0; i < 40; i++)
		buf_puts(&b, "]");
	buf_puts(&b, "\n");
	assert_int_equal(parse(true, b.data, &r), -EINVAL);
	one_err("t.yaml:2:44: alias *deep: the copy would be nested deeper "
	    "than 64 levels");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alias_copies, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_merge_explicit_wins,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_list_earlier_wins,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_nested_and_buried,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_merge_only_plain_and_on,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_aliases_off, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_undefined_and_redefined,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_anchors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alias_bomb, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_merge_bomb, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_budget_scales, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_alias_depth, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
