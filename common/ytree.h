/*
 * A YAML document as a tree that keeps each node's line and column, with
 * typed readers that expand ${VAR}s and report what they reject as
 * file:line:col.  Aliases are refused unless yctx.aliases is set (the
 * compose loader sets it): then anchors, aliases and merge keys ('<<')
 * are resolved while parsing, as yanchor.h says, and the tree holds only
 * copies.  The unit loader is built on it; any other YAML input can be.
 */
#ifndef SHIPD_YTREE_H
#define SHIPD_YTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct expand_ctx;

enum ytype { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ytype	  type;
	const char	 *file;		/* the yctx's at parse time (borrowed:
					 * it must outlive the tree) */
	int		  line;		/* 1-based */
	int		  col;
	char		 *str;		/* scalars: the text before expansion */
	bool		  plain;	/* unquoted: "", ~, null are null */
	char		 *tag;		/* an explicit tag ("!reset"), or NULL */
	struct ynode	**kids;		/* seq: items; map: key, value, ... */
	size_t		  nkids;
};

struct yctx {
	const char		*file;		/* for messages */
	const struct expand_ctx	*x;		/* NULL: no expansion */
	struct diag_list	*errs;
	bool			 aliases;	/* anchors, aliases, '<<' */
};

/* A table row: decode one key's value (at path, e.g. "health.interval")
 * into obj. */
struct ykey {
	const char	*name;
	void		(*fn)(struct yctx *, const char *path,
			    const struct ynode *, void *obj);
};

/* Parse text; an empty stream gives a NULL root.  0 or -EINVAL (reported). */
int		 ytree_parse(struct yctx *, const char *text, size_t len,
		    struct ynode **root);
/* Read (at most max bytes) and parse: 0, -EINVAL, or -errno; all reported. */
int		 ytree_load_file(struct yctx *, const char *path, size_t max,
		    struct ynode **root);
void		 ytree_free(struct ynode *);
void		 ytree_err(struct yctx *, const struct ynode *, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
bool		 ytree_null(const struct ynode *);
const char	*ytree_kind(const struct ynode *);	/* "a mapping", ... */
char		*ytree_path(const char *path, const char *key);	/* "a.b" */

/*
 * Readers: each reports its own error and then returns NULL / -EINVAL or
 * leaves *out alone.  want names the expected type in the message.
 */
char		*ytree_text(struct yctx *, const char *path,
		    const struct ynode *, const char *want);
char		*ytree_string(struct yctx *, const char *path,
		    const struct ynode *);			/* non-empty */
int		 ytree_int(struct yctx *, const char *path,
		    const struct ynode *, int min, int max, int *out);
void		 ytree_bool(struct yctx *, const char *path,
		    const struct ynode *, bool *out);
void		 ytree_duration(struct yctx *, const char *path,
		    const struct ynode *, uint64_t min_ms, uint64_t *out);
/* A list of strings as a NULL-terminated vector; with shell, one string
 * s becomes { "sh", "-c", s }. */
char		**ytree_strv(struct yctx *, const char *path,
		    const struct ynode *, bool shell, bool empty_ok);
bool		 ytree_is(struct yctx *, const char *path,
		    const struct ynode *, enum ytype);
/* The key of pair i (map->kids[i], i even), or NULL if it is not a
 * string or repeats an earlier key (reported). */
const struct ynode *ytree_map_key(struct yctx *, const struct ynode *map,
		    size_t i);
/* Call fn on each item of a list, at path "path[i]"; false (reported) if
 * n is not a list. */
bool		 ytree_each(struct yctx *, const char *path,
		    const struct ynode *n, void (*fn)(struct yctx *,
		    const char *, const struct ynode *, void *), void *obj);
/*
 * A KEY: value mapping or a list of "KEY=VALUE" (split at the first '='),
 * one entry at a time.  at is the item or the mapping's key; path is the
 * item's path or the mapping's, epath the entry's own (path "[i]" or
 * path ".KEY").  value is NULL for an entry with none ("KEY" in a list,
 * KEY: with nothing): passed on with bare, an error without.  false
 * (reported) if n is neither a mapping nor a list.
 */
struct ykv {
	const struct ynode	*at;
	const char		*path;
	const char		*epath;
	const char		*key;
	const char		*value;
};
typedef void	 ytree_kv_fn(struct yctx *, const struct ykv *, void *obj);
bool		 ytree_kv(struct yctx *, const char *path,
		    const struct ynode *n, bool bare, ytree_kv_fn *fn,
		    void *obj);
/* Decode a mapping through keys: unknown and repeated keys are errors.
 * seen[i] (if seen) gets the key node of keys[i] when it is present. */
void		 ytree_walk(struct yctx *, const char *path,
		    const struct ynode *map, const struct ykey *keys,
		    size_t nkeys, void *obj, const struct ynode **seen);

#endif
