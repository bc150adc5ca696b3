/*
 * The one way shipctl loads a stack for the commands that take one (the
 * prologue's CLI_UNITS): a unit directory, or a compose project, which is
 * a directory with a compose file and no stack.yaml, or the files -f
 * names.  A unit directory is loaded in the environment -e (or
 * $SHIPD_ENV) names, if any (docs/units.md, Environments).  Both end in
 * the same checked stack and graph; a compose
 * project's losses are printed as warnings first (docs/compose.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compose.h"
#include "stackgraph.h"
#include "util.h"

extern char **environ;

struct cargs {
	char	**files;
	size_t	  nfiles;
	char	**profiles;
	size_t	  nprofiles;
	char	**env_files;
	size_t	  nenv_files;
	const char *project;
	const char *env;	/* -e, else $SHIPD_ENV; NULL: none */
	bool	  env_opt;	/* from -e */
	bool	  strict;
	bool	  any;		/* some compose option was given */
};

static void
push(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof **v);
	(*v)[(*n)++] = (char *)s;
	(*v)[*n] = NULL;
}

static void
cargs_read(const struct cli_ctx *c, struct cargs *a)
{
	const char	*env;
	size_t		 i;

	memset(a, 0, sizeof *a);
	for (i = 0; i < c->nopts; i++) {
		switch (c->opts[i].ch) {
		case 'f':
			push(&a->files, &a->nfiles, c->opts[i].arg);
			break;
		case 'p':
			a->project = c->opts[i].arg;
			break;
		case 'e':
			a->env = c->opts[i].arg;
			a->env_opt = true;
			continue;
		case CLI_OPT_PROFILE:
			push(&a->profiles, &a->nprofiles, c->opts[i].arg);
			break;
		case CLI_OPT_ENV_FILE:
			push(&a->env_files, &a->nenv_files, c->opts[i].arg);
			break;
		case CLI_OPT_STRICT:
			a->strict = true;
			break;
		default:
			continue;
		}
		a->any = true;
	}
	if (a->env == NULL && (env = getenv("SHIPD_ENV")) != NULL &&
	    *env != '\0')
		a->env = env;
}

static void
cargs_free(struct cargs *a)
{
	free(a->files);
	free(a->profiles);
	free(a->env_files);
}

/* Warnings go to stderr, before whatever the command prints. */
static void
print_warnings(const struct diag_list *w)
{
	size_t	 i;
	char	*s;

	for (i = 0; i < w->n; i++) {
		s = diag_format(&w->v[i]);
		fprintf(stderr, "%s (warning)\n", s);
		free(s);
	}
	if (w->n > 0)
		fprintf(stderr, "shipctl: %zu warning%s: what shipd does not "
		    "honour (--strict makes each an error)\n", w->n,
		    w->n == 1 ? "" : "s");
}

/* Load warnings (an unset variable) in warns, the mapper's losses in
 * losses; nothing printed.  *projdir gets the project directory. */
static int
load_compose(struct cli_ctx *c, const struct cargs *a, const char **shown,
    struct diag_list *warns, struct diag_list *losses, char **projdir,
    struct diag_list *errs)
{
	struct compose_opts	 o;
	struct compose_map_opts	 mo;
	struct compose_project	*p = NULL;
	int			 rc;

	memset(&o, 0, sizeof o);
	o.dir = a->nfiles == 0 || c->argc >= 1 ? c->dir : NULL;
	o.files = a->files;
	o.nfiles = a->nfiles;
	o.project = a->project;
	o.profiles = a->profiles;
	o.nprofiles = a->nprofiles;
	o.env_files = a->env_files;
	o.nenv_files = a->nenv_files;
	o.envp = environ;
	o.warns = warns;
	mo.strict = a->strict;
	if (a->nfiles > 0)
		*shown = a->files[0];
	if ((rc = compose_load(&o, &p, errs)) == 0) {
		if (p->files != NULL && p->files[0] != NULL && a->nfiles == 0)
			*shown = c->dir;
		rc = compose_to_stack(p, &mo, &c->st, losses, errs);
		if (projdir != NULL)
			*projdir = xstrdup(p->dir);
	}
	if (rc == 0)
		rc = stack_graph_build(c->st, &c->g, errs);
	if (p != NULL)
		compose_project_free(p);
	return rc;
}

int
cli_load_compose(struct cli_ctx *c, struct diag_list *warns,
    struct diag_list *losses, char **projdir, struct diag_list *errs)
{
	struct cargs	 a;
	const char	*shown = c->dir;
	char		*why = NULL;
	int		 rc = EXIT_OK;

	*projdir = NULL;
	cargs_read(c, &a);
	if (a.nfiles == 0 && cli_dir_kind(c->dir, &why) != CLI_KIND_COMPOSE) {
		diag_add(errs, c->dir, 0, 0, "%s", why != NULL ? why :
		    "no compose file here (a unit directory needs no import)");
		rc = EXIT_USAGE;
	} else if (load_compose(c, &a, &shown, warns, losses, projdir,
	    errs) != 0 || cli_stack_fits(c->st, shown, errs) != 0)
		rc = EXIT_USAGE;
	free(why);
	cargs_free(&a);
	return rc;
}

int
cli_load(struct cli_ctx *c)
{
	struct diag_list	 errs, warns;
	struct cargs		 a;
	const char		*shown = c->dir;
	char			*why = NULL;
	int			 rc = EXIT_OK, kind = CLI_KIND_COMPOSE;

	diag_init(&errs);
	cargs_read(c, &a);
	if (a.nfiles == 0 && (kind = cli_dir_kind(c->dir, &why)) < 0) {
		cli_err("%s", why);
		rc = EXIT_USAGE;
		goto out;
	}
	if (kind == CLI_KIND_UNITS && a.any) {
		cli_err("-p, --profile, --env-file and --strict are for "
		    "compose projects, and %s has no compose file", c->dir);
		rc = EXIT_USAGE;
		goto out;
	}
	if (kind == CLI_KIND_COMPOSE && a.env_opt) {
		cli_err("-e is for unit directories; for a compose project "
		    "name its files with -f (compose.yaml -f compose.%s.yaml)",
		    a.env);
		rc = EXIT_USAGE;
		goto out;
	}
	if (kind == CLI_KIND_COMPOSE && a.env != NULL)
		fprintf(stderr, "shipctl: SHIPD_ENV=%s is for unit directories; "
		    "not used for this compose project\n", a.env);
	if (kind == CLI_KIND_COMPOSE) {
		diag_init(&warns);
		if (load_compose(c, &a, &shown, &warns, &warns, NULL,
		    &errs) != 0 || cli_stack_fits(c->st, shown, &errs) != 0)
			rc = EXIT_USAGE;
		print_warnings(&warns);
		diag_free(&warns);
	} else if (stack_load_checked_env(c->dir, a.env, environ, &c->st,
	    &c->g, &errs) != 0 || cli_stack_fits(c->st, c->dir, &errs) != 0)
		rc = EXIT_USAGE;
	if (rc != EXIT_OK)
		cli_print_diags(c->cli, &errs, shown);
out:
	free(why);
	cargs_free(&a);
	diag_free(&errs);
	return rc;
}
