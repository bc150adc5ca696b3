/*
 * A build context's .dockerignore, as Docker reads it: one pattern a line,
 * '#' comments, a leading '!' re-includes what an earlier pattern excluded,
 * '*' and '?' and [classes] within one path segment, '**' across any
 * number of them; the last pattern that matches a path decides, and a
 * pattern that matches a directory covers everything under it.
 * docs/units.md, "build".
 */
#ifndef SHIPD_DOCKERIGNORE_H
#define SHIPD_DOCKERIGNORE_H

#include <stdbool.h>
#include <stddef.h>

struct dockerignore_pat {
	char	*pat;		/* cleaned: no leading '/', "./" or "//" */
	bool	 negate;
};

struct dockerignore {
	struct dockerignore_pat	*v;
	size_t			 n;
	bool			 any_negate;
};

/* Parse text (len bytes, need not end in a newline) into di. */
void	dockerignore_parse(struct dockerignore *, const char *text,
	    size_t len);
void	dockerignore_free(struct dockerignore *);
/* Whether path ("a/b/c", relative to the context, no leading '/') is
 * left out of the context. */
bool	dockerignore_excluded(const struct dockerignore *, const char *path);
/* Whether a directory that is excluded may still hold a path a '!'
 * pattern brings back (so it must be walked). */
bool	dockerignore_may_reinclude(const struct dockerignore *,
	    const char *dir);
/* One pattern against one path: the glob rules above, whole path. */
bool	dockerignore_match(const char *pat, const char *path);

#endif
