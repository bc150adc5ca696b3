/*
 * shipctl config: the stack a unit directory resolves to, as deploy would
 * send it: every ${VAR} expanded, every default written out.  YAML in the
 * unit-file format (common/unitemit.c), or the JSON form.  Needs no daemon.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "unit.h"
#include "unitemit.h"
#include "util.h"

static int	cmd_config_exec(struct cli_ctx *);

const struct cli_cmd cli_cmd_config = {
	.name = "config",
	.usage = CLI_COMPOSE_USAGE " [DIR]",
	.summary = "print the resolved stack: variables expanded, defaults "
	    "written out (no daemon needed)",
	.help =
	    "  Loads and checks DIR (default .) as deploy does, with your\n"
	    "  environment, and prints what deploy would send: stack.yaml\n"
	    "  and one document per service, in the unit-file format, each\n"
	    "  headed by a comment with its file name and separated by\n"
	    "  ---.  Every ${VAR} is expanded ($ written as $$), relative\n"
	    "  bind sources are absolute, env_file: is merged into\n"
	    "  environment:, and every default is written out, so each\n"
	    "  document loads back to the same service (the same spec hash).\n"
	    "  With -e ENV, the environment's stack: ENV.env's values and\n"
	    "  env/ENV/'s overlays merged in.\n"
	    "  With --json, one line {\"ok\":true,\"stack\":{...}} holding the\n"
	    "  stack's JSON form (docs/units.md, The JSON form).  Invalid\n"
	    "  units are listed as validate lists them (exit 2).  For a\n"
	    "  compose project this is the stack shipd makes of it, in\n"
	    "  shipd's unit format (like `docker compose config`, in\n"
	    "  shipd's terms).\n" CLI_COMPOSE_HELP,
	.flags = CLI_DIR | CLI_UNITS | CLI_COMPOSE,
	.exec = cmd_config_exec,
};

static int
print_doc(const char *file, int rc, struct buf *b, char *err, bool first)
{
	if (rc != 0) {
		cli_err("%s: %s", file, err);
		free(err);
		return EXIT_FAILED;
	}
	printf("%s# %s.yaml\n%s", first ? "" : "---\n", file, b->data);
	buf_reset(b);
	return EXIT_OK;
}

static int
cmd_config_exec(struct cli_ctx *c)
{
	struct buf	 b;
	json_t		*o;
	char		*err;
	size_t		 i;
	int		 rc;

	if (c->cli->json) {
		o = json_pack("{s:b, s:o}", "ok", 1, "stack",
		    stack_to_json(c->st));
		cli_print_json(o);
		json_decref(o);
		return EXIT_OK;
	}
	buf_init(&b);
	rc = print_doc("stack", stack_emit_yaml(c->st, &b, &err), &b, err,
	    true);
	for (i = 0; rc == EXIT_OK && i < c->st->nunits; i++)
		rc = print_doc(c->st->units[i]->name,
		    unit_emit_yaml(c->st->units[i], &b, &err), &b, err, false);
	buf_free(&b);
	return rc;
}
