/*
 * Diagnostics: a list of "file:line:col: message" errors, so a loader can
 * report every problem it finds in one pass rather than stopping at the
 * first.
 */
#ifndef SHIPD_DIAG_H
#define SHIPD_DIAG_H

#include <stddef.h>

struct diag {
	char	*file;		/* may be NULL */
	int	 line;		/* 1-based; 0 when unknown */
	int	 col;		/* 1-based; 0 when unknown */
	char	*msg;
};

struct diag_list {
	struct diag	*v;
	size_t		 n;
	size_t		 cap;
};

void	diag_init(struct diag_list *);
void	diag_free(struct diag_list *);
void	diag_add(struct diag_list *, const char *file, int line, int col,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* "file:line:col: msg", "file: msg" or "msg"; caller frees. */
char	*diag_format(const struct diag *);

#endif
