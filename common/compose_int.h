/*
 * Inside the compose loader (compose_load.c, compose_merge.c,
 * compose_extends.c): not for the mapper or anyone else.
 */
#ifndef SHIPD_COMPOSE_INT_H
#define SHIPD_COMPOSE_INT_H

#include "compose.h"
#include "expand.h"
#include "ytree_merge.h"

#define COMPOSE_FILE_MAX	(1024 * 1024)
#define COMPOSE_INCLUDE_DEPTH	16
#define COMPOSE_EXTENDS_DEPTH	32

/* A file read for extends, kept parsed and interpolated for the next use. */
struct cfile {
	const char	*path;		/* one of the project's files */
	struct ynode	*root;
};

struct cload {
	const struct compose_opts *o;
	struct diag_list	*errs;
	struct diag_list	*warns;		/* may be NULL */
	char			**files;	/* every file read, NULL-ended */
	size_t			 nfiles;
	struct cfile		*cache;
	size_t			 ncache;
	char			**warned;	/* variables warned about */
	size_t			 nwarned;
	const char		*incl[COMPOSE_INCLUDE_DEPTH + 1];
	size_t			 nincl;
};

extern const struct ymerge_rules compose_merge_rules;

/* Keep the first failure, but an unreadable file (-errno) over -EINVAL. */
void		 cload_rc(int *rc, int r);
/* A stable copy of path among the project's files (for ynode.file). */
const char	*cload_keep(struct cload *, const char *path);
char		*cload_dir_of(const char *path);
bool		 cload_exists(const char *path);
/* dir/name of the first of names (NULL-terminated) that exists, or NULL. */
char		*cload_find_first(const char *dir, const char *const *names);
/* realpath, or NULL with errno. */
char		*cload_abs_dir(const char *dir);
/* The project's name (compose's rules); name_text is the interpolated
 * top-level name: at name_node.  0 or -EINVAL (reported). */
int		 cload_project_name(const struct compose_opts *,
		    const char *dotenv_name, const struct ynode *name_node,
		    const char *name_text, const char *dir, char **out,
		    struct diag_list *errs);
/* Drop the services no active profile enables: 0 or -EINVAL. */
int		 cload_profiles(struct cload *, const struct expand_ctx *,
		    struct ynode *root);
/* dir (consumed) made absolute: realpath if it exists, else from the
 * working directory. */
char		*cload_abs(char *dir);
char		*cload_join(const char *dir, const char *name);
/* Parse a file into a mapping (not interpolated): 0, -EINVAL, -errno. */
int		 cload_parse(struct cload *, const char *path,
		    struct ynode **root);
/* Interpolate every value (not the keys) in place: 0 or -EINVAL. */
int		 compose_interpolate(struct cload *, const struct expand_ctx *,
		    struct ynode *root);
/* Resolve every service's extends in root (read from dir): 0/-EINVAL. */
int		 compose_extends(struct cload *, const struct expand_ctx *,
		    struct ynode *root);
/* Make the relative paths of a model read from dir absolute. */
void		 compose_abs_paths(struct ynode *root, const char *dir);
void		 compose_abs_service(struct ynode *svc, const char *dir);
/* Load the include entries of root into it: 0 or -EINVAL/-errno. */
int		 compose_include(struct cload *, const struct expand_ctx *,
		    struct ynode *root);
/* Parse, interpolate and extend files (parsed already into trees, which
 * are consumed) and merge them in order; then their includes. */
int		 cload_model(struct cload *, const struct expand_ctx *,
		    struct ynode **trees, size_t n, struct ynode **out);
/* Load env files in order into ef (later wins): 0 or -errno/-EINVAL. */
int		 cload_env_files(struct cload *, char *const *paths, size_t n,
		    const char *rel, struct envfile *ef);

#endif
