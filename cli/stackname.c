/*
 * Which stack a command means, when the operator did not say: --stack,
 * else $SHIPD_STACK, else the unit directory's (stack.yaml's name or the
 * directory's name), as far as the command's entry allows.
 */
#include <stdlib.h>

#include "cli.h"
#include "proto.h"
#include "unit.h"
#include "util.h"

extern char **environ;

static int
stack_of_dir(const char *dir, char **name)
{
	struct diag_list	 errs;
	struct stack		*st = NULL;
	char			*why;
	int			 rc = EXIT_OK;

	diag_init(&errs);
	if (stack_load_dir(dir, environ, &st, &errs) != 0) {
		why = errs.n ? diag_format(&errs.v[0]) : NULL;
		cli_fail(PROTO_E_USAGE, "which stack? name it with --stack "
		    "NAME (or a unit directory); %s: %s", dir,
		    why ? why : "cannot load units");
		free(why);
		rc = EXIT_USAGE;
	} else
		*name = xstrdup(st->name);
	if (st != NULL)
		stack_free(st);
	diag_free(&errs);
	return rc;
}

int
cli_stack(struct cli_ctx *c, bool need)
{
	const char *env = getenv("SHIPD_STACK");

	if (c->stack != NULL)
		return EXIT_OK;
	if (c->stack_opt != NULL)
		c->stack = xstrdup(c->stack_opt);
	else if ((need || c->cmd->flags & CLI_STACK_ENV) && env != NULL &&
	    *env != '\0')
		c->stack = xstrdup(env);
	else if (need)
		return stack_of_dir(c->dir, &c->stack);
	return EXIT_OK;
}
