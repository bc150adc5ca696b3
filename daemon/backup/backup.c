/*
 * backup, backups and verify as control commands, and the deploy
 * pipeline's backup phase.  A backup command takes each stack's lock in
 * turn (every stack with a deployed revision when none is named, which is
 * what cron and the systemd timer ask for) and runs a backup job in it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup.h"
#include "backup/backup_int.h"
#include "core/req.h"
#include "state/lock.h"
#include "log.h"
#include "proto.h"
#include "core/shipd.h"
#include "state/revision.h"
#include "state/store.h"
#include "util.h"

#define STACKS_MAX	1024

struct bcmd {
	struct shipd		*sd;
	struct task		 task;
	struct ctl_req		*req;
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
};

static void	bcmd_next(struct bcmd *);

static void
bcmd_free(void *arg)
{
	struct bcmd *b = arg;

	task_del(b->sd, &b->task);
	bjob_cancel(b->job);
	lock_release(b->sd, b->lock);
	json_decref(b->stacks);
	json_decref(b->services);
	json_decref(b->done);
	buf_free(&b->failures);
	free(b->cur);
	free(b);
}

static void
bcmd_fail(struct bcmd *b, const char *stack, const char *msg)
{
	buf_printf(&b->failures, "%sbackup of stack %s failed: %s",
	    b->failures.len ? "\n" : "", stack, msg);
	if (b->req != NULL)
		ctl_req_event(b->req, "backup", json_pack("{s:s, s:s, s:s}",
		    "stack", stack, "status", "failed", "error", msg));
}

static void
on_event(const char *event, json_t *fields, void *arg)
{
	struct bcmd *b = arg;

	if (b->req == NULL)
		return;
	fields = json_deep_copy(fields);
	json_object_set_new(fields, "stack", json_string(b->cur));
	ctl_req_event(b->req, event, fields);
}

static void
on_job_done(const char *id, const char *msg, uint64_t bytes, void *arg)
{
	struct bcmd *b = arg;

	b->job = NULL;
	lock_release(b->sd, b->lock);
	b->lock = NULL;
	if (id != NULL) {
		json_array_append_new(b->done, json_pack("{s:s, s:s, s:I, s:I}",
		    "stack", b->cur, "id", id, "size", (json_int_t)bytes,
		    "elapsed_ms", (json_int_t)(now_ms() - b->t0)));
		if (b->req != NULL)
			ctl_req_event(b->req, "backup", json_pack("{s:s, s:s, "
			    "s:s, s:I}", "stack", b->cur, "backup", id,
			    "status", "done", "size", (json_int_t)bytes));
	}
	if (msg != NULL) {
		char *m;

		if (id != NULL)
			xasprintf(&m, "backup %s was written, but: %s", id,
			    msg);
		else
			m = xstrdup(msg);
		bcmd_fail(b, b->cur, m);
		free(m);
	} else if (id == NULL && !b->all)
		bcmd_fail(b, b->cur, "nothing was backed up");
	bcmd_next(b);
}

/* [{service, paths}] for the units that declare backup:, limited to the
 * services asked for; NULL with why set when that leaves nothing. */
json_t *
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

/* The current revision's stack, or NULL with why set. */
struct stack *
backup_current_stack(struct shipd *sd, const char *name, int *rev, char *why,
    size_t len)
{
	struct stack *st;

	if (revision_load(sd->store, name, 0, &st, NULL, rev, why, len) < 0)
		return NULL;
	return st;
}

static void
bcmd_reply(struct bcmd *b)
{
	if (b->req != NULL) {
		if (b->failures.len > 0)
			ctl_req_err(b->req, PROTO_E_FAILED, "%s",
			    b->failures.data);
		else
			ctl_req_ok(b->req, json_pack("{s:O}", "backups",
			    b->done));
		b->req = NULL;
	}
	bcmd_free(b);
}

static void
bcmd_next(struct bcmd *b)
{
	struct stack	*st;
	json_t		*want;
	char		 why[512];
	int		 rev;

	while (b->next < json_array_size(b->stacks)) {
		free(b->cur);
		b->cur = xstrdup(json_string_value(json_array_get(b->stacks,
		    b->next++)));
		if ((st = backup_current_stack(b->sd, b->cur, &rev, why,
		    sizeof why)) == NULL) {
			bcmd_fail(b, b->cur, why);
			continue;
		}
		if ((want = backup_want(st, b->services, why,
		    sizeof why)) == NULL) {
			if (!b->all)
				bcmd_fail(b, b->cur, why);
			stack_free(st);
			continue;
		}
		if (lock_acquire(b->sd, b->cur, "backup", b->req ?
		    b->req->uid : 0, b->req ? b->req->pid : 0, &b->lock, why,
		    sizeof why) < 0) {
			bcmd_fail(b, b->cur, why);
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
	bcmd_reply(b);
}

static void
bcmd_cancel(struct ctl_req *r, void *arg)
{
	struct bcmd *b = arg;

	(void)r;
	b->req = NULL;
}

static bool
strings_ok(const json_t *a)
{
	const json_t	*v;
	size_t		 i;

	json_array_foreach(a, i, v)
		if (!json_is_string(v))
			return false;
	return true;
}

void
ctl_handle_backup(struct shipd *sd, struct ctl_req *r)
{
	const char	*stack = ctl_str(r, "stack");
	json_t		*svcs = json_object_get(r->args, "services");
	const char	*names[STACKS_MAX];
	struct bcmd	*b;
	size_t		 n, i;

	if (svcs != NULL && (!strings_ok(svcs) || stack == NULL)) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "services must be names of "
		    "one stack's services, with the stack named");
		return;
	}
	b = xcalloc(1, sizeof *b);
	b->sd = sd;
	b->req = r;
	b->stacks = json_array();
	b->done = json_array();
	b->services = json_array_size(svcs) > 0 ? json_incref(svcs) : NULL;
	buf_init(&b->failures);
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
	task_add(sd, &b->task, b, bcmd_free);
	ctl_req_on_cancel(r, bcmd_cancel, b);
	bcmd_next(b);
}

/* ---- backups ------------------------------------------------------------- */

static void
on_list_cancel(struct ctl_req *r, void *arg)
{
	(void)r;
	bfs_cancel(arg);
}

static void
on_listed(int err, const char *msg, json_t *out, void *arg)
{
	struct ctl_req *r = arg;

	if (err < 0)
		ctl_req_err(r, PROTO_E_INTERNAL, "listing backups: %s", msg);
	else
		ctl_req_ok(r, json_pack("{s:O}", "backups", out));
}

void
ctl_handle_backups(struct shipd *sd, struct ctl_req *r)
{
	struct bfs_op *op;

	op = bfs_list(sd->loop, sd->cfg.state_dir, ctl_str(r, "stack"),
	    on_listed, r);
	if (op != NULL)
		ctl_req_on_cancel(r, on_list_cancel, op);
}

/* ---- verify -------------------------------------------------------------- */

struct vcmd {
	struct shipd	*sd;
	struct ctl_req	*req;
	struct bfs_op	*op;
	char		*stack;
};

static void
vcmd_free(struct vcmd *v)
{
	free(v->stack);
	free(v);
}

static void
on_verify_cancel(struct ctl_req *r, void *arg)
{
	struct vcmd *v = arg;

	(void)r;
	bfs_cancel(v->op);
	vcmd_free(v);
}

static void
on_verified(int err, const char *msg, json_t *out, void *arg)
{
	struct vcmd	*v = arg;
	struct ctl_req	*r = v->req;
	const char	*id = ctl_str(r, "id");
	struct buf	 b;
	json_t		*p;
	size_t		 i;

	v->op = NULL;
	if (err < 0)
		ctl_req_err(r, PROTO_E_FAILED, "verifying backup %s: %s", id,
		    msg);
	else if (!json_is_true(json_object_get(out, "ok"))) {
		buf_init(&b);
		json_array_foreach(json_object_get(out, "problems"), i, p)
			buf_printf(&b, "\n  %s", json_string_value(p));
		ctl_req_err(r, PROTO_E_FAILED, "backup %s of stack %s is "
		    "damaged:%s", id, v->stack, b.data ? b.data : "");
		buf_free(&b);
	} else {
		p = json_deep_copy(out);
		json_object_set_new(p, "stack", json_string(v->stack));
		json_object_set_new(p, "id", json_string(id));
		ctl_req_ok(r, p);
	}
	vcmd_free(v);
}

static void
on_found(int err, const char *msg, json_t *out, void *arg)
{
	struct vcmd *v = arg;

	v->op = NULL;
	if (err < 0) {
		ctl_req_err(v->req, err == -ENOENT ? PROTO_E_NOT_FOUND :
		    PROTO_E_BAD_ARGS, "%s", msg);
		vcmd_free(v);
		return;
	}
	v->stack = xstrdup(json_string_value(json_object_get(out, "stack")));
	v->op = bfs_verify(v->sd->loop, v->sd->cfg.state_dir, v->stack,
	    ctl_str(v->req, "id"), NULL, on_verified, v);
}

void
ctl_handle_verify(struct shipd *sd, struct ctl_req *r)
{
	struct vcmd	*v;
	const char	*id = ctl_str(r, "id");

	if (!backup_id_valid(id)) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "'%s' is not a backup ID", id);
		return;
	}
	v = xcalloc(1, sizeof *v);
	v->sd = sd;
	v->req = r;
	ctl_req_on_cancel(r, on_verify_cancel, v);
	v->op = bfs_find(sd->loop, sd->cfg.state_dir, ctl_str(r, "stack"), id,
	    on_found, v);
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
}
