/*
 * Diagnostics: a list of "file:line:col: message" errors, so a loader can
 * report every problem it finds in one pass rather than stopping at the
 * first.
 */
#ifndef SHIPD_DIAG_H
#define SHIPD_DIAG_H

#include <stdarg.h>
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
/* The same with "what: " before the message when what is not NULL: the
 * readers of every input form report "file:line:col: what: problem". */
void	diag_vadd(struct diag_list *, const char *file, int line, int col,
	    const char *what, const char *fmt, va_list)
	    __attribute__((format(printf, 6, 0)));
/* Put the entries from index from on in file, line, column order (stable):
 * a loader that checks in passes still reports top to bottom. */
void	diag_sort(struct diag_list *, size_t from);
/* "file:line:col: msg", "file: msg" or "msg"; caller frees. */
char	*diag_format(const struct diag *);

#endif
