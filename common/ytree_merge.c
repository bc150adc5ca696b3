/*
 * A generic merge of two ytrees driven by a table of per-path rules; see
 * ytree_merge.h.  The compose rules (compose_merge.c) are one table.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "util.h"
#include "ytree_merge.h"

#define PATH_MAX_SEGS	32

static const char *
text(const struct ynode *n)
{
	return n != NULL && n->type == Y_SCALAR && n->str != NULL ? n->str : "";
}

static bool
tag_is(const struct ynode *n, const char *tag)
{
	return n != NULL && n->tag != NULL && strcmp(n->tag, tag) == 0;
}

struct ynode *
ytree_scalar_at(const struct ynode *at, const char *s, bool plain)
{
	struct ynode *n = xcalloc(1, sizeof *n);

	n->type = Y_SCALAR;
	n->file = at->file;
	n->line = at->line;
	n->col = at->col;
	n->str = xstrdup(s);
	n->plain = plain;
	return n;
}

struct ynode *
ytree_clone(const struct ynode *n)
{
	struct ynode	*c;
	size_t		 i;

	if (n == NULL)
		return NULL;
	c = xcalloc(1, sizeof *c);
	*c = *n;
	c->str = n->str ? xstrdup(n->str) : NULL;
	c->tag = n->tag ? xstrdup(n->tag) : NULL;
	c->kids = n->nkids ? xcalloc(n->nkids, sizeof *c->kids) : NULL;
	for (i = 0; i < n->nkids; i++)
		c->kids[i] = ytree_clone(n->kids[i]);
	return c;
}

bool
ytree_equal(const struct ynode *a, const struct ynode *b)
{
	size_t i;

	if (a == NULL || b == NULL)
		return a == b;
	if (a->type != b->type || a->nkids != b->nkids)
		return false;
	if (a->type == Y_SCALAR && (strcmp(text(a), text(b)) != 0 ||
	    ytree_null(a) != ytree_null(b)))
		return false;
	for (i = 0; i < a->nkids; i++) {
		if (!ytree_equal(a->kids[i], b->kids[i]))
			return false;
	}
	return true;
}

ssize_t
ytree_find(const struct ynode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->type != Y_MAP)
		return -1;
	for (i = 0; i + 1 < map->nkids; i += 2) {
		if (map->kids[i]->type == Y_SCALAR &&
		    strcmp(text(map->kids[i]), key) == 0)
			return (ssize_t)i;
	}
	return -1;
}

struct ynode *
ytree_get(const struct ynode *map, const char *key)
{
	ssize_t i = ytree_find(map, key);

	return i < 0 ? NULL : map->kids[i + 1];
}

void
ytree_del(struct ynode *map, size_t i)
{
	ytree_free(map->kids[i]);
	ytree_free(map->kids[i + 1]);
	memmove(&map->kids[i], &map->kids[i + 2],
	    (map->nkids - i - 2) * sizeof *map->kids);
	map->nkids -= 2;
}

void
ytree_push(struct ynode *seq, struct ynode *item)
{
	seq->kids = xrealloc(seq->kids, (seq->nkids + 1) * sizeof *seq->kids);
	seq->kids[seq->nkids++] = item;
}

void
ytree_put(struct ynode *map, struct ynode *k, struct ynode *v)
{
	ytree_push(map, k);
	ytree_push(map, v);
}

/* Drop what is tagged !reset and the !override tags: a value that is not
 * merged with anything still must not carry them on. */
static struct ynode *
strip(struct ynode *n)
{
	size_t i, j;

	if (n == NULL)
		return NULL;
	if (tag_is(n, "!reset")) {
		ytree_free(n);
		return NULL;
	}
	if (tag_is(n, "!override")) {
		free(n->tag);
		n->tag = NULL;
	}
	if (n->type == Y_MAP) {
		for (i = 0; i + 1 < n->nkids; ) {
			/* Keys too: a complex key may hold tags; a key tagged
			 * !reset takes its pair with it. */
			if ((n->kids[i] = strip(n->kids[i])) == NULL) {
				ytree_free(n->kids[i + 1]);
				n->kids[i + 1] = NULL;
			} else
				n->kids[i + 1] = strip(n->kids[i + 1]);
			if (n->kids[i] == NULL || n->kids[i + 1] == NULL) {
				ytree_free(n->kids[i]);
				ytree_free(n->kids[i + 1]);
				memmove(&n->kids[i], &n->kids[i + 2],
				    (n->nkids - i - 2) * sizeof *n->kids);
				n->nkids -= 2;
			} else
				i += 2;
		}
	} else if (n->type == Y_SEQ) {
		for (i = j = 0; i < n->nkids; i++) {
			if ((n->kids[j] = strip(n->kids[i])) != NULL)
				j++;
		}
		n->nkids = j;
	}
	return n;
}

/* ---- paths and rules ---------------------------------------------------- */

struct mpath {
	const char	*seg[PATH_MAX_SEGS];
	size_t		 n;
};

static bool
path_match(const struct mpath *p, const char *pat)
{
	const char	*s = pat, *e;
	size_t		 i = 0, len;

	while (*s != '\0') {
		if (i >= p->n)
			return false;
		e = strchr(s, '.');
		len = e ? (size_t)(e - s) : strlen(s);
		if (!(len == 1 && *s == '*') && (strlen(p->seg[i]) != len ||
		    strncmp(p->seg[i], s, len) != 0))
			return false;
		i++;
		s += len + (e ? 1 : 0);
	}
	return i == p->n;
}

static const struct ymerge_rule *
rule_for(const struct ymerge_rules *r, const struct mpath *p)
{
	size_t i;

	for (i = 0; r != NULL && i < r->n; i++) {
		if (path_match(p, r->v[i].path))
			return &r->v[i];
	}
	return NULL;
}

static struct ynode *merge(const struct ymerge_rules *, struct mpath *,
		    struct ynode *, struct ynode *);

/* ---- lists -------------------------------------------------------------- */

static char *
item_key(const struct ymerge_rule *r, const struct ynode *item)
{
	const char *s, *e;

	if (r != NULL && r->key != NULL)
		return r->key(item);
	if (item->type != Y_SCALAR)
		return NULL;
	s = text(item);
	if (r != NULL && r->kind == YM_KV &&
	    (e = strpbrk(s, r->sep ? r->sep : "=")) != NULL)
		return xstrndup(s, (size_t)(e - s));
	return xstrdup(s);
}

static struct ynode *
append(struct ynode *base, struct ynode *over)
{
	struct ynode	*item;
	size_t		 i;

	for (i = 0; i < over->nkids; i++) {
		if ((item = strip(over->kids[i])) != NULL)
			ytree_push(base, item);
		over->kids[i] = NULL;
	}
	over->nkids = 0;
	ytree_free(over);
	return base;
}

/* base's items, then over's: with a key an earlier item has, in its place. */
static struct ynode *
merge_keyed(const struct ymerge_rule *r, struct ynode *base, struct ynode *over)
{
	char	**keys, *k;
	size_t	  i, j, n = base->nkids;

	keys = xcalloc(base->nkids + over->nkids + 1, sizeof *keys);
	for (i = 0; i < base->nkids; i++)
		keys[i] = item_key(r, base->kids[i]);
	for (i = 0; i < over->nkids; i++) {
		struct ynode *item = strip(over->kids[i]);

		over->kids[i] = NULL;
		if (item == NULL)
			continue;
		k = item_key(r, item);
		for (j = 0; k != NULL && j < n; j++) {
			if (keys[j] != NULL && strcmp(keys[j], k) == 0)
				break;
		}
		if (k != NULL && j < n) {
			ytree_free(base->kids[j]);
			base->kids[j] = item;
			free(k);
		} else {
			ytree_push(base, item);
			keys[n++] = k;
		}
	}
	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	over->nkids = 0;
	ytree_free(over);
	return base;
}

/* "KEY=VALUE" as KEY: VALUE ("KEY" alone as KEY: null). */
static void
put_kv(const struct ymerge_rule *r, struct ynode *map, const struct ynode *it)
{
	const char	*s = text(it), *e;
	char		*k;

	e = strpbrk(s, r->sep ? r->sep : "=");
	k = e ? xstrndup(s, (size_t)(e - s)) : xstrdup(s);
	ytree_put(map, ytree_scalar_at(it, k, true),
	    e ? ytree_scalar_at(it, e + 1, false) :
	    ytree_scalar_at(it, "", true));
	free(k);
}

/* A name as a key whose value fill() gives. */
static void
put_name(const struct ymerge_rule *r, struct ynode *map,
    const struct ynode *it)
{
	ytree_put(map, ytree_scalar_at(it, text(it), true),
	    r->fill ? r->fill(it) : ytree_scalar_at(it, "", true));
}

/* A list (taken) as a mapping where it stood, each scalar item put in as
 * the rule's kind says: the list form of KEY=VALUE or of names. */
static struct ynode *
seq_to_map(const struct ymerge_rule *r, struct ynode *seq)
{
	struct ynode	*map, *it;
	size_t		 i;

	map = xcalloc(1, sizeof *map);
	*map = *seq;
	map->type = Y_MAP;
	map->kids = NULL;
	map->nkids = 0;
	map->tag = NULL;
	for (i = 0; i < seq->nkids; i++) {
		it = seq->kids[i];
		if (it->type != Y_SCALAR) {
			/* Not the list form: kept for the reader to refuse. */
			ytree_put(map, ytree_scalar_at(it, "", false), it);
			seq->kids[i] = NULL;
			continue;
		}
		if (r->kind == YM_KV)
			put_kv(r, map, it);
		else
			put_name(r, map, it);
	}
	ytree_free(seq);
	return map;
}

/* ---- mappings ----------------------------------------------------------- */

static struct ynode *
merge_map(const struct ymerge_rules *rules, struct mpath *p,
    const struct ymerge_rule *r, struct ynode *base, struct ynode *over)
{
	struct ynode	*k, *v;
	ssize_t		 j;
	size_t		 i;

	for (i = 0; i + 1 < over->nkids; i += 2) {
		k = strip(over->kids[i]);
		v = over->kids[i + 1];
		over->kids[i] = over->kids[i + 1] = NULL;
		if (k == NULL) {
			ytree_free(v);
			continue;
		}
		j = k->type == Y_SCALAR ? ytree_find(base, text(k)) : -1;
		if (j < 0) {
			if ((v = strip(v)) != NULL)
				ytree_put(base, k, v);
			else
				ytree_free(k);
			continue;
		}
		if (tag_is(v, "!reset")) {
			ytree_del(base, (size_t)j);
			ytree_free(k);
			ytree_free(v);
			continue;
		}
		if (r != NULL && r->kind == YM_KV) {
			/* One entry of a KEY=VALUE mapping: the later wins. */
			ytree_free(base->kids[j + 1]);
			base->kids[j + 1] = strip(v);
			if (base->kids[j + 1] == NULL)
				ytree_del(base, (size_t)j);
			ytree_free(k);
			continue;
		}
		if (p->n < PATH_MAX_SEGS) {
			p->seg[p->n++] = text(k);
			base->kids[j + 1] = merge(rules, p, base->kids[j + 1],
			    v);
			p->n--;
		} else {
			ytree_free(base->kids[j + 1]);
			base->kids[j + 1] = strip(v);
		}
		ytree_free(k);
		if (base->kids[j + 1] == NULL)
			ytree_del(base, (size_t)j);
	}
	over->nkids = 0;
	ytree_free(over);
	return base;
}

/* ---- one value ---------------------------------------------------------- */

static struct ynode *
short_to_map(const char *name, struct ynode *s)
{
	struct ynode *map = xcalloc(1, sizeof *map);

	map->type = Y_MAP;
	map->file = s->file;
	map->line = s->line;
	map->col = s->col;
	ytree_put(map, ytree_scalar_at(s, name, true), s);
	return map;
}

static struct ynode *
seq_of(struct ynode *s)
{
	struct ynode *seq = xcalloc(1, sizeof *seq);

	seq->type = Y_SEQ;
	seq->file = s->file;
	seq->line = s->line;
	seq->col = s->col;
	ytree_push(seq, s);
	return seq;
}

static struct ynode *
merge(const struct ymerge_rules *rules, struct mpath *p, struct ynode *base,
    struct ynode *over)
{
	const struct ymerge_rule	*r;
	struct ynode			*a, *b;

	if (over == NULL)
		return base;
	if (base == NULL || tag_is(over, "!reset") ||
	    tag_is(over, "!override")) {
		ytree_free(base);
		return strip(over);
	}
	r = rule_for(rules, p);
	/* A later null leaves the value alone: !reset is what removes. */
	if (ytree_null(over) && over->tag == NULL) {
		ytree_free(over);
		return base;
	}
	/* In a list rule, one string stands for a list of one. */
	if (r != NULL && (r->kind == YM_KEYED || r->kind == YM_KV)) {
		if (base->type == Y_SCALAR && over->type == Y_SEQ)
			base = seq_of(base);
		else if (base->type == Y_SEQ && over->type == Y_SCALAR)
			over = seq_of(over);
	}
	if (r != NULL && r->kind == YM_REPLACE) {
		ytree_free(base);
		return strip(over);
	}
	if (r != NULL && r->kind == YM_SHORT) {
		if (base->type == Y_SCALAR && over->type == Y_MAP)
			base = short_to_map(r->name, base);
		else if (base->type == Y_MAP && over->type == Y_SCALAR)
			over = short_to_map(r->name, over);
	}
	if (r != NULL && r->kind == YM_SWITCH && base->type == Y_MAP &&
	    over->type == Y_MAP) {
		a = ytree_get(base, r->name);
		b = ytree_get(over, r->name);
		if (a != NULL && b != NULL && strcmp(text(a), text(b)) != 0) {
			ytree_free(base);
			return strip(over);
		}
	}
	if (r != NULL && (r->kind == YM_KV || r->kind == YM_MAPLIST) &&
	    base->type != over->type && (base->type == Y_MAP ||
	    over->type == Y_MAP)) {
		if (base->type == Y_SEQ)
			base = seq_to_map(r, base);
		if (over->type == Y_SEQ)
			over = seq_to_map(r, over);
	}
	if (base->type == Y_MAP && over->type == Y_MAP)
		return merge_map(rules, p, r, base, over);
	if (base->type == Y_SEQ && over->type == Y_SEQ) {
		if (r != NULL && (r->kind == YM_KEYED || r->kind == YM_KV ||
		    r->kind == YM_MAPLIST))
			return merge_keyed(r, base, over);
		return append(base, over);
	}
	ytree_free(base);
	return strip(over);
}

struct ynode *
ytree_merge(const struct ymerge_rules *rules, const char *path,
    struct ynode *base, struct ynode *over)
{
	struct mpath	 p;
	char		*copy = NULL, *save = NULL, *s;
	struct ynode	*n;

	memset(&p, 0, sizeof p);
	if (path != NULL) {
		copy = xstrdup(path);
		for (s = strtok_r(copy, ".", &save); s != NULL &&
		    p.n < PATH_MAX_SEGS; s = strtok_r(NULL, ".", &save))
			p.seg[p.n++] = s;
	}
	n = merge(rules, &p, strip(base), over);
	free(copy);
	return n;
}
