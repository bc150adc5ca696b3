/*
 * The backup commands and the deploy pipeline's backup phase.  A backup
 * run takes each stack's lock in turn (every stack with a deployed
 * revision when none is named, which is what cron and the systemd timer
 * ask for) and runs a backup job in it; listing and verifying read the
 * store on the thread pool.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup.h"
#include "backup/backup_int.h"
#include "core/req.h"
#include "core/shipd.h"
#include "log.h"
#include "proto.h"
#include "state/lock.h"
#include "state/revision.h"
#include "state/store.h"
#include "util.h"

#define STACKS_MAX	1024

/* [{service, paths}] for the units that declare backup:, limited to the
 * services asked for; NULL with why set when that leaves nothing. */
static json_t *
backup_want(const struct stack *st, const json_t *services, char *why,
    size_t len)
{
	json_t	*want = json_array(), *v, *paths;
	size_t	 i, k;

	json_array_foreach(services, i, v) {
		const struct unit *u = stack_unit(st, json_string_value(v) ?:
		    "");

		if (u == NULL || !u->backup.present) {
			snprintf(why, len, u ? "service %s declares no "
			    "backup:" : "stack %s has no service '%s'",
			    u ? json_string_value(v) : st->name,
			    json_string_value(v) ?: "");
			json_decref(want);
			return NULL;
		}
	}
	for (i = 0; i < st->nunits; i++) {
		const struct unit *u = st->units[i];
		bool asked = services == NULL;

		json_array_foreach(services, k, v)
			if (strcmp(json_string_value(v), u->name) == 0)
				asked = true;
		if (!u->backup.present || !asked)
			continue;
		paths = json_array();
		for (k = 0; u->backup.paths[k] != NULL; k++)
			json_array_append_new(paths,
			    json_string(u->backup.paths[k]));
		json_array_append_new(want, json_pack("{s:s, s:o}", "service",
		    u->name, "paths", paths));
	}
	if (json_array_size(want) == 0) {
		snprintf(why, len, "no service of stack %s declares backup:",
		    st->name);
		json_decref(want);
		return NULL;
	}
	return want;
}

/* ---- one stack after the other: `shipctl backup` ------------------------- */

struct backup_run {
	struct shipd		*sd;
	int			 refs;
	bool			 ended;
	struct task		 task;
	uv_timer_t		 kick;		/* the first step, at 0 ms */
	struct ctl_req		*req;		/* NULL once detached */
	json_t			*stacks;	/* names still to do */
	size_t			 next;
	json_t			*services;	/* asked for, or NULL */
	bool			 all;		/* no stack named */
	char			*cur;
	struct stack_lock	*lock;
	struct bjob		*job;
	uint64_t		 t0;
	json_t			*done;
	struct buf		 failures;
	size_t			 nfailed, nbusy; /* stacks; busy: locked */
	backup_done_cb		*cb;
	void			*arg;
};

static void	run_next(struct backup_run *);

static void
on_run_closed(uv_handle_t *h)
{
	struct backup_run *b = h->data;

	json_decref(b->stacks);
	json_decref(b->services);
	json_decref(b->done);
	buf_free(&b->failures);
	free(b->cur);
	free(b);
}

static void
run_ref(struct backup_run *b)
{
	b->refs++;
}

static void
run_unref(struct backup_run *b)
{
	assert(b->refs > 0);
	if (--b->refs == 0)
		uv_close((uv_handle_t *)&b->kick, on_run_closed);
}

/* Drop what is under way; no callback follows.  Idempotent. */
static void
run_end(void *arg)
{
	struct backup_run *b = arg;

	if (b->ended)
		return;
	b->ended = true;
	b->cb = NULL;
	task_del(b->sd, &b->task);
	uv_timer_stop(&b->kick);
	bjob_cancel(b->job);
	b->job = NULL;
	lock_release(b->sd, b->lock);
	b->lock = NULL;
	run_unref(b);		/* the run's own */
}

static void
run_fail(struct backup_run *b, const char *stack, const char *msg)
{
	buf_printf(&b->failures, "%sbackup of stack %s failed: %s",
	    b->failures.len ? "\n" : "", stack, msg);
	b->nfailed++;
	if (b->req != NULL)
		ctl_req_event(b->req, PROTO_EV_BACKUP, json_pack("{s:s, s:s, "
		    "s:s}", "stack", stack, "status", "failed", "message", msg));
}

static void
on_event(const char *event, json_t *fields, void *arg)
{
	struct backup_run *b = arg;

	if (b->req == NULL)
		return;
	fields = json_deep_copy(fields);
	json_object_set_new(fields, "stack", json_string(b->cur));
	ctl_req_event(b->req, event, fields);
}

static void
on_job_done(const char *id, const char *msg, uint64_t bytes, void *arg)
{
	struct backup_run *b = arg;

	bjob_unref(b->job);
	b->job = NULL;
	lock_release(b->sd, b->lock);
	b->lock = NULL;
	if (id != NULL) {
		json_array_append_new(b->done, json_pack("{s:s, s:s, s:I, s:I}",
		    "stack", b->cur, "id", id, "size", (json_int_t)bytes,
		    "elapsed_ms", (json_int_t)(now_ms() - b->t0)));
		if (b->req != NULL)
			ctl_req_event(b->req, PROTO_EV_BACKUP, json_pack("{s:s, "
			    "s:s, s:s, s:I}", "stack", b->cur, "backup", id,
			    "status", "done", "size", (json_int_t)bytes));
	}
	if (msg != NULL) {
		char *m;

		if (id != NULL)
			xasprintf(&m, "backup %s was written, but: %s", id,
			    msg);
		else
			m = xstrdup(msg);
		run_fail(b, b->cur, m);
		free(m);
	} else if (id == NULL && !b->all)
		run_fail(b, b->cur, "nothing was backed up");
	run_next(b);
}

static void
run_report(struct backup_run *b)
{
	/* Held across the callback, which may detach or end the run. */
	run_ref(b);
	if (b->cb != NULL) {
		/* Every stack it failed was locked: the caller may retry. */
		if (b->failures.len > 0)
			b->cb(b->nbusy == b->nfailed ? -EBUSY : -EIO,
			    b->failures.data, NULL, b->arg);
		else
			b->cb(0, NULL, b->done, b->arg);
	}
	run_end(b);
	run_unref(b);
}

static void
run_next(struct backup_run *b)
{
	struct stack	*st;
	json_t		*want;
	char		 why[512];
	int		 rev;

	while (b->next < json_array_size(b->stacks)) {
		free(b->cur);
		b->cur = xstrdup(json_string_value(json_array_get(b->stacks,
		    b->next++)));
		if (revision_load(b->sd->store, b->cur, 0, &st, NULL, &rev, why,
		    sizeof why) < 0) {
			run_fail(b, b->cur, why);
			continue;
		}
		if ((want = backup_want(st, b->services, why,
		    sizeof why)) == NULL) {
			if (!b->all)
				run_fail(b, b->cur, why);
			stack_free(st);
			continue;
		}
		if (lock_acquire(b->sd, b->cur, PROTO_CMD_BACKUP, b->req ?
		    b->req->uid : 0, b->req ? b->req->pid : 0, &b->lock, why,
		    sizeof why) < 0) {
			run_fail(b, b->cur, why);
			b->nbusy++;
			json_decref(want);
			stack_free(st);
			continue;
		}
		b->t0 = now_ms();
		b->job = bjob_start(b->sd, st, want, rev, "manual", BJOB_OWNED,
		    on_event, on_job_done, b);
		stack_free(st);
		return;
	}
	run_report(b);
}

static void
on_run_kick(uv_timer_t *t)
{
	run_next(t->data);
}

struct backup_run *
backup_run(struct shipd *sd, struct ctl_req *req, const char *stack,
    const json_t *services, backup_done_cb *cb, void *arg)
{
	struct backup_run	*b = xcalloc(1, sizeof *b);
	const char		*names[STACKS_MAX];
	size_t			 n, i;

	b->sd = sd;
	b->refs = 1;		/* the run's own, until it ends */
	b->req = req;
	b->cb = cb;
	b->arg = arg;
	b->stacks = json_array();
	b->done = json_array();
	b->services = json_array_size(services) > 0 ?
	    json_deep_copy(services) : NULL;
	buf_init(&b->failures);
	uv_timer_init(sd->loop, &b->kick);
	b->kick.data = b;
	if (stack != NULL)
		json_array_append_new(b->stacks, json_string(stack));
	else {
		b->all = true;
		n = store_stacks(sd->store, names, STACKS_MAX);
		for (i = 0; i < n; i++)
			if (store_current(sd->store, names[i]) > 0)
				json_array_append_new(b->stacks,
				    json_string(names[i]));
	}
	task_add(sd, &b->task, b, run_end);
	/* Even a run with nothing to do answers from the loop. */
	uv_timer_start(&b->kick, on_run_kick, 0, 0);
	return b;
}

void
backup_run_detach(struct backup_run *b)
{
	b->req = NULL;
	b->cb = NULL;
}

/* ---- listing and verifying --------------------------------------------- */

struct backup_query {
	struct shipd	*sd;
	struct bfs_op	*op;
	char		*stack;		/* the backup's, once found */
	char		*id;
	bool		 reported;
	backup_done_cb	*cb;
	void		*arg;
};

static struct backup_query *
query_new(struct shipd *sd, const char *id, backup_done_cb *cb, void *arg)
{
	struct backup_query *q = xcalloc(1, sizeof *q);

	q->sd = sd;
	q->id = id ? xstrdup(id) : NULL;
	q->cb = cb;
	q->arg = arg;
	return q;
}

static void
query_free(struct backup_query *q)
{
	bfs_cancel(q->op);
	free(q->stack);
	free(q->id);
	free(q);
}

/* The one end of a query: its callback, then it goes. */
static void
query_report(struct backup_query *q, int err, const char *msg,
    const json_t *out)
{
	q->reported = true;
	q->cb(err, msg, out, q->arg);
	query_free(q);
}

void
backup_query_cancel(struct backup_query *q)
{
	/* From inside its own callback it is about to go anyway. */
	if (q != NULL && !q->reported)
		query_free(q);
}

static void
on_listed(int err, const char *msg, json_t *out, void *arg)
{
	struct backup_query *q = arg;

	q->op = NULL;
	query_report(q, err, msg, out);
}

struct backup_query *
backup_list(struct shipd *sd, const char *stack, backup_done_cb *cb,
    void *arg)
{
	struct backup_query *q = query_new(sd, NULL, cb, arg);

	q->op = bfs_list(sd->loop, sd->cfg.state_dir, stack, on_listed, q);
	return q;
}

static void
on_verified(int err, const char *msg, json_t *out, void *arg)
{
	struct backup_query	*q = arg;
	json_t			*res;
	char			*m;

	q->op = NULL;
	if (err < 0) {
		xasprintf(&m, "verifying backup %s: %s", q->id, msg);
		query_report(q, -EIO, m, NULL);
		free(m);
		return;
	}
	res = json_deep_copy(out);
	json_object_set_new(res, "stack", json_string(q->stack));
	json_object_set_new(res, "id", json_string(q->id));
	query_report(q, 0, NULL, res);
	json_decref(res);
}

static void
on_found(int err, const char *msg, json_t *out, void *arg)
{
	struct backup_query *q = arg;

	q->op = NULL;
	if (err < 0) {
		query_report(q, err == -ENOENT || err == -EEXIST ? err : -EIO,
		    msg, NULL);
		return;
	}
	q->stack = xstrdup(json_string_value(json_object_get(out, "stack")));
	q->op = bfs_verify(q->sd->loop, q->sd->cfg.state_dir, q->stack, q->id,
	    NULL, on_verified, q);
}

struct backup_query *
backup_verify(struct shipd *sd, const char *stack, const char *id,
    backup_done_cb *cb, void *arg)
{
	struct backup_query *q = query_new(sd, id, cb, arg);

	q->op = bfs_find(sd->loop, sd->cfg.state_dir, stack, id, on_found, q);
	return q;
}

/* ---- the deploy pipeline's backup phase ---------------------------------- */

struct dep {
	void	(*done)(int, const char *, const char *, void *);
	void	*arg;
};

static void
on_dep_done(const char *id, const char *msg, uint64_t bytes, void *arg)
{
	struct dep *d = arg;

	(void)bytes;
	d->done(msg != NULL ? -EIO : 0, id, msg, d->arg);
}

void
backup_for_deploy(struct shipd *sd, const struct stack *st,
    const char *const *services, size_t n, int revision,
    void (*done)(int, const char *, const char *, void *), void *arg)
{
	struct dep	*d = xcalloc(1, sizeof *d);
	struct bjob	*j;
	json_t		*names = json_array(), *want;
	char		 why[256];
	size_t		 i;

	d->done = done;
	d->arg = arg;
	for (i = 0; i < n; i++) {
		const struct unit *u = stack_unit(st, services[i]);

		if (u != NULL && u->backup.present)
			json_array_append_new(names,
			    json_string(services[i]));
	}
	/* None to back up is not a failure: the job reports no ID. */
	want = json_array_size(names) > 0 ? backup_want(st, names, why,
	    sizeof why) : NULL;
	json_decref(names);
	/* A service scaled to zero has nothing to save: not a failure. */
	j = bjob_start(sd, st, want ? want : json_array(), revision, "deploy",
	    BJOB_MISSING_OK, NULL, on_dep_done, d);
	bjob_free_arg(j, free);
	bjob_unref(j);		/* a task: shutdown stops it */
}
