/*
 * Which stack a command means, when the operator did not say: --stack,
 * else $SHIPD_STACK, else the unit directory's (stack.yaml's name or the
 * directory's name; with $SHIPD_ENV, the name that environment's
 * stack.yaml overlay gives), as far as the command's entry allows.
 */
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "proto.h"
#include "compose.h"
#include "unit.h"
#include "util.h"

extern char **environ;

/* A unit directory names its stack in stack.yaml; a directory with both
 * that and a compose file is ambiguous.  Other *.yaml files beside a
 * compose file are common (extends, include, configs): not units. */
static bool
has_units(const char *dir)
{
	struct stat	 st;
	char		*p;
	bool		 found;

	xasprintf(&p, "%s/stack.yaml", dir);
	found = stat(p, &st) == 0;
	free(p);
	return found;
}

int
cli_dir_kind(const char *dir, char **why)
{
	char *f;

	*why = NULL;
	if ((f = compose_find(dir)) == NULL)
		return CLI_KIND_UNITS;
	if (has_units(dir)) {
		xasprintf(why, "%s holds both %s and stack.yaml: name the "
		    "compose files with -f, or keep them apart", dir,
		    strrchr(f, '/') ? strrchr(f, '/') + 1 : f);
		free(f);
		return -1;
	}
	free(f);
	return CLI_KIND_COMPOSE;
}

/* A compose project's name, as compose_load() gives it. */
static int
compose_stack_name(const char *dir, char **name, struct diag_list *errs)
{
	struct compose_opts	 o;
	struct compose_project	*p = NULL;
	int			 rc;

	memset(&o, 0, sizeof o);
	o.dir = dir;
	o.envp = environ;
	if ((rc = compose_load(&o, &p, errs)) == 0)
		*name = xstrdup(p->name);
	if (p != NULL)
		compose_project_free(p);
	return rc;
}

static int
stack_of_dir(const char *dir, char **name)
{
	struct diag_list	 errs;
	struct stack		*st = NULL;
	const char		*env = getenv("SHIPD_ENV");
	char			*why;
	int			 rc = EXIT_OK, kind;

	diag_init(&errs);
	if ((kind = cli_dir_kind(dir, &why)) == CLI_KIND_COMPOSE) {
		if (compose_stack_name(dir, name, &errs) != 0) {
			free(why);
			why = errs.n ? diag_format(&errs.v[0]) : NULL;
			cli_err("which stack? name it with --stack NAME; %s: %s",
			    dir, why ? why : "cannot load the compose project");
			rc = EXIT_USAGE;
		}
	} else if (kind < 0) {
		cli_err("which stack? name it with --stack NAME; %s", why);
		rc = EXIT_USAGE;
	} else if (stack_load_dir_env(dir, env != NULL && *env != '\0' ?
	    env : NULL, environ, &st, &errs) != 0) {
		why = errs.n ? diag_format(&errs.v[0]) : NULL;
		cli_fail(PROTO_E_USAGE, "which stack? name it with --stack "
		    "NAME (or a unit directory); %s: %s", dir,
		    why ? why : "cannot load units");
		free(why);
		rc = EXIT_USAGE;
	} else
		*name = xstrdup(st->name);
	free(why);
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
