/*
 * The compose project loader: file lookup, project names, and (as they
 * land) merge, interpolation, profiles, extends and include.  Each test
 * writes a project into a fresh directory under /tmp and loads it.
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
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "compose.h"
#include "diag.h"
#include "util.h"
#include "ytree.h"
#include "ytree_merge.h"

static char *const no_env[] = { NULL };

/* ---- helpers ------------------------------------------------------------- */

static char *
mkproj(const char *name)
{
	char *dir, *sub;

	dir = xstrdup("/tmp/shipd-cload-XXXXXX");
	assert_non_null(mkdtemp(dir));
	if (name == NULL)
		return dir;
	xasprintf(&sub, "%s/%s", dir, name);
	assert_int_equal(mkdir(sub, 0755), 0);
	free(dir);
	return sub;
}

static void
put(const char *dir, const char *name, const char *text)
{
	char	*path, *slash;
	FILE	*f;

	xasprintf(&path, "%s/%s", dir, name);
	if ((slash = strrchr(path, '/')) != NULL && slash != path) {
		*slash = '\0';
		mkdir_p(path, 0755);
		*slash = '/';
	}
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	free(path);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Remove the mkdtemp directory (a named project sits one below it). */
static void
rmproj(char *dir, bool named)
{
	char *top = dir, *s;

	if (named && (s = strrchr(dir, '/')) != NULL)
		*s = '\0';
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* Whether some error's text holds want (all of them printed if not). */
static bool
has_err(const struct diag_list *errs, const char *want)
{
	char	*s;
	size_t	 i;
	bool	 found = false;

	for (i = 0; i < errs->n; i++) {
		s = diag_format(&errs->v[i]);
		if (strstr(s, want) != NULL)
			found = true;
		free(s);
	}
	if (!found) {
		fprintf(stderr, "no error with '%s' among %zu:\n", want,
		    errs->n);
		for (i = 0; i < errs->n; i++) {
			s = diag_format(&errs->v[i]);
			fprintf(stderr, "  %s\n", s);
			free(s);
		}
	}
	return found;
}

/* The value at a dotted path of maps ("services.api.image"), or NULL. */
static const struct ynode *
at(const struct ynode *n, const char *path)
{
	char		*p = xstrdup(path), *save = NULL, *k;
	size_t		 i;
	const struct ynode *cur = n;

	for (k = strtok_r(p, ".", &save); k != NULL && cur != NULL;
	    k = strtok_r(NULL, ".", &save)) {
		const struct ynode *next = NULL;

		if (cur->type != Y_MAP) {
			cur = NULL;
			break;
		}
		for (i = 0; i + 1 < cur->nkids; i += 2) {
			if (strcmp(cur->kids[i]->str, k) == 0)
				next = cur->kids[i + 1];
		}
		cur = next;
	}
	free(p);
	return cur;
}

static const char *
str_at(const struct ynode *n, const char *path)
{
	const struct ynode *v = at(n, path);

	return v != NULL && v->type == Y_SCALAR ? v->str : NULL;
}

static int
load(const char *dir, struct compose_project **p, struct diag_list *errs)
{
	struct compose_opts o;

	memset(&o, 0, sizeof o);
	o.dir = dir;
	o.envp = no_env;
	return compose_load(&o, p, errs);
}

/* ---- lookup and names ---------------------------------------------------- */

static void
test_lookup_order(void **state)
{
	char			*dir = mkproj(NULL), *f;
	struct compose_project	*p;
	struct diag_list	 errs;

	diag_init(&errs);
	assert_null(compose_find(dir));
	put(dir, "docker-compose.yml", "services: {a: {image: x:old}}\n");
	put(dir, "compose.yml", "services: {a: {image: x:yml}}\n");
	f = compose_find(dir);
	assert_non_null(strstr(f, "/compose.yml"));
	free(f);
	put(dir, "compose.yaml", "services: {a: {image: x:yaml}}\n");
	f = compose_find(dir);
	assert_non_null(strstr(f, "/compose.yaml"));
	free(f);
	assert_int_equal(load(dir, &p, &errs), 0);
	assert_string_equal(str_at(p->root, "services.a.image"), "x:yaml");
	compose_project_free(p);
	diag_free(&errs);
	rmproj(dir, false);
}

static void
test_no_file(void **state)
{
	char			*dir = mkproj(NULL);
	struct compose_project	*p;
	struct diag_list	 errs;

	diag_init(&errs);
	assert_int_equal(load(dir, &p, &errs), -ENOENT);
	assert_null(p);
	assert_true(has_err(&errs, "no compose file"));
	diag_free(&errs);
	rmproj(dir, false);
}

static void
test_name_from_dir(void **state)
{
	char			*dir = mkproj("My.App_1");
	struct compose_project	*p;
	struct diag_list	 errs;

	diag_init(&errs);
	put(dir, "compose.yaml", "services: {a: {image: x}}\n");
	assert_int_equal(load(dir, &p, &errs), 0);
	assert_string_equal(p->name, "myapp_1");
	assert_non_null(strstr(p->dir, "/My.App_1"));
	assert_non_null(strstr(p->files[0], "compose.yaml"));
	assert_null(p->files[1]);
	compose_project_free(p);
	diag_free(&errs);
	rmproj(dir, true);
}

static void
test_name_order(void **state)
{
	char			*dir = mkproj("dirname");
	char			*env[] = { "COMPOSE_PROJECT_NAME=fromenv", NULL };
	struct compose_project	*p;
	struct compose_opts	 o;
	struct diag_list	 errs;

	diag_init(&errs);
	put(dir, "compose.yaml", "name: fromfile\nservices: {a: {image: x}}\n");
	assert_int_equal(load(dir, &p, &errs), 0);
	assert_string_equal(p->name, "fromfile");
	compose_project_free(p);

	memset(&o, 0, sizeof o);
	o.dir = dir;
	o.envp = env;
	assert_int_equal(compose_load(&o, &p, &errs), 0);
	assert_string_equal(p->name, "fromenv");
	compose_project_free(p);

	o.project = "fromflag";
	assert_int_equal(compose_load(&o, &p, &errs), 0);
	assert_string_equal(p->name, "fromflag");
	compose_project_free(p);
	assert_int_equal(errs.n, 0);
	diag_free(&errs);
	rmproj(dir, true);
}

static void
test_name_invalid(void **state)
{
	char			*dir = mkproj("__");
	struct compose_project	*p;
	struct compose_opts	 o;
	struct diag_list	 errs;

	diag_init(&errs);
	put(dir, "compose.yaml", "services: {a: {image: x}}\n");
	assert_int_equal(load(dir, &p, &errs), -EINVAL);
	assert_true(has_err(&errs, "gives no valid project name"));
	diag_free(&errs);

	diag_init(&errs);
	put(dir, "compose.yaml", "name: My App\nservices: {a: {image: x}}\n");
	assert_int_equal(load(dir, &p, &errs), -EINVAL);
	assert_true(has_err(&errs, "compose.yaml:1:7: invalid project name "
	    "'My App'"));
	assert_true(has_err(&errs, "'myapp'"));
	diag_free(&errs);

	diag_init(&errs);
	memset(&o, 0, sizeof o);
	o.dir = dir;
	o.envp = no_env;
	o.project = "-x";
	assert_int_equal(compose_load(&o, &p, &errs), -EINVAL);
	assert_true(has_err(&errs, "invalid project name '-x' (-p)"));
	diag_free(&errs);
	rmproj(dir, true);
}


/* ---- files and merge ------------------------------------------------------ */

/* Load with options; the result or NULL, errors in errs. */
static struct compose_project *
loado(struct compose_opts *o, struct diag_list *errs, int want)
{
	struct compose_project *p = NULL;

	int			 rc;
	size_t			 i;
	char			*m;

	if (o->envp == NULL)
		o->envp = no_env;
	if ((rc = compose_load(o, &p, errs)) != want) {
		for (i = 0; i < errs->n; i++) {
			m = diag_format(&errs->v[i]);
			fprintf(stderr, "  %s\n", m);
			free(m);
		}
	}
	assert_int_equal(rc, want);
	if (want != 0)
		assert_null(p);
	return p;
}

static size_t
nkids(const struct ynode *n)
{
	assert_non_null(n);
	return n->nkids;
}

static const char *
kid(const struct ynode *n, size_t i)
{
	assert_non_null(n);
	assert_true(i < n->nkids);
	return n->kids[i]->str;
}

static void
test_override_file(void **state)
{
	char			*dir = mkproj(NULL), *f;
	struct compose_project	*p;
	struct compose_opts	 o;
	struct diag_list	 errs;

	diag_init(&errs);
	put(dir, "compose.yaml", "services:\n  a:\n    image: x:1\n"
	    "    user: root\n");
	put(dir, "compose.override.yaml", "services:\n  a:\n    image: x:2\n");
	memset(&o, 0, sizeof o);
	o.dir = dir;
	p = loado(&o, &errs, 0);
	assert_string_equal(str_at(p->root, "services.a.image"), "x:2");
	assert_string_equal(str_at(p->root, "services.a.user"), "root");
	/* The value names the file it came from. */
	assert_non_null(strstr(at(p->root, "services.a.image")->file,
	    "compose.override.yaml"));
	assert_non_null(strstr(at(p->root, "services.a.user")->file,
	    "/compose.yaml"));
	assert_non_null(p->files[1]);
	compose_project_free(p);

	/* With -f, the override file is not read. */
	xasprintf(&f, "%s/compose.yaml", dir);
	memset(&o, 0, sizeof o);
	o.files = &f;
	o.nfiles = 1;
	p = loado(&o, &errs, 0);
	assert_string_equal(str_at(p->root, "services.a.image"), "x:1");
	assert_null(p->files[1]);
	compose_project_free(p);
	free(f);
	assert_int_equal(errs.n, 0);
	diag_free(&errs);
	rmproj(dir, false);
}

static void
test_files_in_order(void **state)
{
	char			*dir = mkproj("proj"), *f[3];
	struct compose_project	*p;
	struct compose_opts	 o;
	struct diag_list	 errs;

	diag_init(&errs);
	put(dir, "base.yaml", "services:\n  a: {image: x:1, restart: always}\n");
	put(dir, "sub/prod.yaml", "services:\n  a: {image: x:2}\n"
	    "  b: {image: y}\n");
	put(dir, "last.yaml", "services:\n  a: {image: x:3}\n");
	xasprintf(&f[0], "%s/base.yaml", dir);
	xasprintf(&f[1], "%s/sub/prod.yaml", dir);
	xasprintf(&f[2], "%s/last.yaml", dir);
	memset(&o, 0, sizeof o);
	o.files = f;
	o.nfiles = 3;
	p = loado(&o, &errs, 0);
	assert_string_equal(str_at(p->root, "services.a.image"), "x:3");
	assert_string_equal(str_at(p->root, "services.a.restart"), "always");
	assert_string_equal(str_at(p->root, "services.b.image"), "y");
	/* The project directory is the first file's; so is the name. */
	assert_string_equal(p->name, "proj");
	assert_non_null(strstr(p->dir, "/proj"));
	compose_project_free(p);

	/* A file that is not there is named, and is -errno. */
	free(f[1]);
	xasprintf(&f[1], "%s/nope.yaml", dir);
	p = loado(&o, &errs, -ENOENT);
	assert_true(has_err(&errs, "nope.yaml"));
	free(f[0]);
	free(f[1]);
	free(f[2]);
	diag_free(&errs);
	rmproj(dir, true);
}

static struct compose_project *
merge2(const char *a, const char *b, struct diag_list *errs, int want)
{
	char			*dir = mkproj("m"), *f[2];
	struct compose_project	*p;
	struct compose_opts	 o;

	put(dir, "a.yaml", a);
	put(dir, "b.yaml", b);
	xasprintf(&f[0], "%s/a.yaml", dir);
	xasprintf(&f[1], "%s/b.yaml", dir);
	memset(&o, 0, sizeof o);
	o.files = f;
	o.nfiles = 2;
	p = loado(&o, errs, want);
	free(f[0]);
	free(f[1]);
	rmproj(dir, true);
	return p;
}

static void
test_merge_rules(void **state)
{
	struct compose_project	*p;
	struct diag_list	 errs;
	const struct ynode	*n;

	diag_init(&errs);
	p = merge2(
	    "services:\n"
	    "  a:\n"
	    "    image: x\n"
	    "    command: [echo, one, two]\n"
	    "    entrypoint: /bin/a\n"
	    "    healthcheck: {test: [CMD, a], interval: 5s}\n"
	    "    ports: ['8080:80', '443', {target: 9000, published: 9000}]\n"
	    "    expose: ['1', '2']\n"
	    "    dns: [1.1.1.1]\n"
	    "    volumes: ['data:/data', './web:/srv:ro', /anon]\n"
	    "    environment: [A=1, B=2, C]\n"
	    "    labels: {x: '1', y: '2'}\n"
	    "    secrets: [s1]\n"
	    "    depends_on: [db]\n"
	    "    build: ./ctx\n"
	    "    logging: {driver: json-file, options: {max-size: 1m}}\n"
	    "    deploy: {resources: {limits: {cpus: '1', memory: 1g}}}\n"
	    "  db: {image: db}\n",
	    "services:\n"
	    "  a:\n"
	    "    command: [echo, three]\n"
	    "    entrypoint: [/bin/b]\n"
	    "    healthcheck: {test: [CMD, b]}\n"
	    "    ports: ['8080:80', '8443:443', {target: 9000, published: "
	    "9000, protocol: tcp}]\n"
	    "    expose: ['2', '3']\n"
	    "    dns: [8.8.8.8]\n"
	    "    volumes: ['other:/data', {type: tmpfs, target: /tmp}]\n"
	    "    environment: {B: '20', D: '4'}\n"
	    "    labels: [y=20, z=3]\n"
	    "    secrets: [{source: s2, target: /run/secrets/s1}]\n"
	    "    depends_on: {cache: {condition: service_healthy}}\n"
	    "    build: {dockerfile: Dockerfile.prod}\n"
	    "    logging: {driver: json-file, options: {max-file: '3'}}\n"
	    "    deploy: {resources: {limits: {memory: 2g}}}\n"
	    "  cache: {image: c}\n", &errs, 0);
	/* command, entrypoint and healthcheck.test are replaced whole. */
	n = at(p->root, "services.a.command");
	assert_int_equal(nkids(n), 2);
	assert_string_equal(kid(n, 1), "three");
	assert_int_equal(nkids(at(p->root, "services.a.entrypoint")), 1);
	n = at(p->root, "services.a.healthcheck.test");
	assert_int_equal(nkids(n), 2);
	assert_string_equal(kid(n, 1), "b");
	assert_string_equal(str_at(p->root, "services.a.healthcheck.interval"),
	    "5s");
	/* ports: unique by ip, published, target and protocol. */
	n = at(p->root, "services.a.ports");
	assert_int_equal(nkids(n), 4);
	assert_string_equal(kid(n, 0), "8080:80");
	assert_string_equal(kid(n, 1), "443");
	assert_int_equal(n->kids[2]->type, Y_MAP);
	assert_non_null(ytree_get(n->kids[2], "protocol"));
	assert_string_equal(kid(n, 3), "8443:443");
	n = at(p->root, "services.a.expose");
	assert_int_equal(nkids(n), 3);
	n = at(p->root, "services.a.dns");
	assert_int_equal(nkids(n), 2);
	assert_string_equal(kid(n, 1), "8.8.8.8");
	/* volumes: one per target, the later in the earlier's place. */
	n = at(p->root, "services.a.volumes");
	assert_int_equal(nkids(n), 4);
	assert_string_equal(kid(n, 0), "other:/data");
	assert_string_equal(kid(n, 1), "./web:/srv:ro");
	assert_string_equal(kid(n, 2), "/anon");
	assert_int_equal(n->kids[3]->type, Y_MAP);
	/* environment (list, then map): by key, as a mapping. */
	n = at(p->root, "services.a.environment");
	assert_int_equal(n->type, Y_MAP);
	assert_string_equal(str_at(n, "A"), "1");
	assert_string_equal(str_at(n, "B"), "20");
	assert_string_equal(str_at(n, "D"), "4");
	assert_non_null(at(n, "C"));
	assert_true(ytree_null(at(n, "C")));
	assert_non_null(strstr(at(n, "B")->file, "b.yaml"));
	n = at(p->root, "services.a.labels");
	assert_string_equal(str_at(n, "x"), "1");
	assert_string_equal(str_at(n, "y"), "20");
	assert_string_equal(str_at(n, "z"), "3");
	/* secrets: one per target (s1 is /run/secrets/s1). */
	n = at(p->root, "services.a.secrets");
	assert_int_equal(nkids(n), 1);
	assert_int_equal(n->kids[0]->type, Y_MAP);
	/* depends_on: the list form is condition service_started. */
	assert_string_equal(str_at(p->root,
	    "services.a.depends_on.db.condition"), "service_started");
	assert_string_equal(str_at(p->root,
	    "services.a.depends_on.cache.condition"), "service_healthy");
	/* build: a string is the context. */
	assert_string_equal(str_at(p->root, "services.a.build.context"),
	    "./ctx");
	assert_string_equal(str_at(p->root, "services.a.build.dockerfile"),
	    "Dockerfile.prod");
	/* logging with the same driver: options merge. */
	assert_string_equal(str_at(p->root,
	    "services.a.logging.options.max-size"), "1m");
	assert_string_equal(str_at(p->root,
	    "services.a.logging.options.max-file"), "3");
	assert_string_equal(str_at(p->root,
	    "services.a.deploy.resources.limits.cpus"), "1");
	assert_string_equal(str_at(p->root,
	    "services.a.deploy.resources.limits.memory"), "2g");
	assert_string_equal(str_at(p->root, "services.cache.image"), "c");
	compose_project_free(p);

	/* logging with another driver: replaced. */
	p = merge2("services:\n  a:\n    image: x\n    logging: {driver: "
	    "json-file, options: {max-size: 1m}}\n",
	    "services:\n  a:\n    logging: {driver: local}\n", &errs, 0);
	assert_string_equal(str_at(p->root, "services.a.logging.driver"),
	    "local");
	assert_null(at(p->root, "services.a.logging.options"));
	compose_project_free(p);
	/* A null changes nothing; a string in a list rule is a list of
	 * one; extra_hosts keeps several addresses of a host; devices are
	 * one per container path; a listed dependency is required. */
	p = merge2("services:\n  a:\n    image: x\n    user: root\n"
	    "    environment: {A: '1'}\n    dns: 1.1.1.1\n"
	    "    extra_hosts: ['h:1.1.1.1']\n    devices: ['/dev/a:/dev/x']\n"
	    "    depends_on: [db]\n  db: {image: db}\n",
	    "services:\n  a:\n    user:\n    environment:\n"
	    "    dns: [8.8.8.8, 1.1.1.1]\n"
	    "    extra_hosts: ['h:2.2.2.2', 'h:1.1.1.1']\n"
	    "    devices: ['/dev/b:/dev/x']\n", &errs, 0);
	assert_string_equal(str_at(p->root, "services.a.user"), "root");
	assert_string_equal(str_at(p->root, "services.a.environment.A"), "1");
	n = at(p->root, "services.a.dns");
	assert_int_equal(nkids(n), 2);
	assert_string_equal(kid(n, 0), "1.1.1.1");
	assert_string_equal(kid(n, 1), "8.8.8.8");
	n = at(p->root, "services.a.extra_hosts");
	assert_int_equal(nkids(n), 2);
	assert_string_equal(kid(n, 1), "h:2.2.2.2");
	n = at(p->root, "services.a.devices");
	assert_int_equal(nkids(n), 1);
	assert_string_equal(kid(n, 0), "/dev/b:/dev/x");
	compose_project_free(p);
	p = merge2("services:\n  a: {image: x, depends_on: [db]}\n"
	    "  db: {image: db}\n  c: {image: c}\n",
	    "services:\n  a: {depends_on: {c: {condition: "
	    "service_healthy}}}\n", &errs, 0);
	assert_string_equal(str_at(p->root,
	    "services.a.depends_on.db.required"), "true");
	assert_string_equal(str_at(p->root,
	    "services.a.depends_on.c.condition"), "service_healthy");
	compose_project_free(p);
	/* Two lists of KEY=VALUE stay a list, merged by key. */
	p = merge2("services:\n  a:\n    image: x\n    environment: [A=1, "
	    "B=2]\n", "services:\n  a:\n    environment: [B=3, C=4]\n",
	    &errs, 0);
	n = at(p->root, "services.a.environment");
	assert_int_equal(n->type, Y_SEQ);
	assert_int_equal(nkids(n), 3);
	assert_string_equal(kid(n, 1), "B=3");
	assert_string_equal(kid(n, 2), "C=4");
	compose_project_free(p);
	assert_int_equal(errs.n, 0);
	diag_free(&errs);
}

/* Whether any node under n (keys too) still carries a merge tag. */
static bool
has_merge_tag(const struct ynode *n)
{
	size_t i;

	if (n->tag != NULL && (strcmp(n->tag, "!reset") == 0 ||
	    strcmp(n->tag, "!override") == 0))
		return true;
	for (i = 0; i < n->nkids; i++) {
		if (has_merge_tag(n->kids[i]))
			return true;
	}
	return false;
}

static void
test_merge_tags_in_keys(void **state)
{
	char			*dir = mkproj(NULL);
	struct compose_project	*p;
	struct diag_list	 errs;

	/* Found by fuzz_compose: a tag inside a complex key was kept. */
	diag_init(&errs);
	put(dir, "compose.yaml", "services:\n  a: {image: x}\n"
	    "x-odd:\n  ? {v: !override [e]}\n  : 1\n  ? !reset k\n  : 2\n");
	assert_int_equal(load(dir, &p, &errs), 0);
	assert_false(has_merge_tag(p->root));
	assert_int_equal(nkids(at(p->root, "x-odd")), 2);
	compose_project_free(p);
	diag_free(&errs);
	rmproj(dir, false);
}

static void
test_merge_reset_override(void **state)
{
	struct compose_project	*p;
	struct diag_list	 errs;
	const struct ynode	*n;

	diag_init(&errs);
	p = merge2("services:\n  a:\n    image: x\n    ports: ['8080:80']\n"
	    "    environment: {FOO: bar, KEEP: '1'}\n    user: root\n"
	    "    volumes: ['d:/d']\n",
	    "services:\n  a:\n    ports: !reset []\n"
	    "    environment:\n      FOO: !reset null\n"
	    "    user: !reset ''\n"
	    "    volumes: !override ['e:/e']\n"
	    "    new: {gone: !reset x, kept: y}\n", &errs, 0);
	assert_null(at(p->root, "services.a.ports"));
	assert_null(at(p->root, "services.a.environment.FOO"));
	assert_string_equal(str_at(p->root, "services.a.environment.KEEP"),
	    "1");
	assert_null(at(p->root, "services.a.user"));
	n = at(p->root, "services.a.volumes");
	assert_int_equal(nkids(n), 1);
	assert_string_equal(kid(n, 0), "e:/e");
	assert_null(n->tag);
	assert_null(at(p->root, "services.a.new.gone"));
	assert_string_equal(str_at(p->root, "services.a.new.kept"), "y");
	compose_project_free(p);
	assert_int_equal(errs.n, 0);
	diag_free(&errs);
}

/* ---- interpolation -------------------------------------------------------- */

static struct compose_project *
interp(const char *yaml, char *const *env, const char *dotenv,
    struct diag_list *errs, struct diag_list *warns, int want)
{
	char			*dir = mkproj("i");
	struct compose_project	*p;
	struct compose_opts	 o;

	put(dir, "compose.yaml", yaml);
	if (dotenv != NULL)
		put(dir, ".env", dotenv);
	memset(&o, 0, sizeof o);
	o.dir = dir;
	o.envp = env;
	o.warns = warns;
	p = loado(&o, errs, want);
	rmproj(dir, true);
	return p;
}

static void
test_interpolation(void **state)
{
	char *env[] = { "SET=v", "EMPTY=", "TAG=from-env", NULL };
	struct compose_project	*p;
	struct diag_list	 errs, warns;
	const struct ynode	*e;

	diag_init(&errs);
	diag_init(&warns);
	p = interp(
	    "services:\n"
	    "  a:\n"
	    "    image: x:${TAG}\n"
	    "    environment:\n"
	    "      A: ${SET}-$SET\n"
	    "      B: ${UNSET:-dflt}|${EMPTY:-e}|${EMPTY-keep}\n"
	    "      C: ${UNSET-d2}|${SET:-no}\n"
	    "      D: ${SET:+alt}|${EMPTY:+alt}|${EMPTY+set}|${UNSET+no}\n"
	    "      E: $$SET $${SET} $$\n"
	    "      F: ${UNSET:-${ALSO:-${SET}}}\n"
	    "      G: ${DOT}\n"
	    "      H: ${NOPE}end\n"
	    "      $SET: key-kept\n"
	    "      P: ${COMPOSE_PROJECT_NAME}\n"
	    "      Q: \"cost: $5 and $ alone\"\n",
	    env, "TAG=from-dotenv\nDOT=dotenv\n", &errs, &warns, 0);
	assert_string_equal(str_at(p->root, "services.a.image"),
	    "x:from-env");
	e = at(p->root, "services.a.environment");
	assert_string_equal(str_at(e, "A"), "v-v");
	assert_string_equal(str_at(e, "B"), "dflt|e|");
	assert_string_equal(str_at(e, "C"), "d2|v");
	assert_string_equal(str_at(e, "D"), "alt||set|");
	assert_string_equal(str_at(e, "E"), "$SET ${SET} $");
	assert_string_equal(str_at(e, "F"), "v");
	assert_string_equal(str_at(e, "G"), "dotenv");
	assert_string_equal(str_at(e, "H"), "end");
	assert_string_equal(str_at(e, "$SET"), "key-kept");
	assert_string_equal(str_at(e, "P"), "i");
	assert_string_equal(str_at(e, "Q"), "cost: $5 and $ alone");
	/* An unset variable is a warning at its place, once. */
	assert_int_equal(warns.n, 1);
	assert_true(has_err(&warns, "compose.yaml:12:10: "
	    "services.a.environment.H: variable 'NOPE' is not set"));
	compose_project_free(p);
	assert_int_equal(errs.n, 0);

	/* Required variables: the message and the place. */
	p = interp("services:\n  a:\n    image: x\n    user: ${U:?give a "
	    "user}\n    working_dir: ${EMPTY:?}\n    hostname: ${EMPTY?}\n",
	    env, NULL, &errs, NULL, -EINVAL);
	assert_true(has_err(&errs, "compose.yaml:4:11: services.a.user: "
	    "variable 'U' is not set or empty: give a user"));
	assert_true(has_err(&errs, "compose.yaml:5:18: services.a.working_dir:"
	    " variable 'EMPTY' is not set or empty"));
	assert_int_equal(errs.n, 2);
	diag_free(&errs);
	diag_init(&errs);
	p = interp("services:\n  a:\n    image: ${BAD\n", env, NULL, &errs,
	    NULL, -EINVAL);
	assert_true(has_err(&errs, "compose.yaml:3:12: services.a.image: "
	    "unterminated '${BAD'"));
	diag_free(&errs);
	diag_init(&errs);
	p = interp("services:\n  a:\n    image: ${X/a/b}\n", env, NULL, &errs,
	    NULL, -EINVAL);
	assert_true(has_err(&errs, "services.a.image: invalid character"));
	diag_free(&errs);
	diag_free(&warns);
}

static void
test_env_files(void **state)
{
	char			*dir = mkproj("e"), *ef[2], *missing;
	char			*env[] = { "B=env", NULL };
	struct compose_project	*p;
	struct compose_opts	 o;
	struct diag_list	 errs;

	diag_init(&errs);
	put(dir, "compose.yaml", "services:\n  a:\n    image: "
	    "\"${A:-}|${B:-}|${C:-}\"\n");
	put(dir, ".env", "A=dot\nC=dot\n");
	put(dir, "one.env", "A=one\nB=one\n");
	put(dir, "two.env", "A=two\n");
	memset(&o, 0, sizeof o);
	o.dir = dir;
	o.envp = env;
	p = loado(&o, &errs, 0);
	/* The caller's environment wins over .env. */
	assert_string_equal(str_at(p->root, "services.a.image"),
	    "dot|env|dot");
	compose_project_free(p);
	/* --env-file replaces .env; a later one wins. */
	xasprintf(&ef[0], "%s/one.env", dir);
	xasprintf(&ef[1], "%s/two.env", dir);
	o.env_files = ef;
	o.nenv_files = 2;
	p = loado(&o, &errs, 0);
	assert_string_equal(str_at(p->root, "services.a.image"), "two|env|");
	compose_project_free(p);
	assert_int_equal(errs.n, 0);
	xasprintf(&missing, "%s/missing.env", dir);
	o.env_files = &missing;
	o.nenv_files = 1;
	p = loado(&o, &errs, -ENOENT);
	assert_true(has_err(&errs, "missing.env: env file:"));
	free(missing);
	free(ef[0]);
	free(ef[1]);
	diag_free(&errs);
	/* A bad line of .env is an error at its line. */
	diag_init(&errs);
	put(dir, ".env", "A=1\nnot a line\n");
	o.env_files = NULL;
	o.nenv_files = 0;
	p = loado(&o, &errs, -EINVAL);
	assert_true(has_err(&errs, "/.env:2:1: expected KEY=VALUE"));
	diag_free(&errs);
	rmproj(dir, true);
}

static void
test_name_interpolated(void **state)
{
	char *env[] = { "STAGE=prod", NULL };
	struct compose_project	*p;
	struct diag_list	 errs;

	diag_init(&errs);
	p = interp("name: shop-${STAGE}\nservices:\n  a:\n    image: x\n"
	    "    hostname: ${COMPOSE_PROJECT_NAME}\n", env, NULL, &errs, NULL,
	    0);
	assert_string_equal(p->name, "shop-prod");
	assert_string_equal(str_at(p->root, "services.a.hostname"),
	    "shop-prod");
	compose_project_free(p);
	/* COMPOSE_PROJECT_NAME from .env names the project too. */
	p = interp("services:\n  a:\n    image: x\n", no_env,
	    "COMPOSE_PROJECT_NAME=fromdot\n", &errs, NULL, 0);
	assert_string_equal(p->name, "fromdot");
	compose_project_free(p);
	assert_int_equal(errs.n, 0);
	diag_free(&errs);
}

/* ---- profiles ------------------------------------------------------------- */

static const char profiles_yaml[] =
    "services:\n"
    "  foo: {image: foo}\n"
    "  bar: {image: bar, profiles: [test]}\n"
    "  baz: {image: baz, depends_on: [bar], profiles: [test]}\n"
    "  zot:\n"
    "    image: zot\n"
    "    depends_on:\n"
    "      bar: {condition: service_started}\n"
    "      opt: {condition: service_started, required: false}\n"
    "    profiles: [debug]\n"
    "  opt: {image: opt, profiles: [never]}\n";

static bool
has_svc(const struct compose_project *p, const char *name)
{
	char	*path;
	bool	 r;

	xasprintf(&path, "services.%s", name);
	r = at(p->root, path) != NULL;
	free(path);
	return r;
}

static struct compose_project *
with_profiles(char **prof, size_t n, char *const *env, struct diag_list *errs,
    int want)
{
	char			*dir = mkproj("p");
	struct compose_project	*p;
	struct compose_opts	 o;

	put(dir, "compose.yaml", profiles_yaml);
	memset(&o, 0, sizeof o);
	o.dir = dir;
	o.profiles = prof;
	o.nprofiles = n;
	o.envp = env;
	p = loado(&o, errs, want);
	rmproj(dir, true);
	return p;
}

static void
test_profiles(void **state)
{
	char			*test[] = { "test" }, *debug[] = { "debug" };
	char			*both[] = { "debug", "test" };
	char			*env[] = { "COMPOSE_PROFILES=test,debug", NULL };
	char			*all[] = { "COMPOSE_PROFILES=*", NULL };
	struct compose_project	*p;
	struct diag_list	 errs;

	diag_init(&errs);
	p = with_profiles(NULL, 0, NULL, &errs, 0);
	assert_true(has_svc(p, "foo"));
	assert_false(has_svc(p, "bar"));
	assert_false(has_svc(p, "baz"));
	assert_false(has_svc(p, "zot"));
	compose_project_free(p);
	p = with_profiles(test, 1, NULL, &errs, 0);
	assert_true(has_svc(p, "foo") && has_svc(p, "bar") &&
	    has_svc(p, "baz"));
	assert_false(has_svc(p, "zot"));
	compose_project_free(p);
	/* zot needs bar, left out: an error naming both. */
	p = with_profiles(debug, 1, NULL, &errs, -EINVAL);
	assert_true(has_err(&errs, "compose.yaml:8:7: services.zot.depends_on:"
	    " service 'zot' needs 'bar', which its profiles (test) leave out"));
	/* opt is not required: no error for it. */
	assert_int_equal(errs.n, 1);
	diag_free(&errs);
	diag_init(&errs);
	p = with_profiles(both, 2, NULL, &errs, 0);
	assert_true(has_svc(p, "zot") && has_svc(p, "bar"));
	assert_false(has_svc(p, "opt"));
	/* The dependency that is not required goes with the service. */
	assert_null(at(p->root, "services.zot.depends_on.opt"));
	assert_non_null(at(p->root, "services.zot.depends_on.bar"));
	compose_project_free(p);
	p = with_profiles(NULL, 0, env, &errs, 0);
	assert_true(has_svc(p, "zot") && has_svc(p, "baz"));
	compose_project_free(p);
	p = with_profiles(NULL, 0, all, &errs, 0);
	assert_true(has_svc(p, "opt"));
	compose_project_free(p);
	assert_int_equal(errs.n, 0);
	diag_free(&errs);

	/* profiles is a list of names. */
	diag_init(&errs);
	p = interp("services:\n  a: {image: x, profiles: debug}\n"
	    "  b: {image: x, profiles: [ok, '', {x: y}]}\n", no_env, NULL,
	    &errs, NULL, -EINVAL);
	assert_true(has_err(&errs, "compose.yaml:2:27: services.a.profiles: "
	    "expected a list of profile names, got a scalar"));
	assert_true(has_err(&errs, "services.b.profiles[1]: expected a "
	    "profile name, got an empty string"));
	assert_true(has_err(&errs, "services.b.profiles[2]: expected a "
	    "profile name, got a mapping"));
	diag_free(&errs);
}

/* ---- extends -------------------------------------------------------------- */

static void
test_extends(void **state)
{
	char			*dir = mkproj("x");
	struct compose_project	*p;
	struct diag_list	 errs;
	const struct ynode	*n;

	diag_init(&errs);
	put(dir, "compose.yaml",
	    "services:\n"
	    "  base: {image: busybox, user: root, environment: {TZ: utc, "
	    "PORT: '80'}}\n"
	    "  common: {image: busybox, extends: {service: base}}\n"
	    "  cli:\n"
	    "    extends: common\n"
	    "    environment: [PORT=8080]\n"
	    "  web:\n"
	    "    extends: {file: lib/common.yaml, service: webapp}\n"
	    "    ports: ['8080:80']\n");
	put(dir, "lib/common.yaml",
	    "services:\n"
	    "  webapp:\n"
	    "    image: web\n"
	    "    build: ./ctx\n"
	    "    env_file: web.env\n"
	    "    volumes: ['./html:/srv', 'named:/data']\n"
	    "    ports: ['9090:90']\n");
	p = load(dir, &p, &errs) == 0 ? p : NULL;
	assert_non_null(p);
	assert_string_equal(str_at(p->root, "services.cli.user"), "root");
	assert_string_equal(str_at(p->root, "services.cli.image"), "busybox");
	assert_string_equal(str_at(p->root, "services.cli.environment.TZ"),
	    "utc");
	assert_string_equal(str_at(p->root, "services.cli.environment.PORT"),
	    "8080");
	assert_null(at(p->root, "services.cli.extends"));
	assert_null(at(p->root, "services.common.extends"));
	assert_string_equal(str_at(p->root, "services.web.image"), "web");
	n = at(p->root, "services.web.ports");
	assert_int_equal(nkids(n), 2);
	assert_string_equal(kid(n, 0), "9090:90");
	/* Paths of the other file mean what they meant in its directory. */
	assert_non_null(strstr(str_at(p->root, "services.web.build"),
	    "/x/lib/ctx"));
	assert_string_equal(str_at(p->root, "services.web.build") + 0,
	    str_at(p->root, "services.web.build"));
	assert_non_null(strstr(kid(at(p->root, "services.web.volumes"), 0),
	    "/x/lib/html:/srv"));
	assert_string_equal(kid(at(p->root, "services.web.volumes"), 1),
	    "named:/data");
	assert_non_null(strstr(str_at(p->root, "services.web.env_file"),
	    "/x/lib/web.env"));
	assert_non_null(strstr(at(p->root, "services.web.image")->file,
	    "lib/common.yaml"));
	compose_project_free(p);
	assert_int_equal(errs.n, 0);
	diag_free(&errs);
	rmproj(dir, true);
}

static void
test_extends_errors(void **state)
{
	char			*dir = mkproj("x");
	struct compose_project	*p;
	struct diag_list	 errs;

	diag_init(&errs);
	put(dir, "compose.yaml",
	    "services:\n"
	    "  a: {image: x, extends: b}\n"
	    "  b: {image: x, extends: {service: c}}\n"
	    "  c: {image: x, extends: {service: a}}\n");
	assert_int_equal(load(dir, &p, &errs), -EINVAL);
	assert_true(has_err(&errs, "a cycle: a -> b -> c -> a"));
	diag_free(&errs);
	diag_init(&errs);
	put(dir, "compose.yaml",
	    "services:\n"
	    "  a: {image: x, extends: a}\n"
	    "  b: {image: x, extends: {service: nope}}\n"
	    "  c: {image: x, extends: {file: none.yaml, service: z}}\n"
	    "  d: {image: x, extends: {file: compose.yaml}}\n");
	assert_int_equal(load(dir, &p, &errs), -ENOENT);
	assert_true(has_err(&errs, "compose.yaml:2:26: services.a.extends: "
	    "a cycle: a -> a"));
	assert_true(has_err(&errs, "services.b.extends: no service 'nope'"));
	assert_true(has_err(&errs, "compose.yaml:4:33: extends: cannot read"));
	assert_true(has_err(&errs, "services.d.extends: needs 'service'"));
	diag_free(&errs);
	rmproj(dir, true);
}

/* ---- include -------------------------------------------------------------- */

static void
test_include(void **state)
{
	char			*dir = mkproj("inc");
	char			*env[] = { "WIN=caller", NULL };
	struct compose_project	*p;
	struct compose_opts	 o;
	struct diag_list	 errs;

	diag_init(&errs);
	put(dir, "compose.yaml",
	    "include:\n"
	    "  - db/compose.yaml\n"
	    "  - path: [cache/a.yaml, cache/b.yaml]\n"
	    "    project_directory: cache/root\n"
	    "    env_file: cache/vars.env\n"
	    "services:\n"
	    "  api: {image: api, depends_on: [db, cache], volumes: "
	    "['./code:/code']}\n");
	put(dir, "db/compose.yaml",
	    "services:\n"
	    "  db:\n"
	    "    image: db:${DBV}\n"
	    "    volumes: ['./data:/var/lib/db']\n"
	    "    environment: ['W=${WIN}']\n"
	    "volumes:\n  dbdata: {}\n"
	    "secrets:\n  pw: {file: ./pw.txt}\n");
	put(dir, "db/.env", "DBV=15\nWIN=dotenv\n");
	put(dir, "cache/a.yaml", "services:\n  cache: {image: c:1, build: .}\n");
	put(dir, "cache/b.yaml", "services:\n  cache: {image: 'c:${CV}'}\n");
	put(dir, "cache/vars.env", "CV=2\n");
	memset(&o, 0, sizeof o);
	o.dir = dir;
	o.envp = env;
	p = loado(&o, &errs, 0);
	assert_string_equal(str_at(p->root, "services.db.image"), "db:15");
	/* The including project's environment wins. */
	assert_string_equal(kid(at(p->root, "services.db.environment"), 0),
	    "W=caller");
	assert_non_null(strstr(kid(at(p->root, "services.db.volumes"), 0),
	    "/inc/db/data:/var/lib/db"));
	assert_non_null(strstr(str_at(p->root, "secrets.pw.file"),
	    "/inc/db/pw.txt"));
	assert_non_null(at(p->root, "volumes.dbdata"));
	assert_string_equal(str_at(p->root, "services.cache.image"), "c:2");
	assert_non_null(strstr(str_at(p->root, "services.cache.build"),
	    "/inc/cache/root"));
	/* The main project's own paths stay relative to it. */
	assert_string_equal(kid(at(p->root, "services.api.volumes"), 0),
	    "./code:/code");
	assert_null(at(p->root, "include"));
	assert_non_null(strstr(at(p->root, "services.db.image")->file,
	    "db/compose.yaml"));
	compose_project_free(p);

	/* With -f relative to the working directory, what the included
	 * project names is still absolute (the mapper resolves relative
	 * paths from the project directory, not from here). */
	{
		char	 cwd[4096], *rel = "inc/compose.yaml", *s;

		assert_non_null(getcwd(cwd, sizeof cwd));
		s = xstrdup(dir);
		*strrchr(s, '/') = '\0';
		assert_int_equal(chdir(s), 0);
		memset(&o, 0, sizeof o);
		o.files = &rel;
		o.nfiles = 1;
		o.envp = env;
		p = loado(&o, &errs, 0);
		assert_int_equal(chdir(cwd), 0);
		free(s);
		assert_true(kid(at(p->root, "services.db.volumes"), 0)[0] ==
		    '/');
		assert_true(str_at(p->root, "secrets.pw.file")[0] == '/');
		assert_true(str_at(p->root, "services.cache.build")[0] == '/');
		compose_project_free(p);
	}
	assert_int_equal(errs.n, 0);
	diag_free(&errs);
	rmproj(dir, true);
}

static void
test_include_errors(void **state)
{
	char			*dir = mkproj("inc");
	struct compose_project	*p;
	struct diag_list	 errs;

	diag_init(&errs);
	put(dir, "compose.yaml",
	    "include: [other.yaml]\n"
	    "services:\n  db: {image: mine}\n");
	put(dir, "other.yaml", "services:\n  db: {image: theirs}\n");
	assert_int_equal(load(dir, &p, &errs), -EINVAL);
	assert_true(has_err(&errs, "other.yaml:2:3: services.db, included "
	    "from"));
	assert_true(has_err(&errs, "is also defined at"));
	diag_free(&errs);
	diag_init(&errs);
	/* The same definitions twice (two includes of one file) are one. */
	put(dir, "compose.yaml", "include: [a/x.yaml, b/x.yaml]\n"
	    "services:\n  db: {image: db}\n");
	put(dir, "a/x.yaml", "include: [../common.yaml]\nservices:\n"
	    "  a: {image: a}\n");
	put(dir, "b/x.yaml", "include: [../common.yaml]\nservices:\n"
	    "  b: {image: b}\n");
	put(dir, "common.yaml", "services:\n  log: {image: log}\n");
	assert_int_equal(load(dir, &p, &errs), 0);
	assert_non_null(at(p->root, "services.log"));
	assert_non_null(at(p->root, "services.a"));
	assert_non_null(at(p->root, "services.b"));
	compose_project_free(p);
	assert_int_equal(errs.n, 0);
	put(dir, "compose.yaml", "include: [loop.yaml]\nservices: {}\n");
	put(dir, "loop.yaml", "include: [compose.yaml]\nservices: {}\n");
	assert_int_equal(load(dir, &p, &errs), -EINVAL);
	assert_true(has_err(&errs, "include: a cycle through"));
	diag_free(&errs);
	diag_init(&errs);
	put(dir, "compose.yaml", "include: [{project_directory: x}, "
	    "gone.yaml]\nservices: {}\n");
	assert_int_equal(load(dir, &p, &errs), -ENOENT);
	assert_true(has_err(&errs, "include: an entry needs 'path'"));
	assert_true(has_err(&errs, "include: cannot load"));
	diag_free(&errs);
	rmproj(dir, true);
}

static void
test_file_errors(void **state)
{
	char			*dir = mkproj("f");
	struct compose_project	*p;
	struct diag_list	 errs;

	diag_init(&errs);
	put(dir, "compose.yaml", "");
	assert_int_equal(load(dir, &p, &errs), -EINVAL);
	assert_true(has_err(&errs, "empty compose file"));
	diag_free(&errs);
	diag_init(&errs);
	put(dir, "compose.yaml", "- a\n");
	assert_int_equal(load(dir, &p, &errs), -EINVAL);
	assert_true(has_err(&errs, "must be a mapping"));
	diag_free(&errs);
	diag_init(&errs);
	put(dir, "compose.yaml", "services:\n  a: [\n");
	assert_int_equal(load(dir, &p, &errs), -EINVAL);
	assert_true(has_err(&errs, "YAML syntax error"));
	diag_free(&errs);
	rmproj(dir, true);
}

/* ---- the merge engine alone ----------------------------------------------- */

static struct ynode *
parse(const char *file, const char *text, struct diag_list *errs)
{
	struct yctx	 c = { file, NULL, errs, false };
	struct ynode	*n;

	assert_int_equal(ytree_parse(&c, text, strlen(text), &n), 0);
	return n;
}

/* Another table at another path: what unit overlays will use. */
static void
test_ytree_merge_generic(void **state)
{
	static const struct ymerge_rule r[] = {
		{ "*.env", YM_KV, NULL, "=", NULL, NULL },
		{ "*.cmd", YM_REPLACE, NULL, NULL, NULL, NULL },
		{ "*.tags", YM_KEYED, NULL, NULL, NULL, NULL },
	};
	const struct ymerge_rules rules = { r, 3 };
	struct diag_list	 errs;
	struct ynode		*a, *b, *m;

	diag_init(&errs);
	a = parse("base", "env: [A=1, B=2]\ncmd: [x, y]\ntags: [t1, t2]\n"
	    "list: [1]\nmap: {k: v}\n", &errs);
	b = parse("over", "env: [B=3]\ncmd: [z]\ntags: [t2, t3]\nlist: [1]\n"
	    "map: {k2: v2}\n", &errs);
	/* At "svc" the rules apply (*.env matches svc.env). */
	m = ytree_merge(&rules, "svc", a, b);
	assert_int_equal(nkids(ytree_get(m, "env")), 2);
	assert_string_equal(kid(ytree_get(m, "env"), 1), "B=3");
	assert_string_equal(ytree_get(m, "env")->kids[1]->file, "over");
	assert_int_equal(nkids(ytree_get(m, "cmd")), 1);
	assert_int_equal(nkids(ytree_get(m, "tags")), 3);
	/* No rule: lists append (duplicates kept), mappings merge. */
	assert_int_equal(nkids(ytree_get(m, "list")), 2);
	assert_int_equal(nkids(ytree_get(m, "map")), 4);
	ytree_free(m);
	/* At the root the rules do not match: plain appends. */
	a = parse("base", "env: [A=1]\ncmd: [x]\n", &errs);
	b = parse("over", "env: [A=2]\ncmd: [y]\n", &errs);
	m = ytree_merge(&rules, NULL, a, b);
	assert_int_equal(nkids(ytree_get(m, "env")), 2);
	assert_int_equal(nkids(ytree_get(m, "cmd")), 2);
	ytree_free(m);
	/* A !reset at the top leaves nothing. */
	a = parse("base", "k: v\n", &errs);
	b = parse("over", "!reset {}\n", &errs);
	assert_null(ytree_merge(&rules, NULL, a, b));
	assert_null(ytree_merge(&rules, NULL, NULL, NULL));
	assert_int_equal(errs.n, 0);
	diag_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_order),
		cmocka_unit_test(test_no_file),
		cmocka_unit_test(test_name_from_dir),
		cmocka_unit_test(test_name_order),
		cmocka_unit_test(test_name_invalid),
		cmocka_unit_test(test_override_file),
		cmocka_unit_test(test_files_in_order),
		cmocka_unit_test(test_merge_rules),
		cmocka_unit_test(test_merge_reset_override),
		cmocka_unit_test(test_merge_tags_in_keys),
		cmocka_unit_test(test_interpolation),
		cmocka_unit_test(test_env_files),
		cmocka_unit_test(test_name_interpolated),
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_extends),
		cmocka_unit_test(test_extends_errors),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_include_errors),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_ytree_merge_generic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
