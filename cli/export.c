/*
 * What the export targets share: warnings and writing the result
 * (docs/export.md).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export.h"
#include "util.h"

void
export_warn(struct export_ctx *x, const char *service, const char *key,
    const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "shipctl: export: warning: %s%s%s: ",
	    service != NULL ? service : "stack", key != NULL ? ": " : "",
	    key != NULL ? key : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	x->nwarn++;
}

int
export_write(struct export_ctx *x, const char *file, struct buf *b)
{
	char	*path;
	int	 rc;

	if (x->outdir == NULL) {
		if (b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len)
			return -EIO;
		return fflush(stdout) == 0 ? 0 : -EIO;
	}
	if ((rc = mkdir_p(x->outdir, 0755)) != 0)
		return rc;
	xasprintf(&path, "%s/%s", x->outdir, file);
	rc = file_write_atomic(path, b->data != NULL ? b->data : "", b->len,
	    0644);
	free(path);
	return rc;
}

int
export_write_file(struct cli_ctx *c, const char *data, size_t len)
{
	const char	*path = cli_opt_get(c, 'o');
	int		 rc;

	if (path == NULL) {
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
			cli_err("stdout: %s", strerror(errno));
			return EXIT_FAILED;
		}
		return EXIT_OK;
	}
	if ((rc = file_write_atomic(path, data, len, 0644)) != 0) {
		cli_err("%s: %s", path, strerror(-rc));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}
