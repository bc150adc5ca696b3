/*
 * Dependency graph of a stack's services.  Every walk is iterative (an
 * explicit stack, queue or heap) so a long chain cannot exhaust the C stack,
 * and every order is broken by name so plans read the same on every run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "util.h"

struct gedge {
	size_t		 from;
	char		*to_name;
	int		 to;		/* -1 until graph_check resolves it */
	enum dep_cond	 cond;
	int		 line;
	int		 col;
};

/* Edge indices; a node's out-list grows as edges are added, its in-list
 * is rebuilt by graph_check once targets are known. */
struct elist {
	size_t	*v;
	size_t	 n;
	size_t	 cap;
};

struct gnode {
	char		*name;
	char		*file;
	struct elist	 out;
	struct elist	 in;
};

struct graph {
	struct gnode	*nodes;
	size_t		 nnodes;
	struct gedge	*edges;
	size_t		 nedges;
};

static void
elist_push(struct elist *l, size_t e)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = e;
}

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
		free(g->nodes[i].out.v);
		free(g->nodes[i].in.v);
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
	struct gnode *n;

	if (graph_index(g, name) >= 0)
		return -EEXIST;
	g->nodes = xrealloc(g->nodes, (g->nnodes + 1) * sizeof *g->nodes);
	n = &g->nodes[g->nnodes];
	memset(n, 0, sizeof *n);
	n->name = xstrdup(name);
	n->file = file != NULL ? xstrdup(file) : NULL;
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
	elist_push(&g->nodes[f].out, g->nedges);
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

/* Target of edge e if it counts for ordering: resolved and not a
 * self-loop (reported by graph_check, never waited on). */
static int
edge_target(const struct graph *g, size_t e)
{
	const struct gedge *ge = &g->edges[e];

	if (ge->to < 0 || (size_t)ge->to == ge->from)
		return -1;
	return ge->to;
}

/* ---- name ranks and a min-heap over them --------------------------------- */

static int
cmp_name(const void *a, const void *b, void *arg)
{
	const struct graph	*g = arg;
	size_t			 x = *(const size_t *)a, y = *(const size_t *)b;

	return strcmp(g->nodes[x].name, g->nodes[y].name);
}

/* rank[i] is node i's position in name order; caller frees. */
static size_t *
name_ranks(const struct graph *g)
{
	size_t	*byname = xcalloc(g->nnodes + 1, sizeof *byname);
	size_t	*rank = xcalloc(g->nnodes + 1, sizeof *rank);
	size_t	 i;

	for (i = 0; i < g->nnodes; i++)
		byname[i] = i;
	/* Names are unique, so qsort's instability cannot show. */
	qsort_r(byname, g->nnodes, sizeof *byname, cmp_name, (void *)g);
	for (i = 0; i < g->nnodes; i++)
		rank[byname[i]] = i;
	free(byname);
	return rank;
}

struct heap {
	size_t		*v;
	size_t		 n;
	const size_t	*key;
};

static void
heap_push(struct heap *h, size_t x)
{
	size_t i = h->n++, p;

	h->v[i] = x;
	while (i > 0 && h->key[h->v[p = (i - 1) / 2]] > h->key[h->v[i]]) {
		h->v[i] = h->v[p];
		h->v[p] = x;
		i = p;
	}
}

static size_t
heap_pop(struct heap *h)
{
	size_t top = h->v[0], i = 0, c, t;

	h->v[0] = h->v[--h->n];
	for (;;) {
		c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->key[h->v[c + 1]] < h->key[h->v[c]])
			c++;
		if (h->key[h->v[i]] <= h->key[h->v[c]])
			break;
		t = h->v[i];
		h->v[i] = h->v[c];
		h->v[c] = t;
		i = c;
	}
	return top;
}

/* ---- checking ------------------------------------------------------------ */

/*
 * Report the cycle closed by a back edge to node `to`, whose members are
 * path[k..depth).  The path is rotated to start at its smallest name so a
 * cycle reads the same whichever node the walk entered it by; the report
 * points at that node's file and its edge into the cycle.
 */
static void
report_cycle(const struct graph *g, const size_t *path, const size_t *via,
    size_t depth, size_t to, const size_t *rank, struct diag_list *errs)
{
	struct buf		 b;
	size_t			 k = 0, len, i, start;
	const struct gedge	*e;

	while (k < depth && path[k] != to)
		k++;
	len = depth - k;
	start = k;
	for (i = k; i < depth; i++)
		if (rank[path[i]] < rank[path[start]])
			start = i;
	buf_init(&b);
	for (i = 0; i < len; i++)
		buf_printf(&b, "%s -> ",
		    g->nodes[path[k + (start - k + i) % len]].name);
	buf_puts(&b, g->nodes[path[start]].name);
	e = &g->edges[via[start]];
	diag_add(errs, g->nodes[path[start]].file, e->line, e->col,
	    "dependency cycle: %s", b.data);
	buf_free(&b);
}

/*
 * Depth-first walk with colours; every back edge closes one cycle, so each
 * is reported once and a graph passes exactly when it is acyclic.  Roots
 * and edges are taken in name order for a stable report.
 */
static int
find_cycles(const struct graph *g, const size_t *rank, struct diag_list *errs)
{
	unsigned char	*color = xcalloc(g->nnodes + 1, 1);
	size_t		*path = xcalloc(g->nnodes + 1, sizeof *path);
	size_t		*via = xcalloc(g->nnodes + 1, sizeof *via);
	size_t		*next = xcalloc(g->nnodes + 1, sizeof *next);
	size_t		*byname = xcalloc(g->nnodes + 1, sizeof *byname);
	size_t		 r, depth, n, e;
	int		 t, found = 0;

	for (r = 0; r < g->nnodes; r++)
		byname[rank[r]] = r;
	/* colour: 0 unseen, 1 on the current path, 2 finished */
	for (r = 0; r < g->nnodes; r++) {
		if (color[byname[r]] != 0)
			continue;
		depth = 0;
		path[depth++] = byname[r];
		color[byname[r]] = 1;
		while (depth > 0) {
			n = path[depth - 1];
			if (next[n] >= g->nodes[n].out.n) {
				color[n] = 2;
				depth--;
				continue;
			}
			e = g->nodes[n].out.v[next[n]++];
			via[depth - 1] = e;
			if ((t = edge_target(g, e)) < 0)
				continue;
			if (color[t] == 1) {
				report_cycle(g, path, via, depth, (size_t)t,
				    rank, errs);
				found = 1;
			} else if (color[t] == 0) {
				color[t] = 1;
				path[depth++] = (size_t)t;
			}
		}
	}
	free(color);
	free(path);
	free(via);
	free(next);
	free(byname);
	return found;
}

struct edge_sort {
	const struct graph	*g;
	const size_t		*rank;
};

static int
cmp_edge_target(const void *a, const void *b, void *arg)
{
	const struct edge_sort	*es = arg;
	const struct gedge	*x = &es->g->edges[*(const size_t *)a];
	const struct gedge	*y = &es->g->edges[*(const size_t *)b];
	size_t			 rx, ry;

	/* unresolved last; ties by insertion so qsort cannot reorder them */
	rx = x->to < 0 ? (size_t)-1 : es->rank[x->to];
	ry = y->to < 0 ? (size_t)-1 : es->rank[y->to];
	if (rx != ry)
		return rx < ry ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 :
	    *(const size_t *)a > *(const size_t *)b;
}

int
graph_check(struct graph *g, struct diag_list *errs)
{
	struct gedge		*e;
	const struct gnode	*from;
	struct edge_sort	 es;
	size_t			 i, *rank;
	int			 bad = 0, idx;

	for (i = 0; i < g->nnodes; i++)
		g->nodes[i].in.n = 0;
	for (i = 0; i < g->nedges; i++) {
		e = &g->edges[i];
		from = &g->nodes[e->from];
		idx = graph_index(g, e->to_name);
		e->to = idx;
		if (idx < 0) {
			diag_add(errs, from->file, e->line, e->col, "service "
			    "'%s' depends on '%s', which is not defined",
			    from->name, e->to_name);
			bad = 1;
		} else if ((size_t)idx == e->from) {
			diag_add(errs, from->file, e->line, e->col, "service "
			    "'%s' depends on itself", from->name);
			bad = 1;
		} else
			elist_push(&g->nodes[idx].in, i);
	}
	rank = name_ranks(g);
	es = (struct edge_sort){ g, rank };
	for (i = 0; i < g->nnodes; i++)
		if (g->nodes[i].out.n > 1)
			qsort_r(g->nodes[i].out.v, g->nodes[i].out.n,
			    sizeof(size_t), cmp_edge_target, &es);
	if (find_cycles(g, rank, errs))
		bad = 1;
	free(rank);
	return bad ? -EINVAL : 0;
}

/* ---- orders -------------------------------------------------------------- */

/* Kahn's algorithm, always taking the smallest name that is free. */
int
graph_topo_order(const struct graph *g, size_t *order)
{
	size_t		*pending = xcalloc(g->nnodes + 1, sizeof *pending);
	size_t		*rank = name_ranks(g);
	struct heap	 h = { xcalloc(g->nnodes + 1, sizeof(size_t)), 0, rank };
	size_t		 i, k, n = 0, x;
	const struct gnode *node;

	for (i = 0; i < g->nnodes; i++) {
		for (k = 0; k < g->nodes[i].out.n; k++)
			if (edge_target(g, g->nodes[i].out.v[k]) >= 0)
				pending[i]++;
		if (pending[i] == 0)
			heap_push(&h, i);
	}
	while (h.n > 0) {
		x = heap_pop(&h);
		order[n++] = x;
		node = &g->nodes[x];
		for (k = 0; k < node->in.n; k++) {
			i = g->edges[node->in.v[k]].from;
			if (--pending[i] == 0)
				heap_push(&h, i);
		}
	}
	free(pending);
	free(rank);
	free(h.v);
	return n == g->nnodes ? 0 : -EINVAL;
}

int
graph_reverse_order(const struct graph *g, size_t *order)
{
	size_t	i, t, n;
	int	rc;

	if ((rc = graph_topo_order(g, order)) != 0)
		return rc;
	n = g->nnodes;
	for (i = 0; i < n / 2; i++) {
		t = order[i];
		order[i] = order[n - 1 - i];
		order[n - 1 - i] = t;
	}
	return 0;
}

/* ---- readiness ----------------------------------------------------------- */

int
graph_can_start(const struct graph *g, size_t node, const unsigned *met)
{
	const struct gnode	*n = &g->nodes[node];
	const struct gedge	*e;
	size_t			 k;
	int			 t;

	for (k = 0; k < n->out.n; k++) {
		e = &g->edges[n->out.v[k]];
		if ((t = edge_target(g, n->out.v[k])) < 0)
			continue;
		if ((met[t] & (unsigned)e->cond) == 0)
			return 0;
	}
	return 1;
}

size_t
graph_ready(const struct graph *g, const unsigned *met,
    const unsigned char *started, size_t *out)
{
	size_t i, n = 0;

	for (i = 0; i < g->nnodes; i++) {
		if (started != NULL && started[i])
			continue;
		if (graph_can_start(g, i, met))
			out[n++] = i;
	}
	return n;
}

/* ---- neighbours ---------------------------------------------------------- */

size_t
graph_deps(const struct graph *g, size_t node, size_t *out,
    enum dep_cond *conds)
{
	const struct gnode	*nd = &g->nodes[node];
	size_t			 k, n = 0;
	int			 t;

	for (k = 0; k < nd->out.n; k++) {
		if ((t = edge_target(g, nd->out.v[k])) < 0)
			continue;
		if (out != NULL)
			out[n] = (size_t)t;
		if (conds != NULL)
			conds[n] = g->edges[nd->out.v[k]].cond;
		n++;
	}
	return n;
}

size_t
graph_dependents(const struct graph *g, size_t node, size_t *out)
{
	const struct gnode	*nd = &g->nodes[node];
	size_t			 k;

	if (out != NULL)
		for (k = 0; k < nd->in.n; k++)
			out[k] = g->edges[nd->in.v[k]].from;
	return nd->in.n;
}

/* Breadth-first over in-edges.  Nodes the caller already marked are
 * neither counted nor walked again, so closures can be accumulated. */
size_t
graph_closure_dependents(const struct graph *g, size_t node,
    unsigned char *mark)
{
	size_t			*queue = xcalloc(g->nnodes + 1, sizeof *queue);
	size_t			 head = 0, tail = 0, k, f, count = 0;
	const struct gnode	*nd;

	queue[tail++] = node;
	while (head < tail) {
		nd = &g->nodes[queue[head++]];
		for (k = 0; k < nd->in.n; k++) {
			f = g->edges[nd->in.v[k]].from;
			if (mark[f] || f == node)
				continue;
			mark[f] = 1;
			count++;
			queue[tail++] = f;
		}
	}
	free(queue);
	return count;
}

/* Longest path below node, by dynamic programming over the topological
 * order: every dependency is settled before its dependents. */
int
graph_depth(const struct graph *g, size_t node)
{
	size_t	*order = xcalloc(g->nnodes + 1, sizeof *order);
	int	*depth = xcalloc(g->nnodes + 1, sizeof *depth);
	size_t	 i, k, n;
	int	 t, d = -EINVAL;

	if (graph_topo_order(g, order) != 0)
		goto out;
	for (i = 0; i < g->nnodes; i++) {
		n = order[i];
		for (k = 0; k < g->nodes[n].out.n; k++) {
			t = edge_target(g, g->nodes[n].out.v[k]);
			if (t >= 0 && depth[t] + 1 > depth[n])
				depth[n] = depth[t] + 1;
		}
		if (n == node)
			break;
	}
	d = depth[node];
out:
	free(order);
	free(depth);
	return d;
}
