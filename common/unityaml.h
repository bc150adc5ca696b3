/*
 * Internals of the unit-file decoder, shared by its halves (unityaml.c:
 * the file and its top-level keys; unitsections.c: health, update,
 * resources, backup) and by stack.yaml's (unitstack.c).  Not for others.
 */
#ifndef SHIPD_UNITYAML_H
#define SHIPD_UNITYAML_H

#include "expand.h"
#include "unit.h"
#include "unitcheck.h"
#include "ytree.h"

/* Where each field came from in its file, so that the validator, which
 * runs after decoding, can name the line and column. */
struct yfield {
	const struct ynode	*n;
	char			*path;
};

struct yfields {
	const char	*file;
	struct yfield	*v[UF_N];	/* v[f][i]: item i of field f */
	size_t		 n[UF_N];
};

/* Record item n[f] of field f: node and message path. */
void	yfields_note(struct yfields *, enum unit_field, const struct ynode *,
	    const char *path);
/* Each item of the list seq, as "path[i]". */
void	yfields_note_list(struct yfields *, enum unit_field,
	    const struct ynode *seq, const char *path);
/* A unit_where that answers from yf. */
void	yfields_where(struct yfields *, struct unit_where *);
void	yfields_free(struct yfields *);

struct uctx {
	struct yctx	 y;
	const char	*dir;		/* absolute: bind sources */
	struct unit	*u;
	struct envfile	 envf;		/* env_file:, merged last */
	struct yfields	 at;
};

#define UCTX(obj)	((struct uctx *)(obj))

/* The mapping-valued keys of a unit file (unitsections.c). */
void	unit_yaml_health(struct yctx *, const char *, const struct ynode *,
	    void *);
void	unit_yaml_update(struct yctx *, const char *, const struct ynode *,
	    void *);
void	unit_yaml_resources(struct yctx *, const char *, const struct ynode *,
	    void *);
void	unit_yaml_backup(struct yctx *, const char *, const struct ynode *,
	    void *);

#endif
