/*
 * Unit-file loader tests: the reference stack in data/units/valid, defaults,
 * ${VAR} expansion, one bad file per kind of error (each checked for its
 * exact file:line:col), the JSON round trip, spec hashes, and a decoder
 * that must survive every field replaced by every wrong shape.
 */
#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "expand.h"
#include "unit.h"
#include "util.h"

static char *const no_env[] = { NULL };

/* ---- helpers ------------------------------------------------------------- */

/* tests/unit/data/units/<name>, from the source tree or the binary's. */
static char *
fixture(const char *name)
{
	char	 exe[PATH_MAX], *p, *path;
	ssize_t	 n;

	xasprintf(&path, "tests/unit/data/units/%s", name);
	if (access(path, R_OK) == 0)
		return path;
	free(path);
	/* build/tests/test_unit -> ../../tests/unit/data */
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) < 0)
		fail_msg("cannot find the fixtures from %s", getcwd(exe, 1));
	exe[n] = '\0';
	if ((p = strstr(exe, "/build")) != NULL)
		*p = '\0';
	xasprintf(&path, "%s/tests/unit/data/units/%s", exe, name);
	return path;
}

struct tfile {
	const char	*name;
	const char	*text;
};

/* A fresh stack directory holding files (NULL-terminated list). */
static char *
mkstack(const struct tfile *files)
{
	char	*dir = xstrdup("/tmp/shipd-unit-XXXXXX"), *path;
	FILE	*f;

	assert_non_null(mkdtemp(dir));
	for (; files != NULL && files->name != NULL; files++) {
		xasprintf(&path, "%s/%s", dir, files->name);
		assert_non_null(f = fopen(path, "w"));
		fputs(files->text, f);
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

/* Some diag reads "<dir>/<want>..." exactly up to the length of want. */
static void
assert_diag(const struct diag_list *errs, const char *dir, const char *want)
{
	char	*full, *s;
	size_t	 i;
	bool	 found = false;

	/* ": msg" is about the directory itself */
	xasprintf(&full, "%s%s%s", dir, want[0] == ':' ? "" : "/", want);
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
load_ok(const char *dir, char *const *envp)
{
	struct diag_list	 errs;
	struct stack		*s = NULL;
	int			 rc;

	diag_init(&errs);
	rc = stack_load_dir(dir, envp, &s, &errs);
	if (rc != 0)
		print_diags(&errs);
	assert_int_equal(rc, 0);
	assert_int_equal(errs.n, 0);
	assert_non_null(s);
	diag_free(&errs);
	return s;
}

static void
assert_strv(char *const *v, const char *const *want)
{
	size_t i;

	assert_non_null(v);
	for (i = 0; want[i] != NULL; i++) {
		assert_non_null(v[i]);
		assert_string_equal(v[i], want[i]);
	}
	assert_null(v[i]);
}

static const char *
env_get(const struct unit *u, const char *key)
{
	size_t i;

	for (i = 0; i < u->nenv; i++) {
		if (strcmp(u->env[i].key, key) == 0)
			return u->env[i].value;
	}
	return NULL;
}

static bool
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && strcmp(s + n - m, tail) == 0;
}

/* ---- the reference stack ------------------------------------------------- */

static void
check_api(const struct unit *u)
{
	static const char *const cmd[] = { "/bin/api", "--port", "8080", NULL };
	static const char *const pre[] = { "sh", "-c",
	    "api-dump > /var/cache/api/dump", NULL };

	assert_string_equal(u->image, "example/api:1.4.2");
	assert_true(ends_with(u->file, "/valid/api.yaml"));
	assert_strv(u->command, cmd);
	assert_null(u->entrypoint);
	/* environment: wins over env_file:, and the result is sorted. */
	assert_int_equal(u->nenv, 4);
	assert_string_equal(u->env[0].key, "CACHE_URL");
	assert_string_equal(u->env[0].value, "redis://cache:6379");
	assert_string_equal(u->env[1].key, "DATABASE_URL");
	assert_string_equal(u->env[2].key, "FROM_FILE");
	assert_string_equal(env_get(u, "LOG_LEVEL"), "debug");

	assert_int_equal(u->nports, 2);
	assert_string_equal(u->ports[0].host_ip, "127.0.0.1");
	assert_int_equal(u->ports[0].host_port, 8080);
	assert_int_equal(u->ports[0].container_port, 8080);
	assert_string_equal(u->ports[0].proto, "tcp");
	assert_null(u->ports[1].host_ip);
	assert_int_equal(u->ports[1].host_port, 0);
	assert_int_equal(u->ports[1].container_port, 9090);
	assert_string_equal(u->ports[1].proto, "udp");

	assert_int_equal(u->nmounts, 2);
	assert_int_equal(u->mounts[0].kind, MOUNT_BIND);
	assert_true(u->mounts[0].source[0] == '/');
	assert_true(ends_with(u->mounts[0].source, "/valid/config"));
	assert_string_equal(u->mounts[0].target, "/etc/api");
	assert_true(u->mounts[0].ro);
	assert_int_equal(u->mounts[1].kind, MOUNT_VOLUME);
	assert_string_equal(u->mounts[1].source, "api-cache");
	assert_false(u->mounts[1].ro);

	/* depends_on: {db: healthy, cache: started, migrate: completed} */
	assert_int_equal(u->ndeps, 3);
	assert_string_equal(u->deps[0].name, "cache");
	assert_int_equal(u->deps[0].cond, DEP_STARTED);
	assert_int_equal(u->deps[0].line, 9);
	assert_int_equal(u->deps[0].col, 27);
	assert_string_equal(u->deps[1].name, "db");
	assert_int_equal(u->deps[1].cond, DEP_HEALTHY);
	assert_int_equal(u->deps[1].col, 14);
	assert_string_equal(u->deps[2].name, "migrate");
	assert_int_equal(u->deps[2].cond, DEP_COMPLETED);
	assert_int_equal(u->deps[2].col, 43);

	assert_int_equal(u->health.kind, HEALTH_CMD);
	assert_string_equal(u->health.test[0], "CMD");
	assert_int_equal(u->health.interval_ms, 1000);
	assert_int_equal(u->health.timeout_ms, 2000);
	assert_int_equal(u->health.retries, 3);
	assert_int_equal(u->health.start_period_ms, 5000);
	assert_int_equal(u->health.start_interval_ms, 100);

	assert_true(u->init);
	assert_int_equal(u->replicas, 1);
	assert_int_equal(u->update.order, UPDATE_STOP_FIRST);
	assert_int_equal(u->update.monitor_ms, 5000);
	assert_int_equal(u->update.healthy_deadline_ms, 60000);
	assert_string_equal(u->restart, "on-failure");
	assert_int_equal(u->restart_max, 5);
	assert_int_equal(u->stop_grace_ms, 10000);
	assert_string_equal(u->stop_signal, "SIGINT");
	assert_int_equal(u->memory, 512ULL << 20);
	assert_int_equal(u->nano_cpus, 1500000000LL);
	assert_int_equal(u->nlabels, 1);
	assert_string_equal(u->labels[0].key, "com.example.team");
	assert_string_equal(u->user, "1000:1000");
	assert_string_equal(u->working_dir, "/srv/api");
	assert_true(u->backup.present);
	assert_string_equal(u->backup.paths[0], "/var/cache/api");
	assert_strv(u->backup.pre, pre);
	assert_null(u->backup.post);
	assert_int_equal(u->backup.keep, 7);
}

static void
test_valid_stack(void **state)
{
	static const char *const mig[] = { "sh", "-c",
	    "api migrate --to latest", NULL };
	const struct unit	*u;
	struct stack		*s;
	char			*dir = fixture("valid");

	s = load_ok(dir, no_env);
	assert_string_equal(s->name, "demo");
	assert_true(s->dir[0] == '/');
	assert_int_equal(s->retain, 3);
	assert_int_equal(s->nnetworks, 1);
	assert_string_equal(s->networks[0], "backend");
	/* api-cache is used by api.yaml but not declared: declared for it. */
	assert_int_equal(s->nvolumes, 2);
	assert_string_equal(s->volumes[0], "api-cache");
	assert_string_equal(s->volumes[1], "db-data");
	/* hidden files, notes/, README.md are not units */
	assert_int_equal(s->nunits, 5);
	assert_string_equal(s->units[0]->name, "api");
	assert_string_equal(s->units[4]->name, "web");
	assert_null(stack_unit(s, "notes"));
	assert_null(stack_unit(s, "stack"));

	check_api(stack_unit(s, "api"));

	u = stack_unit(s, "db");
	assert_string_equal(env_get(u, "POSTGRES_PASSWORD"), "from dotenv");
	assert_int_equal(u->health.kind, HEALTH_CMD);
	assert_int_equal(u->health.interval_ms, 5000);
	assert_int_equal(u->health.timeout_ms, 3000);
	assert_int_equal(u->health.retries, 3);
	assert_true(u->backup.stop);

	u = stack_unit(s, "migrate");
	assert_strv(u->command, mig);
	assert_string_equal(u->restart, "no");
	assert_int_equal(u->ndeps, 1);
	assert_int_equal(u->deps[0].line, 4);
	assert_int_equal(u->deps[0].col, 14);

	u = stack_unit(s, "web");
	assert_string_equal(u->image, "nginx:1.25");
	assert_int_equal(u->health.kind, HEALTH_HTTP);
	assert_int_equal(u->health.port, 80);
	assert_string_equal(u->health.http_path, "/healthz");
	assert_int_equal(u->update.order, UPDATE_START_FIRST);
	assert_int_equal(u->replicas, 3);

	u = stack_unit(s, "cache");
	assert_int_equal(u->health.kind, HEALTH_TCP);
	assert_int_equal(u->health.port, 6379);
	assert_null(u->health.test);
	stack_free(s);
	free(dir);
}

static void
test_env_wins_over_dotenv(void **state)
{
	static char *const env[] = { "IMAGE_TAG=2.0", "DB_PASSWORD=env",
	    "WEB_IMAGE=caddy", NULL };
	struct stack	*s;
	char		*dir = fixture("valid");

	s = load_ok(dir, env);
	assert_string_equal(stack_unit(s, "api")->image, "example/api:2.0");
	assert_string_equal(env_get(stack_unit(s, "db"), "POSTGRES_PASSWORD"),
	    "env");
	assert_string_equal(stack_unit(s, "web")->image, "caddy");
	/* .env still fills what the environment lacks */
	assert_string_equal(stack_unit(s, "api")->command[2], "8080");
	stack_free(s);
	free(dir);
}

/* ---- defaults and expansion ---------------------------------------------- */

static void
test_defaults(void **state)
{
	static const struct tfile files[] = {
		{ "svc.yaml", "image: busybox\n" },
		{ "chk.yaml", "image: busybox\nhealth:\n  tcp: 80\n" },
		{ NULL, NULL }
	};
	const struct unit	*u;
	struct stack		*s;
	json_t			*j, *ju;
	char			*dir = mkstack(files), *base, *p;

	s = load_ok(dir, no_env);
	base = xstrdup(strrchr(dir, '/') + 1);
	for (p = base; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	assert_string_equal(s->name, base);	/* from the directory */
	assert_int_equal(s->retain, 2);
	assert_int_equal(s->nnetworks, 0);
	assert_int_equal(s->nvolumes, 0);

	u = stack_unit(s, "svc");
	assert_null(u->command);
	assert_null(u->entrypoint);
	assert_int_equal(u->nenv + u->nports + u->nmounts + u->ndeps, 0);
	assert_int_equal(u->health.kind, HEALTH_IMAGE);
	assert_int_equal(u->health.interval_ms, 0);	/* the image's */
	assert_int_equal(u->health.retries, 0);
	assert_int_equal(u->health.start_interval_ms, 100);
	assert_int_equal(u->replicas, 1);
	assert_false(u->init);
	assert_int_equal(u->update.order, UPDATE_STOP_FIRST);
	assert_int_equal(u->update.parallelism, 1);
	assert_int_equal(u->update.healthy_deadline_ms, 60000);
	assert_int_equal(u->update.monitor_ms, 0);
	assert_int_equal(u->update.on_failure, UPDATE_ROLLBACK);
	assert_string_equal(u->restart, "unless-stopped");
	assert_int_equal(u->restart_max, 0);
	assert_int_equal(u->stop_grace_ms, 10000);
	assert_null(u->stop_signal);
	assert_int_equal(u->memory, 0);
	assert_int_equal(u->nano_cpus, 0);
	assert_null(u->user);
	assert_null(u->working_dir);
	assert_false(u->backup.present);

	u = stack_unit(s, "chk");
	assert_int_equal(u->health.interval_ms, 5000);
	assert_int_equal(u->health.timeout_ms, 3000);
	assert_int_equal(u->health.retries, 3);
	assert_int_equal(u->health.start_period_ms, 0);

	/* Everything is explicit in the JSON form. */
	j = stack_to_json(s);
	ju = json_array_get(json_object_get(j, "units"), 1);
	assert_string_equal(json_string_value(json_object_get(ju, "name")),
	    "svc");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    ju, "update"), "healthy_deadline_ms")), 60000);
	assert_true(json_is_null(json_object_get(ju, "command")));
	assert_true(json_is_null(json_object_get(ju, "backup")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    ju, "restart"), "policy")), "unless-stopped");
	json_decref(j);
	stack_free(s);
	free(base);
	rmstack(dir);
}

static void
test_expansion(void **state)
{
	static const struct tfile files[] = {
		{ ".env", "A=from-dotenv\nB=dotenv-b\nQ=\"two words\" # c\n" },
		{ "svc.yaml",
		    "image: img\n"
		    "environment:\n"
		    "  A: ${A}\n"
		    "  B: ${B}\n"
		    "  C: ${C:-fallback}\n"
		    "  D: \"$${A} costs $$5\"\n"
		    "  E: ${EMPTY:-was-empty}\n"
		    "  F: ${EMPTY-kept}\n"
		    "  G: pre-$A-post\n"
		    "  H: ${NOPE:-${B}}\n"
		    "  Q: ${Q}\n" },
		{ NULL, NULL }
	};
	static char *const env[] = { "A=from-env", "EMPTY=", NULL };
	const struct unit	*u;
	struct stack		*s;
	char			*dir = mkstack(files);

	s = load_ok(dir, env);
	u = stack_unit(s, "svc");
	assert_string_equal(env_get(u, "A"), "from-env");
	assert_string_equal(env_get(u, "B"), "dotenv-b");
	assert_string_equal(env_get(u, "C"), "fallback");
	assert_string_equal(env_get(u, "D"), "${A} costs $5");
	assert_string_equal(env_get(u, "E"), "was-empty");
	assert_string_equal(env_get(u, "F"), "");
	assert_string_equal(env_get(u, "G"), "pre-from-env-post");
	assert_string_equal(env_get(u, "H"), "dotenv-b");
	assert_string_equal(env_get(u, "Q"), "two words");
	stack_free(s);
	rmstack(dir);
}

static void
test_expand_str(void **state)
{
	static char *const env[] = { "X=1", NULL };
	struct expand_ctx	 x = { env, NULL };
	char			*out, *err;

	assert_int_equal(expand_str(&x, "a$X${X}$$X$", &out, &err), 0);
	assert_string_equal(out, "a11$X$");
	free(out);
	assert_int_equal(expand_str(&x, "${X", &out, &err), -EINVAL);
	assert_string_equal(err, "unterminated '${X'");
	free(err);
	assert_int_equal(expand_str(&x, "${Y:?set Y first}", &out, &err),
	    -EINVAL);
	assert_string_equal(err, "variable 'Y' is not set or empty: set Y "
	    "first");
	free(err);
	assert_int_equal(expand_str(&x, "${}", &out, &err), -EINVAL);
	free(err);
	assert_int_equal(expand_str(&x, "${X!}", &out, &err), -EINVAL);
	free(err);
}

/* ---- one bad file per kind of error -------------------------------------- */

struct ecase {
	const char	*name;
	struct tfile	 files[3];
	const char	*want;		/* "file:line:col: message" prefix */
};

static const struct ecase ecases[] = {
	{ "unknown key", { { "api.yaml", "image: x\nimgae: y\n" } },
	  "api.yaml:2:1: unknown key 'imgae'; did you mean 'image'?" },
	{ "unknown nested key", { { "api.yaml",
	    "image: x\nhealth:\n  foo: 1\n" } },
	  "api.yaml:3:3: unknown key 'foo' in health; valid keys: test, "
	  "http, tcp, interval, timeout, start_period, start_interval, "
	  "retries" },
	{ "wrong type", { { "api.yaml", "image: x\ncommand: {a: b}\n" } },
	  "api.yaml:2:10: command: expected a list of strings (or one string "
	  "for sh -c), got a mapping" },
	{ "wrong item type", { { "api.yaml",
	    "image: x\nentrypoint: [a, [b]]\n" } },
	  "api.yaml:2:17: entrypoint[1]: expected a string, got a list" },
	{ "bad duration", { { "api.yaml", "image: x\nstop_grace: 5x\n" } },
	  "api.yaml:2:13: stop_grace: invalid duration '5x'" },
	{ "zero interval", { { "api.yaml",
	    "image: x\nhealth:\n  tcp: 80\n  interval: 0\n" } },
	  "api.yaml:4:13: health.interval: duration '0' is shorter than 1ms" },
	{ "bad size", { { "api.yaml",
	    "image: x\nresources:\n  memory: 12Q\n" } },
	  "api.yaml:3:11: resources.memory: invalid size '12Q'" },
	{ "bad cpus", { { "api.yaml",
	    "image: x\nresources: {cpus: -1}\n" } },
	  "api.yaml:2:19: resources.cpus: expected a number of CPUs" },
	{ "bad port", { { "api.yaml",
	    "image: x\nports:\n  - \"70000:80\"\n" } },
	  "api.yaml:3:5: ports[0]: invalid host port '70000' (expected "
	  "1-65535) in '70000:80'" },
	{ "bad protocol", { { "api.yaml", "image: x\nports: [80/sctp]\n" } },
	  "api.yaml:2:9: ports[0]: protocol must be tcp or udp, not 'sctp'" },
	{ "bad depends_on condition", { { "api.yaml",
	    "image: x\ndepends_on:\n  db: ready\n" } },
	  "api.yaml:3:7: depends_on.db: expected started, healthy or "
	  "completed, got 'ready'" },
	{ "completed on replicated", { { "api.yaml",
	    "image: x\ndepends_on:\n  job: completed\n" },
	    { "job.yaml", "image: y\nreplicas: 2\n" } },
	  "api.yaml:3:3: depends_on: 'job' is completed only with exactly "
	  "one replica, but it has replicas: 2" },
	{ "reserved label", { { "api.yaml",
	    "image: x\nlabels:\n  io.shipd.stack: evil\n" } },
	  "api.yaml:3:3: labels: 'io.shipd.stack' is reserved" },
	{ "duplicate key", { { "api.yaml",
	    "image: x\nreplicas: 1\nimage: y\n" } },
	  "api.yaml:3:1: duplicate key 'image' (first at line 1)" },
	{ "invalid service name", { { "My_App.yaml", "image: x\n" } },
	  "My_App.yaml: invalid service name 'My_App'" },
	{ "missing image", { { "api.yaml", "replicas: 2\n" } },
	  "api.yaml:1:1: missing required key 'image'" },
	{ "bad restart", { { "api.yaml", "image: x\nrestart: sometimes\n" } },
	  "api.yaml:2:10: restart: expected no, always, unless-stopped or "
	  "on-failure[:N], got 'sometimes'" },
	{ "alias", { { "api.yaml", "image: &img x\nuser: *img\n" } },
	  "api.yaml:2:7: aliases (*img) are not supported" },
	{ "two checks", { { "api.yaml",
	    "image: x\nhealth:\n  test: [CMD, \"true\"]\n  tcp: 80\n" } },
	  "api.yaml:4:3: health: set one of test, http or tcp, not both test "
	  "and tcp" },
	{ "bad test", { { "api.yaml",
	    "image: x\nhealth:\n  test: [RUN, x]\n" } },
	  "api.yaml:3:9: health.test: expected [CMD, arg...]" },
	{ "disabled with timing", { { "api.yaml",
	    "image: x\nhealth:\n  test: [NONE]\n  interval: 1s\n" } },
	  "api.yaml:4:3: health.interval: has no effect with test: [NONE]" },
	{ "unset variable", { { "api.yaml", "image: ${NOPE_NOT_SET}\n" } },
	  "api.yaml:1:8: image: variable 'NOPE_NOT_SET' is not set" },
	{ "syntax error", { { "api.yaml", "image: x\n command: [a\n" } },
	  "api.yaml:2:9: YAML syntax error: " },
	{ "empty file", { { "api.yaml", "" } },
	  "api.yaml:1:1: empty unit file" },
	{ "not a mapping", { { "api.yaml", "- image: x\n" } },
	  "api.yaml:1:1: top level: expected a mapping, got a list" },
	{ "two documents", { { "api.yaml", "image: x\n---\nimage: y\n" } },
	  "api.yaml:2:1: only one YAML document is allowed" },
	{ "bad volume", { { "api.yaml",
	    "image: x\nvolumes: [\"data/x:/d\"]\n" } },
	  "api.yaml:2:11: volumes[0]: 'data/x' is neither a volume name nor "
	  "a path" },
	{ "relative target", { { "api.yaml",
	    "image: x\nvolumes: [\"v:d\"]\n" } },
	  "api.yaml:2:11: volumes[0]: target 'd' must be an absolute path" },
	{ "yml file", { { "api.yml", "image: x\n" } },
	  "api.yml: unit files end in .yaml" },
	{ "missing env_file", { { "api.yaml",
	    "image: x\nenv_file: nope.env\n" } },
	  "api.yaml:2:11: env_file: cannot read 'nope.env': No such file" },
	{ "environment item with no '='", { { "api.yaml",
	    "image: x\nenvironment: [A=1, NOEQ]\n" } },
	  "api.yaml:2:20: environment[1]: expected KEY=VALUE, got 'NOEQ'" },
	{ "environment key with no value", { { "api.yaml",
	    "image: x\nenvironment:\n  A: ~\n" } },
	  "api.yaml:3:6: environment.A: no value; write A: \"\" for an "
	  "empty string" },
	{ "sysctls as a list", { { "api.yaml",
	    "image: x\nsysctls: [net.core.somaxconn=1024]\n" } },
	  "api.yaml:2:10: sysctls: expected a mapping, got a list" },
	{ "bad env_file line", { { "api.yaml", "image: x\nenv_file: a.env\n" },
	    { "a.env", "OK=1\nJUST TEXT\n" } },
	  "a.env:2:1: expected KEY=VALUE" },
	{ "bad .env quote", { { "api.yaml", "image: x\n" },
	    { ".env", "A=\"open\n" } },
	  ".env:1:3: unterminated quoted value" },
	{ "start-first with host port", { { "api.yaml",
	    "image: x\nports: [\"8080:80\"]\n"
	    "update: {order: start-first}\n" } },
	  "api.yaml:3:17: update.order: start-first cannot be used with host "
	  "port 8080" },
	{ "replicas with host port", { { "api.yaml",
	    "image: x\nports: [\"8080:80\"]\nreplicas: 2\n" } },
	  "api.yaml:3:11: replicas: 2 replicas cannot all publish host port "
	  "8080" },
	{ "host port clash", { { "api.yaml",
	    "image: x\nports: [\"8080:80\"]\n" },
	    { "web.yaml", "image: y\nports: [\"0.0.0.0:8080:81\"]\n" } },
	  "web.yaml: service 'web' publishes host port 8080/tcp, as does "
	  "service 'api'" },
	{ "environment without value", { { "api.yaml",
	    "image: x\nenvironment:\n  FOO: ~\n" } },
	  "api.yaml:3:8: environment.FOO: no value" },
	{ "bool", { { "api.yaml", "image: x\ninit: yes\n" } },
	  "api.yaml:2:7: init: expected true or false, got 'yes'" },
	{ "replicas range", { { "api.yaml", "image: x\nreplicas: 1001\n" } },
	  "api.yaml:2:11: replicas: expected an integer from 0 to 1000, got "
	  "'1001'" },
	{ "relative working_dir", { { "api.yaml",
	    "image: x\nworking_dir: srv\n" } },
	  "api.yaml:2:14: working_dir: 'srv' must be an absolute path" },
	{ "backup without paths", { { "api.yaml",
	    "image: x\nbackup:\n  keep: 3\n" } },
	  "api.yaml:3:3: backup: 'paths' is required" },
	{ "bad stack name", { { "stack.yaml", "name: Bad Name\n" },
	    { "api.yaml", "image: x\n" } },
	  "stack.yaml:1:7: name: invalid stack name 'Bad Name'" },
	{ "stack key", { { "stack.yaml", "defaults: {}\n" },
	    { "api.yaml", "image: x\n" } },
	  "stack.yaml:1:1: unknown key 'defaults'; valid keys: "
	  "name, networks, volumes, retain" },
	{ "empty tag from .env", { { "api.yaml", "image: \"svc:${TAG}\"\n" },
	    { ".env", "TAG=\n" } },
	  "api.yaml:1:8: image: invalid reference 'svc:': the tag after ':' "
	  "is empty" },
	{ "missing bind source", { { "api.yaml",
	    "image: x\nvolumes: [\"/etc:/e\", \"./nope/x:/d:ro\"]\n" } },
	  "api.yaml:2:22: volumes[1]: bind source '" },
	{ "bad UTF-8", { { "api.yaml",
	    "image: x\nuser: \"\xc3\xa9t\xc3t\"\n" } },
	  "api.yaml:2:11: YAML syntax error: invalid trailing UTF-8 octet "
	  "(#x74)" },
	{ "bad UTF-8 lead", { { "api.yaml",
	    "image: x\n\n  # caf\xc3\xa9 \xff\n" } },
	  "api.yaml:3:10: YAML syntax error: invalid leading UTF-8 octet "
	  "(#xFF)" },
	{ "control character", { { "api.yaml", "image: x\nuser: \"a\x01\"\n" } },
	  "api.yaml:2:9: YAML syntax error: control characters are not "
	  "allowed (#x1)" },
	{ "no units", { { "README.md", "hi\n" } },
	  ": no unit files (*.yaml) here" },
};

static void
test_error_cases(void **state)
{
	static struct stack	 sentinel;
	struct diag_list	 errs;
	struct stack		*s;
	const struct ecase	*c;
	char			*dir;
	size_t			 i;
	int			 rc;

	for (i = 0; i < nitems(ecases); i++) {
		c = &ecases[i];
		print_message("case: %s\n", c->name);
		dir = mkstack(c->files);
		diag_init(&errs);
		s = &sentinel;		/* must come back NULL */
		rc = stack_load_dir(dir, no_env, &s, &errs);
		assert_int_equal(rc, -EINVAL);
		assert_null(s);
		assert_diag(&errs, dir, c->want);
		diag_free(&errs);
		rmstack(dir);
	}
}

/* A NUL byte cannot go through the string fixtures: written here.  Its
 * position is counted from the reader's byte offset, not left at 1:1. */
static void
test_nul_byte(void **state)
{
	static const char	 text[] = "image: x\nuser: \"ab\0c\"\n";
	struct diag_list	 errs;
	struct stack		*s = NULL;
	char			*dir = mkstack(NULL), *path;
	FILE			*f;

	xasprintf(&path, "%s/api.yaml", dir);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(text, 1, sizeof text - 1, f), sizeof text - 1);
	fclose(f);
	free(path);
	diag_init(&errs);
	assert_int_equal(stack_load_dir(dir, no_env, &s, &errs), -EINVAL);
	assert_null(s);
	assert_diag(&errs, dir, "api.yaml:2:10: YAML syntax error: control "
	    "characters are not allowed (#x0)");
	diag_free(&errs);
	rmstack(dir);
}

/* Every problem is reported, not just the first. */
static void
test_all_errors_collected(void **state)
{
	static const struct tfile files[] = {
		{ "a.yaml", "image: x\nreplicas: lots\nstop_grace: soon\n" },
		{ "b.yaml", "command: [x]\nbogus: 1\n" },
		{ "c.yaml", "image: fine\n" },
		{ NULL, NULL }
	};
	struct diag_list	 errs;
	struct stack		*s;
	char			*dir = mkstack(files);

	diag_init(&errs);
	assert_int_equal(stack_load_dir(dir, no_env, &s, &errs), -EINVAL);
	assert_int_equal(errs.n, 4);
	assert_diag(&errs, dir, "a.yaml:2:11: replicas:");
	assert_diag(&errs, dir, "a.yaml:3:13: stop_grace:");
	assert_diag(&errs, dir, "b.yaml:2:1: unknown key 'bogus'");
	assert_diag(&errs, dir, "b.yaml:1:1: missing required key 'image'");
	diag_free(&errs);
	rmstack(dir);
}

static void
test_missing_dir(void **state)
{
	struct diag_list	 errs;
	struct stack		*s;
	char			*msg;

	diag_init(&errs);
	assert_int_equal(stack_load_dir("/nonexistent/stack", no_env, &s,
	    &errs), -ENOENT);
	assert_int_equal(errs.n, 1);
	msg = diag_format(&errs.v[0]);
	assert_string_equal(msg, "/nonexistent/stack: No such file or "
	    "directory");
	free(msg);
	diag_free(&errs);
}


static void
test_envfile_parse(void **state)
{
	static const char text[] =
	    "# comment\r\n"
	    "\n"
	    "A=plain value   # trailing comment\n"
	    "export B = \"x\\ny \\\"q\\\" # kept\"  # comment\n"
	    "C='lit $D \\n'\r\n"
	    "E=\n"
	    "A=again";
	struct diag_list	errs;
	struct envfile		ef = { NULL, 0 };

	diag_init(&errs);
	assert_int_equal(expand_envfile_parse("t.env", text, &ef, &errs), 0);
	assert_int_equal(ef.n, 5);
	assert_string_equal(expand_envfile_get(&ef, "A"), "again");
	assert_string_equal(ef.v[0].value, "plain value");
	assert_int_equal(ef.v[0].line, 3);
	assert_string_equal(expand_envfile_get(&ef, "B"),
	    "x\ny \"q\" # kept");
	assert_string_equal(expand_envfile_get(&ef, "C"), "lit $D \\n");
	assert_string_equal(expand_envfile_get(&ef, "E"), "");
	assert_null(expand_envfile_get(&ef, "D"));
	expand_envfile_free(&ef);

	assert_int_equal(expand_envfile_parse("t.env", "A='x' y\n=1\n", &ef,
	    &errs), -EINVAL);
	assert_int_equal(errs.n, 2);
	assert_int_equal(errs.v[0].line, 1);
	assert_int_equal(errs.v[0].col, 7);
	assert_string_equal(errs.v[1].msg, "expected KEY=VALUE");
	expand_envfile_free(&ef);
	diag_free(&errs);
}

static void
test_short_syntax(void **state)
{
	struct unit_port	 p;
	struct unit_mount	 m;
	char			*err;

	assert_null(unit_port_parse("[::1]:8080:80/udp", &p));
	assert_string_equal(p.host_ip, "::1");
	assert_int_equal(p.host_port, 8080);
	assert_int_equal(p.container_port, 80);
	assert_string_equal(p.proto, "udp");
	free(p.host_ip);
	assert_null(unit_port_parse("9000", &p));
	assert_null(p.host_ip);
	assert_int_equal(p.host_port, 0);
	assert_string_equal(p.proto, "tcp");
	/* an address without a host port would publish nothing */
	assert_non_null(err = unit_port_parse("127.0.0.1::80", &p));
	free(err);
	assert_non_null(err = unit_port_parse("300.1.1.1:80:80", &p));
	assert_string_equal(err, "invalid IP address '300.1.1.1'");
	free(err);
	assert_non_null(err = unit_port_parse("1:2:3:4", &p));
	free(err);

	assert_null(unit_mount_parse("./a/../b//c/:/data/./x/:ro", "/srv/st",
	    &m));
	assert_int_equal(m.kind, MOUNT_BIND);
	assert_string_equal(m.source, "/srv/st/b/c");
	assert_string_equal(m.target, "/data/x");
	assert_true(m.ro);
	free(m.source);
	free(m.target);
	assert_null(unit_mount_parse("..:/up", "/srv/st", &m));
	assert_string_equal(m.source, "/srv");
	free(m.source);
	free(m.target);
	assert_null(unit_mount_parse("cache:/c:rw", "/srv/st", &m));
	assert_int_equal(m.kind, MOUNT_VOLUME);
	assert_false(m.ro);
	free(m.source);
	free(m.target);
	assert_non_null(err = unit_mount_parse("./x:/", "/srv/st", &m));
	assert_string_equal(err, "cannot mount over /");
	free(err);
	assert_non_null(err = unit_mount_parse("./x:/y", "/a:b", &m));
	assert_string_equal(err, "bind source '/a:b/x' contains ':'");
	free(err);
}

/* ---- JSON ---------------------------------------------------------------- */

static struct stack *
load_valid(void)
{
	struct stack	*s;
	char		*dir = fixture("valid");

	s = load_ok(dir, no_env);
	free(dir);
	return s;
}

static void
test_json_roundtrip(void **state)
{
	struct diag_list	 errs;
	struct stack		*s = load_valid(), *t = NULL;
	json_t			*j1, *j2;
	char			*d1, *d2, h1[65], h2[65];
	size_t			 i;

	j1 = stack_to_json(s);
	diag_init(&errs);
	assert_int_equal(stack_from_json(j1, &t, &errs), 0);
	print_diags(&errs);
	assert_int_equal(errs.n, 0);
	j2 = stack_to_json(t);
	assert_true(json_equal(j1, j2));
	d1 = json_dumps(j1, JSON_COMPACT | JSON_SORT_KEYS);
	d2 = json_dumps(j2, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(d1, d2);
	assert_int_equal(s->nunits, t->nunits);
	for (i = 0; i < s->nunits; i++) {
		unit_spec_hash(s->units[i], h1);
		unit_spec_hash(t->units[i], h2);
		assert_string_equal(h1, h2);
	}
	/* Dependency positions survive for later messages. */
	assert_int_equal(stack_unit(t, "api")->deps[2].col, 43);
	free(d1);
	free(d2);
	json_decref(j1);
	json_decref(j2);
	stack_free(s);
	stack_free(t);
	diag_free(&errs);
}

static void
hash_of(const char *text, char out[65])
{
	struct tfile	 files[] = { { "svc.yaml", text }, { NULL, NULL } };
	struct stack	*s;
	char		*dir = mkstack(files);

	s = load_ok(dir, no_env);
	unit_spec_hash(stack_unit(s, "svc"), out);
	stack_free(s);
	rmstack(dir);
}

static void
test_spec_hash(void **state)
{
	char	 h1[65], h2[65];
	json_t	*spec;
	struct stack *s;

	hash_of("image: x\nenvironment: {A: \"1\", B: \"2\"}\n"
	    "ports: [\"80\", \"81/udp\"]\nlabels: {l: v}\nreplicas: 2\n", h1);
	assert_int_equal(strlen(h1), 64);
	assert_int_equal(strspn(h1, "0123456789abcdef"), 64);
	/* same service, keys and list items in another order */
	hash_of("replicas: 2\nlabels:\n  l: v\nports: [\"81/udp\", \"80\"]\n"
	    "environment:\n  - B=2\n  - A=1\nimage: x\n", h2);
	assert_string_equal(h1, h2);
	/* replicas, update and depends_on do not recreate containers */
	hash_of("image: x\nenvironment: {A: \"1\", B: \"2\"}\n"
	    "ports: [\"80\", \"81/udp\"]\nlabels: {l: v}\nreplicas: 7\n"
	    "update: {parallelism: 2}\n", h2);
	assert_string_equal(h1, h2);
	/* the environment does */
	hash_of("image: x\nenvironment: {A: \"3\", B: \"2\"}\n"
	    "ports: [\"80\", \"81/udp\"]\nlabels: {l: v}\nreplicas: 2\n", h2);
	assert_string_not_equal(h1, h2);

	s = load_valid();
	spec = unit_spec_json(stack_unit(s, "api"));
	assert_null(json_object_get(spec, "replicas"));
	assert_null(json_object_get(spec, "name"));
	assert_null(json_object_get(spec, "depends_on"));
	assert_non_null(json_object_get(spec, "environment"));
	json_decref(spec);
	stack_free(s);
}

static void
expect_json_error(const json_t *j, const char *want)	/* a substring */
{
	struct diag_list	 errs;
	struct stack		*s;
	char			*m;
	size_t			 i;
	bool			 found = false;

	diag_init(&errs);
	assert_int_equal(stack_from_json(j, &s, &errs), -EINVAL);
	assert_null(s);
	for (i = 0; i < errs.n && !found; i++) {
		m = diag_format(&errs.v[i]);
		found = strstr(m, want) != NULL;
		free(m);
	}
	if (!found) {
		print_message("wanted: %s\n", want);
		print_diags(&errs);
	}
	assert_true(found);
	diag_free(&errs);
}

static json_t *
api_of(json_t *j)
{
	return json_array_get(json_object_get(j, "units"), 0);
}

static void
test_from_json_errors(void **state)
{
	struct stack	*s = load_valid();
	json_t		*j = stack_to_json(s), *api = api_of(j), *v;

	expect_json_error(NULL, "stack: expected an object, got nothing");
	v = json_array();
	expect_json_error(v, "stack: expected an object, got an array");
	json_decref(v);

	json_object_set_new(api, "replicas", json_integer(LLONG_MAX));
	expect_json_error(j, "stack.units.api.replicas: expected an integer "
	    "from 0 to 1000, got one out of range");
	json_object_set_new(api, "replicas", json_real(1.0));
	expect_json_error(j, "stack.units.api.replicas: expected an integer "
	    "from 0 to 1000, got a real number");
	json_object_set_new(api, "replicas", json_integer(1));

	json_object_set_new(api, "bogus", json_true());
	expect_json_error(j, "stack.units.api: unknown field 'bogus'");
	json_object_del(api, "bogus");

	v = json_incref(json_object_get(api, "image"));
	json_object_del(api, "image");
	expect_json_error(j, "stack.units.api: missing field 'image'");
	json_object_set_new(api, "image", json_stringn("a\0b", 3));
	expect_json_error(j, "stack.units.api.image: contains a NUL "
	    "character");
	json_object_set_new(api, "image", v);

	json_object_set_new(json_object_get(api, "labels"), "io.shipd.stack",
	    json_string("x"));
	expect_json_error(j, "stack.units.api.labels: 'io.shipd.stack' is "
	    "reserved");
	json_object_del(json_object_get(api, "labels"), "io.shipd.stack");

	json_object_set_new(json_object_get(api, "health"), "kind",
	    json_string("tcp"));
	expect_json_error(j, "stack.units.api.health: test: expected [CMD, "
	    "...] or [CMD-SHELL, \"...\"] for kind cmd and null otherwise");
	json_object_set_new(json_object_get(api, "health"), "kind",
	    json_string("cmd"));

	/* Volumes in use must be declared: shipd does not guess. */
	json_array_remove(json_object_get(j, "volumes"), 0);
	expect_json_error(j, "service 'api' mounts volume 'api-cache' that "
	    "the stack does not declare");
	json_decref(j);
	stack_free(s);
}

static json_t	*garbage[16];
static size_t	 ngarbage;
static size_t	 ndecodes;

static void
try_decode(const json_t *doc)
{
	struct diag_list	 errs;
	struct stack		*s;
	int			 rc;

	diag_init(&errs);
	rc = stack_from_json(doc, &s, &errs);
	if (rc == 0) {
		assert_non_null(s);
		assert_int_equal(errs.n, 0);
		stack_free(s);
	} else {
		assert_int_equal(rc, -EINVAL);
		assert_null(s);
		assert_true(errs.n > 0);
	}
	diag_free(&errs);
	ndecodes++;
}

/* Replace every value under node by every garbage shape, then drop it;
 * the decoder must report or accept, never crash or leak. */
static void
mutate(const json_t *doc, json_t *node)
{
	const char	**keys, *k;
	json_t		 *old, *v;
	size_t		  i, g, n;

	if (json_is_object(node)) {
		n = json_object_size(node);
		keys = xcalloc(n + 1, sizeof *keys);
		i = 0;
		json_object_foreach(node, k, v)
			keys[i++] = xstrdup(k);
		for (i = 0; i < n; i++) {
			old = json_incref(json_object_get(node, keys[i]));
			for (g = 0; g < ngarbage; g++) {
				json_object_set(node, keys[i], garbage[g]);
				try_decode(doc);
			}
			json_object_del(node, keys[i]);
			try_decode(doc);
			json_object_set(node, keys[i], old);
			mutate(doc, old);
			json_decref(old);
			free((char *)keys[i]);
		}
		free(keys);
		json_object_set_new(node, "zz_unknown", json_null());
		try_decode(doc);
		json_object_del(node, "zz_unknown");
	} else if (json_is_array(node)) {
		for (i = 0; i < json_array_size(node); i++) {
			old = json_incref(json_array_get(node, i));
			for (g = 0; g < ngarbage; g++) {
				json_array_set(node, i, garbage[g]);
				try_decode(doc);
			}
			json_array_set(node, i, old);
			mutate(doc, old);
			json_decref(old);
		}
		json_array_append_new(node, json_object());
		try_decode(doc);
		json_array_remove(node, json_array_size(node) - 1);
	}
}

static void
test_from_json_garbage(void **state)
{
	struct stack	*s = load_valid();
	json_t		*j = stack_to_json(s);
	size_t		 i;

	ngarbage = 0;
	garbage[ngarbage++] = json_null();
	garbage[ngarbage++] = json_true();
	garbage[ngarbage++] = json_integer(0);
	garbage[ngarbage++] = json_integer(-1);
	garbage[ngarbage++] = json_integer(LLONG_MAX);
	garbage[ngarbage++] = json_integer(LLONG_MIN);
	garbage[ngarbage++] = json_real(1e300);
	garbage[ngarbage++] = json_string("");
	garbage[ngarbage++] = json_string("x");
	garbage[ngarbage++] = json_stringn("a\0b", 3);
	garbage[ngarbage++] = json_array();
	garbage[ngarbage++] = json_object();
	garbage[ngarbage++] = json_pack("[n{}]");
	garbage[ngarbage++] = json_pack("{s:n}", "x");
	ndecodes = 0;
	mutate(j, j);
	print_message("%zu decodes\n", ndecodes);
	assert_true(ndecodes > 1000);
	/* and the document, restored, still decodes */
	try_decode(j);
	for (i = 0; i < ngarbage; i++)
		json_decref(garbage[i]);
	json_decref(j);
	stack_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_stack),
		cmocka_unit_test(test_env_wins_over_dotenv),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_expansion),
		cmocka_unit_test(test_expand_str),
		cmocka_unit_test(test_envfile_parse),
		cmocka_unit_test(test_short_syntax),
		cmocka_unit_test(test_error_cases),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_all_errors_collected),
		cmocka_unit_test(test_missing_dir),
		cmocka_unit_test(test_json_roundtrip),
		cmocka_unit_test(test_spec_hash),
		cmocka_unit_test(test_from_json_errors),
		cmocka_unit_test(test_from_json_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
