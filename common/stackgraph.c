/*
 * Build the dependency graph of a stack.  See stackgraph.h.
 */
#include <errno.h>
#include <stddef.h>

#include "stackgraph.h"

int
stack_graph_build(const struct stack *st, struct graph **out,
    struct diag_list *errs)
{
	struct graph	*g = graph_new();
	size_t		 i, j;
	int		 rc;

	for (i = 0; i < st->nunits; i++)
		graph_add_node(g, st->units[i]->name, st->units[i]->file);
	for (i = 0; i < st->nunits; i++) {
		const struct unit *u = st->units[i];

		for (j = 0; j < u->ndeps; j++)
			graph_add_edge(g, u->name, u->deps[j].name,
			    u->deps[j].cond, u->deps[j].line, u->deps[j].col);
	}
	if ((rc = graph_check(g, errs)) < 0) {
		graph_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

int
stack_load_checked(const char *dir, char *const *envp, struct stack **stp,
    struct graph **gp, struct diag_list *errs)
{
	return stack_load_checked_env(dir, NULL, envp, stp, gp, errs);
}

int
stack_load_checked_env(const char *dir, const char *env, char *const *envp,
    struct stack **stp, struct graph **gp, struct diag_list *errs)
{
	struct stack	*st = NULL;
	int		 rc;

	*stp = NULL;
	*gp = NULL;
	if ((rc = stack_load_dir_env(dir, env, envp, &st, errs)) != 0) {
		/* Dependency errors are worth reporting along with syntax
		 * errors when the files parsed at all. */
		if (st != NULL)
			stack_free(st);
		return rc;
	}
	if ((rc = stack_graph_build(st, gp, errs)) != 0) {
		stack_free(st);
		return rc;
	}
	*stp = st;
	return 0;
}
