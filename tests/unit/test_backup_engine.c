/*
 * The deploy pipeline's entry points into backups, against the real
 * engine: backup_for_deploy() saves the services that declare backup:,
 * tagged with the revision, and restore_for_rollback() puts the data back
 * into the current containers.  A small daemon context (loop, engine
 * client, store, event watch) runs in the test; the stack's containers
 * are made from its units with the daemon's own specs.  Skipped unless
 * SHIPD_TEST_ENGINE=1; tests/integration/backup_deploy.sh runs it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "backup/backup.h"
#include "backup/backup_int.h"
#include "engine/docker.h"
#include "core/shipd.h"
#include "engine/spec.h"
#include "state/store.h"
#include "unit.h"
#include "util.h"
#include "engine/watch.h"

#define WAIT_MS		60000

struct rig {
	struct shipd	 sd;
	uv_loop_t	 loop;
	uv_timer_t	 deadline;
	int		 expired;
	char		 dir[64];
	char		 stack[64];
	struct stack	*st;
	char		*ids[4];
	int		 nids;
	int		 closed;
};

struct call {
	int		 done;
	int		 err;
	char		 msg[1024];
	char		 id[72];
	json_t		*body;
	struct buf	 out;
	struct rig	*g;
};

static void
on_deadline(uv_timer_t *t)
{
	struct rig *g = t->data;

	g->expired = 1;
	uv_stop(&g->loop);
}

static void
wait_flag(struct rig *g, const int *flag, const char *what)
{
	g->expired = 0;
	uv_timer_start(&g->deadline, on_deadline, WAIT_MS, 0);
	while (!*flag && !g->expired)
		uv_run(&g->loop, UV_RUN_ONCE);
	uv_timer_stop(&g->deadline);
	if (!*flag)
		fail_msg("%s: nothing within %d ms", what, WAIT_MS);
}

static void
on_call(const struct docker_result *res, void *arg)
{
	struct call *c = arg;

	c->done = 1;
	c->err = res->err;
	snprintf(c->msg, sizeof c->msg, "%s", res->message);
	c->body = json_incref(res->body);
	uv_stop(&c->g->loop);
}

static void
call_init(struct rig *g, struct call *c)
{
	json_decref(c->body);
	buf_free(&c->out);
	memset(c, 0, sizeof *c);
	c->g = g;
	buf_init(&c->out);
}

static void
call_ok(struct rig *g, struct call *c, const char *what)
{
	wait_flag(g, &c->done, what);
	if (c->err != 0)
		fail_msg("%s: %s", what, c->msg);
}

static void
on_output(const char *p, size_t n, void *arg)
{
	struct call *c = arg;

	buf_append(&c->out, p, n);
}

/* sh -c script in replica 1 of db; its output. */
static char *
db_exec(struct rig *g, const char *script)
{
	struct call	 c;
	json_t		*spec;
	char		*name = spec_container_name(g->stack, "db", 1), *out;

	memset(&c, 0, sizeof c);
	call_init(g, &c);
	spec = json_pack("{s:b, s:b, s:[s, s, s]}", "AttachStdout", 1,
	    "AttachStderr", 1, "Cmd", "sh", "-c", script);
	docker_exec_create(g->sd.docker, name, spec, on_call, &c);
	json_decref(spec);
	call_ok(g, &c, "exec create");
	snprintf(c.id, sizeof c.id, "%s", json_string_value(json_object_get(
	    c.body, "Id")));
	json_decref(c.body);
	c.body = NULL;
	c.done = 0;
	docker_exec_start(g->sd.docker, c.id, on_output, on_call, &c);
	call_ok(g, &c, "exec start");
	out = xstrdup(c.out.data ? c.out.data : "");
	call_init(g, &c);
	buf_free(&c.out);
	free(name);
	return out;
}

static const char units_db[] =
    "image: shipd-test/svc:1\n"
    "volumes: [\"data:/data\"]\n"
    "init: true\n"
    "health: {test: [CMD, /bin/svc-check]}\n"
    "backup: {paths: [\"/data\"], pre: [sh, -c, \"echo pre > /data/pre\"]}\n";
static const char units_api[] =
    "image: shipd-test/svc:1\n"
    "depends_on: {db: healthy}\n"
    "init: true\n"
    "health: {test: [CMD, /bin/svc-check]}\n";

static void
write_file(const char *dir, const char *name, const char *text)
{
	char	*p;
	FILE	*f;

	xasprintf(&p, "%s/%s", dir, name);
	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
	free(p);
}

static void
load_stack(struct rig *g)
{
	struct diag_list	 errs;
	char			*udir, *yaml;
	char			*envp[] = { NULL };

	xasprintf(&udir, "%s/units", g->dir);
	assert_int_equal(mkdir_p(udir, 0755), 0);
	xasprintf(&yaml, "name: %s\nvolumes: [data]\n", g->stack);
	write_file(udir, "stack.yaml", yaml);
	write_file(udir, "db.yaml", units_db);
	write_file(udir, "api.yaml", units_api);
	diag_init(&errs);
	if (stack_load_dir(udir, envp, &g->st, &errs) != 0)
		fail_msg("units: %s", errs.n ? errs.v[0].msg : "?");
	diag_free(&errs);
	free(yaml);
	free(udir);
}

static void
on_stored(int err, void *arg)
{
	int *done = arg;

	assert_int_equal(err, 0);
	*done = 1;
}

/* What a deploy leaves: revision 1 current, its containers running. */
static void
deploy(struct rig *g)
{
	struct call	 c;
	json_t		*spec, *doc;
	size_t		 i;
	int		 stored = 0;
	char		*name;

	memset(&c, 0, sizeof c);
	call_init(g, &c);
	spec = spec_network(g->stack, "default");
	docker_network_create(g->sd.docker, spec, on_call, &c);
	json_decref(spec);
	call_ok(g, &c, "network");
	call_init(g, &c);
	spec = spec_volume(g->stack, "data");
	docker_volume_create(g->sd.docker, spec, on_call, &c);
	json_decref(spec);
	call_ok(g, &c, "volume");
	/* Units are sorted by name: api before db, so start db first. */
	for (i = g->st->nunits; i-- > 0;) {
		const struct unit *u = g->st->units[i];

		call_init(g, &c);
		spec = spec_container(g->st, u, 1, 1, true, true);
		name = spec_container_name(g->stack, u->name, 1);
		docker_container_create(g->sd.docker, name, spec, on_call, &c);
		json_decref(spec);
		free(name);
		call_ok(g, &c, "create");
		g->ids[g->nids++] = xstrdup(json_string_value(json_object_get(
		    c.body, "Id")));
		call_init(g, &c);
		docker_container_start(g->sd.docker, g->ids[g->nids - 1],
		    on_call, &c);
		call_ok(g, &c, "start");
	}
	call_init(g, &c);
	buf_free(&c.out);
	doc = json_pack("{s:i, s:o, s:s}", "revision", 1, "stack",
	    stack_to_json(g->st), "result", "ok");
	store_revision_put(g->sd.store, g->stack, 1, doc, on_stored, &stored);
	json_decref(doc);
	wait_flag(g, &stored, "revision stored");
	stored = 0;
	store_current_set(g->sd.store, g->stack, 1, on_stored, &stored);
	wait_flag(g, &stored, "current stored");
}

static void
on_negotiated(const struct docker_result *res, void *arg)
{
	struct call *c = arg;

	on_call(res, arg);
	c->g->sd.engine_ok = res->err == 0;
}

static void
rig_open(struct rig *g)
{
	struct call	 c;
	const char	*env = getenv("SHIPD_TEST_STACK");
	char		*state;

	memset(g, 0, sizeof *g);
	assert_int_equal(uv_loop_init(&g->loop), 0);
	uv_timer_init(&g->loop, &g->deadline);
	g->deadline.data = g;
	snprintf(g->stack, sizeof g->stack, "%s", env && *env ? env :
	    "shipd-ut-backup");
	snprintf(g->dir, sizeof g->dir, "/tmp/shipd-test-bke-XXXXXX");
	assert_non_null(mkdtemp(g->dir));
	xasprintf(&state, "%s/state", g->dir);
	g->sd.loop = &g->loop;
	g->sd.cfg.state_dir = state;
	g->sd.cfg.engine_path = getenv("DOCKER_SOCK") ? getenv("DOCKER_SOCK") :
	    "/var/run/docker.sock";
	assert_int_equal(mkdir_p(state, 0750), 0);
	assert_int_equal(store_open(&g->loop, state, &g->sd.store), 0);
	assert_int_equal(docker_new(&g->loop, g->sd.cfg.engine_path,
	    &g->sd.docker), 0);
	memset(&c, 0, sizeof c);
	call_init(g, &c);
	docker_negotiate(g->sd.docker, on_negotiated, &c);
	call_ok(g, &c, "negotiate");
	call_init(g, &c);
	buf_free(&c.out);
	watch_start(&g->sd);
	load_stack(g);
}

static void
on_docker_closed(void *arg)
{
	struct rig *g = arg;

	g->sd.docker = NULL;
	g->closed = 1;
}

static void
on_store_closed(void *arg)
{
	struct rig *g = arg;

	g->sd.store = NULL;
	g->closed = 2;
}

static void
rig_close(struct rig *g)
{
	struct call	 c;
	char		*cmd, *name;
	int		 i;

	memset(&c, 0, sizeof c);
	for (i = 0; i < g->nids; i++) {
		call_init(g, &c);
		docker_container_remove(g->sd.docker, g->ids[i], 1, 0, on_call,
		    &c);
		wait_flag(g, &c.done, "remove");
		free(g->ids[i]);
	}
	call_init(g, &c);
	name = spec_volume_name(g->stack, "data");
	docker_volume_remove(g->sd.docker, name, 1, on_call, &c);
	wait_flag(g, &c.done, "volume remove");
	free(name);
	call_init(g, &c);
	name = spec_network_name(g->stack, "default");
	docker_network_remove(g->sd.docker, name, on_call, &c);
	wait_flag(g, &c.done, "network remove");
	free(name);
	call_init(g, &c);
	buf_free(&c.out);
	watch_stop(&g->sd);
	docker_close(g->sd.docker, on_docker_closed, g);
	wait_flag(g, &g->closed, "engine client closed");
	g->closed = 0;
	store_close(g->sd.store, on_store_closed, g);
	while (g->closed != 2)
		uv_run(&g->loop, UV_RUN_ONCE);
	tasks_free_all(&g->sd);
	uv_close((uv_handle_t *)&g->deadline, NULL);
	uv_run(&g->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&g->loop), 0);
	stack_free(g->st);
	json_decref(g->sd.engine_version);
	free(g->sd.engine_error);
	xasprintf(&cmd, "rm -rf '%s'", g->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free((char *)g->sd.cfg.state_dir);
}

struct outcome {
	struct rig	*g;
	int		 done;
	int		 err;
	char		 id[72];
	char		 msg[1024];
};

static void
on_backup(int err, const char *id, const char *msg, void *arg)
{
	struct outcome *o = arg;

	o->done = 1;
	o->err = err;
	snprintf(o->id, sizeof o->id, "%s", id ? id : "");
	snprintf(o->msg, sizeof o->msg, "%s", msg ? msg : "");
	uv_stop(&o->g->loop);
}

static void
on_restore(int err, const char *msg, const char *safety, void *arg)
{
	on_backup(err, safety, msg, arg);
}

static void
test_deploy_backup_and_rollback_restore(void **state)
{
	struct rig		 g;
	struct outcome		 o;
	const char *const	 both[] = { "api", "db" }, *api[] = { "api" };
	char			*out, *path, *m, id[72];
	size_t			 len;

	(void)state;
	if (getenv("SHIPD_TEST_ENGINE") == NULL ||
	    strcmp(getenv("SHIPD_TEST_ENGINE"), "1") != 0) {
		print_message("  (skipped: set SHIPD_TEST_ENGINE=1)\n");
		skip();
	}
	rig_open(&g);
	deploy(&g);
	free(db_exec(&g, "echo v1 > /data/f"));

	memset(&o, 0, sizeof o);
	o.g = &g;
	backup_for_deploy(&g.sd, g.st, both, 2, 2, on_backup, &o);
	assert_false(o.done);	/* never from inside the call */
	wait_flag(&g, &o.done, "backup_for_deploy");
	if (o.err != 0)
		fail_msg("backup_for_deploy: %s", o.msg);
	assert_true(o.id[0] != '\0');
	path = backup_path(g.sd.cfg.state_dir, g.stack, o.id, false,
	    "manifest.json");
	assert_int_equal(file_read_all(path, 1 << 20, &m, &len), 0);
	assert_non_null(strstr(m, "\"reason\": \"deploy\""));
	assert_non_null(strstr(m, "\"revision\": 2"));
	assert_non_null(strstr(m, "\"service\": \"db\""));
	assert_null(strstr(m, "\"service\": \"api\""));
	free(m);
	free(path);

	/* Nothing among them declares backup: no ID, no error. */
	memset(&o, 0, sizeof o);
	o.g = &g;
	backup_for_deploy(&g.sd, g.st, api, 1, 3, on_backup, &o);
	wait_flag(&g, &o.done, "backup_for_deploy (nothing)");
	assert_int_equal(o.err, 0);
	assert_string_equal(o.id, "");

	/* A deploy backs up v2 before it changes the data to v3; a
	 * rollback with data brings v2 back. */
	free(db_exec(&g, "echo v2 > /data/f"));
	memset(&o, 0, sizeof o);
	o.g = &g;
	backup_for_deploy(&g.sd, g.st, both, 2, 4, on_backup, &o);
	wait_flag(&g, &o.done, "second backup");
	assert_int_equal(o.err, 0);
	snprintf(id, sizeof id, "%s", o.id);
	free(db_exec(&g, "echo v3 > /data/f"));
	memset(&o, 0, sizeof o);
	o.g = &g;
	restore_for_rollback(&g.sd, g.stack, id, on_restore, &o);
	wait_flag(&g, &o.done, "restore_for_rollback");
	if (o.err != 0)
		fail_msg("restore_for_rollback: %s", o.msg);
	/* It names the safety backup it took of what it overwrote. */
	assert_true(o.id[0] != '\0');
	assert_string_not_equal(o.id, id);
	out = db_exec(&g, "cat /data/f");
	assert_string_equal(out, "v2\n");
	free(out);

	memset(&o, 0, sizeof o);
	o.g = &g;
	restore_for_rollback(&g.sd, g.stack, "19990101-000000-000", on_restore,
	    &o);
	wait_flag(&g, &o.done, "restore_for_rollback (missing)");
	assert_true(o.err < 0);
	assert_non_null(strstr(o.msg, "no backup"));
	rig_close(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deploy_backup_and_rollback_restore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
