/*
 * Compose projects.  Two stages, each testable alone:
 *
 *   compose_load()     finds the project's files, parses each into a ytree,
 *                      interpolates it, resolves include and extends,
 *                      applies the override file and merges later -f files
 *                      over earlier ones (compose's merge rules), selects
 *                      services by profile and names the project.  The
 *                      result is one tree in compose's own vocabulary whose
 *                      every node still knows its file, line and column.
 *   compose_to_stack() maps that tree onto the stack model the unit
 *                      directories produce, so plan, checks, backup, apply,
 *                      verify and rollback never learn where a stack came
 *                      from.  What shipd cannot honour is a warning naming
 *                      file:line:col and what is lost; with strict, an error.
 */
#ifndef SHIPD_COMPOSE_H
#define SHIPD_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

struct ynode;
struct stack;

/* compose's own lookup order in a project directory. */
#define COMPOSE_FILE_NAMES \
	{ "compose.yaml", "compose.yml", "docker-compose.yaml", \
	  "docker-compose.yml", NULL }

struct compose_opts {
	const char	 *dir;		/* project directory; NULL: dirname of
					 * the first file, else "." */
	char *const	 *files;	/* -f, in order; NULL/empty: look up */
	size_t		  nfiles;
	const char	 *project;	/* -p; NULL: COMPOSE_PROJECT_NAME,
					 * name:, the directory's name */
	char *const	 *profiles;	/* --profile; COMPOSE_PROFILES too */
	size_t		  nprofiles;
	char *const	 *env_files;	/* --env-file; NULL: DIR/.env if any */
	size_t		  nenv_files;
	char *const	 *envp;		/* the caller's environment, wins */
	struct diag_list *warns;	/* NULL, or gets what compose only
					 * warns about (an unset variable) */
};

struct compose_project {
	char		 *name;		/* normalised as compose does */
	char		 *dir;		/* absolute */
	char		**files;	/* every file read, in order, NULL-ended */
	/*
	 * The merged, interpolated model: a map with "services" (only the
	 * profile-enabled ones), "networks", "volumes", "secrets",
	 * "configs", "x-*" ... .  Every node keeps its own file (ynode.file)
	 * for messages.  Interpolation is done: map it with no expansion.
	 */
	struct ynode	 *root;
};

/* 0, -EINVAL with every problem in errs (file:line:col), or -errno when
 * a named file cannot be read (errs names it). */
int	compose_load(const struct compose_opts *, struct compose_project **,
	    struct diag_list *errs);
void	compose_project_free(struct compose_project *);
/* Whether dir holds one of COMPOSE_FILE_NAMES: its path (caller frees)
 * or NULL. */
char	*compose_find(const char *dir);

struct compose_map_opts {
	bool	strict;		/* every loss is an error, not a warning */
};

/* 0 with *out set (warnings in warns), or -EINVAL with errs. */
int	compose_to_stack(const struct compose_project *,
	    const struct compose_map_opts *, struct stack **out,
	    struct diag_list *warns, struct diag_list *errs);

#endif
