/*
 * Diagnostics list.  See diag.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag.h"
#include "util.h"

void
diag_init(struct diag_list *l)
{
	l->v = NULL;
	l->n = l->cap = 0;
}

void
diag_free(struct diag_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].file);
		free(l->v[i].msg);
	}
	free(l->v);
	diag_init(l);
}

void
diag_add(struct diag_list *l, const char *file, int line, int col,
    const char *fmt, ...)
{
	struct diag	*d;
	va_list		 ap;
	char		*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		abort();
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	d = &l->v[l->n++];
	d->file = file ? xstrdup(file) : NULL;
	d->line = line;
	d->col = col;
	d->msg = msg;
}

char *
diag_format(const struct diag *d)
{
	char *s;

	if (d->file != NULL && d->line > 0)
		xasprintf(&s, "%s:%d:%d: %s", d->file, d->line, d->col, d->msg);
	else if (d->file != NULL)
		xasprintf(&s, "%s: %s", d->file, d->msg);
	else
		s = xstrdup(d->msg);
	return s;
}
