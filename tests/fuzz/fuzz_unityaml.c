/*
 * libFuzzer harness: one unit file alone, unit_yaml_load()
 * (common/unityaml.c, unitsections.c, ytree.c): the input is the file.
 * A unit that loads must hash, and encode to a JSON unit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <jansson.h>

#include "diag.h"
#include "expand.h"
#include "fuzzdir.h"
#include "unit.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *const envp[] = {
	"HOME=/root", "FOO=from-env", "EMPTY=", "TAG=2", NULL
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envfile		 dotenv = { NULL, 0 };
	struct expand_ctx	 x = { envp, &dotenv };
	struct diag_list	 errs;
	struct unit		*u = NULL;
	json_t			*j;
	char			*path, hash[65];
	size_t			 i;

	fuzzdir("svc");
	fuzzdir_clean();
	if (fuzzdir_write("web.yaml", data, size) != 0)
		abort();
	xasprintf(&path, "%s/web.yaml", fuzzdir("svc"));
	diag_init(&errs);
	if (unit_yaml_load(path, "web", "/srv/demo", &x, &u, &errs) == 0) {
		if (u == NULL || errs.n != 0)
			abort();
		unit_spec_hash(u, hash);
		j = unit_spec_json(u);
		if (j == NULL)
			abort();
		json_decref(j);
		unit_free(u);
	} else if (errs.n == 0 || u != NULL)
		abort();	/* refused without saying why */
	for (i = 0; i < errs.n; i++)
		free(diag_format(&errs.v[i]));
	diag_free(&errs);
	free(path);
	return 0;
}
