/*
 * The dependency graph of a stack's services: topological order, cycle
 * and missing-dependency reports naming the unit file, and the readiness
 * query the apply engine asks after every step.
 */
#ifndef SHIPD_GRAPH_H
#define SHIPD_GRAPH_H

#include <stddef.h>

#include "diag.h"

#ifndef SHIPD_DEP_COND_DEFINED
#define SHIPD_DEP_COND_DEFINED
enum dep_cond { DEP_STARTED = 1, DEP_HEALTHY = 2, DEP_COMPLETED = 4 };
#endif

struct graph;

struct graph	*graph_new(void);
void		 graph_free(struct graph *);
/* Node index >= 0, or -EEXIST. */
int		 graph_add_node(struct graph *, const char *name,
		    const char *file);
/* "from depends on to"; to may be added later.  0 or -ENOENT (from). */
int		 graph_add_edge(struct graph *, const char *from,
		    const char *to, enum dep_cond, int line, int col);
/* Resolve edges; report missing services, self-dependencies and every
 * cycle with its path.  0 or -EINVAL. */
int		 graph_check(struct graph *, struct diag_list *);
size_t		 graph_count(const struct graph *);
const char	*graph_name(const struct graph *, size_t);
int		 graph_index(const struct graph *, const char *name);
/* Dependencies first; ties broken by name.  After graph_check. */
int		 graph_topo_order(const struct graph *, size_t *order);
int		 graph_reverse_order(const struct graph *, size_t *order);
/* met[i]: dep_cond bits node i has reached. */
int		 graph_can_start(const struct graph *, size_t node,
		    const unsigned *met);
/* Nodes not yet started whose dependencies are met; count. */
size_t		 graph_ready(const struct graph *, const unsigned *met,
		    const unsigned char *started, size_t *out);
/* Direct dependencies (out and conds may be NULL to count). */
size_t		 graph_deps(const struct graph *, size_t node, size_t *out,
		    enum dep_cond *conds);
size_t		 graph_dependents(const struct graph *, size_t node,
		    size_t *out);
size_t		 graph_closure_dependents(const struct graph *, size_t node,
		    unsigned char *mark);
int		 graph_depth(const struct graph *, size_t node);

#endif
