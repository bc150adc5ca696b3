/*
 * Environments of a unit directory: ENV.env and the overlays in env/ENV/
 * (docs/units.md, Environments).  Used by the directory loader
 * (unitstack.c) and by shipctl's completion of -e.
 */
#ifndef SHIPD_UNITENV_H
#define SHIPD_UNITENV_H

#include <stdbool.h>

#include "diag.h"
#include "ytree.h"
#include "ytree_merge.h"

/* compose's merge rules for unit keys (and "stack.*" for stack.yaml). */
extern const struct ymerge_rules unit_merge_rules;

/* Lower-case letters, digits, '_' and '-', starting with a letter or
 * digit, as a stack name. */
bool	 unit_env_name_valid(const char *);
/* The environments dir has: NAME.env files and env/NAME/ directories,
 * sorted, once each; a NULL-terminated vector (strv_free). */
char	**unit_env_names(const char *dir);
/*
 * Whether env exists in dir (shown in messages as shown) and each overlay
 * in env/ENV/ names a unit file of files (the *.yaml names of dir, NULL-
 * terminated).  0 or -EINVAL, every problem in errs.
 */
int	 unit_env_check(const char *dir, const char *shown, const char *env,
	    char *const *files, struct diag_list *errs);
/*
 * Parse c->file (NULL: no base) and, when the file over exists, merge it
 * over at merge path key (NULL for a unit file, "stack" for stack.yaml).
 * Nodes keep the file they came from: c->file and over must outlive the
 * tree.  0 (*root may be NULL: both empty), or -EINVAL / -errno reported.
 */
int	 unit_env_tree(struct yctx *c, const char *over, const char *key,
	    struct ynode **root);

#endif
