/*
 * Diagnostics list.  See diag.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
diag_vadd(struct diag_list *l, const char *file, int line, int col,
    const char *what, const char *fmt, va_list ap)
{
	struct diag	*d;
	char		*msg, *full;

	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	if (what != NULL) {
		xasprintf(&full, "%s: %s", what, msg);
		free(msg);
		msg = full;
	}
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

void
diag_add(struct diag_list *l, const char *file, int line, int col,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(l, file, line, col, NULL, fmt, ap);
	va_end(ap);
}

static int
diag_cmp(const struct diag *a, const struct diag *b)
{
	int c;

	if ((c = strcmp(a->file ? a->file : "", b->file ? b->file : "")) != 0)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->col < b->col ? -1 : a->col > b->col;
}

/* Insertion sort: stable, and the lists are a few entries long. */
void
diag_sort(struct diag_list *l, size_t from)
{
	struct diag	d;
	size_t		i, j;

	for (i = from + 1; i < l->n; i++) {
		d = l->v[i];
		for (j = i; j > from && diag_cmp(&l->v[j - 1], &d) > 0; j--)
			l->v[j] = l->v[j - 1];
		l->v[j] = d;
	}
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
