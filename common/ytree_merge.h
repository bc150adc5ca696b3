/*
 * Merging one ytree over another with per-path rules: the engine behind
 * compose's -f files, override file and extends (compose-spec 13-merge.md)
 * and, later, unit-directory environment overlays.
 *
 * Without a rule: mappings merge key by key, lists append, anything else
 * is replaced by the later value, except that a later null changes
 * nothing (but a null entry of a YM_KV mapping is a value: it replaces).  A later
 * value tagged !reset removes what was there; one tagged !override
 * replaces it whole.  In YM_KEYED and YM_KV a string merged with a list
 * is a list of one.  Every node of
 * the result is a node of one of the inputs (or made from one, at its
 * position), so it still names its file, line and column.
 */
#ifndef SHIPD_YTREE_MERGE_H
#define SHIPD_YTREE_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ytree.h"

enum ymerge_kind {
	YM_REPLACE,	/* the later value wins whole (command, entrypoint) */
	YM_KEYED,	/* a list: a later item with the key of an earlier one
			 * replaces it in place, others are appended */
	YM_KV,		/* a mapping or a list of "KEY=VALUE" (split at a
			 * char of sep), merged by KEY; mixed forms give a
			 * mapping */
	YM_MAPLIST,	/* a mapping or a list of names (depends_on,
			 * networks); mixed forms give a mapping whose
			 * values fill() makes from the names */
	YM_SHORT,	/* a scalar stands for { name: scalar } (build); two
			 * mappings merge */
	YM_SWITCH,	/* mappings that merge only when their key name has
			 * the same value (logging.driver); else replaced */
};

struct ymerge_rule {
	const char		*path;	/* "services.*.environment": '*' is
					 * any one key */
	enum ymerge_kind	 kind;
	/* YM_KEYED: an item's key (caller frees), NULL to keep the item
	 * apart; no key function: a scalar's text. */
	char			*(*key)(const struct ynode *);
	const char		*sep;	/* YM_KV */
	const char		*name;	/* YM_SHORT, YM_SWITCH */
	/* YM_MAPLIST: the value for a name given in list form (NULL: null) */
	struct ynode		*(*fill)(const struct ynode *item);
};

struct ymerge_rules {
	const struct ymerge_rule	*v;
	size_t				 n;
};

/*
 * Merge over onto base (both consumed; either may be NULL) at path (NULL
 * for the root, or e.g. "services.api" for one service) and return the
 * result; NULL when nothing is left (a !reset).  The result holds no
 * !reset or !override tags.
 */
/* compose's identities of list items (compose_merge.c), for tables that
 * merge the same kinds of value (the unit overlays, unitenv.c): a
 * volume or device by its target, a port by ip, published, target and
 * protocol, an env_file by its path. */
char		*compose_volume_key(const struct ynode *);
char		*compose_port_key(const struct ynode *);
char		*compose_device_key(const struct ynode *);
char		*compose_envfile_key(const struct ynode *);

struct ynode	*ytree_merge(const struct ymerge_rules *, const char *path,
		    struct ynode *base, struct ynode *over);
struct ynode	*ytree_clone(const struct ynode *);
/* The same values (positions, files and tags aside), keys in order. */
bool		 ytree_equal(const struct ynode *, const struct ynode *);
/* A new scalar at n's position (and file). */
struct ynode	*ytree_scalar_at(const struct ynode *n, const char *s,
		    bool plain);
/* The value under key in a mapping, or NULL; and its index (of the key). */
struct ynode	*ytree_get(const struct ynode *map, const char *key);
ssize_t		 ytree_find(const struct ynode *map, const char *key);
/* Remove the pair at index i (of the key) and free it. */
void		 ytree_del(struct ynode *map, size_t i);
/* Append a pair (both consumed) or an item. */
void		 ytree_put(struct ynode *map, struct ynode *k, struct ynode *v);
void		 ytree_push(struct ynode *seq, struct ynode *item);

#endif
