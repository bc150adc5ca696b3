/*
 * restore: put a backup's archives back into replica 1 of each service.
 * The backup is re-hashed first, then the services and their dependents
 * stop (dependents first), a safety backup saves what is about to be
 * overwritten, the tars go in through the archive API, and everything that
 * was running starts again in dependency order, gated on health.  From the
 * stop on it is journaled (bjournal.c): after a crash the next start puts
 * back what was stopped, and finishes a restore that had written it all.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup.h"
#include "backup/backup_int.h"
#include "core/req.h"
#include "engine/docker.h"
#include "state/lock.h"
#include "log.h"
#include "proto.h"
#include "core/shipd.h"
#include "engine/spec.h"
#include "state/revision.h"
#include "util.h"

struct rsvc {
	char		*name;
	json_t		*entry;		/* the manifest's, borrowed */
	char		*cid;
};

struct restore_run {
	struct shipd		*sd;
	int			 refs;
	bool			 ended;		/* no callback follows */
	struct task		 task;
	struct ctl_req		*req;
	bool			 own_lock;
	struct stack_lock	*lock;
	char			*stack;
	char			*id;
	json_t			*asked;		/* service names, or NULL */
	json_t			*manifest;
	struct stack		*st;
	struct graph		*g;
	int			 rev;
	struct rsvc		*svcs;
	size_t			 nsvcs;
	json_t			*containers;
	struct quiesce		*q;
	struct bjob		*safety;
	char			*safety_id;
	struct bfs_op		*fsop;
	struct docker_req	*dreq;
	struct bfs_source	*src;
	size_t			 si, pi;
	bool			 failed;
	bool			 busy;		/* the stack was locked */
	bool			 written;	/* every archive is back */
	struct bjrec		*jr;
	char			*jid;		/* the journal's name for it */
	struct buf		 errors;
	uint64_t		 t0;
	backup_done_cb		*cb;		/* restore_run()'s */
	void			(*done)(int, const char *, const char *,
			    void *);
	void			*arg;
};

static void	put_next(struct restore_run *);

static void
rjob_free(struct restore_run *rj)
{
	size_t i;

	for (i = 0; i < rj->nsvcs; i++) {
		free(rj->svcs[i].name);
		free(rj->svcs[i].cid);
	}
	free(rj->svcs);
	json_decref(rj->containers);
	json_decref(rj->manifest);
	json_decref(rj->asked);
	if (rj->g != NULL)
		graph_free(rj->g);
	if (rj->st != NULL)
		stack_free(rj->st);
	buf_free(&rj->errors);
	free(rj->safety_id);
	free(rj->jid);
	free(rj->stack);
	free(rj->id);
	free(rj);
}

static void
rjob_ref(struct restore_run *rj)
{
	rj->refs++;
}

static void
rjob_unref(struct restore_run *rj)
{
	assert(rj->refs > 0);
	if (--rj->refs == 0)
		rjob_free(rj);
}

/* Drop everything under way; no callback follows.  Idempotent. */
static void
rjob_end(void *arg)
{
	struct restore_run *rj = arg;

	if (rj->ended)
		return;
	rj->ended = true;
	rj->req = NULL;
	rj->cb = NULL;
	rj->done = NULL;
	task_del(rj->sd, &rj->task);
	/* Once the engine client is closed its requests are gone too. */
	if (rj->sd->docker != NULL)
		docker_cancel(rj->dreq);
	rj->dreq = NULL;
	bfs_cancel(rj->fsop);
	rj->fsop = NULL;
	bfs_source_free(rj->src);
	rj->src = NULL;
	bjob_cancel(rj->safety);
	rj->safety = NULL;
	/* Often from inside the quiesce's own callback: it holds itself
	 * until that returns. */
	quiesce_unref(rj->q);
	rj->q = NULL;
	bjr_cancel(rj->jr);
	rj->jr = NULL;
	if (rj->own_lock)
		lock_release(rj->sd, rj->lock);
	rj->lock = NULL;
	rjob_unref(rj);		/* the job's own */
}

static void
rj_error(struct restore_run *rj, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
rj_error(struct restore_run *rj, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vline(&rj->errors, fmt, ap);
	va_end(ap);
	rj->failed = true;
}

static void
emit(struct restore_run *rj, const char *event, json_t *fields)
{
	if (rj->req != NULL) {
		json_object_set_new(fields, "stack", json_string(rj->stack ?
		    rj->stack : ""));
		ctl_req_event(rj->req, event, fields);
	} else
		json_decref(fields);
}

static void
rj_report(struct restore_run *rj)
{
	json_t	*names, *out;
	size_t	 i;

	if (rj->done != NULL)
		rj->done(rj->failed ? -EIO : 0, rj->failed ? rj->errors.data :
		    NULL, rj->safety_id, rj->arg);
	else if (rj->cb != NULL && rj->failed)
		rj->cb(rj->busy ? -EBUSY : -EIO, rj->errors.data, NULL,
		    rj->arg);
	else if (rj->cb != NULL) {
		names = json_array();
		for (i = 0; i < rj->nsvcs; i++)
			json_array_append_new(names,
			    json_string(rj->svcs[i].name));
		out = json_pack("{s:s, s:s, s:o, s:s?, s:I}", "stack",
		    rj->stack, "id", rj->id, "services", names, "safety",
		    rj->safety_id, "elapsed_ms",
		    (json_int_t)(now_ms() - rj->t0));
		rj->cb(0, NULL, out, rj->arg);
		json_decref(out);
	}
}

static void
rj_finish_now(struct restore_run *rj)
{
	rjob_ref(rj);
	rj_report(rj);
	rjob_end(rj);
	rjob_unref(rj);
}

static void
on_end_rec(int err, void *arg)
{
	struct restore_run *rj = arg;

	rj->jr = NULL;		/* it goes once this returns */
	if (err < 0)
		log_warn("restore %s of %s: journal: %s", rj->id, rj->stack,
		    strerror(-err));
	rj_finish_now(rj);
}

/* The one end of a restore: its journal end, its callback, then it goes. */
static void
rj_finish(struct restore_run *rj)
{
	if (rj->jr == NULL) {
		rj_finish_now(rj);
		return;
	}
	bjr_end(rj->jr, !rj->failed, rj->failed ? rj->errors.data : NULL,
	    on_end_rec, rj);
}

/* ---- restarting ---------------------------------------------------------- */

static void
on_started(const char *msg, void *arg)
{
	struct restore_run *rj = arg;

	if (msg != NULL)
		rj_error(rj, "restarting after the restore: %s", msg);
	rj_finish(rj);
}

static void
on_start_rec(int err, void *arg)
{
	struct restore_run *rj = arg;

	/* Started all the same: a service left stopped is worse. */
	if (err < 0)
		rj_error(rj, "journal: %s", strerror(-err));
	quiesce_start(rj->q, on_started, rj);
}

static void
on_written_rec(int err, void *arg)
{
	struct restore_run *rj = arg;

	if (err < 0)
		rj_error(rj, "journal: %s", strerror(-err));
	bjr_step(rj->jr, "start", NULL, on_start_rec, rj);
}

static void
restart(struct restore_run *rj)
{
	if (rj->safety_id != NULL && rj->failed)
		rj_error(rj, "what was there before is in the safety backup: "
		    "shipctl restore --stack %s %s", rj->stack, rj->safety_id);
	if (rj->jr == NULL)
		quiesce_start(rj->q, on_started, rj);
	else if (rj->written && !rj->failed)
		bjr_step(rj->jr, "written", json_pack("{s:s?}", "safety",
		    rj->safety_id), on_written_rec, rj);
	else
		bjr_step(rj->jr, "start", NULL, on_start_rec, rj);
}

/* ---- putting the archives back ------------------------------------------- */

char *
backup_parent_dir(const char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	while (n > 1 && path[n - 1] == '/')
		n--;
	return n == 0 ? xstrdup("/") : xstrndup(path, n);
}

static json_t *
cur_entry(struct restore_run *rj)
{
	return json_array_get(json_object_get(rj->svcs[rj->si].entry,
	    "paths"), rj->pi);
}

static size_t
on_read(char *buf, size_t n, void *arg)
{
	struct restore_run *rj = arg;

	return bfs_source_read(rj->src, buf, n);
}

static void
on_src_ready(void *arg)
{
	struct restore_run *rj = arg;

	if (bfs_source_err(rj->src) == 0) {
		docker_stream_pause(rj->dreq, 0);
		return;
	}
	rj_error(rj, "%s: %s: reading the archive: %s", rj->svcs[rj->si].name,
	    json_string_value(json_object_get(cur_entry(rj), "path")),
	    strerror(-bfs_source_err(rj->src)));
	docker_cancel(rj->dreq);
	rj->dreq = NULL;
	bfs_source_free(rj->src);
	rj->src = NULL;
	restart(rj);
}

static void
on_put(const struct docker_result *res, void *arg)
{
	struct restore_run	*rj = arg;
	json_t		*e = cur_entry(rj);
	const char	*path = json_string_value(json_object_get(e, "path"));

	rj->dreq = NULL;
	bfs_source_free(rj->src);
	rj->src = NULL;
	if (res->err != 0) {
		rj_error(rj, "%s: %s: putting the archive back: %s",
		    rj->svcs[rj->si].name, path, res->message);
		restart(rj);
		return;
	}
	emit(rj, PROTO_EV_RESTORED, json_pack("{s:s, s:s, s:O}", "service",
	    rj->svcs[rj->si].name, "path", path, "bytes",
	    json_object_get(e, "size")));
	rj->pi++;
	put_next(rj);
}

static void
put_one(struct restore_run *rj)
{
	json_t		*e = cur_entry(rj);
	const char	*file = json_string_value(json_object_get(e, "file"));
	const char	*path = json_string_value(json_object_get(e, "path"));
	char		*fpath, *dir;

	fpath = backup_path(rj->sd->cfg.state_dir, rj->stack, rj->id, false,
	    file);
	dir = backup_parent_dir(path);
	rj->src = bfs_source_new(rj->sd->loop, fpath, on_src_ready, rj);
	rj->dreq = docker_archive_put(rj->sd->docker, rj->svcs[rj->si].cid,
	    dir, (uint64_t)json_integer_value(json_object_get(e, "size")),
	    on_read, on_put, rj);
	free(dir);
	free(fpath);
}

static void
on_write_rec(int err, void *arg)
{
	struct restore_run *rj = arg;

	if (err < 0) {
		rj_error(rj, "journal: %s", strerror(-err));
		restart(rj);
		return;
	}
	put_one(rj);
}

static void
put_next(struct restore_run *rj)
{
	json_t		*e;
	const char	*file, *path;

	for (; rj->si < rj->nsvcs; rj->si++, rj->pi = 0) {
		for (; (e = cur_entry(rj)) != NULL; rj->pi++) {
			file = json_string_value(json_object_get(e, "file"));
			path = json_string_value(json_object_get(e, "path"));
			/* No file: the path did not exist when backed up. */
			if (file == NULL || path == NULL ||
			    !backup_id_valid(file))
				continue;
			bjr_step(rj->jr, "write", json_pack("{s:s, s:s, s:s?}",
			    "service", rj->svcs[rj->si].name, "path", path,
			    "safety", rj->safety_id), on_write_rec, rj);
			return;
		}
	}
	rj->written = true;
	restart(rj);
}

/* ---- safety backup, with everything stopped ------------------------------ */

static void
on_safety_event(const char *event, json_t *fields, void *arg)
{
	struct restore_run *rj = arg;

	if (strcmp(event, PROTO_EV_ARCHIVE) == 0)
		emit(rj, PROTO_EV_SAFETY, json_deep_copy(fields));
}

static void
on_safety(const char *id, const char *msg, uint64_t bytes, void *arg)
{
	struct restore_run *rj = arg;

	(void)bytes;
	bjob_unref(rj->safety);
	rj->safety = NULL;
	if (id == NULL) {
		rj_error(rj, "the safety backup failed, so nothing was "
		    "restored: %s", msg ? msg : "no archive");
		restart(rj);
		return;
	}
	rj->safety_id = xstrdup(id);
	emit(rj, PROTO_EV_SAFETY, json_pack("{s:s, s:s}", "backup", id, "status",
	    "done"));
	rj->si = rj->pi = 0;
	put_next(rj);
}

static void
on_stopped(const char *msg, void *arg)
{
	struct restore_run	*rj = arg;
	json_t		*want = json_array(), *paths, *p;
	size_t		 i, k;

	if (msg != NULL) {
		json_decref(want);
		rj_error(rj, "stopping for the restore: %s", msg);
		restart(rj);
		return;
	}
	for (i = 0; i < rj->nsvcs; i++) {
		paths = json_array();
		json_array_foreach(json_object_get(rj->svcs[i].entry, "paths"),
		    k, p)
			json_array_append(paths, json_object_get(p, "path"));
		json_array_append_new(want, json_pack("{s:s, s:o}", "service",
		    rj->svcs[i].name, "paths", paths));
	}
	rj->safety = bjob_start(rj->sd, rj->st, want, rj->rev, "safety",
	    BJOB_NO_HOOKS | BJOB_NO_STOP | BJOB_ABSENT_OK | BJOB_OWNED,
	    on_safety_event, on_safety, rj);
	/* Safety backups are pruned among themselves; never the one read. */
	bjob_pin(rj->safety, rj->id);
}

static void
on_quiesce_event(const char *service, const char *status, void *arg)
{
	emit(arg, PROTO_EV_SERVICE, json_pack("{s:s, s:s}", "service", service,
	    "status", status));
}

static void
on_stop_rec(int err, void *arg)
{
	struct restore_run *rj = arg;

	if (err < 0) {
		/* Nothing stopped: nothing to start again. */
		rj_error(rj, "journal: %s", strerror(-err));
		rj_finish(rj);
		return;
	}
	quiesce_stop(rj->q, on_stopped, rj);
}

static void
on_begin_rec(int err, void *arg)
{
	struct restore_run *rj = arg;

	if (err < 0) {
		rj_error(rj, "journal: %s", strerror(-err));
		rj_finish(rj);
		return;
	}
	bjr_step(rj->jr, "stop", json_pack("{s:o}", "containers",
	    quiesce_targets(rj->q)), on_stop_rec, rj);
}

static void
on_listed(const struct docker_result *res, void *arg)
{
	struct restore_run	*rj = arg;
	unsigned char	*mark;
	json_t		*c, *names;
	size_t		 i;

	rj->dreq = NULL;
	if (res->err != 0) {
		rj_error(rj, "listing containers: %s", res->message);
		rj_finish(rj);
		return;
	}
	rj->containers = json_incref(res->body);
	mark = xcalloc(graph_count(rj->g) + 1, 1);
	for (i = 0; i < rj->nsvcs; i++) {
		c = backup_containers_find(rj->containers, rj->stack,
		    rj->svcs[i].name);
		if (c == NULL) {
			rj_error(rj, "%s: no container to restore into (deploy "
			    "the stack first)", rj->svcs[i].name);
			continue;
		}
		rj->svcs[i].cid = xstrdup(json_string_value(json_object_get(c,
		    "Id")));
		mark[graph_index(rj->g, rj->svcs[i].name)] = 1;
	}
	if (rj->failed) {
		free(mark);
		rj_finish(rj);
		return;
	}
	rj->q = quiesce_new(rj->sd, rj->st, rj->g, mark, rj->containers,
	    on_quiesce_event, rj);
	free(mark);
	names = json_array();
	for (i = 0; i < rj->nsvcs; i++)
		json_array_append_new(names, json_string(rj->svcs[i].name));
	rj->jid = backup_id_new();
	rj->jr = bjr_begin(rj->sd, rj->stack, "restore", rj->jid, json_pack(
	    "{s:s, s:o}", "backup", rj->id, "services", names), on_begin_rec,
	    rj);
}

static void
on_verified(int err, const char *msg, json_t *out, void *arg)
{
	struct restore_run	*rj = arg;
	json_t		*p;
	size_t		 i;
	char		*filter;

	rj->fsop = NULL;
	if (err < 0 || !json_is_true(json_object_get(out, "ok"))) {
		if (err < 0)
			rj_error(rj, "verifying backup %s: %s", rj->id, msg);
		else {
			rj_error(rj, "backup %s is damaged; nothing was "
			    "restored:", rj->id);
			json_array_foreach(json_object_get(out, "problems"), i,
			    p)
				buf_printf(&rj->errors, "\n  %s",
				    json_string_value(p));
		}
		rj_finish(rj);
		return;
	}
	emit(rj, PROTO_EV_VERIFIED, json_pack("{s:s, s:O}", "backup", rj->id, "bytes",
	    json_object_get(out, "bytes")));
	xasprintf(&filter, LABEL_STACK "=%s", rj->stack);
	rj->dreq = docker_containers_list(rj->sd->docker, filter, 1,
	    on_listed, rj);
	free(filter);
}

static bool
asked_for(const struct restore_run *rj, const char *name)
{
	const json_t	*v;
	size_t		 i;

	if (rj->asked == NULL)
		return true;
	json_array_foreach(rj->asked, i, v)
		if (strcmp(json_string_value(v), name) == 0)
			return true;
	return false;
}

/* The services to restore: those of the backup that were asked for and
 * that the stack still has. */
static int
select_services(struct restore_run *rj)
{
	json_t	*svc, *v, *names = json_array();
	size_t	 i, k;

	json_array_foreach(json_object_get(rj->manifest, "services"), i, svc) {
		const char *name = json_string_value(json_object_get(svc,
		    "service"));

		if (name == NULL || !asked_for(rj, name))
			continue;
		if (stack_unit(rj->st, name) == NULL) {
			if (rj->asked != NULL)
				rj_error(rj, "stack %s no longer has service "
				    "'%s'", rj->stack, name);
			continue;
		}
		rj->svcs = xrealloc(rj->svcs, (rj->nsvcs + 1) *
		    sizeof *rj->svcs);
		memset(&rj->svcs[rj->nsvcs], 0, sizeof *rj->svcs);
		rj->svcs[rj->nsvcs].name = xstrdup(name);
		rj->svcs[rj->nsvcs++].entry = svc;
		json_array_append_new(names, json_string(name));
	}
	json_array_foreach(rj->asked, k, v) {
		for (i = 0; i < rj->nsvcs; i++)
			if (strcmp(rj->svcs[i].name, json_string_value(v)) == 0)
				break;
		if (i == rj->nsvcs && !rj->failed)
			rj_error(rj, "backup %s holds no service '%s'", rj->id,
			    json_string_value(v));
	}
	if (rj->nsvcs == 0 && !rj->failed)
		rj_error(rj, "backup %s holds nothing stack %s still has",
		    rj->id, rj->stack);
	if (rj->failed) {
		json_decref(names);
		return -1;
	}
	rj->fsop = bfs_verify(rj->sd->loop, rj->sd->cfg.state_dir, rj->stack,
	    rj->id, names, on_verified, rj);
	return 0;
}

static void
on_found(int err, const char *msg, json_t *out, void *arg)
{
	struct restore_run	*rj = arg;
	char			 why[512];

	rj->fsop = NULL;
	if (err < 0) {
		rj_error(rj, "%s", msg);
		rj_finish(rj);
		return;
	}
	free(rj->stack);
	rj->stack = xstrdup(json_string_value(json_object_get(out, "stack")));
	rj->manifest = json_incref(json_object_get(out, "manifest"));
	if (rj->own_lock && lock_acquire(rj->sd, rj->stack, PROTO_CMD_RESTORE,
	    rj->req ? rj->req->uid : 0, rj->req ? rj->req->pid : 0, &rj->lock,
	    why, sizeof why) < 0) {
		rj->own_lock = false;
		rj->busy = true;
		rj_error(rj, "%s", why);
		rj_finish(rj);
		return;
	}
	if (revision_load(rj->sd->store, rj->stack, 0, &rj->st, &rj->g,
	    &rj->rev, why, sizeof why) < 0) {
		rj_error(rj, "%s", why);
		rj_finish(rj);
		return;
	}
	if (select_services(rj) < 0)
		rj_finish(rj);
}

static struct restore_run *
rjob_new(struct shipd *sd, const char *stack, const char *id)
{
	struct restore_run *rj = xcalloc(1, sizeof *rj);

	rj->sd = sd;
	rj->refs = 1;		/* its own, until it ends */
	rj->stack = stack ? xstrdup(stack) : NULL;
	rj->id = xstrdup(id);
	rj->t0 = now_ms();
	buf_init(&rj->errors);
	task_add(sd, &rj->task, rj, rjob_end);
	return rj;
}

struct restore_run *
restore_run(struct shipd *sd, struct ctl_req *req, const char *stack,
    const char *id, const json_t *services, backup_done_cb *cb, void *arg)
{
	struct restore_run *rj = rjob_new(sd, stack, id);

	rj->req = req;
	rj->cb = cb;
	rj->arg = arg;
	rj->own_lock = true;
	rj->asked = json_array_size(services) > 0 ?
	    json_deep_copy(services) : NULL;
	rj->fsop = bfs_find(sd->loop, sd->cfg.state_dir, rj->stack, id,
	    on_found, rj);
	return rj;
}

void
restore_run_detach(struct restore_run *rj)
{
	rj->req = NULL;
	rj->cb = NULL;
}

void
restore_for_rollback(struct shipd *sd, const char *stack,
    const char *backup_id,
    void (*done)(int, const char *, const char *, void *), void *arg)
{
	struct restore_run *rj = rjob_new(sd, stack, backup_id);

	rj->done = done;
	rj->arg = arg;
	rj->fsop = bfs_find(sd->loop, sd->cfg.state_dir, stack, backup_id,
	    on_found, rj);
}
