/*
 * Anchors, aliases and YAML 1.1 merge keys while a ytree is parsed.  See
 * yanchor.h.  ytree.c calls this file, so it uses none of ytree.c's
 * functions (the layering check forbids the cycle): it frees and names
 * nodes itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "util.h"
#include "yanchor.h"

#define YA_MERGE_TAG	"tag:yaml.org,2002:merge"

struct yanchor {
	char		*name;
	struct ynode	*node;		/* borrowed from the tree */
	bool		 open;
};

static void
node_free(struct ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n->tag);
	free(n);
}

static const char *
kind(const struct ynode *n)
{
	if (n->type == Y_MAP)
		return "a mapping";
	return n->type == Y_SEQ ? "a list" : "a scalar";
}

static void
node_err(struct yctx *c, const struct ynode *n, const char *msg,
    const char *arg)
{
	diag_add(c->errs, n->file != NULL ? n->file : c->file, n->line,
	    n->col, "%s%s", msg, arg);
}

static size_t
name_hash(const char *s)
{
	size_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot of name: the one holding it, or the empty one it would take. */
static size_t *
slot(const struct yanchors *a, const char *name)
{
	size_t i = name_hash(name) & (a->nhash - 1);

	while (a->hash[i] != 0 && strcmp(a->v[a->hash[i] - 1].name,
	    name) != 0)
		i = (i + 1) & (a->nhash - 1);
	return &a->hash[i];
}

/* Keep the table at most half full; names are never removed. */
static void
grow(struct yanchors *a)
{
	size_t	*old = a->hash, n = a->nhash, i;

	a->nhash = n == 0 ? 64 : 2 * n;
	a->hash = xcalloc(a->nhash, sizeof *a->hash);
	for (i = 0; i < n; i++) {
		if (old[i] != 0)
			*slot(a, a->v[old[i] - 1].name) = old[i];
	}
	free(old);
}

void
ya_define(struct yanchors *a, const char *name, struct ynode *n)
{
	struct yanchor *e;

	if (2 * (a->n + 1) > a->nhash)
		grow(a);
	a->v = xrealloc(a->v, (a->n + 1) * sizeof *a->v);
	e = &a->v[a->n++];
	e->name = xstrdup(name);
	e->node = n;
	e->open = false;
	/* A redefinition takes the slot: later aliases see the new node. */
	*slot(a, name) = a->n;
	/* ytree_parse nests no deeper than YA_OPEN_MAX levels. */
	if (n->type != Y_SCALAR && a->nopen < YA_OPEN_MAX) {
		e->open = true;
		a->open[a->nopen++] = a->n - 1;
	}
}

/* Collections end innermost first, so an open anchor is the last one. */
void
ya_close(struct yanchors *a, const struct ynode *n)
{
	if (a->nopen > 0 && a->v[a->open[a->nopen - 1]].node == n)
		a->v[a->open[--a->nopen]].open = false;
}

static struct yanchor *
lookup(struct yanchors *a, const char *name)
{
	size_t i;

	if (a->nhash == 0 || (i = *slot(a, name)) == 0)
		return NULL;
	return &a->v[i - 1];
}

/* Count n's nodes and height, giving up once the count passes max. */
static void
measure(const struct ynode *n, size_t max, size_t *count, size_t *height)
{
	size_t i, h, top = 0;

	if (++*count > max)
		return;
	for (i = 0; i < n->nkids && *count <= max; i++) {
		h = 0;
		measure(n->kids[i], max, count, &h);
		if (h > top)
			top = h;
	}
	*height = top + 1;
}

static struct ynode *
copy(const struct ynode *n)
{
	struct ynode	*c = xcalloc(1, sizeof *c);
	size_t		 i;

	c->type = n->type;
	c->file = n->file;
	c->line = n->line;
	c->col = n->col;
	c->plain = n->plain;
	c->str = n->str != NULL ? xstrdup(n->str) : NULL;
	c->tag = n->tag != NULL ? xstrdup(n->tag) : NULL;
	if (n->nkids > 0) {
		c->kids = xcalloc(n->nkids, sizeof *c->kids);
		for (i = 0; i < n->nkids; i++)
			c->kids[i] = copy(n->kids[i]);
		c->nkids = n->nkids;
	}
	return c;
}

static size_t
budget(const struct yanchors *a)
{
	size_t max = a->written * YA_COPY_PER;

	if (max < YA_COPY_MIN)
		max = YA_COPY_MIN;
	if (max > YA_COPY_MAX)
		max = YA_COPY_MAX;
	return max;
}

/* A copy of n if the budget allows it; else NULL, reported at line:col. */
static struct ynode *
copy_within(struct yctx *c, struct yanchors *a, const struct ynode *n,
    const char *what, int line, int col, size_t depth, size_t maxdepth)
{
	size_t count = 0, height = 0, max = budget(a), left;

	left = a->copied < max ? max - a->copied : 0;
	measure(n, left, &count, &height);
	if (count > left) {
		diag_add(c->errs, c->file, line, col, "%s: aliases expand this "
		    "document past %zu copied nodes (an alias bomb?); write "
		    "the values out or use fewer aliases", what, max);
		return NULL;
	}
	if (depth + height > maxdepth) {
		diag_add(c->errs, c->file, line, col, "%s: the copy would be "
		    "nested deeper than %zu levels", what, maxdepth);
		return NULL;
	}
	a->copied += count;
	return copy(n);
}

struct ynode *
ya_alias(struct yctx *c, struct yanchors *a, const char *name, int line,
    int col, size_t depth, size_t maxdepth)
{
	struct yanchor	*e;
	char		*what;
	struct ynode	*n;

	if ((e = lookup(a, name)) == NULL) {
		diag_add(c->errs, c->file, line, col, "alias *%s: no anchor "
		    "&%s before it", name, name);
		return NULL;
	}
	if (e->open) {
		diag_add(c->errs, c->file, line, col, "alias *%s is inside "
		    "the node it names (line %d): a cycle", name,
		    e->node->line);
		return NULL;
	}
	xasprintf(&what, "alias *%s", name);
	n = copy_within(c, a, e->node, what, line, col, depth, maxdepth);
	free(what);
	return n;
}

static bool
is_merge_key(const struct ynode *k)
{
	return k->type == Y_SCALAR && k->plain && strcmp(k->str, "<<") == 0 &&
	    (k->tag == NULL || strcmp(k->tag, YA_MERGE_TAG) == 0);
}

static bool
has_key(struct ynode *const *kids, size_t n, const struct ynode *k)
{
	size_t i;

	if (k->type != Y_SCALAR)
		return false;
	for (i = 0; i < n; i += 2) {
		if (kids[i]->type == Y_SCALAR && !is_merge_key(kids[i]) &&
		    strcmp(kids[i]->str, k->str) == 0)
			return true;
	}
	return false;
}

static void
bury(struct yanchors *a, struct ynode *n)
{
	a->dead = xrealloc(a->dead, (a->ndead + 1) * sizeof *a->dead);
	a->dead[a->ndead++] = n;
}

struct merged {
	struct ynode	**kids;
	size_t		  n;
};

static void
push(struct merged *m, struct ynode *n)
{
	m->kids = xrealloc(m->kids, (m->n + 1) * sizeof *m->kids);
	m->kids[m->n++] = n;
}

/* Add the pairs of src that neither map nor an earlier source has. */
static int
merge_from(struct yctx *c, struct yanchors *a, const struct ynode *map,
    const struct ynode *src, struct merged *m)
{
	struct ynode	*pair[2];
	size_t		 i, j;

	if (src->type != Y_MAP) {
		node_err(c, src, "the merge key '<<' takes a mapping or a "
		    "list of mappings, not ", kind(src));
		return -EINVAL;
	}
	for (i = 0; i + 1 < src->nkids; i += 2) {
		if (has_key(map->kids, map->nkids, src->kids[i]) ||
		    has_key(m->kids, m->n, src->kids[i]))
			continue;
		for (j = 0; j < 2; j++) {
			pair[j] = copy_within(c, a, src->kids[i + j],
			    "merge key '<<'", map->line, map->col, 0,
			    SIZE_MAX);
			if (pair[j] == NULL) {
				if (j == 1)
					node_free(pair[0]);
				return -EINVAL;
			}
		}
		push(m, pair[0]);
		push(m, pair[1]);
	}
	return 0;
}

int
ya_merge(struct yctx *c, struct yanchors *a, struct ynode *map,
    size_t maxitems)
{
	struct merged	 m = { NULL, 0 };
	struct ynode	*k, *v;
	size_t		 i, j, nmerge = 0;
	int		 rc = 0;

	for (i = 0; i + 1 < map->nkids; i += 2) {
		if (!is_merge_key(map->kids[i]))
			continue;
		if (nmerge++ > 0) {
			node_err(c, map->kids[i], "one merge key '<<' per "
			    "mapping; name several as <<: [*a, *b]", "");
			return -EINVAL;
		}
	}
	if (nmerge == 0)
		return 0;
	for (i = 0; i + 1 < map->nkids && rc == 0; i += 2) {
		k = map->kids[i];
		v = map->kids[i + 1];
		if (!is_merge_key(k)) {
			push(&m, k);
			push(&m, v);
			continue;
		}
		if (v->type == Y_SEQ) {
			for (j = 0; j < v->nkids && rc == 0; j++)
				rc = merge_from(c, a, map, v->kids[j], &m);
		} else
			rc = merge_from(c, a, map, v, &m);
		if (rc == 0 && m.n > 2 * maxitems) {
			diag_add(c->errs, map->file != NULL ? map->file :
			    c->file, map->line, map->col, "a mapping holds at "
			    "most %zu entries", maxitems);
			rc = -EINVAL;
		}
		if (rc != 0)
			break;
		/* The anchors may still name them: free them last. */
		bury(a, k);
		bury(a, v);
	}
	if (rc != 0) {
		/* The map keeps its own pairs; free only the copies. */
		for (j = 0; j < m.n; j++) {
			for (i = 0; i < map->nkids; i++) {
				if (map->kids[i] == m.kids[j])
					break;
			}
			if (i == map->nkids)
				node_free(m.kids[j]);
		}
		free(m.kids);
		return rc;
	}
	free(map->kids);
	map->kids = m.kids;
	map->nkids = m.n;
	return 0;
}

void
ya_free(struct yanchors *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i].name);
	free(a->v);
	free(a->hash);
	for (i = 0; i < a->ndead; i++)
		node_free(a->dead[i]);
	free(a->dead);
	memset(a, 0, sizeof *a);
}
