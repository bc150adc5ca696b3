/*
 * Variable expansion for unit files (${VAR}, ${VAR:-default}, $$ ...) and
 * the KEY=VALUE files it reads from (.env, env_file).  The caller's
 * environment wins over .env, as in compose.
 */
#ifndef SHIPD_EXPAND_H
#define SHIPD_EXPAND_H

#include <stddef.h>

#include "diag.h"

struct envfile_var {
	char	*key;
	char	*value;
	int	 line;
};

struct envfile {
	struct envfile_var	*v;	/* in file order; a later key wins */
	size_t			 n;
};

struct expand_ctx {
	char *const		*envp;		/* "K=V" ..., NULL; or NULL */
	const struct envfile	*dotenv;	/* may be NULL */
};

/*
 * Expand s into a new string.  Returns 0, or -EINVAL with *err set to a
 * message (caller frees) such as "variable 'X' is not set".
 */
int		 expand_str(const struct expand_ctx *, const char *s,
		    char **out, char **err);
/* compose's rules: also ${VAR+alt}, ${VAR:+alt}; an unset variable with
 * no default is "" and reported through unset (may be NULL). */
int		 expand_str_compose(const struct expand_ctx *, const char *s,
		    void (*unset)(void *, const char *), void *arg,
		    char **out, char **err);
const char	*expand_lookup(const struct expand_ctx *, const char *name);

/* Parse KEY=VALUE lines; every bad line goes to errs.  0 or -EINVAL. */
int		 expand_envfile_parse(const char *path, const char *text,
		    struct envfile *, struct diag_list *);
/* Read and parse.  -errno if it cannot be read (the caller says where it
 * was named); -EINVAL if a line is bad (errs has it). */
int		 expand_envfile_load(const char *path, struct envfile *,
		    struct diag_list *);
void		 expand_envfile_free(struct envfile *);
const char	*expand_envfile_get(const struct envfile *, const char *key);

#endif
