/*
 * A backup job's run (bjob_int.h): list the stack's containers, make the
 * partial backup directory, journal the begin, then the pre hooks, the
 * live copies, the stop, the stopped copies, the restart and the post
 * hooks, one step at a time, each the callback of the one before.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backup/bjob_int.h"
#include "engine/docker.h"
#include "proto.h"
#include "core/shipd.h"
#include "engine/spec.h"
#include "stackgraph.h"
#include "util.h"

static void	copy_next(struct bjob *);
static void	hooks_next(struct bjob *);

/* ---- hooks --------------------------------------------------------------- */

static void
on_hook(int code, const char *why, const char *out, size_t len, void *arg)
{
	struct bjob	*j = arg;
	struct bsvc	*s = &j->svcs[j->si];
	const char	*which = j->hook_post ? "post" : "pre";

	j->hook = NULL;
	bjob_emit(j, PROTO_EV_HOOK, json_pack("{s:s, s:s, s:s, s:s%}", "service",
	    s->name, "hook", which, "status", code == 0 ? "ok" : "failed",
	    "output", out, len));
	if (code != 0)
		bjob_error(j, "%s: %s hook failed (%s)%s%.*s", s->name, which,
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
				bjob_emit(j, PROTO_EV_HOOK, json_pack(
				    "{s:s, s:s, s:s}", "service", s->name,
				    "hook", "pre", "status",
				    "skipped: not running"));
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
		bjob_finish(j);
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

	bjob_emit(j, PROTO_EV_SERVICE, json_pack("{s:s, s:s}", "service",
	    service, "status", status));
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
		bjob_error(j, "journal: %s", strerror(-err));
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
		bjob_error(j, "stopping for the copy: %s", msg);
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
		bjob_error(j, "journal: %s", strerror(-err));
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
		bjob_error(j, "%s: %s: %s", s->name, cur_path(j), res->err);
	else if (res->absent)
		json_array_append_new(s->files, json_pack("{s:s, s:n}",
		    "path", cur_path(j), "file"));
	else {
		xasprintf(&file, "%s-%zu.tar", s->name, j->pi);
		json_array_append_new(s->files, json_pack("{s:s, s:s, s:I, "
		    "s:s}", "path", cur_path(j), "file", file,
		    "size", (json_int_t)res->size, "sha256", res->sha256));
		bjob_emit(j, PROTO_EV_ARCHIVE, json_pack("{s:s, s:s, s:I, s:s}",
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

/* ---- start --------------------------------------------------------------- */

static void
on_begun(int err, void *arg)
{
	struct bjob *j = arg;

	if (err < 0) {
		bjob_error(j, "journal: %s", strerror(-err));
		bjob_finish(j);
		return;
	}
	bjob_emit(j, PROTO_EV_BACKUP, json_pack("{s:s, s:s, s:s}", "stack",
	    j->st->name, "backup", j->id, "status", "started"));
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
		bjob_error(j, "creating the backup directory: %s", msg);
		bjob_report(j, NULL);
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
		bjob_error(j, "listing containers: %s", res->message);
		bjob_report(j, NULL);
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
				bjob_error(j, "%s: no container %s to back up "
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
		bjob_report(j, NULL);
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
		bjob_report(j, NULL);
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
		task_add(sd, &j->task, j, bjob_stop);
		j->tasked = true;
	}
	if (copy_stack(j, st) != 0)
		bjob_error(j, "the stack's revision is unreadable");
	j->svcs = xcalloc(json_array_size(want) + 1, sizeof *j->svcs);
	json_array_foreach(want, i, w) {
		const char *name = json_string_value(json_object_get(w,
		    "service"));
		const struct unit *u = j->st ? stack_unit(j->st, name ?
		    name : "") : NULL;
		struct bsvc *s;

		if (u == NULL) {
			bjob_error(j, "stack %s has no service '%s'", st->name,
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
