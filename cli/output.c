/*
 * shipctl output helpers: errors on stderr, JSON for scripts, aligned
 * tables and sizes for people, and reading fields of a reply.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "diag.h"
#include "proto.h"
#include "util.h"

void
cli_verr(const char *fmt, va_list ap)
{
	fputs("shipctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
cli_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_verr(fmt, ap);
	va_end(ap);
}

/* With --json, a failure shipctl reports itself is one JSON line on
 * stdout instead, the shape of shipd's error replies. */
static bool json_errors;

void
cli_json_errors(bool on)
{
	json_errors = on;
}

void
cli_print_error(const char *code, const char *message, json_t *more)
{
	json_t *err;

	if (!json_errors) {
		json_decref(more);
		return;
	}
	err = json_pack("{s:s, s:s}", "code", code, "message", message);
	if (more != NULL)
		json_object_update(err, more);
	json_decref(more);
	err = json_pack("{s:b, s:o}", "ok", 0, "error", err);
	cli_print_json(err);
	json_decref(err);
}

void
cli_vfail(const char *code, const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	if (msg == NULL) {
		fputs("shipctl: out of memory\n", stderr);
		exit(EXIT_FAILED);
	}
	if (json_errors)
		cli_print_error(code, msg, NULL);
	else
		fprintf(stderr, "shipctl: %s\n", msg);
	free(msg);
}

void
cli_fail(const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vfail(code, fmt, ap);
	va_end(ap);
}

void
cli_print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	if (s != NULL) {
		puts(s);
		free(s);
	}
	fflush(stdout);
}

const char *
cli_str(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

long long
cli_int(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

double
cli_secs(const json_t *o, const char *key)
{
	return (double)json_integer_value(json_object_get(o, key)) / 1000.0;
}

/* "512 B", "3.1 KiB", "1.0 GiB". */
void
cli_fmt_size(char *dst, size_t len, uint64_t n)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double	v = (double)n;
	size_t	u = 0;

	while (v >= 1024 && u + 1 < nitems(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(dst, len, "%llu B", (unsigned long long)n);
	else
		snprintf(dst, len, "%.1f %s", v, units[u]);
}

/* ---- tables -------------------------------------------------------------- */

struct table {
	size_t	  ncols;
	size_t	  nrows;
	char	**cells;	/* nrows * ncols, row 0 = headers */
	size_t	 *width;
};

struct table *
table_new(size_t ncols, const char *const *headers)
{
	struct table *t = xcalloc(1, sizeof *t);

	t->ncols = ncols;
	t->width = xcalloc(ncols, sizeof *t->width);
	table_add(t, headers);
	return t;
}

void
table_add(struct table *t, const char *const *cells)
{
	size_t i, w;

	t->cells = xrealloc(t->cells, (t->nrows + 1) * t->ncols *
	    sizeof *t->cells);
	for (i = 0; i < t->ncols; i++) {
		const char *s = cells[i] ? cells[i] : "";

		t->cells[t->nrows * t->ncols + i] = xstrdup(s);
		if ((w = strlen(s)) > t->width[i])
			t->width[i] = w;
	}
	t->nrows++;
}

void
table_print(struct table *t)
{
	size_t r, i;

	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i];

			if (i + 1 == t->ncols)
				printf("%s\n", s);
			else
				printf("%-*s  ", (int)t->width[i], s);
		}
	}
	fflush(stdout);
}

void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->width);
	free(t);
}

void
cli_print_diags(struct cli *cli, struct diag_list *errs, const char *dir)
{
	json_t	*arr, *o;
	size_t	 i;
	char	*s;

	if (errs->n == 0)
		diag_add(errs, dir, 0, 0, "cannot load units");
	if (cli->json) {
		arr = json_array();
		for (i = 0; i < errs->n; i++) {
			s = diag_format(&errs->v[i]);
			json_array_append_new(arr, json_string(s));
			free(s);
		}
		s = diag_format(&errs->v[0]);
		o = json_pack("{s:o}", "diagnostics", arr);
		cli_print_error(PROTO_E_INVALID_STACK, s, o);
		free(s);
		return;
	}
	for (i = 0; i < errs->n; i++) {
		s = diag_format(&errs->v[i]);
		fprintf(stderr, "%s\n", s);
		free(s);
	}
	fprintf(stderr, "shipctl: %zu error%s in %s\n", errs->n,
	    errs->n == 1 ? "" : "s", dir);
}
