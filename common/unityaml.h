/*
 * Internals of the unit-file decoder, shared by its halves: unityaml.c
 * (the file, its top-level keys and their short syntax) and
 * unitsections.c (health, update, resources, backup).  Not for others.
 */
#ifndef SHIPD_UNITYAML_H
#define SHIPD_UNITYAML_H

#include "expand.h"
#include "unit.h"
#include "unitcheck.h"
#include "ytree.h"

struct uctx {
	struct yctx	 y;
	const char	*dir;		/* absolute: bind sources */
	struct unit	*u;
	struct envfile	 envf;		/* env_file:, merged last */
	struct unit_marks at;		/* where each field was */
};

#define UCTX(obj)	((struct uctx *)(obj))

/* Mark field f as written at node n. */
#define YMARK(marks, f, n, path) \
	unit_mark((marks), (f), (n)->file, (n)->line, (n)->col, "%s", \
	    (path))

/* environment: wins over env_file:, a later env file over an earlier; run
 * after the validator (env files check their own keys, at their lines). */
void	unit_yaml_env_merge(struct uctx *);

/* ytree_walk, with compose's keys that units lack refused by a hint
 * (unit_compose_hint) rather than by the nearest spelling. */
void	unit_yaml_walk(struct yctx *, const char *path, const struct ynode *,
	    const struct ykey *, size_t, void *obj, const struct ynode **seen);

/* The mapping-valued keys of a unit file (unitsections.c). */
void	unit_yaml_health(struct yctx *, const char *, const struct ynode *,
	    void *);
void	unit_yaml_update(struct yctx *, const char *, const struct ynode *,
	    void *);
void	unit_yaml_resources(struct yctx *, const char *, const struct ynode *,
	    void *);
void	unit_yaml_on_unhealthy(struct yctx *, const char *,
	    const struct ynode *, void *);
void	unit_yaml_backup(struct yctx *, const char *, const struct ynode *,
	    void *);
/* autoscale: (unitscale.c); with no replicas: key the count is min. */
void	unit_yaml_autoscale(struct yctx *, const char *, const struct ynode *,
	    void *);
/* build: and pull_policy: (unitbuild.c). */
/* One depends_on entry, name under condition cond, noted at at. */
void	unit_yaml_dep_add(struct uctx *, const struct ynode *at,
	    const char *path, const char *name, enum dep_cond cond);
/* restart: also compose's (its service context starts with a uctx). */
void	unit_yaml_restart(struct yctx *, const char *, const struct ynode *,
	    void *);
void	unit_yaml_build(struct yctx *, const char *, const struct ynode *,
	    void *);
void	unit_yaml_pull_policy(struct yctx *, const char *,
	    const struct ynode *, void *);


#endif
