/*
 * Dependency graph.  Small (a stack has tens of services, at most
 * thousands), so the algorithms favour plainness: iterative DFS for
 * cycles, Kahn's algorithm with name order for a deterministic topological
 * order, and no recursion anywhere.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "util.h"

struct gedge {
	size_t		 from;
	char		*to_name;
	int		 to;		/* -1 until resolved */
	enum dep_cond	 cond;
	int		 line;
	int		 col;
};

struct gnode {
	char	*name;
	char	*file;
};

struct graph {
	struct gnode	*nodes;
	size_t		 nnodes;
	struct gedge	*edges;
	size_t		 nedges;
};

struct graph *
graph_new(void)
{
	return xcalloc(1, sizeof(struct graph));
}

void
graph_free(struct graph *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nnodes; i++) {
		free(g->nodes[i].name);
		free(g->nodes[i].file);
	}
	for (i = 0; i < g->nedges; i++)
		free(g->edges[i].to_name);
	free(g->nodes);
	free(g->edges);
	free(g);
}

int
graph_index(const struct graph *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->nnodes; i++)
		if (strcmp(g->nodes[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

int
graph_add_node(struct graph *g, const char *name, const char *file)
{
	if (graph_index(g, name) >= 0)
		return -EEXIST;
	g->nodes = xrealloc(g->nodes, (g->nnodes + 1) * sizeof *g->nodes);
	g->nodes[g->nnodes].name = xstrdup(name);
	g->nodes[g->nnodes].file = file ? xstrdup(file) : NULL;
	return (int)g->nnodes++;
}

int
graph_add_edge(struct graph *g, const char *from, const char *to,
    enum dep_cond cond, int line, int col)
{
	int f = graph_index(g, from);

	if (f < 0)
		return f;
	g->edges = xrealloc(g->edges, (g->nedges + 1) * sizeof *g->edges);
	g->edges[g->nedges] = (struct gedge){ (size_t)f, xstrdup(to), -1,
	    cond, line, col };
	g->nedges++;
	return 0;
}

size_t
graph_count(const struct graph *g)
{
	return g->nnodes;
}

const char *
graph_name(const struct graph *g, size_t i)
{
	return i < g->nnodes ? g->nodes[i].name : NULL;
}

/* Report the cycle closed by the edge from `from` back to `to`, with the
 * DFS path in stack[0..depth). */
static void
report_cycle(const struct graph *g, const size_t *stack, size_t depth,
    size_t to, struct diag_list *errs)
{
	struct buf	b;
	size_t		i = 0;

	while (i < depth && stack[i] != to)
		i++;
	buf_init(&b);
	for (; i < depth; i++)
		buf_printf(&b, "%s -> ", g->nodes[stack[i]].name);
	buf_puts(&b, g->nodes[to].name);
	diag_add(errs, g->nodes[to].file, 0, 0, "dependency cycle: %s",
	    b.data);
	buf_free(&b);
}

static void
find_cycles(const struct graph *g, struct diag_list *errs, int *found)
{
	unsigned char	*color = xcalloc(g->nnodes + 1, 1);
	size_t		*stack = xcalloc(g->nnodes + 1, sizeof *stack);
	size_t		*next = xcalloc(g->nnodes + 1, sizeof *next);
	size_t		 root, depth;

	/* color: 0 new, 1 on the current path, 2 finished */
	for (root = 0; root < g->nnodes; root++) {
		if (color[root] != 0)
			continue;
		depth = 0;
		stack[depth++] = root;
		color[root] = 1;
		next[root] = 0;
		while (depth > 0) {
			size_t n = stack[depth - 1];
			size_t e = next[n];

			/* advance to n's next outgoing resolved edge */
			while (e < g->nedges && (g->edges[e].from != n ||
			    g->edges[e].to < 0 || (size_t)g->edges[e].to == n))
				e++;
			if (e >= g->nedges) {
				color[n] = 2;
				depth--;
				continue;
			}
			next[n] = e + 1;
			size_t t = (size_t)g->edges[e].to;

			if (color[t] == 1) {
				report_cycle(g, stack, depth, t, errs);
				*found = 1;
			} else if (color[t] == 0) {
				color[t] = 1;
				next[t] = 0;
				stack[depth++] = t;
			}
		}
	}
	free(color);
	free(stack);
	free(next);
}

int
graph_check(struct graph *g, struct diag_list *errs)
{
	size_t	i;
	int	bad = 0, idx;

	for (i = 0; i < g->nedges; i++) {
		struct gedge		*e = &g->edges[i];
		const struct gnode	*from = &g->nodes[e->from];

		idx = graph_index(g, e->to_name);
		if (idx < 0) {
			diag_add(errs, from->file, e->line, e->col, "service "
			    "'%s' depends on '%s', which is not defined",
			    from->name, e->to_name);
			bad = 1;
			continue;
		}
		if ((size_t)idx == e->from) {
			diag_add(errs, from->file, e->line, e->col, "service "
			    "'%s' depends on itself", from->name);
			bad = 1;
		}
		e->to = idx;
	}
	find_cycles(g, errs, &bad);
	return bad ? -EINVAL : 0;
}

int
graph_topo_order(const struct graph *g, size_t *order)
{
	size_t		*indeg = xcalloc(g->nnodes + 1, sizeof *indeg);
	unsigned char	*done = xcalloc(g->nnodes + 1, 1);
	size_t		 i, k, n = 0;
	int		 pick;

	for (i = 0; i < g->nedges; i++)
		if (g->edges[i].to >= 0)
			indeg[g->edges[i].from]++;
	while (n < g->nnodes) {
		pick = -1;
		for (i = 0; i < g->nnodes; i++)
			if (!done[i] && indeg[i] == 0 && (pick < 0 ||
			    strcmp(g->nodes[i].name,
			    g->nodes[pick].name) < 0))
				pick = (int)i;
		if (pick < 0)
			break;		/* a cycle: graph_check reports it */
		done[pick] = 1;
		order[n++] = (size_t)pick;
		for (k = 0; k < g->nedges; k++)
			if (g->edges[k].to == pick)
				indeg[g->edges[k].from]--;
	}
	free(indeg);
	free(done);
	return n == g->nnodes ? 0 : -EINVAL;
}

int
graph_reverse_order(const struct graph *g, size_t *order)
{
	size_t	i, t;
	int	rc = graph_topo_order(g, order);

	for (i = 0; i < g->nnodes / 2; i++) {
		t = order[i];
		order[i] = order[g->nnodes - 1 - i];
		order[g->nnodes - 1 - i] = t;
	}
	return rc;
}

int
graph_can_start(const struct graph *g, size_t node, const unsigned *met)
{
	size_t i;

	for (i = 0; i < g->nedges; i++) {
		const struct gedge *e = &g->edges[i];

		if (e->from == node && e->to >= 0 &&
		    (met[e->to] & e->cond) == 0)
			return 0;
	}
	return 1;
}

size_t
graph_ready(const struct graph *g, const unsigned *met,
    const unsigned char *started, size_t *out)
{
	size_t i, n = 0;

	for (i = 0; i < g->nnodes; i++)
		if (!started[i] && graph_can_start(g, i, met))
			out[n++] = i;
	return n;
}

size_t
graph_deps(const struct graph *g, size_t node, size_t *out,
    enum dep_cond *conds)
{
	size_t i, n = 0;

	for (i = 0; i < g->nedges; i++) {
		if (g->edges[i].from != node || g->edges[i].to < 0)
			continue;
		if (out != NULL)
			out[n] = (size_t)g->edges[i].to;
		if (conds != NULL)
			conds[n] = g->edges[i].cond;
		n++;
	}
	return n;
}

size_t
graph_dependents(const struct graph *g, size_t node, size_t *out)
{
	size_t i, n = 0;

	for (i = 0; i < g->nedges; i++)
		if (g->edges[i].to == (int)node) {
			if (out != NULL)
				out[n] = g->edges[i].from;
			n++;
		}
	return n;
}

size_t
graph_closure_dependents(const struct graph *g, size_t node,
    unsigned char *mark)
{
	size_t	*queue = xcalloc(g->nnodes + 1, sizeof *queue);
	size_t	 head = 0, tail = 0, i, count = 0;

	queue[tail++] = node;
	while (head < tail) {
		size_t n = queue[head++];

		for (i = 0; i < g->nedges; i++) {
			size_t f = g->edges[i].from;

			if (g->edges[i].to != (int)n || mark[f])
				continue;
			mark[f] = 1;
			count++;
			queue[tail++] = f;
		}
	}
	free(queue);
	return count;
}

int
graph_depth(const struct graph *g, size_t node)
{
	size_t	*order = xcalloc(g->nnodes + 1, sizeof *order);
	int	*depth = xcalloc(g->nnodes + 1, sizeof *depth);
	size_t	 i, k;
	int	 d;

	graph_topo_order(g, order);
	for (i = 0; i < g->nnodes; i++) {
		size_t n = order[i];

		for (k = 0; k < g->nedges; k++)
			if (g->edges[k].from == n && g->edges[k].to >= 0 &&
			    depth[g->edges[k].to] + 1 > depth[n])
				depth[n] = depth[g->edges[k].to] + 1;
	}
	d = depth[node];
	free(order);
	free(depth);
	return d;
}
