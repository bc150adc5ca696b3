/*
 * Glue between the unit model and the dependency graph: the graph of a
 * loaded stack, with every dependency error reported against its unit file.
 */
#ifndef SHIPD_STACKGRAPH_H
#define SHIPD_STACKGRAPH_H

#include "diag.h"
#include "graph.h"
#include "unit.h"

/* Node i of the graph is stack->units[i].  0, or -EINVAL with errs. */
int	stack_graph_build(const struct stack *, struct graph **,
	    struct diag_list *errs);

/* Load a unit directory and check its graph: what `validate`, `plan` and
 * `deploy` all start with.  0, or non-zero with errs filled. */
int	stack_load_checked(const char *dir, char *const *envp,
	    struct stack **, struct graph **, struct diag_list *errs);
/* The same for environment env (NULL: none). */
int	stack_load_checked_env(const char *dir, const char *env,
	    char *const *envp, struct stack **, struct graph **,
	    struct diag_list *errs);

#endif
