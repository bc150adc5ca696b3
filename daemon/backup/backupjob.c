/*
 * One backup of one stack: find replica 1 of each service, run the pre
 * hooks, copy each path (backupcopy.c; live, or with the service and its
 * dependents stopped), start them again, run the post hooks, and commit the
 * manifest only when every file is on disk and hashed.  A job that may stop
 * services is journaled (bjournal.c) from its begin to its end.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/metrics.h"
#include "backup/backup_int.h"
#include "engine/docker.h"
#include "log.h"
#include "proto.h"
#include "core/shipd.h"
#include "engine/spec.h"
#include "stackgraph.h"
#include "util.h"

struct bsvc {
	char			*name;
	const struct unit	*unit;
	json_t			*paths;		/* strings */
	json_t			*files;		/* manifest entries */
	char			*cid;
	char			*cname;
	char			*image;
	char			*image_id;
	bool			 stop;		/* copied while stopped */
	bool			 running;	/* when the job began */
	bool			 skip;		/* no container to save */
	bool			 pre_ok;	/* post may run */
};

enum { STAGE_LIVE, STAGE_STOPPED };

struct bjob {
	struct shipd		*sd;
	int			 refs;
	bool			 stopped;	/* no callback follows */
	struct task		 task;
	bool			 tasked;
	struct stack		*st;
	struct graph		*g;
	char			*id;
	int			 revision;
	char			*reason;
	unsigned		 flags;
	json_t			*pins;		/* ids never pruned */
	struct bsvc		*svcs;
	size_t			 nsvcs;
	json_t			*containers;
	struct quiesce		*q;
	struct bjrec		*jr;		/* NULL: not journaled */
	bool			 ok_id;		/* reporting the backup */

	/* the step under way */
	int			 stage;
	size_t			 si, pi;
	struct docker_req	*dreq;
	struct bfs_op		*fsop;
	struct bcopy		*copy;
	bool			 hook_post;
	struct hook		*hook;
	uv_timer_t		 timer;		/* the first step, at 0 ms */

	bool			 prepared;
	bool			 failed;
	struct buf		 errors;	/* the backup is no good */
	struct buf		 later;		/* good backup, bad restart */
	uint64_t		 t0;
	time_t			 started;
	uint64_t		 bytes;
	bjob_event_cb		*ev;
	bjob_cb			*cb;
	void			(*free_arg)(void *);
	void			*arg;
};

static void	copy_next(struct bjob *);
static void	hooks_next(struct bjob *);
static void	finish(struct bjob *);

/* ---- life ---------------------------------------------------------------- */

static void
on_timer_closed(uv_handle_t *h)
{
	struct bjob	*j = h->data;
	size_t		 i;

	for (i = 0; i < j->nsvcs; i++) {
		struct bsvc *s = &j->svcs[i];

		free(s->name);
		json_decref(s->paths);
		json_decref(s->files);
		free(s->cid);
		free(s->cname);
		free(s->image);
		free(s->image_id);
	}
	free(j->svcs);
	if (j->g != NULL)
		graph_free(j->g);
	if (j->st != NULL)
		stack_free(j->st);
	json_decref(j->containers);
	buf_free(&j->errors);
	buf_free(&j->later);
	free(j->reason);
	json_decref(j->pins);
	free(j->id);
	free(j);
}

void
bjob_pin(struct bjob *j, const char *id)
{
	if (j->pins == NULL)
		j->pins = json_array();
	json_array_append_new(j->pins, json_string(id));
}

void
bjob_ref(struct bjob *j)
{
	j->refs++;
}

void
bjob_unref(struct bjob *j)
{
	assert(j->refs > 0);
	if (--j->refs == 0)
		uv_close((uv_handle_t *)&j->timer, on_timer_closed);
}

/* Drop everything under way; no callback follows.  Idempotent. */
static void
job_stop(void *arg)
{
	struct bjob *j = arg;

	if (j->stopped)
		return;
	j->stopped = true;
	j->cb = NULL;
	j->ev = NULL;
	if (j->tasked)
		task_del(j->sd, &j->task);
	if (j->free_arg != NULL)
		j->free_arg(j->arg);
	j->free_arg = NULL;
	/* Once the engine client is closed its requests are gone too. */
	if (j->sd->docker != NULL)
		docker_cancel(j->dreq);
	j->dreq = NULL;
	bfs_cancel(j->fsop);
	j->fsop = NULL;
	bcopy_cancel(j->copy);
	j->copy = NULL;
	hook_cancel(j->hook);
	j->hook = NULL;
	quiesce_unref(j->q);
	j->q = NULL;
	bjr_cancel(j->jr);
	j->jr = NULL;
	uv_timer_stop(&j->timer);
	bjob_unref(j);		/* the run's own */
}

void
bjob_free_arg(struct bjob *j, void (*fn)(void *))
{
	j->free_arg = fn;
}

void
bjob_cancel(struct bjob *j)
{
	if (j == NULL)
		return;
	job_stop(j);
	bjob_unref(j);		/* the caller's */
}

static void
report_now(struct bjob *j, const char *id)
{
	const char *msg = NULL;

	if (j->errors.len > 0)
		msg = j->errors.data;
	else if (j->later.len > 0)
		msg = j->later.data;
	if (id == NULL)
		backup_notify_failed(j->sd, j->st, j->revision, j->id, msg);
	/* Held across the callback, in which the owner lets go of j. */
	bjob_ref(j);
	if (j->cb != NULL)
		j->cb(id, msg, j->bytes, j->arg);
	job_stop(j);
	bjob_unref(j);
}

static void
on_end_rec(int err, void *arg)
{
	struct bjob *j = arg;

	j->jr = NULL;		/* it goes once this returns */
	if (err < 0)
		log_warn("backup %s: journal: %s", j->id, strerror(-err));
	report_now(j, j->ok_id ? j->id : NULL);
}

/* The journal's end first: once it is there, the job is history. */
static void
report(struct bjob *j, const char *id)
{
	if (j->jr == NULL) {
		report_now(j, id);
		return;
	}
	j->ok_id = id != NULL;
	bjr_end(j->jr, id != NULL, j->errors.len ? j->errors.data : NULL,
	    on_end_rec, j);
}

static void
job_error(struct bjob *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
job_error(struct bjob *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vline(&j->errors, fmt, ap);
	va_end(ap);
	j->failed = true;
}

static void
emit(struct bjob *j, const char *event, json_t *fields)
{
	if (j->ev != NULL)
		j->ev(event, fields, j->arg);
	json_decref(fields);
}

/* ---- hooks ----------------------------------------------------------------- */

static void
on_hook(int code, const char *why, const char *out, size_t len, void *arg)
{
	struct bjob	*j = arg;
	struct bsvc	*s = &j->svcs[j->si];
	const char	*which = j->hook_post ? "post" : "pre";

	j->hook = NULL;
	emit(j, PROTO_EV_HOOK, json_pack("{s:s, s:s, s:s, s:s%}", "service",
	    s->name, "hook", which, "status", code == 0 ? "ok" : "failed",
	    "output", out, len));
	if (code != 0)
		job_error(j, "%s: %s hook failed (%s)%s%.*s", s->name, which,
		    why, len ? ": " : "", (int)len, out);
	else if (!j->hook_post)
		s->pre_ok = true;
	j->si++;
	hooks_next(j);
}

/* Run the pre (or post) hook of each service from j->si on. */
static void
hooks_next(struct bjob *j)
{
	struct bsvc *s;

	for (; j->si < j->nsvcs; j->si++) {
		s = &j->svcs[j->si];
		if (!j->hook_post) {
			if (j->failed)
				break;
			if (s->skip)
				continue;
			if (!s->running && !(j->flags & BJOB_NO_HOOKS) &&
			    (s->unit->backup.pre || s->unit->backup.post)) {
				/* No exec in a stopped container; its files
				 * are at rest anyway. */
				emit(j, PROTO_EV_HOOK, json_pack("{s:s, s:s, s:s}",
				    "service", s->name, "hook", "pre",
				    "status", "skipped: not running"));
				continue;
			}
			if ((j->flags & BJOB_NO_HOOKS) || s->unit->backup.pre ==
			    NULL) {
				s->pre_ok = true;
				continue;
			}
			j->hook = hook_run(j->sd, s->cid, s->unit->backup.pre,
			    s->unit->backup.timeout_ms, on_hook, j);
			return;
		}
		/* Post hooks clean up after pre hooks, so they run whenever
		 * the pre hook did, even after a failed copy. */
		if ((j->flags & BJOB_NO_HOOKS) || !s->pre_ok ||
		    s->unit->backup.post == NULL)
			continue;
		j->hook = hook_run(j->sd, s->cid, s->unit->backup.post,
		    s->unit->backup.timeout_ms, on_hook, j);
		return;
	}
	if (j->hook_post) {
		finish(j);
		return;
	}
	j->hook_post = true;
	if (j->failed) {
		j->si = 0;
		hooks_next(j);
		return;
	}
	j->stage = STAGE_LIVE;
	j->si = j->pi = 0;
	copy_next(j);
}

/* ---- quiesce around the stopped stage ------------------------------------ */

static void
on_quiesce_event(const char *service, const char *status, void *arg)
{
	struct bjob *j = arg;

	emit(j, PROTO_EV_SERVICE, json_pack("{s:s, s:s}", "service", service,
	    "status", status));
}

static void
on_restarted(const char *msg, void *arg)
{
	struct bjob *j = arg;

	if (msg != NULL)
		buf_printf(&j->later, "%srestarting after the copy: %s",
		    j->later.len ? "\n" : "", msg);
	j->si = 0;
	hooks_next(j);
}

static void
on_start_rec(int err, void *arg)
{
	struct bjob *j = arg;

	/* Started all the same: a service left stopped is worse. */
	if (err < 0)
		job_error(j, "journal: %s", strerror(-err));
	quiesce_start(j->q, on_restarted, j);
}

static void
restart(struct bjob *j)
{
	if (j->jr != NULL)
		bjr_step(j->jr, "start", NULL, on_start_rec, j);
	else
		quiesce_start(j->q, on_restarted, j);
}

static void
on_quiesced(const char *msg, void *arg)
{
	struct bjob *j = arg;

	if (msg != NULL) {
		job_error(j, "stopping for the copy: %s", msg);
		restart(j);
		return;
	}
	j->stage = STAGE_STOPPED;
	j->si = j->pi = 0;
	copy_next(j);
}

static void
on_stop_rec(int err, void *arg)
{
	struct bjob *j = arg;

	if (err < 0) {
		/* Nothing stopped yet: nothing to start again. */
		job_error(j, "journal: %s", strerror(-err));
		j->si = 0;
		hooks_next(j);
		return;
	}
	quiesce_stop(j->q, on_quiesced, j);
}

static void
stage_done(struct bjob *j)
{
	unsigned char	*mark;
	size_t		 i;
	bool		 any = false;

	if (j->stage == STAGE_STOPPED) {
		restart(j);
		return;
	}
	mark = xcalloc(graph_count(j->g) + 1, 1);
	for (i = 0; i < j->nsvcs; i++)
		if (j->svcs[i].stop && !j->svcs[i].skip) {
			mark[graph_index(j->g, j->svcs[i].name)] = 1;
			any = true;
		}
	if (!any || j->failed) {
		free(mark);
		j->si = 0;
		hooks_next(j);
		return;
	}
	j->q = quiesce_new(j->sd, j->st, j->g, mark, j->containers,
	    on_quiesce_event, j);
	free(mark);
	if (j->jr != NULL)
		bjr_step(j->jr, "stop", json_pack("{s:o}", "containers",
		    quiesce_targets(j->q)), on_stop_rec, j);
	else
		quiesce_stop(j->q, on_quiesced, j);
}

/* ---- copying, one path at a time ---------------------------------------- */

static const char *
cur_path(struct bjob *j)
{
	return json_string_value(json_array_get(j->svcs[j->si].paths, j->pi));
}

static void
on_copied(const struct bcopy_result *res, void *arg)
{
	struct bjob	*j = arg;
	struct bsvc	*s = &j->svcs[j->si];
	char		*file;

	j->copy = NULL;
	if (res->err != NULL)
		job_error(j, "%s: %s: %s", s->name, cur_path(j), res->err);
	else if (res->absent)
		json_array_append_new(s->files, json_pack("{s:s, s:n}",
		    "path", cur_path(j), "file"));
	else {
		xasprintf(&file, "%s-%zu.tar", s->name, j->pi);
		json_array_append_new(s->files, json_pack("{s:s, s:s, s:I, "
		    "s:s}", "path", cur_path(j), "file", file,
		    "size", (json_int_t)res->size, "sha256", res->sha256));
		emit(j, PROTO_EV_ARCHIVE, json_pack("{s:s, s:s, s:I, s:s}",
		    "service", s->name, "path", cur_path(j),
		    "bytes", (json_int_t)res->size, "sha256", res->sha256));
		j->bytes += res->size;
		free(file);
	}
	j->pi++;
	copy_next(j);
}

/* The next path of a service copied in this stage, or the stage's end. */
static void
copy_next(struct bjob *j)
{
	struct bsvc	*s;
	char		*file, *path;

	for (; !j->failed && j->si < j->nsvcs; j->si++, j->pi = 0) {
		s = &j->svcs[j->si];
		if (s->skip || s->stop != (j->stage == STAGE_STOPPED))
			continue;
		if (j->pi < json_array_size(s->paths)) {
			xasprintf(&file, "%s-%zu.tar", s->name, j->pi);
			path = backup_path(j->sd->cfg.state_dir, j->st->name,
			    j->id, true, file);
			j->copy = bcopy_start(j->sd, s->cid, cur_path(j), path,
			    (j->flags & BJOB_ABSENT_OK) != 0, on_copied, j);
			free(path);
			free(file);
			return;
		}
	}
	stage_done(j);
}

/* ---- commit or discard --------------------------------------------------- */

static void
on_discarded(int err, const char *msg, json_t *out, void *arg)
{
	struct bjob *j = arg;

	(void)out;
	j->fsop = NULL;
	if (err < 0)
		log_warn("backup %s of %s: %s", j->id, j->st->name, msg);
	report(j, NULL);
}

static void
on_pruned(int err, const char *msg, json_t *out, void *arg)
{
	struct bjob	*j = arg;
	json_t		*id;
	size_t		 i;

	j->fsop = NULL;
	if (err < 0)
		log_warn("pruning backups of %s: %s", j->st->name, msg);
	json_array_foreach(out, i, id)
		emit(j, PROTO_EV_PRUNED, json_pack("{s:O}", "backup", id));
	report(j, j->id);
}

static void
on_committed(int err, const char *msg, json_t *out, void *arg)
{
	struct bjob	*j = arg;
	json_t		*keep, *pins;
	size_t		 i;

	(void)out;
	j->fsop = NULL;
	if (err < 0) {
		job_error(j, "writing the manifest: %s", msg);
		j->fsop = bfs_discard(j->sd->loop, j->sd->cfg.state_dir,
		    j->st->name, j->id, on_discarded, j);
		return;
	}
	log_info("backup %s of %s: %llu bytes in %llu ms", j->id, j->st->name,
	    (unsigned long long)j->bytes,
	    (unsigned long long)(now_ms() - j->t0));
	metrics_set("shipd_backup_last_success_timestamp_seconds",
	    (double)time(NULL), "stack", j->st->name, NULL);
	metrics_set("shipd_backup_last_size_bytes", (double)j->bytes, "stack",
	    j->st->name, NULL);
	metrics_set("shipd_backup_last_duration_seconds",
	    (double)(now_ms() - j->t0) / 1000.0, "stack", j->st->name, NULL);
	keep = json_object();
	for (i = 0; i < j->st->nunits; i++)
		if (j->st->units[i]->backup.present)
			json_object_set_new(keep, j->st->units[i]->name,
			    json_integer(j->st->units[i]->backup.keep));
	/* What the kept revisions name, and what the caller pinned. */
	pins = backup_revision_pins(j->sd, j->st->name, j->st->retain);
	if (j->pins != NULL)
		json_array_extend(pins, j->pins);
	j->fsop = bfs_prune(j->sd->loop, j->sd->cfg.state_dir, j->st->name,
	    keep, UNIT_DEF_BACKUP_KEEP, pins, on_pruned, j);
}

static json_t *
manifest(struct bjob *j)
{
	json_t	*svcs = json_array();
	char	 t0[32], t1[32];
	size_t	 i;

	for (i = 0; i < j->nsvcs; i++) {
		struct bsvc *s = &j->svcs[i];

		if (s->skip)
			continue;
		json_array_append_new(svcs, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:s, s:b, s:O}", "service", s->name, "container", s->cid,
		    "name", s->cname, "image", s->image ? s->image : "",
		    "image_id", s->image_id ? s->image_id : "", "stopped",
		    s->stop, "paths", s->files));
	}
	fmt_time_utc(t0, sizeof t0, (long long)j->started);
	fmt_time_utc(t1, sizeof t1, (long long)time(NULL));
	return json_pack("{s:i, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:I, "
	    "s:I, s:o, s:s}", "format", BACKUP_FORMAT, "id", j->id,
	    "stack", j->st->name, "revision", j->revision, "reason",
	    j->reason, "class", backup_class_name(j->reason) ?:
	    BACKUP_CLASS_MANUAL, "started", t0, "finished", t1, "shipd",
	    SHIPD_VERSION, "size", (json_int_t)j->bytes, "elapsed_ms",
	    (json_int_t)(now_ms() - j->t0), "services", svcs, "result", "ok");
}

static void
finish(struct bjob *j)
{
	if (!j->prepared) {
		report(j, NULL);
		return;
	}
	if (j->failed) {
		j->fsop = bfs_discard(j->sd->loop, j->sd->cfg.state_dir,
		    j->st->name, j->id, on_discarded, j);
		return;
	}
	j->fsop = bfs_commit(j->sd->loop, j->sd->cfg.state_dir, j->st->name,
	    j->id, manifest(j), on_committed, j);
}

/* ---- start --------------------------------------------------------------- */

static void
on_begun(int err, void *arg)
{
	struct bjob *j = arg;

	if (err < 0) {
		job_error(j, "journal: %s", strerror(-err));
		finish(j);
		return;
	}
	emit(j, PROTO_EV_BACKUP, json_pack("{s:s, s:s, s:s}", "stack", j->st->name,
	    "backup", j->id, "status", "started"));
	j->si = 0;
	j->hook_post = false;
	hooks_next(j);
}

static void
on_prepared(int err, const char *msg, json_t *out, void *arg)
{
	struct bjob	*j = arg;
	json_t		*names;
	size_t		 i;

	(void)out;
	j->fsop = NULL;
	if (err < 0) {
		job_error(j, "creating the backup directory: %s", msg);
		report(j, NULL);
		return;
	}
	j->prepared = true;
	if (j->flags & BJOB_NO_STOP) {
		on_begun(0, j);
		return;
	}
	names = json_array();
	for (i = 0; i < j->nsvcs; i++)
		if (j->svcs[i].stop && !j->svcs[i].skip)
			json_array_append_new(names,
			    json_string(j->svcs[i].name));
	j->jr = bjr_begin(j->sd, j->st->name, "backup", j->id, json_pack(
	    "{s:o, s:s}", "services", names, "reason", j->reason), on_begun,
	    j);
}

static void
on_listed(const struct docker_result *res, void *arg)
{
	struct bjob	*j = arg;
	json_t		*c;
	size_t		 i, nskip = 0;

	j->dreq = NULL;
	if (res->err != 0) {
		job_error(j, "listing containers: %s", res->message);
		report(j, NULL);
		return;
	}
	j->containers = json_incref(res->body);
	for (i = 0; i < j->nsvcs; i++) {
		struct bsvc *s = &j->svcs[i];
		const char *name;

		if ((c = backup_containers_find(j->containers, j->st->name,
		    s->name)) == NULL) {
			char *want = spec_container_name(j->st->name, s->name,
			    1);

			if (j->flags & BJOB_MISSING_OK) {
				s->skip = true;
				nskip++;
			} else
				job_error(j, "%s: no container %s to back up "
				    "from", s->name, want);
			free(want);
			continue;
		}
		s->running = strcmp(json_string_value(json_object_get(c,
		    "State")) ?: "", "running") == 0;
		name = json_string_value(json_array_get(json_object_get(c,
		    "Names"), 0));
		s->cid = xstrdup(json_string_value(json_object_get(c, "Id")));
		s->cname = xstrdup(name + (name[0] == '/'));
		s->image = xstrdup(json_string_value(json_object_get(c,
		    "Image")) ?: "");
		s->image_id = xstrdup(json_string_value(json_object_get(c,
		    "ImageID")) ?: "");
	}
	if (j->failed || nskip == j->nsvcs) {
		report(j, NULL);
		return;
	}
	j->fsop = bfs_prepare(j->sd->loop, j->sd->cfg.state_dir, j->st->name,
	    j->id, on_prepared, j);
}

static void
on_kick(uv_timer_t *t)
{
	struct bjob	*j = t->data;
	char		*filter;

	if (j->failed || j->nsvcs == 0) {
		report(j, NULL);
		return;
	}
	xasprintf(&filter, LABEL_STACK "=%s", j->st->name);
	j->dreq = docker_containers_list(j->sd->docker, filter, 1, on_listed,
	    j);
	free(filter);
}

/* Private copies, so the caller may free its stack at once. */
static int
copy_stack(struct bjob *j, const struct stack *st)
{
	struct diag_list	 errs;
	json_t			*js = stack_to_json(st);
	int			 rc;

	diag_init(&errs);
	rc = stack_from_json(js, &j->st, &errs);
	if (rc == 0 && (rc = stack_graph_build(j->st, &j->g, &errs)) != 0)
		j->g = NULL;
	diag_free(&errs);
	json_decref(js);
	return rc;
}

struct bjob *
bjob_start(struct shipd *sd, const struct stack *st, json_t *want,
    int revision, const char *reason, unsigned flags, bjob_event_cb *ev,
    bjob_cb *cb, void *arg)
{
	struct bjob	*j = xcalloc(1, sizeof *j);
	json_t		*w;
	size_t		 i;

	j->sd = sd;
	j->refs = 2;		/* the caller's, and the run's own */
	j->revision = revision;
	j->reason = xstrdup(reason);
	j->flags = flags;
	j->ev = ev;
	j->cb = cb;
	j->arg = arg;
	j->t0 = now_ms();
	j->started = time(NULL);
	j->id = backup_id_new();
	buf_init(&j->errors);
	buf_init(&j->later);
	uv_timer_init(sd->loop, &j->timer);
	j->timer.data = j;
	if (!(flags & BJOB_OWNED)) {
		task_add(sd, &j->task, j, job_stop);
		j->tasked = true;
	}
	if (copy_stack(j, st) != 0)
		job_error(j, "the stack's revision is unreadable");
	j->svcs = xcalloc(json_array_size(want) + 1, sizeof *j->svcs);
	json_array_foreach(want, i, w) {
		const char *name = json_string_value(json_object_get(w,
		    "service"));
		const struct unit *u = j->st ? stack_unit(j->st, name ?
		    name : "") : NULL;
		struct bsvc *s;

		if (u == NULL) {
			job_error(j, "stack %s has no service '%s'", st->name,
			    name ? name : "");
			continue;
		}
		s = &j->svcs[j->nsvcs++];
		s->name = xstrdup(name);
		s->unit = u;
		s->paths = json_incref(json_object_get(w, "paths"));
		s->files = json_array();
		s->stop = u->backup.stop && !(flags & BJOB_NO_STOP);
	}
	json_decref(want);
	/* Reports always come from the loop, never from inside this call. */
	uv_timer_start(&j->timer, on_kick, 0, 0);
	return j;
}
