/*
 * compose_to_stack(): each compose key onto the stack model, every loss
 * as a warning at its file:line:col (an error with strict), every refusal
 * as an error, and a compose service hashing as the unit file that says
 * the same.  The trees are parsed here, so the mapper is tested without
 * the loader.
 */
#include <sys/stat.h>

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

#include "compose.h"
#include "engine/spec.h"
#include "unit.h"
#include "util.h"
#include "ytree.h"

#define FILE_NAME	"compose.yaml"
#define SVC		"services:\n  api:\n    image: shipd-test/svc:1\n"

static char *projdir;

struct res {
	struct stack		*s;
	struct diag_list	 w;
	struct diag_list	 e;
	int			 rc;
};

static void
put(const char *name, const char *text)
{
	char	*path;
	FILE	*f;

	xasprintf(&path, "%s/%s", projdir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	free(path);
}

static int
setup(void **state)
{
	char *d;

	(void)state;
	mkdir("/tmp/cmap", 0755);
	projdir = xstrdup("/tmp/cmap/map-XXXXXX");
	assert_non_null(mkdtemp(projdir));
	xasprintf(&d, "%s/data", projdir);
	assert_int_equal(mkdir(d, 0755), 0);
	free(d);
	put("app.env", "A=from-file\nB=from-file\n");
	put("more.env", "B=from-more\nC=from-more\n");
	put("db_password.txt", "secret\n");
	put("prometheus.yml", "global: {}\n");
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	(void)state;
	nftw(projdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(projdir);
	return 0;
}

static void
print_diags(const char *what, const struct diag_list *l)
{
	size_t	 i;
	char	*s;

	for (i = 0; i < l->n; i++) {
		s = diag_format(&l->v[i]);
		print_message("  %s: %s\n", what, s);
		free(s);
	}
}

static void
map(const char *yaml, bool strict, struct res *r)
{
	struct compose_project	 p;
	struct compose_map_opts	 o = { strict };
	struct diag_list	 perr;
	struct yctx		 c = { FILE_NAME, NULL, &perr, false };
	char			*files[] = { FILE_NAME, NULL };

	diag_init(&perr);
	memset(&p, 0, sizeof p);
	p.name = "cm";
	p.dir = projdir;
	p.files = files;
	assert_int_equal(ytree_parse(&c, yaml, strlen(yaml), &p.root), 0);
	diag_free(&perr);
	memset(r, 0, sizeof *r);
	diag_init(&r->w);
	diag_init(&r->e);
	r->rc = compose_to_stack(&p, &o, &r->s, &r->w, &r->e);
	if (r->rc == 0)
		assert_non_null(r->s);
	else
		assert_null(r->s);
	ytree_free(p.root);
}

static void
res_free(struct res *r)
{
	if (r->s != NULL)
		stack_free(r->s);
	diag_free(&r->w);
	diag_free(&r->e);
}

/* Maps cleanly: no warning, no error. */
static struct stack *
map_ok(const char *yaml, struct res *r)
{
	map(yaml, false, r);
	if (r->rc != 0 || r->w.n != 0) {
		print_diags("warning", &r->w);
		print_diags("error", &r->e);
	}
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->w.n, 0);
	return r->s;
}

/* Some entry of l is at line (0: any) and holds want. */
static void
assert_has(const struct diag_list *l, int line, const char *want)
{
	size_t	i;
	bool	found = false;

	for (i = 0; i < l->n && !found; i++) {
		found = strstr(l->v[i].msg, want) != NULL &&
		    (line == 0 || l->v[i].line == line) &&
		    l->v[i].file != NULL &&
		    strcmp(l->v[i].file, FILE_NAME) == 0;
	}
	if (!found) {
		print_message("wanted at line %d: %s\n", line, want);
		print_diags("diag", l);
	}
	assert_true(found);
}

static const struct unit *
unit(const struct stack *s, const char *name)
{
	const struct unit *u = stack_unit(s, name);

	assert_non_null(u);
	return u;
}

static void
assert_argv(char *const *v, ...)
{
	va_list		 ap;
	const char	*want;
	size_t		 i = 0;

	assert_non_null(v);
	va_start(ap, v);
	while ((want = va_arg(ap, const char *)) != NULL) {
		assert_non_null(v[i]);
		assert_string_equal(v[i], want);
		i++;
	}
	va_end(ap);
	assert_null(v[i]);
}

static const char *
env(const struct unit *u, const char *key)
{
	size_t i;

	for (i = 0; i < u->nenv; i++) {
		if (strcmp(u->env[i].key, key) == 0)
			return u->env[i].value;
	}
	return NULL;
}

/* ---- words ------------------------------------------------------------------ */

static void
test_command_words(void **state)
{
	struct res		 r;
	const struct unit	*u;

	(void)state;
	map_ok(SVC "    command: sh -c 'echo \"a b\"; exit 0' x\\ y \"q\\\"\"\n"
	    "    entrypoint: \"\"\n"
	    "  web:\n    image: shipd-test/svc:1\n"
	    "    command: [httpd, -f, -p, \"8080\"]\n"
	    "    entrypoint: /bin/sh -c\n", &r);
	u = unit(r.s, "api");
	assert_argv(u->command, "sh", "-c", "echo \"a b\"; exit 0", "x y",
	    "q\"", NULL);
	assert_non_null(u->entrypoint);
	assert_null(u->entrypoint[0]);		/* cleared */
	u = unit(r.s, "web");
	assert_argv(u->command, "httpd", "-f", "-p", "8080", NULL);
	assert_argv(u->entrypoint, "/bin/sh", "-c", NULL);
	res_free(&r);

	map(SVC "    command: echo 'unclosed\n", false, &r);
	assert_int_equal(r.rc, -EINVAL);
	assert_has(&r.e, 4, "unterminated single quote");
	res_free(&r);
}

/* ---- defaults and scalars ------------------------------------------------- */

static void
test_defaults_and_scalars(void **state)
{
	struct res		 r;
	const struct unit	*u;

	(void)state;
	map_ok(SVC "  w:\n    image: shipd-test/svc:1\n    init: true\n"
	    "    stop_grace_period: 1m30s\n    stop_signal: SIGINT\n"
	    "    user: \"1000:1000\"\n    working_dir: /srv\n"
	    "    restart: on-failure:3\n    labels: [a=1, b]\n"
	    "    profiles: [debug]\n    mem_limit: 64m\n    cpus: 0.5\n"
	    "x-shipd:\n  retain: 5\nx-common: &c {a: 1}\n", &r);
	assert_string_equal(r.s->name, "cm");
	assert_string_equal(r.s->dir, projdir);
	assert_int_equal(r.s->retain, 5);
	u = unit(r.s, "api");
	assert_string_equal(u->restart, "no");	/* compose's default */
	assert_int_equal(u->replicas, 1);
	assert_int_equal(u->health.kind, HEALTH_IMAGE);
	assert_false(u->init);
	assert_int_equal(u->nnetworks, 0);
	u = unit(r.s, "w");
	assert_true(u->init);
	assert_int_equal(u->stop_grace_ms, 90000);
	assert_string_equal(u->stop_signal, "SIGINT");
	assert_string_equal(u->user, "1000:1000");
	assert_string_equal(u->working_dir, "/srv");
	assert_string_equal(u->restart, "on-failure");
	assert_int_equal(u->restart_max, 3);
	assert_int_equal(u->nlabels, 2);
	assert_string_equal(u->labels[1].key, "b");
	assert_string_equal(u->labels[1].value, "");
	assert_int_equal(u->memory, 64 << 20);
	assert_int_equal(u->nano_cpus, 500000000);
	res_free(&r);
}

/* ---- environment ---------------------------------------------------------- */

static void
test_environment(void **state)
{
	struct res		 r;
	const struct unit	*u;

	(void)state;
	map_ok(SVC "    env_file: [app.env, {path: more.env}, "
	    "{path: nope.env, required: false}]\n"
	    "    environment:\n      A: inline\n      N: 5432\n"
	    "  w:\n    image: shipd-test/svc:1\n"
	    "    environment: [X=1, \"Y=a=b\"]\n    env_file: ./app.env\n",
	    &r);
	u = unit(r.s, "api");
	assert_string_equal(env(u, "A"), "inline");
	assert_string_equal(env(u, "B"), "from-more");
	assert_string_equal(env(u, "C"), "from-more");
	assert_string_equal(env(u, "N"), "5432");
	u = unit(r.s, "w");
	assert_string_equal(env(u, "X"), "1");
	assert_string_equal(env(u, "Y"), "a=b");
	assert_string_equal(env(u, "A"), "from-file");
	res_free(&r);

	map(SVC "    env_file: missing.env\n", false, &r);
	assert_int_equal(r.rc, -EINVAL);
	assert_has(&r.e, 4, "cannot read 'missing.env'");
	res_free(&r);
}

/* ---- ports ---------------------------------------------------------------- */

static void
test_ports(void **state)
{
	struct res		 r;
	const struct unit	*u;

	(void)state;
	map_ok(SVC "    ports:\n      - \"18080:80\"\n"
	    "      - 127.0.0.1:18443:443/tcp\n"
	    "      - \"19000-19002:9000-9002\"\n"
	    "      - {target: 53, published: \"18053\", protocol: udp, "
	    "mode: host}\n"
	    "    expose: [\"80\", 7000-7001, 6000/udp]\n", &r);
	u = unit(r.s, "api");
	/* 80 (published, so not again from expose), 443, 9000-9002, 53/udp,
	 * 6000/udp, 7000, 7001 */
	assert_int_equal(u->nports, 9);
	assert_int_equal(u->ports[0].container_port, 53);
	assert_string_equal(u->ports[0].proto, "udp");
	assert_int_equal(u->ports[0].host_port, 18053);
	assert_int_equal(u->ports[1].container_port, 80);
	assert_int_equal(u->ports[1].host_port, 18080);
	assert_int_equal(u->ports[2].container_port, 443);
	assert_string_equal(u->ports[2].host_ip, "127.0.0.1");
	assert_int_equal(u->ports[3].container_port, 6000);
	assert_int_equal(u->ports[3].host_port, 0);
	assert_int_equal(u->ports[5].container_port, 7001);
	assert_int_equal(u->ports[8].container_port, 9002);
	assert_int_equal(u->ports[8].host_port, 19002);
	res_free(&r);
}

/* ---- volumes, secrets, configs ------------------------------------------- */

static const struct unit_mount *
mount_at(const struct unit *u, const char *target)
{
	size_t i;

	for (i = 0; i < u->nmounts; i++) {
		if (strcmp(u->mounts[i].target, target) == 0)
			return &u->mounts[i];
	}
	fail_msg("no mount at %s", target);
	return NULL;
}

static void
test_volumes(void **state)
{
	struct res		 r;
	const struct unit	*u;
	const struct unit_mount	*m;
	char			*want;

	(void)state;
	map_ok(SVC "    volumes:\n      - pgdata:/var/lib/db\n"
	    "      - ./data:/data:ro\n"
	    "      - type: volume\n        source: cache\n"
	    "        target: /cache\n"
	    "      - {type: bind, source: data, target: /d2, read_only: true,"
	    " bind: {create_host_path: true}}\n"
	    "    secrets: [db_password, {source: db_password, target: pw}]\n"
	    "    configs: [{source: prom, target: /etc/prom.yml}, prom]\n"
	    "volumes:\n  pgdata:\n  cache: {driver: local}\n"
	    "secrets:\n  db_password: {file: ./db_password.txt}\n"
	    "configs:\n  prom:\n    file: prometheus.yml\n", &r);
	u = unit(r.s, "api");
	assert_int_equal(u->nmounts, 8);
	m = mount_at(u, "/var/lib/db");
	assert_int_equal(m->kind, MOUNT_VOLUME);
	assert_string_equal(m->source, "pgdata");
	m = mount_at(u, "/data");
	assert_int_equal(m->kind, MOUNT_BIND);
	assert_true(m->ro);
	xasprintf(&want, "%s/data", projdir);
	assert_string_equal(m->source, want);
	m = mount_at(u, "/d2");
	assert_string_equal(m->source, want);
	assert_true(m->ro);
	free(want);
	m = mount_at(u, "/cache");
	assert_string_equal(m->source, "cache");
	m = mount_at(u, "/run/secrets/db_password");
	assert_true(m->ro);
	xasprintf(&want, "%s/db_password.txt", projdir);
	assert_string_equal(m->source, want);
	free(want);
	mount_at(u, "/run/secrets/pw");
	mount_at(u, "/etc/prom.yml");
	m = mount_at(u, "/prom");
	assert_true(m->ro);
	assert_int_equal(r.s->nvolumes, 2);
	assert_string_equal(r.s->volumes[0], "cache");
	res_free(&r);
}

/* ---- depends_on ----------------------------------------------------------- */

static const struct unit_dep *
dep(const struct unit *u, const char *name)
{
	size_t i;

	for (i = 0; i < u->ndeps; i++) {
		if (strcmp(u->deps[i].name, name) == 0)
			return &u->deps[i];
	}
	return NULL;
}

static void
test_depends_on(void **state)
{
	struct res		 r;
	const struct unit	*u;

	(void)state;
	map_ok(SVC "    depends_on:\n"
	    "      db: {condition: service_healthy, restart: true}\n"
	    "      migrate:\n        condition: "
	    "service_completed_successfully\n        required: true\n"
	    "      cache: {condition: service_started}\n"
	    "      debugger: {condition: service_started, required: false}\n"
	    "  db: {image: shipd-test/svc:1}\n"
	    "  cache: {image: shipd-test/svc:1}\n"
	    "  migrate: {image: shipd-test/svc:1}\n"
	    "  w: {image: shipd-test/svc:1, depends_on: [db, cache]}\n", &r);
	u = unit(r.s, "api");
	assert_int_equal(u->ndeps, 3);
	assert_int_equal(dep(u, "db")->cond, DEP_HEALTHY);
	assert_int_equal(dep(u, "db")->line, 5);
	assert_true(dep(u, "db")->restart);
	assert_false(dep(u, "cache")->restart);
	assert_int_equal(dep(u, "migrate")->cond, DEP_COMPLETED);
	assert_int_equal(dep(u, "cache")->cond, DEP_STARTED);
	assert_null(dep(u, "debugger"));	/* not required, not there */
	u = unit(r.s, "w");
	assert_int_equal(u->ndeps, 2);
	assert_int_equal(dep(u, "cache")->cond, DEP_STARTED);
	res_free(&r);
}

/* ---- healthcheck ----------------------------------------------------------- */

static void
test_healthcheck(void **state)
{
	struct res		 r;
	const struct unit	*u;

	(void)state;
	map_ok(SVC "    healthcheck:\n      test: wget -q -O- localhost\n"
	    "  a:\n    image: shipd-test/svc:1\n    healthcheck:\n"
	    "      test: [CMD, nc, -z, localhost, \"80\"]\n"
	    "      interval: 2s\n      timeout: 1s\n      retries: 5\n"
	    "      start_period: 10s\n      start_interval: 1s\n"
	    "  b:\n    image: shipd-test/svc:1\n"
	    "    healthcheck: {disable: true}\n"
	    "  c:\n    image: shipd-test/svc:1\n"
	    "    healthcheck: {test: [NONE]}\n"
	    "  d:\n    image: shipd-test/svc:1\n"
	    "    healthcheck: {interval: 7s}\n"
	    "  e:\n    image: shipd-test/svc:1\n"
	    "    x-shipd: {health: {http: 8080/healthz, interval: 1s}}\n",
	    &r);
	u = unit(r.s, "api");
	assert_int_equal(u->health.kind, HEALTH_CMD);
	assert_argv(u->health.test, "CMD-SHELL", "wget -q -O- localhost",
	    NULL);
	assert_int_equal(u->health.interval_ms, 30000);
	assert_int_equal(u->health.timeout_ms, 30000);
	assert_int_equal(u->health.retries, 3);
	assert_int_equal(u->health.start_period_ms, 0);
	u = unit(r.s, "a");
	assert_argv(u->health.test, "CMD", "nc", "-z", "localhost", "80",
	    NULL);
	assert_int_equal(u->health.interval_ms, 2000);
	assert_int_equal(u->health.timeout_ms, 1000);
	assert_int_equal(u->health.retries, 5);
	assert_int_equal(u->health.start_period_ms, 10000);
	assert_int_equal(u->health.start_interval_ms, 1000);
	assert_int_equal(unit(r.s, "b")->health.kind, HEALTH_DISABLED);
	assert_int_equal(unit(r.s, "c")->health.kind, HEALTH_DISABLED);
	u = unit(r.s, "d");
	assert_int_equal(u->health.kind, HEALTH_IMAGE);
	assert_int_equal(u->health.interval_ms, 7000);
	assert_int_equal(u->health.timeout_ms, 0);	/* the image's */
	u = unit(r.s, "e");
	assert_int_equal(u->health.kind, HEALTH_HTTP);
	assert_int_equal(u->health.port, 8080);
	assert_string_equal(u->health.http_path, "/healthz");
	res_free(&r);
}

/* ---- deploy ------------------------------------------------------------------ */

static void
test_deploy(void **state)
{
	struct res		 r;
	const struct unit	*u;

	(void)state;
	map_ok(SVC "    deploy:\n      mode: replicated\n      replicas: 3\n"
	    "      resources:\n        limits: {cpus: \"1.5\", memory: 128M}\n"
	    "      restart_policy: {condition: on-failure, max_attempts: 4}\n"
	    "      update_config:\n        parallelism: 2\n"
	    "        order: start-first\n        failure_action: pause\n"
	    "        monitor: 15s\n        delay: 0s\n"
	    "  w:\n    image: shipd-test/svc:1\n"
	    "    deploy: {mode: global, restart_policy: {condition: any},"
	    " update_config: {parallelism: 0}}\n"
	    "  n:\n    image: shipd-test/svc:1\n    restart: always\n"
	    "    deploy: {restart_policy: {condition: none}}\n", &r);
	u = unit(r.s, "api");
	assert_int_equal(u->replicas, 3);
	assert_int_equal(u->nano_cpus, 1500000000);
	assert_int_equal(u->memory, 128 << 20);
	assert_string_equal(u->restart, "on-failure");
	assert_int_equal(u->restart_max, 4);
	assert_int_equal(u->update.parallelism, 2);
	assert_int_equal(u->update.order, UPDATE_START_FIRST);
	assert_int_equal(u->update.on_failure, UPDATE_PAUSE);
	assert_int_equal(u->update.monitor_ms, 15000);
	u = unit(r.s, "w");
	assert_int_equal(u->replicas, 1);
	assert_string_equal(u->restart, "always");
	assert_int_equal(u->update.parallelism, UNIT_REPLICAS_MAX);
	assert_int_equal(u->update.on_failure, UPDATE_ROLLBACK);
	assert_string_equal(unit(r.s, "n")->restart, "no");
	res_free(&r);
}

/* ---- networks ---------------------------------------------------------------- */

static void
test_networks(void **state)
{
	struct res		 r;
	const struct unit	*u;

	(void)state;
	map_ok(SVC "    networks: [front, back]\n"
	    "  db:\n    image: shipd-test/svc:1\n    networks:\n"
	    "      back:\n"
	    "  w:\n    image: shipd-test/svc:1\n"
	    "networks:\n  front:\n  back: {driver: bridge}\n"
	    "  default:\n", &r);
	assert_int_equal(r.s->nnetworks, 2);
	assert_string_equal(r.s->networks[0], "back");
	u = unit(r.s, "api");
	assert_int_equal(u->nnetworks, 2);
	u = unit(r.s, "db");
	assert_int_equal(u->nnetworks, 1);
	assert_string_equal(u->networks[0].name, "back");
	/* compose: no networks is the default one alone */
	u = unit(r.s, "w");
	assert_int_equal(u->nnetworks, 1);
	assert_string_equal(u->networks[0].name, "default");
	res_free(&r);
}

/* ---- x-shipd ------------------------------------------------------------------ */

static void
test_x_shipd(void **state)
{
	struct res		 r;
	const struct unit	*u;

	(void)state;
	map_ok(SVC "    volumes: [db:/var/lib/db]\n"
	    "    x-shipd:\n      backup:\n        paths: [/var/lib/db]\n"
	    "        keep: 3\n      update: {deadline: 90s}\n"
	    "    x-other: ignored\nvolumes: {db: {}}\n", &r);
	u = unit(r.s, "api");
	assert_true(u->backup.present);
	assert_int_equal(u->backup.keep, 3);
	assert_string_equal(u->backup.paths[0], "/var/lib/db");
	assert_int_equal(u->update.deadline_ms, 90000);
	res_free(&r);
}

/* ---- hostname and extra_hosts, in compose, units, JSON and the engine ------- */

static void
test_hostname_extra_hosts(void **state)
{
	struct res		 r;
	struct stack		*us = NULL, *js = NULL;
	struct diag_list	 errs;
	const struct unit	*u;
	json_t			*j, *spec;
	char			*dir, *path;
	char *const		 no_env[] = { NULL };
	char			 h1[65], h2[65];
	FILE			*f;

	(void)state;
	map_ok(SVC "    hostname: api-host\n"
	    "    extra_hosts: [\"db.internal:10.0.0.5\", \"v6=::1\"]\n"
	    "  w:\n    image: shipd-test/svc:1\n"
	    "    extra_hosts: {metadata: 169.254.169.254}\n", &r);
	u = unit(r.s, "api");
	assert_string_equal(u->hostname, "api-host");
	assert_argv(u->extra_hosts, "db.internal:10.0.0.5", "v6:::1", NULL);
	assert_argv(unit(r.s, "w")->extra_hosts, "metadata:169.254.169.254",
	    NULL);
	assert_null(unit(r.s, "w")->hostname);

	/* the engine gets them; without, the replica's own name */
	spec = spec_container(r.s, u, 2, 1, false, true);
	assert_string_equal(json_string_value(json_object_get(spec,
	    "Hostname")), "api-host");
	assert_int_equal(json_array_size(json_object_get(json_object_get(spec,
	    "HostConfig"), "ExtraHosts")), 2);
	json_decref(spec);
	spec = spec_container(r.s, unit(r.s, "w"), 2, 1, false, true);
	assert_string_equal(json_string_value(json_object_get(spec,
	    "Hostname")), "w-2");
	json_decref(spec);

	/* shipctl's JSON carries them to shipd */
	diag_init(&errs);
	j = stack_to_json(r.s);
	assert_int_equal(stack_from_json(j, &js, &errs), 0);
	assert_string_equal(stack_unit(js, "api")->hostname, "api-host");
	assert_argv(stack_unit(js, "api")->extra_hosts,
	    "db.internal:10.0.0.5", "v6:::1", NULL);
	unit_spec_hash(u, h1);
	unit_spec_hash(stack_unit(js, "api"), h2);
	assert_string_equal(h1, h2);
	json_decref(j);
	stack_free(js);

	/* a unit file says the same, and the same rules hold */
	dir = xstrdup("/tmp/cmap/units-XXXXXX");
	assert_non_null(mkdtemp(dir));
	xasprintf(&path, "%s/api.yaml", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("image: shipd-test/svc:1\nhostname: api-host\n"
	    "extra_hosts: [\"db.internal:10.0.0.5\", \"v6:::1\"]\n"
	    "restart: \"no\"\nsysctls: {net.core.somaxconn: \"64\"}\n"
	    "tmpfs: [/run]\nulimits: {nofile: \"1024:2048\", nproc: 64}\n", f);
	fclose(f);
	assert_int_equal(stack_load_dir(dir, no_env, &us, &errs), 0);
	assert_int_equal(stack_unit(us, "api")->nulimits, 2);
	assert_int_equal(stack_unit(us, "api")->nsysctls, 1);
	assert_argv(stack_unit(us, "api")->tmpfs, "/run", NULL);
	stack_free(us);
	us = NULL;
	assert_non_null(f = fopen(path, "w"));
	fputs("image: shipd-test/svc:1\nhostname: api-host\n"
	    "extra_hosts: [\"db.internal:10.0.0.5\", \"v6:::1\"]\n"
	    "restart: \"no\"\n", f);
	fclose(f);
	assert_int_equal(stack_load_dir(dir, no_env, &us, &errs), 0);
	unit_spec_hash(stack_unit(us, "api"), h2);
	assert_string_equal(h1, h2);
	stack_free(us);
	us = NULL;
	assert_non_null(f = fopen(path, "w"));
	fputs("image: shipd-test/svc:1\nhostname: -bad\n"
	    "extra_hosts: [\"nocolon\", \"h:not-an-ip\"]\n"
	    "sysctls: {\"a b\": \"1\"}\ntmpfs: [rel]\n"
	    "ulimits: {nofile: \"9:1\"}\n", f);
	fclose(f);
	assert_int_equal(stack_load_dir(dir, no_env, &us, &errs), -EINVAL);
	assert_int_equal(errs.n, 6);
	assert_int_equal(errs.v[5].line, 6);
	assert_non_null(strstr(errs.v[5].msg, "SOFT:HARD"));
	assert_int_equal(errs.v[3].line, 4);
	assert_non_null(strstr(errs.v[3].msg, "invalid sysctl name"));
	assert_int_equal(errs.v[4].line, 5);
	assert_int_equal(errs.v[0].line, 2);
	assert_non_null(strstr(errs.v[0].msg, "invalid host name"));
	assert_int_equal(errs.v[1].line, 3);
	assert_non_null(strstr(errs.v[2].msg, "'h:not-an-ip'"));
	remove(path);
	rmdir(dir);
	free(path);
	free(dir);
	diag_free(&errs);
	res_free(&r);

	map(SVC "    hostname: \"a b\"\n    extra_hosts: [\"x\"]\n", false,
	    &r);
	assert_int_equal(r.rc, -EINVAL);
	assert_has(&r.e, 4, "invalid host name");
	assert_has(&r.e, 5, "expected HOST:IP");
	res_free(&r);
}

/* ---- sysctls and tmpfs ------------------------------------------------------- */

static void
test_sysctls_tmpfs(void **state)
{
	struct res		 r;
	struct stack		*js = NULL;
	struct diag_list	 errs;
	const struct unit	*u;
	json_t			*spec, *host, *j;

	(void)state;
	map_ok(SVC "    sysctls:\n      net.ipv4.ip_forward: 1\n"
	    "      net.core.somaxconn: \"1024\"\n"
	    "    tmpfs: [/run, \"/tmp:size=64m,mode=1777\"]\n"
	    "    volumes:\n      - type: tmpfs\n        target: /scratch\n"
	    "        tmpfs: {size: 1m, mode: 0700}\n"
	    "    ulimits:\n      nproc: 65535\n"
	    "      nofile: {soft: 1024, hard: 65536}\n"
	    "  w:\n    image: shipd-test/svc:1\n"
	    "    sysctls: [kernel.shm_rmid_forced=1]\n    tmpfs: /cache\n",
	    &r);
	u = unit(r.s, "api");
	assert_int_equal(u->nsysctls, 2);
	assert_string_equal(u->sysctls[0].key, "net.core.somaxconn");
	assert_string_equal(u->sysctls[1].value, "1");
	assert_argv(u->tmpfs, "/run", "/tmp:size=64m,mode=1777",
	    "/scratch:size=1048576,mode=700", NULL);
	assert_int_equal(u->nmounts, 0);
	assert_int_equal(u->nulimits, 2);
	assert_string_equal(u->ulimits[0].key, "nofile");
	assert_string_equal(u->ulimits[0].value, "1024:65536");
	assert_string_equal(u->ulimits[1].value, "65535");
	assert_argv(unit(r.s, "w")->tmpfs, "/cache", NULL);
	assert_string_equal(unit(r.s, "w")->sysctls[0].key,
	    "kernel.shm_rmid_forced");

	spec = spec_container(r.s, u, 1, 1, false, true);
	host = json_object_get(spec, "HostConfig");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    host, "Sysctls"), "net.core.somaxconn")), "1024");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    host, "Tmpfs"), "/tmp")), "size=64m,mode=1777");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    host, "Tmpfs"), "/run")), "");
	assert_int_equal(json_array_size(json_object_get(host, "Ulimits")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(host, "Ulimits"), 0), "Name")), "nofile");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(host, "Ulimits"), 0), "Hard")), 65536);
	json_decref(spec);

	diag_init(&errs);
	j = stack_to_json(r.s);
	assert_int_equal(stack_from_json(j, &js, &errs), 0);
	assert_int_equal(stack_unit(js, "api")->nsysctls, 2);
	assert_int_equal(stack_unit(js, "api")->nulimits, 2);
	assert_argv(stack_unit(js, "api")->tmpfs, "/run",
	    "/tmp:size=64m,mode=1777", "/scratch:size=1048576,mode=700", NULL);
	json_decref(j);
	stack_free(js);
	diag_free(&errs);
	res_free(&r);

	map(SVC "    sysctls: {\"bad key\": 1}\n    tmpfs: [run]\n"
	    "    ulimits: {nofiles: 1, nproc: {soft: 10, hard: 5}, "
	    "core: {soft: 1}}\n", false, &r);
	assert_int_equal(r.rc, -EINVAL);
	assert_has(&r.e, 4, "invalid sysctl name");
	assert_has(&r.e, 5, "expected an absolute path");
	assert_has(&r.e, 6, "unknown limit 'nofiles'");
	assert_has(&r.e, 6, "soft at most hard");
	assert_has(&r.e, 6, "expected soft: and hard:");
	res_free(&r);
}

/* ---- the same containers as a unit file -------------------------------------- */

static void
test_same_hash_as_units(void **state)
{
	struct res	 r;
	struct stack	*us = NULL;
	struct diag_list errs;
	char		*dir, *path, *want, *got;
	char		 h1[65], h2[65];
	char *const	 no_env[] = { NULL };
	FILE		*f;

	(void)state;
	map_ok(SVC "    command: httpd -f -p 8080\n"
	    "    environment: {MODE: prod}\n    ports: [\"18081:8080\"]\n"
	    "    volumes: [\"web:/www\"]\n    restart: unless-stopped\n"
	    "    healthcheck: {test: [CMD, wget, -q, localhost:8080], "
	    "interval: 5s, timeout: 3s}\n    stop_grace_period: 10s\n"
	    "volumes: {web: {}}\n", &r);
	dir = xstrdup("/tmp/cmap/units-XXXXXX");
	assert_non_null(mkdtemp(dir));
	xasprintf(&path, "%s/api.yaml", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("image: shipd-test/svc:1\ncommand: [httpd, -f, -p, \"8080\"]\n"
	    "environment: {MODE: prod}\nports: [\"18081:8080\"]\n"
	    "volumes: [\"web:/www\"]\nrestart: unless-stopped\n"
	    "health: {test: [CMD, wget, -q, \"localhost:8080\"], "
	    "interval: 5s, timeout: 3s, retries: 3}\n", f);
	fclose(f);
	diag_init(&errs);
	assert_int_equal(stack_load_dir(dir, no_env, &us, &errs), 0);
	unit_spec_hash(unit(r.s, "api"), h1);
	unit_spec_hash(unit(us, "api"), h2);
	if (strcmp(h1, h2) != 0) {
		want = json_dumps(unit_spec_json(unit(us, "api")), JSON_SORT_KEYS);
		got = json_dumps(unit_spec_json(unit(r.s, "api")), JSON_SORT_KEYS);
		print_message("units:   %s\ncompose: %s\n", want, got);
		free(want);
		free(got);
	}
	assert_string_equal(h1, h2);
	remove(path);
	rmdir(dir);
	free(path);
	free(dir);
	stack_free(us);
	diag_free(&errs);
	res_free(&r);
}

/* ---- every loss: a warning where written, an error with strict ---------------- */

struct lossc {
	const char	*yaml;		/* after SVC, or a whole file */
	int		 line;
	const char	*want;
};

static const struct lossc losses[] = {
	{ SVC "    container_name: api1\n", 4, "names containers itself" },
	{ SVC "    logging: {driver: json-file}\n", 4, "logging" },
	{ SVC "    links: [db]\n  db: {image: x}\n", 4, "link aliases" },
	{ SVC "    pull_policy: daily\n", 4, "does not pull on a schedule" },
	{ SVC "    ports: [\"80\"]\n", 4, "random host port" },
	{ SVC "    ports: [{target: 80, published: 18090, foo: 1}]\n", 4,
	    "foo: not supported" },
	{ SVC "    environment: [FOO]\n", 4,
	    "api.environment[0]: FOO has no value" },
	{ SVC "    environment: {FOO: }\n", 4,
	    "api.environment.FOO: FOO has no value" },
	{ SVC "    volumes: [/scratch]\n", 4, "anonymous volume at /scratch" },
	{ SVC "    volumes: [{type: volume, target: /s}]\n", 4,
	    "anonymous volume" },
	{ SVC "    volumes: [\"./data:/d:z\"]\n", 4, "mount option 'z'" },
	{ SVC "    volumes: [{type: bind, source: ./data, target: /d, "
	    "bind: {propagation: shared}}]\n", 4, "bind: not supported" },
	{ SVC "    deploy: {update_config: {delay: 5s}}\n", 4, "no delay" },
	{ SVC "    deploy: {update_config: {failure_action: continue}}\n", 4,
	    "never continues" },
	{ SVC "    deploy: {update_config: {max_failure_ratio: 0.5}}\n", 4,
	    "first failed batch" },
	{ SVC "    deploy: {update_config: {foo: 1}}\n", 4,
	    "update_config.foo" },
	{ SVC "    deploy: {rollback_config: {parallelism: 1}}\n", 4,
	    "rolls back with" },
	{ SVC "    deploy: {placement: {constraints: []}}\n", 4,
	    "swarm setting" },
	{ SVC "    deploy: {resources: {reservations: {memory: 1g}}}\n", 4,
	    "limits only" },
	{ SVC "    deploy: {resources: {limits: {pids: 10}}}\n", 4,
	    "limits.pids" },
	{ SVC "    deploy: {restart_policy: {condition: on-failure, "
	    "delay: 5s}}\n", 4, "own backoff" },
	{ SVC "    deploy: {restart_policy: {condition: any, "
	    "max_attempts: 3}}\n", 4, "only with on-failure" },
	{ SVC "    healthcheck: {test: [CMD, \"true\"], frob: 1}\n", 4,
	    "not a healthcheck key" },
	{ SVC "    frobnicate: 1\n", 4, "not a compose service key" },
	{ SVC "    env_file: [{path: app.env, format: raw}]\n", 4, "raw" },
	{ SVC "    networks: {back: {aliases: [b]}}\nnetworks: {back: {}}\n",
	    4, "by name only" },
	{ SVC "    secrets: [{source: pw, mode: 0400}]\n"
	    "secrets: {pw: {file: db_password.txt}}\n", 4, "as it is" },
	{ "version: \"3.8\"\n" SVC, 1, "obsolete" },
	{ SVC "foo: 1\n", 4, "not a compose top-level key" },
	{ SVC "networks: {n: {driver: overlay}}\n", 4, "bridge driver" },
	{ SVC "networks: {n: {internal: true}}\n", 4, "n.internal" },
	{ SVC "volumes: {v: {name: legacy}}\n", 4, "names it cm_v" },
	{ SVC "volumes: {v: {driver_opts: {type: nfs}}}\n", 4, "driver_opts" },
	{ SVC "secrets: {pw: {file: db_password.txt, name: x}}\n", 4,
	    "pw.name" },
};

static void
test_losses(void **state)
{
	struct res	r;
	size_t		i;

	(void)state;
	for (i = 0; i < nitems(losses); i++) {
		print_message("loss %zu\n", i);
		map(losses[i].yaml, false, &r);
		if (r.rc != 0)
			print_diags("error", &r.e);
		assert_int_equal(r.rc, 0);
		assert_has(&r.w, losses[i].line, losses[i].want);
		res_free(&r);
		map(losses[i].yaml, true, &r);
		assert_int_equal(r.rc, -EINVAL);
		assert_has(&r.e, losses[i].line, losses[i].want);
		assert_int_equal(r.w.n, 0);
		res_free(&r);
	}
}

/* ---- every refusal -------------------------------------------------------------- */

static const struct lossc refusals[] = {
	{ "services:\n  api:\n    build: 'https://x/y.git'\n", 3,
	    "only a local directory can be a build context" },
	{ "services:\n  api:\n    build: {dockerfile: D}\n", 3,
	    "'context' is required" },
	{ "services:\n  api:\n    command: x\n", 2, "needs image:" },
	{ SVC "    ipc: host\n", 4,
	    "ipc changes what runs on the host, and shipd has no unit key" },
	{ SVC "    security_opt: [seccomp=unconfined]\n", 4,
	    "security_opt changes what runs" },
	{ SVC "    network_mode: bridge\n", 4, "expected host, got 'bridge'" },
	{ SVC "    pid: container:x\n", 4, "expected host" },
	{ SVC "    devices: [\"fuse\"]\n", 4, "devices" },
	{ SVC "    volumes: [nope:/x]\n", 4, "volume 'nope' is not declared" },
	{ SVC "    volumes: [{type: volume, source: nope, target: /x}]\n", 4,
	    "not declared" },
	{ SVC "    volumes: [\"./missing:/x\"]\n", 4, "compose would create it" },
	{ SVC "    volumes: [\"~/x:/x\"]\n", 4, "'~' is not expanded" },
	{ SVC "    volumes: [{type: npipe, source: a, target: /x}]\n", 4,
	    "not 'npipe'" },
	{ SVC "    volumes: [\"a:b:c:d\"]\n", 4, "expected [SOURCE:]TARGET" },
	{ SVC "    networks: [nope]\n", 4, "network 'nope' is not declared" },
	{ SVC "    networks: []\n", 4, "at least one network" },
	{ SVC "    depends_on: {db: {condition: service_up}}\n", 4,
	    "service_completed_successfully" },
	{ SVC "    ports: [\"99999:80\"]\n", 4, "invalid host port" },
	{ SVC "    ports: [\"8000-8002:80-81\"]\n", 4, "differ in length" },
	{ SVC "    ports: [\"80/sctp\"]\n", 4, "tcp or udp" },
	{ SVC "    ports: [{published: 80}]\n", 4, "target: is required" },
	{ SVC "    expose: [x]\n", 4, "invalid port 'x'" },
	{ SVC "    restart: sometimes\n", 4, "expected no, always" },
	{ SVC "    stop_signal: sig_term\n", 4, "expected a signal" },
	{ SVC "    working_dir: rel\n", 4, "absolute path" },
	{ SVC "    mem_limit: lots\n", 4, "expected a size" },
	{ SVC "    cpus: many\n", 4, "number of CPUs" },
	{ SVC "    deploy: {mode: replicated-job}\n", 4, "replicated" },
	{ SVC "    deploy: {replicas: -1}\n", 4, "replicas" },
	{ SVC "    deploy: {update_config: {order: random}}\n", 4,
	    "stop-first or start-first" },
	{ SVC "    deploy: {update_config: {failure_action: panic}}\n", 4,
	    "rollback, pause or continue" },
	{ SVC "    deploy: {restart_policy: {condition: sometimes}}\n", 4,
	    "none, on-failure or any" },
	{ SVC "    healthcheck: {test: [FOO]}\n", 4, "[CMD, arg...]" },
	{ SVC "    healthcheck: {test: \"true\"}\n"
	    "    x-shipd: {health: {tcp: 80}}\n", 5, "not both" },
	{ SVC "    x-shipd: {replicas: 2}\n", 4, "replicas" },
	{ SVC "    secrets: [nope]\n", 4, "'nope' is not declared" },
	{ SVC "secrets: {pw: {environment: PW}}\n", 4, "from files only" },
	{ SVC "configs: {c: {content: hi}}\n", 4, "from files only" },
	{ SVC "configs: {c: {}}\n", 4, "file: is required" },
	{ SVC "networks: {n: {external: true}}\n", 4, "external" },
	{ SVC "volumes: {v: {external: true}}\n", 4, "external" },
	{ SVC "x-shipd: {foo: 1}\n", 4, "takes retain" },
	{ SVC "volumes: {\"pg`data\": {}}\n", 4, "volumes.pg`data: invalid name" },
	{ SVC "networks: {\"a b\": {}}\n", 4, "networks.a b: invalid name" },
	{ "services: {}\n", 0, "no services" },
	{ "services:\n  Bad_Name!: {image: x}\n", 2, "Bad_Name!" },
	{ "services:\n  api:\n    image: [x]\n", 3, "expected a string" },
	{ SVC "    image: x\n", 4, "duplicate key 'image'" },
};

static void
test_refusals(void **state)
{
	struct res	r;
	size_t		i;

	(void)state;
	for (i = 0; i < nitems(refusals); i++) {
		print_message("refusal %zu\n", i);
		map(refusals[i].yaml, false, &r);
		assert_int_equal(r.rc, -EINVAL);
		if (refusals[i].line == 0)
			assert_true(r.e.n > 0 &&
			    strstr(r.e.v[0].msg, refusals[i].want) != NULL);
		else
			assert_has(&r.e, refusals[i].line, refusals[i].want);
		res_free(&r);
	}
	/* false, empty: nothing to refuse */
	map_ok(SVC "    privileged: false\n    devices: []\n    cap_add: []\n",
	    &r);
	res_free(&r);
}

/* build: what the engine's build takes becomes the unit's build; the
 * tag is image: when given, else shipd's per stack and service. */
static void
test_build(void **state)
{
	struct res		 r;
	const struct unit	*u;

	(void)state;
	map(SVC "    build:\n      context: ./src\n      dockerfile: D.prod\n"
	    "      args: [V=1]\n      target: prod\n      ssh: [default]\n"
	    "  web:\n    build: web\n", false, &r);
	assert_int_equal(r.rc, 0);
	assert_has(&r.w, 9, "build.ssh: shipd does not pass it");
	u = unit(r.s, "api");
	assert_true(u->build.present);
	assert_non_null(strstr(u->build.context, "/src"));
	assert_true(u->build.context[0] == '/');
	assert_string_equal(u->build.dockerfile, "D.prod");
	assert_string_equal(u->build.target, "prod");
	assert_int_equal(u->build.nargs, 1);
	assert_string_equal(u->image, "shipd-test/svc:1");
	u = unit(r.s, "web");
	assert_true(u->build.present);
	assert_string_equal(u->build.dockerfile, "Dockerfile");
	assert_non_null(u->image);
	assert_non_null(strstr(u->image, "-web:"));
	res_free(&r);
}

/* The keys that change what runs on the host become the unit's, for
 * shipd's policy to judge in pre-flight (docs/operations.md). */
static void
test_host_keys(void **state)
{
	struct res		 r;
	const struct unit	*u;

	(void)state;
	u = unit(map_ok(SVC "    privileged: true\n    pid: host\n"
	    "    devices: [\"/dev/fuse:/dev/fuse:rw\"]\n"
	    "    cap_add: [net_admin, CAP_SYS_TIME]\n    cap_drop: [ALL]\n",
	    &r), "api");
	assert_true(u->privileged);
	assert_true(u->host_pid);
	assert_false(u->host_network);
	assert_int_equal(u->ndevices, 1);
	assert_string_equal(u->devices[0].host, "/dev/fuse");
	assert_string_equal(u->devices[0].perms, "rw");
	assert_argv(u->cap_add, "NET_ADMIN", "SYS_TIME", NULL);
	assert_argv(u->cap_drop, "ALL", NULL);
	res_free(&r);
	u = unit(map_ok(SVC "    network_mode: host\n", &r), "api");
	assert_true(u->host_network);
	res_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_words),
		cmocka_unit_test(test_host_keys),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_defaults_and_scalars),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_volumes),
		cmocka_unit_test(test_depends_on),
		cmocka_unit_test(test_healthcheck),
		cmocka_unit_test(test_deploy),
		cmocka_unit_test(test_networks),
		cmocka_unit_test(test_x_shipd),
		cmocka_unit_test(test_hostname_extra_hosts),
		cmocka_unit_test(test_sysctls_tmpfs),
		cmocka_unit_test(test_same_hash_as_units),
		cmocka_unit_test(test_losses),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
