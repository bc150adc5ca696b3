/*
 * The deploy policy: shipd's configuration file as read (values, the
 * defaults, every problem at file:line:col), the policy's decisions on
 * units, and the unit keys it judges (privileged, network_mode, pid,
 * devices, cap_add, cap_drop) through the unit file, JSON, the spec hash
 * and the engine's create body.
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

#include "core/config.h"
#include "engine/spec.h"
#include "helper_stack.h"
#include "ops/policy.h"
#include "unit.h"
#include "util.h"

static char *const no_env[] = { NULL };

static char *
mkdir_tmp(void)
{
	char *dir = xstrdup("/tmp/shipd-policy-XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static char *
put(const char *dir, const char *name, const char *text)
{
	char	*path;
	FILE	*f;

	xasprintf(&path, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	chmod(path, 0644);
	return path;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
rmdir_tmp(char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* Some diag, formatted, contains want. */
static void
assert_diag(const struct diag_list *errs, const char *want)
{
	if (!hs_has_diag(errs, want))
		print_message("wanted: %s\n", want);
	assert_true(hs_has_diag(errs, want));
}

static void
assert_refusal(json_t *out, const char *want)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(out, i, v)
		if (strstr(json_string_value(v), want) != NULL)
			return;
	json_array_foreach(out, i, v)
		print_message("  refusal: %s\n", json_string_value(v));
	print_message("wanted: %s\n", want);
	fail();
}

/* ---- the configuration file ---------------------------------------------- */

static void
test_config_values(void **state)
{
	struct shipd_conf	 conf;
	struct diag_list	 errs;
	char			*dir = mkdir_tmp(), *path, *text;

	xasprintf(&text, "policy:\n  bind_roots: [/srv/, /var/lib/../lib/app,"
	    " %s]\n  privileged: false\n  host_network: true\n"
	    "  cap_add: [net_bind_service, CAP_CHOWN]\n", dir);
	path = put(dir, "shipd.yaml", text);
	diag_init(&errs);
	assert_int_equal(config_load(path, true, &conf, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_true(conf.policy.set);
	assert_string_equal(conf.path, path);
	/* Tidied, and resolved where they exist. */
	assert_string_equal(conf.policy.bind_roots[0], "/srv");
	assert_string_equal(conf.policy.bind_roots[1], "/var/lib/app");
	assert_string_equal(conf.policy.bind_roots[2], dir);
	assert_null(conf.policy.bind_roots[3]);
	assert_false(conf.policy.privileged);
	assert_true(conf.policy.host_network);
	/* Left out: refused. */
	assert_false(conf.policy.host_pid);
	assert_false(conf.policy.devices);
	assert_string_equal(conf.policy.cap_add[0], "NET_BIND_SERVICE");
	assert_string_equal(conf.policy.cap_add[1], "CHOWN");
	config_free(&conf);
	diag_free(&errs);
	free(text);
	free(path);
	rmdir_tmp(dir);
}

static void
test_config_defaults(void **state)
{
	struct shipd_conf	 conf;
	struct diag_list	 errs;
	char			*dir = mkdir_tmp(), *path, *missing;

	diag_init(&errs);
	xasprintf(&missing, "%s/none.yaml", dir);
	/* The default path absent: the defaults, no policy. */
	assert_int_equal(config_load(missing, false, &conf, &errs), 0);
	assert_false(conf.policy.set);
	assert_null(conf.path);
	/* Named with -c: it must exist. */
	assert_int_equal(config_load(missing, true, &conf, &errs), -ENOENT);
	assert_diag(&errs, "none.yaml: No such file or directory");
	diag_free(&errs);
	/* An empty file: the defaults. */
	diag_init(&errs);
	path = put(dir, "empty.yaml", "");
	assert_int_equal(config_load(path, true, &conf, &errs), 0);
	assert_false(conf.policy.set);
	config_free(&conf);
	free(path);
	/* policy: with nothing under it allows nothing. */
	path = put(dir, "strict.yaml", "policy:\n");
	assert_int_equal(config_load(path, true, &conf, &errs), 0);
	assert_true(conf.policy.set);
	assert_null(conf.policy.bind_roots);
	assert_false(conf.policy.privileged);
	assert_null(conf.policy.cap_add);
	config_free(&conf);
	free(path);
	/* bind_roots: [] is no bind at all, and says so. */
	path = put(dir, "nobind.yaml", "policy: {bind_roots: []}\n");
	assert_int_equal(config_load(path, true, &conf, &errs), 0);
	assert_non_null(conf.policy.bind_roots);
	assert_null(conf.policy.bind_roots[0]);
	config_free(&conf);
	free(path);
	assert_int_equal(errs.n, 0);
	diag_free(&errs);
	free(missing);
	rmdir_tmp(dir);
}

static void
test_config_errors(void **state)
{
	struct shipd_conf	 conf;
	struct diag_list	 errs;
	char			*dir = mkdir_tmp(), *path;

	path = put(dir, "bad.yaml", "policy:\n"
	    "  bind_roots: [srv, /a, /a]\n"
	    "  privileged: yes please\n"
	    "  cap_add: [NET ADMIN]\n"
	    "  host_pids: true\n"
	    "listen: /run/x\n");
	diag_init(&errs);
	assert_int_equal(config_load(path, true, &conf, &errs), -EINVAL);
	assert_diag(&errs, "bad.yaml:2:16: policy.bind_roots[0]: 'srv' must be "
	    "an absolute path");
	assert_diag(&errs, "bad.yaml:2:25: policy.bind_roots[2]: '/a' is "
	    "listed twice");
	assert_diag(&errs, "bad.yaml:3:15: policy.privileged: expected true "
	    "or false");
	assert_diag(&errs, "bad.yaml:4:13: policy.cap_add[0]: 'NET ADMIN' is "
	    "not a capability name");
	assert_diag(&errs, "bad.yaml:5:3: unknown key 'host_pids' in policy; "
	    "did you mean 'host_pid'?");
	assert_diag(&errs, "bad.yaml:6:1: unknown key 'listen'");
	assert_null(conf.path);
	diag_free(&errs);
	free(path);
	/* A policy others may rewrite is no policy. */
	path = put(dir, "open.yaml", "policy: {privileged: false}\n");
	chmod(path, 0664);
	diag_init(&errs);
	assert_int_equal(config_load(path, true, &conf, &errs), -EINVAL);
	assert_diag(&errs, "may be changed by others than root and shipd's "
	    "user");
	diag_free(&errs);
	free(path);
	rmdir_tmp(dir);
}

/* ---- decisions ----------------------------------------------------------- */

static struct unit *
unit_new(const char *name)
{
	struct unit *u = xcalloc(1, sizeof *u);

	u->name = xstrdup(name);
	u->image = xstrdup("shipd-test/svc:1");
	unit_defaults(u);
	return u;
}

static void
add_bind(struct unit *u, const char *src, const char *dst)
{
	u->mounts = xrealloc(u->mounts, (u->nmounts + 1) * sizeof *u->mounts);
	memset(&u->mounts[u->nmounts], 0, sizeof *u->mounts);
	u->mounts[u->nmounts].kind = MOUNT_BIND;
	u->mounts[u->nmounts].source = xstrdup(src);
	u->mounts[u->nmounts].target = xstrdup(dst);
	u->nmounts++;
}

static char **
strv(const char *a, const char *b)
{
	char **v = xcalloc(3, sizeof *v);

	v[0] = a ? xstrdup(a) : NULL;
	v[1] = b ? xstrdup(b) : NULL;
	return v;
}

static void
test_path_under(void **state)
{
	assert_true(policy_path_under("/srv", "/srv"));
	assert_true(policy_path_under("/srv/a/b", "/srv"));
	assert_false(policy_path_under("/srvx", "/srv"));
	assert_false(policy_path_under("/sr", "/srv"));
	assert_false(policy_path_under("/", "/srv"));
	assert_true(policy_path_under("/etc", "/"));
	assert_true(policy_path_under("/", "/"));
}

static void
test_judge(void **state)
{
	struct shipd_policy	 p = { 0 };
	struct unit		*u = unit_new("api");
	json_t			*out = json_array();
	char			*real[] = { "/srv/a", NULL, "/etc", NULL };
	int			 err[] = { 0, 0, 0, 0 };
	const char		*cf = "/etc/shipd/shipd.yaml";

	add_bind(u, "/srv/a", "/a");
	add_bind(u, "/etc", "/host");
	add_bind(u, "/srv/link", "/l");
	u->privileged = u->host_network = u->host_pid = true;
	u->devices = xcalloc(1, sizeof *u->devices);
	u->devices[0].host = xstrdup("/dev/kmsg");
	u->devices[0].container = xstrdup("/dev/kmsg");
	u->ndevices = 1;
	u->cap_add = strv("NET_ADMIN", "SYS_ADMIN");
	/* No policy: nothing is refused. */
	policy_judge(&p, cf, u, NULL, NULL, out);
	assert_int_equal(json_array_size(out), 0);

	p.set = true;
	p.bind_roots = strv("/srv", "/var/lib/app");
	p.cap_add = strv("NET_ADMIN", NULL);
	/* As written (mounts are sorted by target: /a, /host, /l). */
	policy_judge(&p, cf, u, NULL, NULL, out);
	assert_refusal(out, "api: volumes: bind source /etc (mounted at /host)"
	    " is outside the allowed roots /srv, /var/lib/app (policy in "
	    "/etc/shipd/shipd.yaml)");
	assert_refusal(out, "api: privileged: true is not allowed: "
	    "policy.privileged is false (policy in /etc/shipd/shipd.yaml)");
	assert_refusal(out, "api: network_mode: host is not allowed");
	assert_refusal(out, "api: pid: host is not allowed");
	assert_refusal(out, "api: devices: /dev/kmsg is not allowed");
	assert_refusal(out, "api: cap_add: SYS_ADMIN is not allowed: "
	    "policy.cap_add allows NET_ADMIN (policy in");
	/* bind, privileged, network, pid, devices, SYS_ADMIN */
	assert_int_equal(json_array_size(out), 6);
	json_array_clear(out);

	/* As the host resolves them: /srv/link -> /etc is refused as
	 * that; an unresolvable source cannot be judged. */
	real[1] = "/srv/x";
	policy_judge(&p, cf, u, real, err, out);
	real[1] = NULL;
	assert_refusal(out, "bind source /srv/link (mounted at /l) resolves to "
	    "/etc on this host, outside the allowed roots");
	json_array_clear(out);
	real[0] = NULL;
	err[0] = ENOENT;
	policy_judge(&p, cf, u, real, err, out);
	assert_refusal(out, "bind source /srv/a (mounted at /a) cannot be "
	    "resolved on this host (No such file or directory)");
	json_array_clear(out);

	/* Everything allowed: nothing refused. */
	p.privileged = p.host_network = p.host_pid = p.devices = true;
	strv_free(p.cap_add);
	p.cap_add = strv("ALL", NULL);
	strv_free(p.bind_roots);
	p.bind_roots = strv("/", NULL);
	policy_judge(&p, cf, u, NULL, NULL, out);
	assert_int_equal(json_array_size(out), 0);
	/* No roots at all: no bind mount. */
	strv_free(p.bind_roots);
	p.bind_roots = NULL;
	policy_judge(&p, cf, u, NULL, NULL, out);
	assert_refusal(out, "is outside the allowed roots (none: bind mounts "
	    "are not allowed)");
	assert_int_equal(json_array_size(out), 3);
	/* An empty cap_add list allows none. */
	strv_free(p.cap_add);
	p.cap_add = NULL;
	json_array_clear(out);
	policy_judge(&p, cf, u, NULL, NULL, out);
	assert_refusal(out, "cap_add: NET_ADMIN is not allowed: policy.cap_add "
	    "allows none (policy in");
	json_decref(out);
	unit_free(u);
}

/* ---- the unit keys ------------------------------------------------------- */

static struct stack *
load_api(const char *api, int want, struct diag_list *errs)
{
	struct stack	*s = NULL;
	char		*dir = mkdir_tmp(), *p;

	p = put(dir, "api.yaml", api);
	free(p);
	diag_init(errs);
	assert_int_equal(stack_load_dir(dir, no_env, &s, errs), want);
	rmdir_tmp(dir);
	return s;
}

static void
test_unit_keys(void **state)
{
	struct diag_list	 errs;
	struct stack		*s, *back;
	const struct unit	*u;
	json_t			*j, *spec, *c, *host;
	char			 h1[65], h2[65];

	s = load_api("image: shipd-test/svc:1\n"
	    "privileged: true\n"
	    "network_mode: host\n"
	    "pid: host\n"
	    "devices: [\"/dev/fuse\", \"/dev/null:/dev/n:r\", "
	    "\"/dev/zero:rw\"]\n"
	    "cap_add: [net_admin, CAP_SYS_TIME]\n"
	    "cap_drop: [MKNOD]\n", 0, &errs);
	assert_non_null(s);
	u = s->units[0];
	assert_true(u->privileged && u->host_network && u->host_pid);
	assert_int_equal(u->ndevices, 3);
	/* Sorted by container path. */
	assert_string_equal(u->devices[0].container, "/dev/fuse");
	assert_string_equal(u->devices[0].perms, "rwm");
	assert_string_equal(u->devices[1].host, "/dev/null");
	assert_string_equal(u->devices[1].container, "/dev/n");
	assert_string_equal(u->devices[1].perms, "r");
	assert_string_equal(u->devices[2].container, "/dev/zero");
	assert_string_equal(u->devices[2].perms, "rw");
	assert_string_equal(u->cap_add[0], "NET_ADMIN");
	assert_string_equal(u->cap_add[1], "SYS_TIME");
	assert_string_equal(u->cap_drop[0], "MKNOD");

	/* JSON both ways, to the same hash. */
	j = stack_to_json(s);
	assert_int_equal(stack_from_json(j, &back, &errs), 0);
	unit_spec_hash(u, h1);
	unit_spec_hash(back->units[0], h2);
	assert_string_equal(h1, h2);
	assert_true(back->units[0]->privileged);
	assert_int_equal(back->units[0]->ndevices, 3);
	json_decref(j);

	/* The engine's create body. */
	c = spec_container(s, u, 1, 1, true, true);
	host = json_object_get(c, "HostConfig");
	assert_true(json_is_true(json_object_get(host, "Privileged")));
	assert_string_equal(json_string_value(json_object_get(host,
	    "NetworkMode")), "host");
	assert_string_equal(json_string_value(json_object_get(host,
	    "PidMode")), "host");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(host, "Devices"), 1), "CgroupPermissions")), "r");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    host, "CapAdd"), 0)), "NET_ADMIN");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    host, "CapDrop"), 0)), "MKNOD");
	assert_null(json_object_get(c, "NetworkingConfig"));
	assert_null(json_object_get(c, "Hostname"));
	assert_int_equal(spec_nets(s, u), 0);
	json_decref(c);
	stack_free(back);
	stack_free(s);
	diag_free(&errs);

	/* Unset, none of them is in the spec: old hashes stand. */
	s = load_api("image: shipd-test/svc:1\n", 0, &errs);
	spec = unit_spec_json(s->units[0]);
	assert_null(json_object_get(spec, "privileged"));
	assert_null(json_object_get(spec, "network_mode"));
	assert_null(json_object_get(spec, "pid"));
	assert_null(json_object_get(spec, "devices"));
	assert_null(json_object_get(spec, "cap_add"));
	assert_null(json_object_get(spec, "cap_drop"));
	json_decref(spec);
	c = spec_container(s, s->units[0], 1, 1, true, true);
	host = json_object_get(c, "HostConfig");
	assert_null(json_object_get(host, "Privileged"));
	assert_null(json_object_get(host, "CapAdd"));
	assert_non_null(json_object_get(c, "NetworkingConfig"));
	json_decref(c);
	stack_free(s);
	diag_free(&errs);
}

static void
test_unit_key_errors(void **state)
{
	struct diag_list	 errs;

	assert_null(load_api("image: shipd-test/svc:1\n"
	    "network_mode: bridge\n"
	    "pid: container:x\n"
	    "devices: [\"dev/x\", \"/dev/x:/dev/y:rwx\", \"/dev/a:/dev/b\","
	    " \"/dev/c:/dev/b\"]\n"
	    "cap_add: [NET_ADMIN, net_admin, \"9X\", CHOWN]\n"
	    "cap_drop: [CHOWN]\n"
	    "privileged: sure\n", -EINVAL, &errs));
	assert_diag(&errs, "api.yaml:2:15: network_mode: expected host, got "
	    "'bridge'");
	assert_diag(&errs, "api.yaml:3:6: pid: expected host, got "
	    "'container:x'");
	assert_diag(&errs, "api.yaml:4:11: devices[0]: host path 'dev/x' must "
	    "be absolute");
	assert_diag(&errs, "devices[1]: permissions must be some of r, w and "
	    "m, not 'rwx'");
	assert_diag(&errs, "devices[3]: '/dev/b' is given twice");
	assert_diag(&errs, "cap_add[1]: 'NET_ADMIN' is listed twice");
	assert_diag(&errs, "cap_add[2]: '9X' is not a capability name");
	assert_diag(&errs, "'CHOWN' is both added and dropped");
	assert_diag(&errs, "api.yaml:7:13: privileged: expected true or false");
	diag_free(&errs);

	/* The host's network: no ports, no stack networks, no probe. */
	assert_null(load_api("image: shipd-test/svc:1\n"
	    "network_mode: host\n"
	    "ports: [\"8080:80\"]\n"
	    "networks: [default]\n"
	    "health: {http: {port: 80, path: /}}\n", -EINVAL, &errs));
	assert_diag(&errs, "api.yaml:2:15: network_mode: host: a service on "
	    "the host's network publishes no ports");
	assert_diag(&errs, "api.yaml:2:15: network_mode: host: a service on "
	    "the host's network joins no stack network");
	assert_diag(&errs, "api.yaml:2:15: network_mode: host: shipd's http "
	    "check needs an address of the container's own");
	diag_free(&errs);
}

/* What a client sends is held to the same rules, by JSON path. */
static void
test_unit_keys_json(void **state)
{
	struct diag_list	 errs;
	struct stack		*s, *back = NULL;
	json_t			*j, *u;

	s = load_api("image: shipd-test/svc:1\n", 0, &errs);
	j = stack_to_json(s);
	u = json_array_get(json_object_get(j, "units"), 0);
	json_object_set_new(u, "privileged", json_string("yes"));
	json_object_set_new(u, "network_mode", json_string("bridge"));
	json_object_set_new(u, "cap_add", json_pack("[s]", "net_admin"));
	json_object_set_new(u, "devices", json_pack("[{s:s, s:s, s:s}]",
	    "host", "/dev/x", "container", "/dev/x", "permissions", "rwx"));
	json_object_set_new(u, "cap_drop", json_pack("[s, s]", "MKNOD",
	    "MKNOD"));
	diag_free(&errs);
	diag_init(&errs);
	assert_int_equal(stack_from_json(j, &back, &errs), -EINVAL);
	assert_null(back);
	assert_diag(&errs, "stack.units.api.privileged: expected true or "
	    "false");
	assert_diag(&errs, "stack.units.api: network_mode: expected \"host\"");
	assert_diag(&errs, "stack.units.api.cap_add[0]: expected a capability "
	    "name in upper case without CAP_, got 'net_admin'");
	assert_diag(&errs, "stack.units.api.devices[0]: permissions: expected "
	    "some of r, w and m");
	diag_free(&errs);
	/* Valid values, one rule broken: named by the JSON path. */
	json_object_set_new(u, "privileged", json_true());
	json_object_set_new(u, "network_mode", json_string("host"));
	json_object_del(u, "cap_add");
	json_object_del(u, "devices");
	json_object_set_new(u, "ports", json_pack("[{s:n, s:i, s:i, s:s}]",
	    "host_ip", "host_port", 8080, "container_port", 80, "protocol",
	    "tcp"));
	diag_init(&errs);
	assert_int_equal(stack_from_json(j, &back, &errs), -EINVAL);
	assert_diag(&errs, "stack.units.api.cap_drop[1]: 'MKNOD' is listed "
	    "twice");
	assert_diag(&errs, "stack.units.api.network_mode: host: a service on "
	    "the host's network publishes no ports");
	diag_free(&errs);
	json_decref(j);
	stack_free(s);
}

/* Compose's keys get a hint rather than the nearest spelling. */
static void
test_compose_hints(void **state)
{
	struct diag_list errs;

	assert_null(load_api("image: shipd-test/svc:1\n"
	    "healthcheck: {test: [CMD, /bin/true]}\n"
	    "container_name: web\n"
	    "deploy: {replicas: 2}\n"
	    "health: {disable: true}\n"
	    "update: {failure_action: pause}\n"
	    "imagee: x\n", -EINVAL, &errs));
	assert_diag(&errs, "api.yaml:2:1: unknown key 'healthcheck' (did you "
	    "mean 'health'? shipd's unit format differs from compose, see "
	    "docs/units.md)");
	assert_diag(&errs, "api.yaml:3:1: unknown key 'container_name' (shipd "
	    "names containers itself (STACK-SERVICE-N)");
	assert_diag(&errs, "api.yaml:4:1: unknown key 'deploy' (compose's "
	    "deploy: is shipd's replicas:, update: and resources:");
	assert_diag(&errs, "api.yaml:5:10: unknown key 'disable' in health "
	    "(write test: [NONE]");
	assert_diag(&errs, "api.yaml:6:10: unknown key 'failure_action' in "
	    "update (did you mean 'on_failure'?");
	/* A plain typo is still a typo. */
	assert_diag(&errs, "api.yaml:7:1: unknown key 'imagee'; did you mean "
	    "'image'?");
	assert_int_equal(errs.n, 6);
	diag_free(&errs);
	/* Compose's long syntax and conditions. */
	assert_null(load_api("image: shipd-test/svc:1\n"
	    "ports: [{target: 80, published: 8080}]\n"
	    "volumes: [{type: bind, source: /srv, target: /x}]\n"
	    "depends_on: {db: {condition: service_healthy}, c: service_started}\n",
	    -EINVAL, &errs));
	assert_diag(&errs, "api.yaml:2:9: ports[0]: write \"HOST:CONTAINER\" or "
	    "\"CONTAINER\" (compose's long syntax {target, published} differs");
	assert_diag(&errs, "api.yaml:3:11: volumes[0]: write \"SOURCE:TARGET[:ro]"
	    "\" (compose's long syntax {type, source, target} differs");
	assert_diag(&errs, "api.yaml:4:18: depends_on.db: write db: healthy (or "
	    "started, completed): compose's {condition: service_healthy} "
	    "differs");
	assert_diag(&errs, "depends_on.c: expected started, healthy or "
	    "completed, got 'service_started' (compose's service_healthy is "
	    "healthy here");
	diag_free(&errs);
	/* A repeated hinted key is reported at each. */
	assert_null(load_api("image: shipd-test/svc:1\nlinks: [db]\n"
	    "links: [db]\n", -EINVAL, &errs));
	assert_diag(&errs, "api.yaml:3:1: unknown key 'links'");
	diag_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_values),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_path_under),
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_unit_keys),
		cmocka_unit_test(test_unit_key_errors),
		cmocka_unit_test(test_unit_keys_json),
		cmocka_unit_test(test_compose_hints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
