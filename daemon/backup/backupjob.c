/*
 * One backup of one stack: its life, its report and its end.  The run
 * (bjobrun.c) finds replica 1 of each service, runs the pre hooks, copies
 * each path (backupcopy.c; live, or with the service and its dependents
 * stopped), starts them again and runs the post hooks; then this commits
 * the manifest only when every file is on disk and hashed.  A job that
 * may stop services is journaled (bjournal.c) from its begin to its end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/metrics.h"
#include "backup/bjob_int.h"
#include "engine/docker.h"
#include "log.h"
#include "proto.h"
#include "core/shipd.h"
#include "util.h"

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
void
bjob_stop(void *arg)
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
	bjob_stop(j);
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
	bjob_stop(j);
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
void
bjob_report(struct bjob *j, const char *id)
{
	if (j->jr == NULL) {
		report_now(j, id);
		return;
	}
	j->ok_id = id != NULL;
	bjr_end(j->jr, id != NULL, j->errors.len ? j->errors.data : NULL,
	    on_end_rec, j);
}

void
bjob_error(struct bjob *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vline(&j->errors, fmt, ap);
	va_end(ap);
	j->failed = true;
}

void
bjob_emit(struct bjob *j, const char *event, json_t *fields)
{
	if (j->ev != NULL)
		j->ev(event, fields, j->arg);
	json_decref(fields);
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
	bjob_report(j, NULL);
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
		bjob_emit(j, PROTO_EV_PRUNED, json_pack("{s:O}", "backup", id));
	bjob_report(j, j->id);
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
		bjob_error(j, "writing the manifest: %s", msg);
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

void
bjob_finish(struct bjob *j)
{
	if (!j->prepared) {
		bjob_report(j, NULL);
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
