/*
 * shipctl validate: load a unit directory as deploy would, with the
 * caller's environment, and print the start order or every error.  Needs
 * no daemon.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "stackgraph.h"
#include "util.h"

static int	cmd_validate_exec(struct cli_ctx *);

/* The prologue loads and checks DIR: what is left is to show the order. */
const struct cli_cmd cli_cmd_validate = {
	.name = "validate",
	.usage = CLI_COMPOSE_USAGE " [DIR]",
	.summary = "check a unit directory and print the start order (no "
	    "daemon needed)",
	.help =
	    "  DIR defaults to the current directory.  Checks what deploy\n"
	    "  would refuse before touching anything: the unit rules, image\n"
	    "  references, bind sources that do not exist (with your\n"
	    "  permissions), and a stack too big for one request to shipd.\n"
	    "  Every error is listed as FILE:LINE:COL: message; the exit\n"
	    "  status is 2 when any.\n" CLI_COMPOSE_HELP,
	.flags = CLI_DIR | CLI_UNITS | CLI_COMPOSE,
	.exec = cmd_validate_exec,
};

static const char *
cond_name(enum dep_cond c)
{
	return c == DEP_HEALTHY ? "healthy" :
	    c == DEP_COMPLETED ? "completed" : "started";
}

static void
print_order(struct cli *cli, const struct stack *st, const struct graph *g)
{
	size_t		*order = xcalloc(st->nunits, sizeof *order);
	json_t		*arr = json_array();
	struct buf	 deps;
	size_t		 i, j;

	graph_topo_order(g, order);
	if (!cli->json)
		printf("stack %s: %zu service%s, start order:\n", st->name,
		    st->nunits, st->nunits == 1 ? "" : "s");
	buf_init(&deps);
	for (i = 0; i < st->nunits; i++) {
		const struct unit *u = st->units[order[i]];

		buf_reset(&deps);
		for (j = 0; j < u->ndeps; j++)
			buf_printf(&deps, "%s%s %s", j ? ", " : "",
			    u->deps[j].name, cond_name(u->deps[j].cond));
		if (cli->json)
			json_array_append_new(arr, json_pack("{s:s, s:i}",
			    "service", u->name, "replicas", u->replicas));
		else
			printf("  %2zu. %-20s x%d%s%s%s\n", i + 1, u->name,
			    u->replicas, deps.len ? "  after " : "",
			    deps.len ? deps.data : "", "");
	}
	if (cli->json) {
		json_t *o = json_pack("{s:b, s:s, s:o}", "ok", 1, "stack",
		    st->name, "order", arr);

		cli_print_json(o);
		json_decref(o);
	} else
		json_decref(arr);
	buf_free(&deps);
	free(order);
}

static int
cmd_validate_exec(struct cli_ctx *c)
{
	print_order(c->cli, c->st, c->g);
	return EXIT_OK;
}
