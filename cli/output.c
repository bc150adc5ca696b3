/*
 * shipctl output helpers: errors on stderr, JSON for scripts, aligned
 * tables for people, and the one place that turns a daemon reply into an
 * exit code.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "diag.h"
#include "proto.h"
#include "util.h"

void
cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("shipctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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

int
cli_usage_error(const char *name, const char *fmt, ...)
{
	const struct cli_cmd	*cmd;
	const char		*why;
	va_list			 ap;

	fputs("shipctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if ((cmd = cli_cmd_find(name, &why)) != NULL)
		fprintf(stderr, "usage: shipctl %s %s\n", cmd->name,
		    cmd->usage);
	return EXIT_USAGE;
}

static int
exit_for_code(const char *code)
{
	if (code == NULL)
		return EXIT_FAILED;
	if (strcmp(code, PROTO_E_DENIED) == 0)
		return EXIT_DENIED;
	if (strcmp(code, PROTO_E_UNAVAILABLE) == 0)
		return EXIT_ENGINE;
	if (strcmp(code, PROTO_E_BAD_ARGS) == 0 ||
	    strcmp(code, PROTO_E_INVALID_STACK) == 0)
		return EXIT_USAGE;
	return EXIT_FAILED;
}

int
cli_call(struct cli *cli, const char *cmd, json_t *args, cli_event_cb *cb,
    void *arg, json_t **result)
{
	struct client	 cl;
	char		*err = NULL;
	int		 rc;

	*result = NULL;
	if (client_connect(&cl, cli->socket, &err) < 0) {
		json_decref(args);
		cli_err("%s", err);
		free(err);
		return EXIT_NODAEMON;
	}
	rc = client_call(&cl, cmd, args, cb, arg, result);
	client_close(&cl);
	if (rc < 0) {
		if (rc == -ECANCELED)
			return EXIT_OK;
		cli_err("connection to shipd at %s lost: %s", cli->socket,
		    strerror(-rc));
		return EXIT_NODAEMON;
	}
	if (rc == 1) {
		const char *code = json_string_value(json_object_get(*result,
		    "code"));
		const char *msg = json_string_value(json_object_get(*result,
		    "message"));

		if (cli->json)
			cli_print_json(*result);
		else
			cli_err("%s", msg ? msg : code ? code : "error");
		rc = exit_for_code(code);
		json_decref(*result);
		*result = NULL;
		return rc;
	}
	return EXIT_OK;
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
		o = json_pack("{s:b, s:o}", "ok", 0, "errors", arr);
		cli_print_json(o);
		json_decref(o);
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
