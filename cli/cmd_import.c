/*
 * shipctl import compose: a compose project written as a unit directory
 * (stack.yaml and one file per service, every default written out), and
 * a report that classifies the project: lossless (exit 0), lossy (exit 1,
 * each loss at FILE:LINE:COL) or blocked (exit 2, nothing written).  The
 * written units are loaded back before the report and must give every
 * service the spec hash the compose project gives it.  Needs no daemon.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "composeimport.h"
#include "diag.h"
#include "proto.h"
#include "unit.h"
#include "unitemit.h"
#include "util.h"

extern char **environ;

#define OPT_FORCE	0x120

static int	cmd_import_exec(struct cli_ctx *);

static const struct option options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ NULL, 0, NULL, 0 }
};

const struct cli_cmd cli_cmd_import = {
	.name = "import",
	.usage = "compose " CLI_COMPOSE_USAGE " [--force] [DIR] -o OUTDIR",
	.summary = "write a compose project as a unit directory, and say "
	    "what it loses (no daemon needed)",
	.help =
	    "  Reads the compose project DIR (default .) or the files -f\n"
	    "  names, as deploy would, and writes the same stack into OUTDIR\n"
	    "  in shipd's unit format: stack.yaml and SERVICE.yaml for every\n"
	    "  service, with compose's defaults written out (restart: no,\n"
	    "  the healthcheck timings, ...).  When OUTDIR is inside the\n"
	    "  project directory's parent (app/compose into app/units), host\n"
	    "  paths inside the project (bind sources, secrets and configs,\n"
	    "  build contexts) are written relative to OUTDIR, so the two\n"
	    "  move together; other paths, and all from elsewhere, are\n"
	    "  absolute.  env_file: is read now and written as\n"
	    "  environment:.  The units are loaded back and must give every\n"
	    "  service the spec hash the compose project gives it.\n"
	    "  Then a report:\n"
	    "    lossless  everything is carried over (exit 0)\n"
	    "    lossy     written, but each listed FILE:LINE:COL is not\n"
	    "              honoured (exit 1)\n"
	    "    blocked   nothing written; the errors are listed (exit 2)\n"
	    "  -o, --output OUTDIR      where the units go (made if missing)\n"
	    "  --force                  write into an OUTDIR that is not\n"
	    "                           empty: its *.yaml and *.yml files are\n"
	    "                           removed first (every one would load\n"
	    "                           as a service), the rest is left\n"
	    "  With --json, one line: {\"ok\":..,\"class\":..,\"stack\":..,\n"
	    "  \"dir\":..,\"files\":[..],\"losses\":[..],\"warnings\":[..],\n"
	    "  \"errors\":[..]}, each diagnostic {\"file\",\"line\",\"col\",\n"
	    "  \"message\"}; blocked adds \"error\" with code invalid_stack.\n" CLI_COMPOSE_HELP,
	.shortopts = "o:",
	.longopts = options,
	.flags = CLI_COMPOSE,
	.exec = cmd_import_exec,
};

enum { IMP_LOSSLESS, IMP_LOSSY, IMP_BLOCKED };
static const char *const class_names[] = { "lossless", "lossy", "blocked" };

static bool
is_unit_file(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	    (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

/*
 * OUTDIR made, and empty of unit files: without force any entry at all
 * refuses it; with force its *.yaml and *.yml are removed.  A directory
 * holding the project's compose files is refused either way.
 */
static int
prepare_out(const char *out, bool force, const char *projdir,
    struct diag_list *errs)
{
	DIR		*d;
	struct dirent	*e;
	char		*path, *a = NULL, *b = NULL;
	bool		 busy = false;
	int		 rc;

	if ((rc = mkdir_p(out, 0755)) < 0) {
		diag_add(errs, out, 0, 0, "cannot make it: %s", strerror(-rc));
		return rc;
	}
	a = realpath(out, NULL);
	b = realpath(projdir, NULL);
	if (a != NULL && b != NULL && strcmp(a, b) == 0) {
		diag_add(errs, out, 0, 0, "is the compose project's own "
		    "directory: write the units somewhere else");
		free(a);
		free(b);
		return -EEXIST;
	}
	free(a);
	free(b);
	if ((d = opendir(out)) == NULL) {
		rc = -errno;
		diag_add(errs, out, 0, 0, "%s", strerror(-rc));
		return rc;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (!force) {
			busy = true;
			break;
		}
		if (!is_unit_file(e->d_name))
			continue;
		xasprintf(&path, "%s/%s", out, e->d_name);
		if (unlink(path) != 0 && errno != ENOENT) {
			diag_add(errs, path, 0, 0, "cannot remove: %s",
			    strerror(errno));
			rc = -errno;
		}
		free(path);
	}
	closedir(d);
	if (busy) {
		diag_add(errs, out, 0, 0, "is not empty (--force replaces "
		    "the unit files in it)");
		return -ENOTEMPTY;
	}
	if (rc == 0 && force)
		rc = fsync_dir(out);
	return rc < 0 ? rc : 0;
}

static json_t *
diags_json(const struct diag_list *l)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < l->n; i++)
		json_array_append_new(a, json_pack("{s:s?, s:i, s:i, s:s}",
		    "file", l->v[i].file, "line", l->v[i].line, "col",
		    l->v[i].col, "message", l->v[i].msg));
	return a;
}

static void
print_list(const struct diag_list *l, const char *tag)
{
	size_t	 i;
	char	*s;

	for (i = 0; i < l->n; i++) {
		s = diag_format(&l->v[i]);
		printf("  %s%s%s\n", s, tag != NULL ? " " : "",
		    tag != NULL ? tag : "");
		free(s);
	}
}

static void
report(struct cli_ctx *c, int cls, const char *out, struct diag_list *warns,
    struct diag_list *losses, struct diag_list *errs)
{
	json_t	*o, *files;
	size_t	 i;
	char	*f;

	if (c->cli->json) {
		files = json_array();
		for (i = 0; cls != IMP_BLOCKED && i <= c->st->nunits; i++) {
			xasprintf(&f, "%s/%s.yaml", out, i == 0 ? "stack" :
			    c->st->units[i - 1]->name);
			json_array_append_new(files, json_string(f));
			free(f);
		}
		o = json_pack("{s:b, s:s, s:s?, s:s, s:o, s:o, s:o, s:o}",
		    "ok", cls != IMP_BLOCKED, "class", class_names[cls],
		    "stack", c->st != NULL ? c->st->name : NULL, "dir", out,
		    "files", files, "losses", diags_json(losses),
		    "warnings", diags_json(warns), "errors", diags_json(errs));
		if (cls == IMP_BLOCKED) {
			f = errs->n > 0 ? diag_format(&errs->v[0]) :
			    xstrdup("blocked");
			json_object_set_new(o, "error", json_pack("{s:s, s:s}",
			    "code", PROTO_E_INVALID_STACK, "message", f));
			free(f);
		}
		cli_print_json(o);
		json_decref(o);
		return;
	}
	if (warns->n > 0) {
		printf("warnings:\n");
		print_list(warns, NULL);
	}
	if (losses->n > 0) {
		printf("losses (not honoured by the units, nor by deploying "
		    "the compose files):\n");
		print_list(losses, NULL);
	}
	if (errs->n > 0) {
		printf("errors:\n");
		print_list(errs, NULL);
	}
	if (cls == IMP_BLOCKED)
		printf("blocked: %zu error%s, nothing written\n", errs->n,
		    errs->n == 1 ? "" : "s");
	else
		printf("%s: stack %s, %zu service%s written to %s%s\n",
		    class_names[cls], c->st->name, c->st->nunits,
		    c->st->nunits == 1 ? "" : "s", out, cls == IMP_LOSSY ?
		    "; the losses above are not carried over" : "");
}

/* EXIT_OK; EXIT_USAGE when OUTDIR is refused; EXIT_FAILED when writing
 * or the check after it failed. */
static int
write_units(struct cli_ctx *c, const char *out, bool force,
    const char *projdir, struct diag_list *errs)
{
	char	(*hashes)[65];
	char	*err = NULL;
	size_t	 i;
	int	 rc;

	if ((rc = prepare_out(out, force, projdir, errs)) != 0)
		return EXIT_USAGE;
	hashes = xcalloc(c->st->nunits + 1, sizeof *hashes);
	for (i = 0; i < c->st->nunits; i++)
		unit_spec_hash(c->st->units[i], hashes[i]);
	if ((rc = compose_import_paths(c->st, projdir, out)) != 0)
		diag_add(errs, out, 0, 0, "%s", strerror(-rc));
	else if ((rc = stack_write_dir(c->st, out, &err)) != 0)
		diag_add(errs, NULL, 0, 0, "%s", err);
	else if ((rc = compose_import_verify(c->st, hashes, out, environ,
	    &err)) != 0)
		diag_add(errs, out, 0, 0, "the written units differ: %s "
		    "(a bug in shipctl: please report it)", err);
	free(err);
	free(hashes);
	return rc == 0 ? EXIT_OK : EXIT_FAILED;
}

static int
cmd_import_exec(struct cli_ctx *c)
{
	struct diag_list	 warns, losses, errs;
	const char		*out = NULL;
	char			*projdir = NULL;
	bool			 force = false;
	size_t			 i;
	int			 cls = IMP_BLOCKED, rc;

	for (i = 0; i < c->nopts; i++) {
		if (c->opts[i].ch == 'o')
			out = c->opts[i].arg;
		else if (c->opts[i].ch == OPT_FORCE)
			force = true;
	}
	if (c->argc < 1 || strcmp(c->argv[0], "compose") != 0)
		return cli_usage_error(c, "what to import: only `import "
		    "compose` is known");
	c->argc--;
	c->argv++;
	if (c->argc > 1)
		return cli_usage_error(c, "too many arguments");
	if (c->argc == 1)
		c->dir = c->argv[0];
	if (out == NULL)
		return cli_usage_error(c, "-o OUTDIR is required");
	diag_init(&warns);
	diag_init(&losses);
	diag_init(&errs);
	if (cli_load_compose(c, &warns, &losses, &projdir, &errs) == EXIT_OK &&
	    (rc = write_units(c, out, force, projdir, &errs)) != 0) {
		/* Where to write is refused, or writing failed: not the
		 * project's class. */
		cli_print_diags(c->cli, &errs, out);
		goto out;
	}
	if (errs.n == 0)
		cls = losses.n > 0 ? IMP_LOSSY : IMP_LOSSLESS;
	report(c, cls, out, &warns, &losses, &errs);
	rc = cls == IMP_LOSSLESS ? EXIT_OK : cls == IMP_LOSSY ? EXIT_FAILED :
	    EXIT_USAGE;
out:
	free(projdir);
	diag_free(&warns);
	diag_free(&losses);
	diag_free(&errs);
	return rc;
}
