/*
 * libFuzzer harness: the KEY=VALUE parser of .env and env_file, then
 * ${VAR} expansion against it (common/expand.c).
 *
 * Input: the .env text, a line "%%", then strings to expand, one a line.
 * Every message must be formatted; an expansion that succeeds must give a
 * string, one that fails a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "expand.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *const envp[] = {
	"HOME=/root", "FOO=from-env", "EMPTY=", "PATH=/usr/bin:/bin", NULL
};

static void
expand_one(const struct expand_ctx *x, const char *s)
{
	char	*out = NULL, *err = NULL;
	int	 rc;

	rc = expand_str(x, s, &out, &err);
	if (rc == 0 ? out == NULL || err != NULL : err == NULL || out != NULL)
		abort();
	free(out);
	free(err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envfile		 ef = { NULL, 0 };
	struct diag_list	 errs;
	struct expand_ctx	 x;
	char			*text, *rest, *line, *nl;
	size_t			 i;

	text = xstrndup((const char *)data, size);
	rest = strstr(text, "\n%%\n");
	if (rest != NULL) {
		*rest = '\0';
		rest += 4;
	}
	diag_init(&errs);
	(void)expand_envfile_parse("fuzz.env", text, &ef, &errs);
	for (i = 0; i < errs.n; i++)
		free(diag_format(&errs.v[i]));
	for (i = 0; i < ef.n; i++)
		(void)expand_envfile_get(&ef, ef.v[i].key);
	x.envp = envp;
	x.dotenv = &ef;
	for (line = rest; line != NULL; line = nl) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		expand_one(&x, line);
	}
	if (rest == NULL)
		expand_one(&x, text);
	diag_free(&errs);
	expand_envfile_free(&ef);
	free(text);
	return 0;
}
