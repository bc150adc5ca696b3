/*
 * Anchors, aliases and merge keys for ytree_parse (with yctx.aliases
 * set).  An alias becomes a copy of the node its anchor marks, and every
 * copied node keeps the file, line and column of the anchored text, so a
 * message about a value points where that value is written.  A merge key
 * ('<<', YAML 1.1) folds the mappings it names into the mapping holding it:
 * the mapping's own keys win, and in a list of mappings an earlier one
 * wins.  Copies are bounded (an alias bomb stops with an error at the
 * alias), and so is the depth they reach.
 */
#ifndef SHIPD_YANCHOR_H
#define SHIPD_YANCHOR_H

#include <stdbool.h>
#include <stddef.h>

#include "ytree.h"

/* Nodes that copies may add: 100 for every node written in the
 * document, at least YA_COPY_MIN and at most YA_COPY_MAX. */
#define YA_COPY_PER	100
#define YA_COPY_MIN	10000
#define YA_COPY_MAX	1000000

/* Anchored collections open at once: at most one per nesting level. */
#define YA_OPEN_MAX	64

struct yanchor;

struct yanchors {
	struct yanchor	 *v;		/* every definition, in order */
	size_t		  n;
	size_t		 *hash;		/* name -> 1 + index of the latest */
	size_t		  nhash;	/* slots, a power of two (or 0) */
	size_t		  open[YA_OPEN_MAX];	/* indexes, innermost last */
	size_t		  nopen;
	struct ynode	**dead;		/* taken out by merges: freed last */
	size_t		  ndead;
	size_t		  written;	/* nodes from the text */
	size_t		  copied;	/* nodes made by aliases and merges */
};

/* Remember node n under name; a collection is open until ya_close. */
void		 ya_define(struct yanchors *, const char *name,
		    struct ynode *n);
void		 ya_close(struct yanchors *, const struct ynode *n);
/* A copy of the node anchored as name, to sit depth levels down; NULL
 * with an error at line:col if there is none, it is still open (a
 * cycle), or the copy would break the limits. */
struct ynode	*ya_alias(struct yctx *, struct yanchors *, const char *name,
		    int line, int col, size_t depth, size_t maxdepth);
/* Resolve the merge keys of a mapping that has just ended.  0 or -EINVAL
 * (reported). */
int		 ya_merge(struct yctx *, struct yanchors *, struct ynode *map,
		    size_t maxitems);
void		 ya_free(struct yanchors *);

#endif
