/*
 * Which stack a command means, when the operator did not say.
 */
#include <stdlib.h>

#include "cli.h"
#include "unit.h"
#include "util.h"

extern char **environ;

char *
cli_stack_name(const char *opt, const char *dir)
{
	struct diag_list	 errs;
	struct stack		*st = NULL;
	const char		*env = getenv("SHIPD_STACK");
	char			*name;

	if (opt != NULL)
		return xstrdup(opt);
	if (env != NULL && *env != '\0')
		return xstrdup(env);
	diag_init(&errs);
	if (stack_load_dir(dir ? dir : ".", environ, &st, &errs) != 0) {
		char *why = errs.n ? diag_format(&errs.v[0]) : NULL;

		cli_err("which stack? name it with --stack NAME (or a unit "
		    "directory); %s: %s", dir ? dir : ".",
		    why ? why : "cannot load units");
		free(why);
		if (st != NULL)
			stack_free(st);
		diag_free(&errs);
		return NULL;
	}
	name = xstrdup(st->name);
	stack_free(st);
	diag_free(&errs);
	return name;
}
