/*
 * The state store's cache: every stack and revision read at open or
 * written since, kept sorted so lookups never touch the disk.  Only the
 * loop thread uses it.
 */
#include <limits.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "state/store_int.h"
#include "util.h"

bool
store_name_valid(const char *name)
{
	return name != NULL && name[0] != '\0' && name[0] != '.' &&
	    strchr(name, '/') == NULL && strlen(name) <= NAME_MAX;
}

static struct stk *
stk_find(struct store *st, const char *name, size_t *at)
{
	size_t	lo = 0, hi = st->nstks;

	while (lo < hi) {
		size_t	mid = lo + (hi - lo) / 2;
		int	c = strcmp(name, st->stks[mid]->name);

		if (c == 0)
			return st->stks[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (at != NULL)
		*at = lo;
	return NULL;
}

struct stk *
store_stk_get(struct store *st, const char *name)
{
	struct stk	*k;
	size_t		 at;

	if ((k = stk_find(st, name, &at)) != NULL)
		return k;
	k = xcalloc(1, sizeof *k);
	k->name = xstrdup(name);
	xasprintf(&k->dir, "%s/stacks/%s", st->dir, name);
	k->next = 1;
	st->stks = xrealloc(st->stks, (st->nstks + 1) * sizeof *st->stks);
	memmove(st->stks + at + 1, st->stks + at,
	    (st->nstks - at) * sizeof *st->stks);
	st->stks[at] = k;
	st->nstks++;
	return k;
}

struct stk *
store_stk_lookup(struct store *st, const char *name)
{
	return store_name_valid(name) ? stk_find(st, name, NULL) : NULL;
}

static void
stk_free(struct stk *k)
{
	size_t	i;

	for (i = 0; i < k->nrevs; i++)
		json_decref(k->revs[i].doc);
	free(k->revs);
	json_decref(k->scale);
	json_decref(k->svcstate);
	json_decref(k->heal);
	free(k->dir);
	free(k->name);
	free(k);
}

struct rev *
store_rev_find(struct stk *k, int n)
{
	size_t	i;

	for (i = 0; i < k->nrevs; i++)
		if (k->revs[i].n == n)
			return &k->revs[i];
	return NULL;
}

void
store_rev_set(struct stk *k, int n, json_t *doc)
{
	struct rev	*r;
	size_t		 at;

	if ((r = store_rev_find(k, n)) != NULL) {
		json_decref(r->doc);
		r->doc = doc;
		return;
	}
	if (k->nrevs == k->caprevs) {
		k->caprevs = k->caprevs ? k->caprevs * 2 : 8;
		k->revs = xrealloc(k->revs, k->caprevs * sizeof *k->revs);
	}
	for (at = k->nrevs; at > 0 && k->revs[at - 1].n > n; at--)
		k->revs[at] = k->revs[at - 1];
	k->revs[at].n = n;
	k->revs[at].doc = doc;
	k->nrevs++;
	if (n >= k->next)
		k->next = n + 1;
}

/* The cache and the store itself; the queue must be empty. */
void
store_free(struct store *st)
{
	size_t	i;

	for (i = 0; i < st->nstks; i++)
		stk_free(st->stks[i]);
	free(st->stks);
	json_decref(st->journal);
	free(st->journal_path);
	free(st->audit_path);
	free(st->dir);
	/* Last: the next daemon may take the directory from here on. */
	close(st->lock_fd);
	free(st);
}

