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
/*
 * Resolve edges; report every dependency on a missing service and every
 * self-dependency at the edge's file:line:col, and every cycle as
 * "dependency cycle: a -> b -> a" (rotated to start at its smallest name,
 * at that service's file).  0 or -EINVAL.  Call again after adding more.
 */
int		 graph_check(struct graph *, struct diag_list *);
size_t		 graph_count(const struct graph *);
const char	*graph_name(const struct graph *, size_t);
int		 graph_index(const struct graph *, const char *name);
/* order[graph_count()]: dependencies first, ties broken by name.  After
 * graph_check; -EINVAL (order partly filled) if a cycle remains. */
int		 graph_topo_order(const struct graph *, size_t *order);
/* The same reversed: dependents first, for down and rollback. */
int		 graph_reverse_order(const struct graph *, size_t *order);
/* met[i]: dep_cond bits node i has reached (the caller sets STARTED too
 * when a service is healthy or completed).  1 if node may start. */
int		 graph_can_start(const struct graph *, size_t node,
		    const unsigned *met);
/* Nodes with started[i] == 0 (started may be NULL) whose dependencies
 * are met, in index order; returns how many were written to out. */
size_t		 graph_ready(const struct graph *, const unsigned *met,
		    const unsigned char *started, size_t *out);
/* Direct dependencies in name order (out and conds may be NULL to
 * count); direct dependents likewise. */
size_t		 graph_deps(const struct graph *, size_t node, size_t *out,
		    enum dep_cond *conds);
size_t		 graph_dependents(const struct graph *, size_t node,
		    size_t *out);
/* Mark every transitive dependent of node (not node itself); returns how
 * many were newly marked.  Already-marked nodes are not walked again, so
 * one mark array can gather the closure of several nodes. */
size_t		 graph_closure_dependents(const struct graph *, size_t node,
		    unsigned char *mark);
/* Length of the longest dependency chain below node: 0 for none;
 * -EINVAL while a cycle remains. */
int		 graph_depth(const struct graph *, size_t node);

#endif
