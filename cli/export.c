/*
 * What every export target shares: where its output goes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "export.h"
#include "util.h"

int
export_write(struct cli_ctx *c, const char *data, size_t len)
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
