/*
 * What the unit loader says of a key it does not know that compose's
 * files have: people write units from their compose files, and "did you
 * mean" by spelling alone sends them the wrong way (healthcheck is not a
 * typo of anything).  docs/units.md, "Coming from compose", lists the
 * differences; every hint points there.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "unityaml.h"
#include "util.h"

#define SEE	"shipd's unit format differs from compose, see docs/units.md"

static const struct {
	const char	*path;		/* NULL: the unit's top level */
	const char	*key;
	const char	*hint;
} hints[] = {
	{ NULL, "healthcheck", "did you mean 'health'? " SEE },
	{ NULL, "container_name", "shipd names containers itself "
	    "(STACK-SERVICE-N); leave it out" },
	{ NULL, "hostname", "shipd names each replica's host SERVICE-N "
	    "itself; leave it out" },
	{ NULL, "deploy", "compose's deploy: is shipd's replicas:, update: "
	    "and resources: at the top level; " SEE },
	{ NULL, "stop_grace_period", "did you mean 'stop_grace'? " SEE },
	{ NULL, "mem_limit", "did you mean resources: {memory: ...}? " SEE },
	{ NULL, "cpus", "did you mean resources: {cpus: ...}? " SEE },
	{ NULL, "expose", "ports: [\"80\"] (no host port) exposes a port to "
	    "the stack only; " SEE },
	{ NULL, "links", "every service reaches the others by their names "
	    "on the stack's networks; leave it out" },
	{ NULL, "build", "a unit names a built image in image:; build and "
	    "tag it first, or deploy the compose file; " SEE },
	{ NULL, "services", "this looks like a compose file: a unit file "
	    "describes one service, named by the file; " SEE },
	{ NULL, "version", "this looks like a compose file: a unit file "
	    "describes one service, named by the file; " SEE },
	{ NULL, "pull_policy", "shipd pulls an image only when the engine "
	    "lacks it; " SEE },
	{ NULL, "security_opt", "compose's key has no unit equivalent; "
	    SEE },
	{ NULL, "sysctls", "compose's key has no unit equivalent; " SEE },
	{ NULL, "ulimits", "compose's key has no unit equivalent; " SEE },
	{ NULL, "tmpfs", "compose's key has no unit equivalent; " SEE },
	{ NULL, "logging", "shipd leaves logging to the engine's defaults; "
	    SEE },
	{ NULL, "extra_hosts", "compose's key has no unit equivalent; " SEE },
	{ NULL, "secrets", "bind-mount the file read-only in volumes: "
	    "(\"./secret.txt:/run/secrets/x:ro\"); " SEE },
	{ NULL, "configs", "bind-mount the file read-only in volumes: "
	    "(\"./app.conf:/etc/app.conf:ro\"); " SEE },
	{ NULL, "profiles", "a unit directory deploys every unit in it; "
	    SEE },
	{ NULL, "extends", "units do not extend each other; " SEE },
	{ "health", "disable", "write test: [NONE] to turn the image's check "
	    "off; " SEE },
	{ "update", "failure_action", "did you mean 'on_failure'? " SEE },
	{ "update", "delay", "shipd starts the next batch once the last is "
	    "healthy (monitor: watches it longer); " SEE },
};

const char *
unit_compose_hint(const char *path, const char *key)
{
	size_t i;

	for (i = 0; i < nitems(hints); i++) {
		if ((hints[i].path == NULL) != (path == NULL) ||
		    (path != NULL && strcmp(hints[i].path, path) != 0))
			continue;
		if (strcmp(hints[i].key, key) == 0)
			return hints[i].hint;
	}
	return NULL;
}

static bool
known(const struct ykey *keys, size_t nkeys, const char *name)
{
	size_t i;

	for (i = 0; i < nkeys; i++)
		if (strcmp(keys[i].name, name) == 0)
			return true;
	return false;
}

void
unit_yaml_walk(struct yctx *c, const char *path, const struct ynode *map,
    const struct ykey *keys, size_t nkeys, void *obj,
    const struct ynode **seen)
{
	struct ynode		 copy;
	const struct ynode	*k;
	const char		*hint;
	size_t			 i;

	if (map == NULL || map->type != Y_MAP) {
		ytree_walk(c, path, map, keys, nkeys, obj, seen);
		return;
	}
	/* The hinted keys are reported here and left out of the walk,
	 * which reports everything else (a repeated key too). */
	copy = *map;
	copy.kids = xcalloc(map->nkids + 1, sizeof *copy.kids);
	copy.nkids = 0;
	for (i = 0; i + 1 < map->nkids; i += 2) {
		k = map->kids[i];
		if (k->type == Y_SCALAR && k->str != NULL &&
		    !known(keys, nkeys, k->str) &&
		    (hint = unit_compose_hint(path, k->str)) != NULL) {
			ytree_err(c, k, "unknown key '%s'%s%s (%s)", k->str,
			    path ? " in " : "", path ? path : "", hint);
			continue;
		}
		copy.kids[copy.nkids++] = map->kids[i];
		copy.kids[copy.nkids++] = map->kids[i + 1];
	}
	ytree_walk(c, path, &copy, keys, nkeys, obj, seen);
	free(copy.kids);
}
