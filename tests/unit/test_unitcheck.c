/*
 * One set of unit rules for every form: each rule broken once in a unit
 * file (refused at its file:line:col) and once in the JSON shipd is sent
 * (refused at its JSON path, in the same words), and the replica check a
 * scale asks.
 */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit.h"
#include "unitcheck.h"
#include "util.h"

static char *const no_env[] = { NULL };

/* ---- helpers ------------------------------------------------------------- */

/* A fresh stack directory holding api.yaml, and stack.yaml if given. */
static char *
mkstack(const char *api, const char *stack)
{
	char	*dir = xstrdup("/tmp/shipd-check-XXXXXX"), *path;
	FILE	*f;

	assert_non_null(mkdtemp(dir));
	xasprintf(&path, "%s/api.yaml", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(api, f);
	fclose(f);
	free(path);
	if (stack != NULL) {
		xasprintf(&path, "%s/stack.yaml", dir);
		assert_non_null(f = fopen(path, "w"));
		fputs(stack, f);
		fclose(f);
		free(path);
	}
	return dir;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
rmstack(char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static void
print_diags(const struct diag_list *errs)
{
	size_t	 i;
	char	*s;

	for (i = 0; i < errs->n; i++) {
		s = diag_format(&errs->v[i]);
		print_message("  diag: %s\n", s);
		free(s);
	}
}

/* Some diag starts with want, after prefix (if not NULL) and '/': a
 * unit file's short syntax adds the entry it was in. */
static void
assert_diag(const struct diag_list *errs, const char *prefix,
    const char *want)
{
	char	*full, *s;
	size_t	 i;
	bool	 found = false;

	if (prefix != NULL)
		xasprintf(&full, "%s/%s", prefix, want);
	else
		full = xstrdup(want);
	for (i = 0; i < errs->n && !found; i++) {
		s = diag_format(&errs->v[i]);
		found = strncmp(s, full, strlen(full)) == 0;
		free(s);
	}
	if (!found) {
		print_message("wanted: %s\n", full);
		print_diags(errs);
	}
	free(full);
	assert_true(found);
}

static struct stack *
load(const char *dir, int want_rc, struct diag_list *errs)
{
	struct stack *s = NULL;

	diag_init(errs);
	assert_int_equal(stack_load_dir(dir, no_env, &s, errs), want_rc);
	if (want_rc != 0)
		assert_null(s);
	else {
		if (errs->n != 0)
			print_diags(errs);
		assert_int_equal(errs->n, 0);
	}
	return s;
}

/* Set o's dotted path ("update.order") to the JSON text value. */
static void
json_put(json_t *o, const char *path, const char *value)
{
	json_error_t	 jerr;
	json_t		*v;
	char		*p = xstrdup(path), *dot, *key = p;

	while ((dot = strchr(key, '.')) != NULL) {
		*dot = '\0';
		assert_non_null(o = json_object_get(o, key));
		key = dot + 1;
	}
	v = json_loads(value, JSON_DECODE_ANY, &jerr);
	if (v == NULL)
		fail_msg("bad test JSON %s: %s", value, jerr.text);
	assert_int_equal(json_object_set_new(o, key, v), 0);
	free(p);
}

/* ---- the same rule in both forms ----------------------------------------- */

struct rcase {
	const char	*name;
	/* The unit file that breaks the rule, and where it is refused. */
	const char	*yaml;
	const char	*stack_yaml;	/* or NULL */
	const char	*ywhere;	/* "api.yaml:3:11: replicas" */
	/* A unit file that keeps it, whose JSON form is then broken the
	 * same way: field (under the unit, or the stack with "stack.") set
	 * to value, refused at jwhere. */
	const char	*good;
	const char	*field;
	const char	*value;
	const char	*jwhere;
	const char	*msg;		/* the words, the same for both */
};

#define PORT(hp, cp)	"{\"host_ip\": null, \"host_port\": " #hp \
	", \"container_port\": " #cp ", \"protocol\": \"tcp\"}"
#define VOL(src, dst)	"{\"type\": \"volume\", \"source\": \"" src \
	"\", \"target\": \"" dst "\", \"read_only\": false}"
#define DEP(name)	"{\"service\": \"" name "\", \"condition\": " \
	"\"started\", \"line\": 0, \"col\": 0}"
#define NET(name)	"{\"name\": \"" name "\", \"line\": 0, \"col\": 0}"

static const struct rcase rcases[] = {
	{ "replicas with host port",
	  "image: x\nports: [\"8080:80\"]\nreplicas: 2\n", NULL,
	  "api.yaml:3:11: replicas",
	  "image: x\nports: [\"8080:80\"]\n", "replicas", "2",
	  "stack.units.api.replicas",
	  "2 replicas cannot all publish host port 8080; drop the host port "
	  "or run one" },
	{ "start-first with host port",
	  "image: x\nports: [\"8080:80\"]\nupdate: {order: start-first}\n",
	  NULL, "api.yaml:3:17: update.order",
	  "image: x\nports: [\"8080:80\"]\n", "update.order",
	  "\"start-first\"", "stack.units.api.update.order",
	  "start-first cannot be used with host port 8080: the new container "
	  "could not bind it while the old one runs" },
	{ "host port twice",
	  "image: x\nports: [\"8080:80\", \"8080:81\"]\n", NULL,
	  "api.yaml:2:20: ports[1]",
	  "image: x\n", "ports", "[" PORT(8080, 80) ", " PORT(8080, 81) "]",
	  "stack.units.api.ports[1]",
	  "host port 8080/tcp is published twice" },
	{ "address without host port",
	  NULL, NULL, NULL,
	  "image: x\n", "ports", "[{\"host_ip\": \"127.0.0.1\", "
	  "\"host_port\": 0, \"container_port\": 80, \"protocol\": \"tcp\"}]",
	  "stack.units.api.ports[0]",
	  "an IP address without a host port publishes nothing" },
	{ "bad address",
	  "image: x\nports: [\"300.1.1.1:80:80\"]\n", NULL,
	  "api.yaml:2:9: ports[0]",
	  "image: x\n", "ports", "[{\"host_ip\": \"300.1.1.1\", "
	  "\"host_port\": 80, \"container_port\": 80, \"protocol\": \"tcp\"}]",
	  "stack.units.api.ports[0]",
	  "invalid IP address '300.1.1.1'" },
	{ "target twice",
	  "image: x\nvolumes: [\"a:/d\", \"b:/d\"]\n", NULL,
	  "api.yaml:2:19: volumes[1]",
	  "image: x\nvolumes: [\"a:/d\", \"b:/e\"]\n", "mounts",
	  "[" VOL("a", "/d") ", " VOL("b", "/d") "]",
	  "stack.units.api.mounts[1]", "'/d' is mounted twice" },
	{ "mount over /",
	  "image: x\nvolumes: [\"a:/\"]\n", NULL,
	  "api.yaml:2:11: volumes[0]",
	  "image: x\nvolumes: [\"a:/d\"]\n", "mounts", "[" VOL("a", "/") "]",
	  "stack.units.api.mounts[0]", "cannot mount over /" },
	{ "bad volume name",
	  NULL, NULL, NULL,
	  "image: x\nvolumes: [\"a:/d\"]\n", "mounts",
	  "[" VOL("a b", "/d") "]",
	  "stack.units.api.mounts[0]", "invalid volume name 'a b'" },
	{ "dependency twice",
	  "image: x\ndepends_on: [db, db]\n", NULL,
	  "api.yaml:2:18: depends_on[1]",
	  "image: x\n", "depends_on", "[" DEP("db") ", " DEP("db") "]",
	  "stack.units.api.depends_on[1]", "'db' is listed twice" },
	{ "bad dependency name",
	  "image: x\ndepends_on: [Db]\n", NULL,
	  "api.yaml:2:14: depends_on[0]",
	  "image: x\n", "depends_on", "[" DEP("Db") "]",
	  "stack.units.api.depends_on[0]",
	  "'Db' is not a valid service name" },
	{ "bad variable name",
	  "image: x\nenvironment: [\"A B=1\"]\n", NULL,
	  "api.yaml:2:15: environment[0]",
	  "image: x\n", "environment", "{\"A B\": \"1\"}",
	  "stack.units.api.environment", "invalid variable name 'A B'" },
	{ "reserved label",
	  "image: x\nlabels:\n  io.shipd.stack: evil\n", NULL,
	  "api.yaml:3:3: labels",
	  "image: x\n", "labels", "{\"io.shipd.stack\": \"evil\"}",
	  "stack.units.api.labels",
	  "'io.shipd.stack' is reserved: keys starting io.shipd. are set by "
	  "shipd" },
	{ "empty label key",
	  "image: x\nlabels: [\"=v\"]\n", NULL,
	  "api.yaml:2:10: labels[0]",
	  "image: x\n", "labels", "{\"\": \"v\"}",
	  "stack.units.api.labels", "a label key must not be empty" },
	{ "bad signal",
	  "image: x\nstop_signal: KILL ME\n", NULL,
	  "api.yaml:2:14: stop_signal",
	  "image: x\n", "stop_signal", "\"KILL ME\"",
	  "stack.units.api.stop_signal",
	  "expected a signal such as SIGTERM or 15, got 'KILL ME'" },
	{ "relative working_dir",
	  "image: x\nworking_dir: srv\n", NULL,
	  "api.yaml:2:14: working_dir",
	  "image: x\n", "working_dir", "\"srv\"",
	  "stack.units.api.working_dir", "'srv' must be an absolute path" },
	{ "relative backup path",
	  "image: x\nbackup: {paths: [/a, b]}\n", NULL,
	  "api.yaml:2:22: backup.paths[1]",
	  "image: x\nbackup: {paths: [/a, /b]}\n", "backup.paths",
	  "[\"/a\", \"b\"]",
	  "stack.units.api.backup.paths[1]", "'b' must be an absolute path" },
	{ "memory below the minimum",
	  "image: x\nresources: {memory: 5M}\n", NULL,
	  "api.yaml:2:21: resources.memory",
	  "image: x\n", "resources.memory", "5242880",
	  "stack.units.api.resources.memory",
	  "'5M' is below the engine's minimum of 6M" },
	{ "too many CPUs",
	  "image: x\nresources: {cpus: 5000}\n", NULL,
	  "api.yaml:2:19: resources.cpus",
	  "image: x\n", "resources.nano_cpus", "5000000000000",
	  "stack.units.api.resources.nano_cpus",
	  "expected a number of CPUs from 0.01 to 4096, got '5000'" },
	{ "too few CPUs",
	  "image: x\nresources: {cpus: 0.001}\n", NULL,
	  "api.yaml:2:19: resources.cpus",
	  "image: x\n", "resources.nano_cpus", "1000000",
	  "stack.units.api.resources.nano_cpus",
	  "expected a number of CPUs from 0.01 to 4096, got '0.001'" },
	{ "http path without /",
	  "image: x\nhealth:\n  http: {port: 80, path: healthz}\n", NULL,
	  "api.yaml:3:26: health.http.path",
	  "image: x\nhealth:\n  http: {port: 80, path: /h}\n",
	  "health.http_path", "\"healthz\"",
	  "stack.units.api.health.http_path", "'healthz' must start with /" },
	{ "unit network twice",
	  "image: x\nnetworks: [default, default]\n", NULL,
	  "api.yaml:2:21: networks[1]",
	  "image: x\n", "networks", "[" NET("default") ", " NET("default")
	  "]", "stack.units.api.networks[1]", "'default' is listed twice" },
	{ "bad unit network name",
	  "image: x\nnetworks: [\"no way\"]\n", NULL,
	  "api.yaml:2:12: networks[0]",
	  "image: x\n", "networks", "[" NET("no way") "]",
	  "stack.units.api.networks[0]", "invalid name 'no way'" },
	{ "bad stack name",
	  "image: x\n", "name: Bad\n", "stack.yaml:1:7: name",
	  "image: x\n", "stack.name", "\"Bad\"", "stack.name",
	  "invalid stack name 'Bad': use lower-case letters, digits, '_' and "
	  "'-', starting with a letter or digit, at most 63 characters" },
	{ "bad network name",
	  "image: x\n", "networks: [ok, \"no way\"]\n",
	  "stack.yaml:1:16: networks[1]",
	  "image: x\n", "stack.networks", "[\"ok\", \"no way\"]",
	  "stack.networks[1]", "invalid name 'no way'" },
	{ "empty image tag",
	  "image: \"svc:\"\n", NULL, "api.yaml:1:8: image",
	  "image: x\n", "image", "\"svc:\"", "stack.units.api.image",
	  "invalid reference 'svc:': the tag after ':' is empty" },
	{ "network twice",
	  "image: x\n", "networks: [a, a]\n", "stack.yaml:1:15: networks[1]",
	  "image: x\n", "stack.networks", "[\"a\", \"a\"]",
	  "stack.networks[1]", "'a' is listed twice" },
};

static void
yaml_refused(const struct rcase *c)
{
	struct diag_list	 errs;
	char			*dir, *want;

	if (c->yaml == NULL)
		return;	/* the short syntax cannot write it */
	dir = mkstack(c->yaml, c->stack_yaml);
	load(dir, -EINVAL, &errs);
	xasprintf(&want, "%s: %s", c->ywhere, c->msg);
	assert_diag(&errs, dir, want);
	free(want);
	diag_free(&errs);
	rmstack(dir);
}

static void
json_refused(const struct rcase *c)
{
	struct diag_list	 errs;
	struct stack		*s, *t = NULL;
	json_t			*j, *api;
	char			*dir = mkstack(c->good, NULL), *want;

	s = load(dir, 0, &errs);
	j = stack_to_json(s);
	api = json_array_get(json_object_get(j, "units"), 0);
	if (strncmp(c->field, "stack.", 6) == 0)
		json_put(j, c->field + 6, c->value);
	else
		json_put(api, c->field, c->value);
	assert_int_equal(stack_from_json(j, &t, &errs), -EINVAL);
	assert_null(t);
	xasprintf(&want, "%s: %s", c->jwhere, c->msg);
	assert_diag(&errs, NULL, want);
	free(want);
	json_decref(j);
	stack_free(s);
	diag_free(&errs);
	rmstack(dir);
}

static void
test_same_rules(void **state)
{
	size_t i;

	for (i = 0; i < nitems(rcases); i++) {
		print_message("case: %s\n", rcases[i].name);
		yaml_refused(&rcases[i]);
		json_refused(&rcases[i]);
	}
}

/* ---- image references --------------------------------------------------- */

#define HEX64	"0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"

/* What the engine takes, and the reason for what it does not. */
static void
test_image_refs(void **state)
{
	static const char *const ok[] = {
		"svc", "svc:1", "shipd-test/svc:1.2-rc_3", "a__b-c/e---f.g",
		"localhost/x", "localhost:5000/a/b:t", "Reg.Example.COM:443/x",
		"registry.example.com/x@sha256:" HEX64,
		"x:y@sha256:" HEX64, "sha256:" HEX64, "[::1]:5000/x:y",
		"bad_host/x", "x:_tag",
	};
	static const struct { const char *ref, *why; } bad[] = {
		{ "svc:", "the tag after ':' is empty" },
		{ "x@", "the digest after '@' is empty" },
		{ "x@sha256:12", "the digest is not ALGORITHM:HEX" },
		{ "x@sha256-:" HEX64, "the digest is not ALGORITHM:HEX" },
		{ "x@:" HEX64, "the digest is not ALGORITHM:HEX" },
		{ "x:.a", "a tag is letters" },
		{ ":t", "the name is empty" },
		{ "Svc", "path components are lower-case" },
		{ "a___b", "path components are lower-case" },
		{ "a-", "path components are lower-case" },
		{ "a//b", "it has an empty path component" },
		{ "a/", "it has an empty path component" },
		{ "host:/x", "the registry host is not" },
		{ "-a.b/x", "the registry host is not" },
		{ "a..b/x", "the registry host is not" },
	};
	char	*err, *want;
	size_t	 i;

	for (i = 0; i < nitems(ok); i++) {
		err = unit_image_problem(ok[i]);
		if (err != NULL)
			fail_msg("%s: %s", ok[i], err);
	}
	for (i = 0; i < nitems(bad); i++) {
		err = unit_image_problem(bad[i].ref);
		if (err == NULL)
			fail_msg("%s was taken", bad[i].ref);
		xasprintf(&want, "invalid reference '%s': %s", bad[i].ref,
		    bad[i].why);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("%s: got %s", bad[i].ref, err);
		free(want);
		free(err);
	}
}

/* ---- what a form means by zero ------------------------------------------- */

static void
test_zero_limits(void **state)
{
	struct diag_list	 errs;
	struct stack		*s, *t = NULL;
	json_t			*j;
	char			*dir;

	/* Written in a file, 0 is a limit, and below the engine's floor. */
	dir = mkstack("image: x\nresources: {memory: 0, cpus: 0}\n", NULL);
	load(dir, -EINVAL, &errs);
	assert_diag(&errs, dir, "api.yaml:2:21: resources.memory: '0' is "
	    "below the engine's minimum of 6M");
	assert_diag(&errs, dir, "api.yaml:2:30: resources.cpus: expected a "
	    "number of CPUs from 0.01 to 4096, got '0'");
	diag_free(&errs);
	rmstack(dir);

	/* In JSON every field is there, and 0 says "no limit". */
	dir = mkstack("image: x\n", NULL);
	s = load(dir, 0, &errs);
	j = stack_to_json(s);
	assert_int_equal(stack_from_json(j, &t, &errs), 0);
	assert_int_equal(stack_unit(t, "api")->memory, 0);
	assert_int_equal(stack_unit(t, "api")->nano_cpus, 0);
	json_decref(j);
	stack_free(s);
	stack_free(t);
	diag_free(&errs);
	rmstack(dir);
}

/* The rules run after decoding, yet a file's messages read top to bottom. */
static void
test_document_order(void **state)
{
	struct diag_list	 errs;
	char			*dir;

	dir = mkstack("image: x\nstop_signal: NO SUCH\ninit: yes\n", NULL);
	load(dir, -EINVAL, &errs);
	assert_int_equal(errs.n, 2);
	assert_int_equal(errs.v[0].line, 2);
	assert_string_equal(errs.v[0].msg, "stop_signal: expected a signal "
	    "such as SIGTERM or 15, got 'NO SUCH'");
	assert_int_equal(errs.v[1].line, 3);
	diag_free(&errs);
	rmstack(dir);
}

/* ---- scale --------------------------------------------------------------- */

static void
assert_replicas(const struct stack *s, const char *svc, int n,
    const char *dir, const char *want)
{
	const struct unit	*u = stack_unit(s, svc);
	struct diag_list	 errs;

	diag_init(&errs);
	if (want == NULL) {
		assert_int_equal(unit_check_replicas(s, u, n, &errs), 0);
		assert_int_equal(errs.n, 0);
	} else {
		assert_int_equal(unit_check_replicas(s, u, n, &errs), -EINVAL);
		assert_int_equal(errs.n, 1);
		assert_diag(&errs, dir, want);
	}
	diag_free(&errs);
}

static void
test_check_replicas(void **state)
{
	struct diag_list	 errs;
	struct stack		*s;
	char			*dir;

	dir = mkstack("image: x\nports: [\"80\"]\n", NULL);
	s = load(dir, 0, &errs);
	assert_replicas(s, "api", 0, NULL, NULL);
	assert_replicas(s, "api", 1000, NULL, NULL);
	assert_replicas(s, "api", 1001, NULL, "replicas: expected an "
	    "integer from 0 to 1000, got 1001");
	assert_replicas(s, "api", -1, NULL, "replicas: expected an "
	    "integer from 0 to 1000, got -1");
	stack_free(s);
	rmstack(dir);

	/* The rule a unit file is held to holds for a scale too. */
	dir = mkstack("image: x\nports: [\"8080:80\"]\n", NULL);
	s = load(dir, 0, &errs);
	assert_replicas(s, "api", 1, NULL, NULL);
	assert_replicas(s, "api", 0, NULL, NULL);
	assert_replicas(s, "api", 3, NULL, "replicas: 3 replicas cannot "
	    "all publish host port 8080; drop the host port or run one");
	stack_free(s);
	rmstack(dir);
}

/* A rule across units: what waits for job to complete needs one run of
 * it, so job is held to one replica, in the words (and at the place) a
 * unit file asking for 3 would get. */
static void
test_check_replicas_completed(void **state)
{
	struct diag_list	 errs;
	struct stack		*s;
	char			*dir, *path;
	FILE			*f;

	dir = mkstack("image: x\ndepends_on:\n  job: completed\n", NULL);
	xasprintf(&path, "%s/job.yaml", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("image: y\nrestart: \"no\"\n", f);
	fclose(f);
	free(path);
	s = load(dir, 0, &errs);
	assert_replicas(s, "job", 1, NULL, NULL);
	assert_replicas(s, "job", 3, dir, "api.yaml:3:3: depends_on: 'job' is "
	    "completed only with exactly one replica, but it has replicas: 3");
	assert_replicas(s, "job", 0, dir, "api.yaml:3:3: depends_on: 'job' is "
	    "completed only with exactly one replica, but it has replicas: 0");
	/* The dependent's own count is free. */
	assert_replicas(s, "api", 4, NULL, NULL);
	stack_free(s);
	rmstack(dir);
}

/*
 * A unit's networks are the stack's: default or a declared one, else an
 * error at the entry; an empty list is refused; without the key the unit
 * hashes as before (no networks field), with it the field is part of what
 * a container is made from, and it goes through JSON intact.
 */
static void
test_unit_networks(void **state)
{
	struct diag_list	 errs;
	struct stack		*s, *t = NULL;
	json_t			*j, *spec;
	char			*dir;

	(void)state;
	dir = mkstack("image: x\nnetworks: [default, frontend]\n",
	    "networks: [backend]\n");
	load(dir, -EINVAL, &errs);
	assert_diag(&errs, dir, "api.yaml:2:21: networks: 'frontend' is not "
	    "a network of the stack: use default or declare it in "
	    "stack.yaml's networks");
	diag_free(&errs);
	rmstack(dir);

	dir = mkstack("image: x\nnetworks: []\n", NULL);
	load(dir, -EINVAL, &errs);
	assert_diag(&errs, dir, "api.yaml:2:11: networks: list at least one "
	    "network");
	diag_free(&errs);
	rmstack(dir);

	dir = mkstack("image: x\n", "networks: [backend]\n");
	s = load(dir, 0, &errs);
	spec = unit_spec_json(s->units[0]);
	assert_null(json_object_get(spec, "networks"));
	json_decref(spec);
	/* Nor on the wire: revisions recorded before the key compare equal,
	 * and read back. */
	j = stack_to_json(s);
	assert_null(json_object_get(json_array_get(json_object_get(j,
	    "units"), 0), "networks"));
	assert_int_equal(stack_from_json(j, &t, &errs), 0);
	assert_int_equal(t->units[0]->nnetworks, 0);
	stack_free(t);
	t = NULL;
	json_decref(j);
	stack_free(s);
	rmstack(dir);

	dir = mkstack("image: x\nnetworks: [default, backend]\n",
	    "networks: [backend]\n");
	s = load(dir, 0, &errs);
	assert_int_equal(s->units[0]->nnetworks, 2);
	assert_string_equal(s->units[0]->networks[0].name, "backend");
	assert_int_equal(s->units[0]->networks[0].line, 2);
	spec = unit_spec_json(s->units[0]);
	assert_int_equal(json_array_size(json_object_get(spec, "networks")),
	    2);
	json_decref(spec);
	j = stack_to_json(s);
	assert_int_equal(stack_from_json(j, &t, &errs), 0);
	assert_int_equal(t->units[0]->nnetworks, 2);
	assert_string_equal(t->units[0]->networks[1].name, "default");
	assert_int_equal(t->units[0]->networks[1].col,
	    s->units[0]->networks[1].col);
	json_decref(j);
	stack_free(t);
	stack_free(s);
	diag_free(&errs);
	rmstack(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_rules),
		cmocka_unit_test(test_image_refs),
		cmocka_unit_test(test_zero_limits),
		cmocka_unit_test(test_document_order),
		cmocka_unit_test(test_check_replicas),
		cmocka_unit_test(test_check_replicas_completed),
		cmocka_unit_test(test_unit_networks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
