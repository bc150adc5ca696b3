/*
 * At start, after a shipd that was killed: the backups and restores it
 * left open in the journal (bjournal.c).  What one stopped is started
 * again, dependencies first, each replica gated on health, under the
 * stack's lock; a restore that had written every archive is finished and
 * recorded done, any other job is recorded failed (journal end, audit
 * log).  The partial backups the dead process was writing are removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup/backup.h"
#include "backup/backup_int.h"
#include "core/shipd.h"
#include "engine/docker.h"
#include "engine/spec.h"
#include "log.h"
#include "proto.h"
#include "state/journal.h"
#include "state/lock.h"
#include "state/revision.h"
#include "state/store.h"
#include "util.h"

struct bopen {
	struct shipd		*sd;
	struct brec		*br;		/* NULL once dropped */
	struct bopen		*next;
	char			*stack;
	char			*job;		/* "backup" or "restore" */
	char			*id;
	char			*backup;	/* a restore's */
	char			*safety;
	json_t			*targets;	/* what its stops named */
	bool			 written;
	bool			 started;	/* its restart was recorded */
	struct stack_lock	*lock;
	struct lock_waiter	*waiter;
	struct stack		*st;
	struct graph		*g;
	struct docker_req	*dreq;
	struct quiesce		*q;
	bool			 writing;	/* its end, on the way */
	bool			 gone;		/* shutdown: free once written */
};

struct brec {
	struct shipd		*sd;
	struct task		 task;
	uv_timer_t		 kick;
	struct bopen		*jobs;
	struct bfs_op		*clean;
};

static void
bopen_free(struct bopen *b)
{
	if (b->sd->store != NULL)
		store_journal_release(b->sd->store);
	free(b->stack);
	free(b->job);
	free(b->id);
	free(b->backup);
	free(b->safety);
	json_decref(b->targets);
	if (b->g != NULL)
		graph_free(b->g);
	if (b->st != NULL)
		stack_free(b->st);
	free(b);
}

static void
on_kick_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
brec_maybe_free(struct brec *br)
{
	if (br->jobs != NULL || br->clean != NULL)
		return;
	task_del(br->sd, &br->task);
	uv_close((uv_handle_t *)&br->kick, on_kick_closed);
}

static void
unlink_job(struct bopen *b)
{
	struct bopen **pp;

	for (pp = &b->br->jobs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			break;
		}
}

/* Let go of what the job holds; the memory waits for a write under way. */
static void
job_drop(struct bopen *b)
{
	struct shipd *sd = b->sd;

	if (sd->docker != NULL)
		docker_cancel(b->dreq);
	b->dreq = NULL;
	quiesce_unref(b->q);
	b->q = NULL;
	lock_wait_cancel(sd, b->waiter);
	b->waiter = NULL;
	lock_release(sd, b->lock);
	b->lock = NULL;
	unlink_job(b);
	b->br = NULL;
	if (b->writing)
		b->gone = true;
	else
		bopen_free(b);
}

static void
on_end(int err, void *arg)
{
	struct bopen	*b = arg;
	struct brec	*br = b->br;
	struct shipd	*sd = b->sd;

	b->writing = false;
	if (b->gone) {
		bopen_free(b);
		return;
	}
	if (err < 0)
		log_warn("journal: %s %s of %s: %s", b->job, b->id, b->stack,
		    strerror(-err));
	job_drop(b);	/* its hold on the journal goes */
	/* As bjr_end() does: once recovery has settled the journal, a job
	 * ending after it empties the journal, or nothing else would. */
	if (err == 0 && sd->ops == NULL && sd->recovered && !sd->stopping &&
	    sd->store != NULL)
		journal_settle(sd, NULL, NULL);
	brec_maybe_free(br);
}

/* How it ended, in the journal and the audit log. */
static void
conclude(struct bopen *b, const char *startmsg)
{
	struct shipd	*sd = b->br->sd;
	bool		 ok = strcmp(b->job, "restore") == 0 && b->written &&
	    startmsg == NULL;
	json_t		*args, *rec;
	char		 why[1024], now[32], *tail = NULL;

	if (startmsg != NULL)
		xasprintf(&tail, "; starting again what it stopped: %s",
		    startmsg);
	if (strcmp(b->job, "backup") == 0)
		snprintf(why, sizeof why, "interrupted: shipd stopped during "
		    "backup %s; nothing was kept%s", b->id, tail ? tail : "");
	else if (b->written)
		snprintf(why, sizeof why, "every archive of backup %s was "
		    "back when shipd stopped; finished at start%s",
		    b->backup ? b->backup : "?", tail ? tail : "");
	else
		snprintf(why, sizeof why, "interrupted: shipd stopped during "
		    "the restore of backup %s, before every archive was back%s%s"
		    "%s%s%s", b->backup ? b->backup : "?", tail ? tail : "",
		    b->safety ? "; what was there before is in the safety "
		    "backup: shipctl restore --stack " : "",
		    b->safety ? b->stack : "", b->safety ? " " : "",
		    b->safety ? b->safety : "");
	free(tail);
	if (ok)
		log_info("journal: %s: restore %s: %s", b->stack, b->id, why);
	else
		log_warn("journal: %s: %s %s: %s", b->stack, b->job, b->id,
		    why);
	args = json_pack("{s:s}", "stack", b->stack);
	if (b->backup != NULL)
		json_object_set_new(args, "id", json_string(b->backup));
	fmt_time_utc(now, sizeof now, (long long)time(NULL));
	rec = json_pack("{s:s, s:s, s:i, s:i, s:s, s:o, s:s, s:s, s:b}",
	    "time", now, "event", "end", "uid", (int)getuid(), "pid", (int)getpid(), "cmd", b->job,
	    "args", args, "result", ok ? "ok" : PROTO_E_FAILED, "message",
	    why, "recovered", 1);
	store_audit(sd->store, rec);
	json_decref(rec);
	b->writing = true;
	journal_job(sd->store, b->stack, b->job, b->id, "end", json_pack(
	    "{s:s, s:s, s:b}", "result", ok ? "ok" : "failed", "message", why,
	    "recovered", 1), on_end, b);
}

static void
on_quiesce_event(const char *service, const char *status, void *arg)
{
	struct bopen *b = arg;

	log_info("journal: %s: %s %s: %s %s", b->stack, b->job, b->id,
	    service, status);
}

static void
on_started(const char *msg, void *arg)
{
	struct bopen *b = arg;

	conclude(b, msg);
}

/* Stopped again: now start what the job stopped. */
static void
on_restopped(const char *msg, void *arg)
{
	struct bopen *b = arg;

	if (msg != NULL)
		log_warn("journal: %s: %s %s: stopping again: %s", b->stack,
		    b->job, b->id, msg);
	quiesce_start(b->q, on_started, b);
}

/*
 * Only what still exists: a container removed since is not ours to make.
 * Unless the job had recorded its restart, a container it stopped may be
 * running with that stop still under way (the engine finishes it whoever
 * asked): starting it is a no-op, its gate passes and the old stop then
 * leaves it exited.  So the stop is asked again first (of a stopping
 * container it waits for the same exit, of an exited one it does
 * nothing), as ops recovery does for a deploy's stop.
 */
static void
on_listed(const struct docker_result *res, void *arg)
{
	struct bopen	*b = arg;
	json_t		*have = json_array(), *t, *c;
	size_t		 i, k;

	b->dreq = NULL;
	if (res->err != 0) {
		json_decref(have);
		conclude(b, res->message);
		return;
	}
	json_array_foreach(b->targets, i, t)
		json_array_foreach(res->body, k, c)
			if (json_equal(json_object_get(t, "id"),
			    json_object_get(c, "Id"))) {
				json_array_append(have, t);
				break;
			}
	if (json_array_size(have) == 0) {
		json_decref(have);
		conclude(b, NULL);
		return;
	}
	log_warn("journal: %s: %s %s was interrupted; starting again the %zu "
	    "container(s) it stopped", b->stack, b->job, b->id,
	    json_array_size(have));
	b->q = quiesce_from_targets(b->br->sd, b->st, b->g, have,
	    on_quiesce_event, b);
	json_decref(have);
	if (b->started)
		quiesce_start(b->q, on_started, b);
	else
		quiesce_stop(b->q, on_restopped, b);
}

static void
go(struct bopen *b)
{
	struct shipd	*sd = b->br->sd;
	char		 why[512], *filter;

	if (json_array_size(b->targets) == 0) {
		conclude(b, NULL);	/* it stopped nothing */
		return;
	}
	if (revision_load(sd->store, b->stack, 0, &b->st, &b->g, NULL, why,
	    sizeof why) < 0) {
		conclude(b, why);
		return;
	}
	xasprintf(&filter, LABEL_STACK "=%s", b->stack);
	b->dreq = docker_containers_list(sd->docker, filter, 1, on_listed, b);
	free(filter);
}

static bool
try_lock(struct bopen *b)
{
	char why[256];

	return lock_acquire(b->br->sd, b->stack, "recover", getuid(),
	    getpid(), &b->lock, why, sizeof why) == 0;
}

static void
on_lock_free(void *arg)
{
	struct bopen *b = arg;

	if (!try_lock(b))
		return;
	lock_wait_cancel(b->br->sd, b->waiter);
	b->waiter = NULL;
	go(b);
}

/* After ops_recover() has taken the locks of the stacks it brings back:
 * what it starts, it starts first. */
static void
on_kick(uv_timer_t *t)
{
	struct brec	*br = t->data;
	struct bopen	*b, *next;

	for (b = br->jobs; b != NULL; b = next) {
		next = b->next;
		if (try_lock(b))
			go(b);
		else
			b->waiter = lock_wait(br->sd, b->stack, on_lock_free, b);
	}
	brec_maybe_free(br);
}

static void
on_cleaned(int err, const char *msg, json_t *out, void *arg)
{
	struct brec	*br = arg;
	json_t		*p;
	size_t		 i;

	br->clean = NULL;
	json_array_foreach(out, i, p)
		log_info("backup: removed %s, left by a shipd that stopped "
		    "while writing it", json_string_value(p));
	if (err < 0)
		log_warn("backup: removing partial backups: %s", msg);
	brec_maybe_free(br);
}

static void
brec_stop(void *arg)
{
	struct brec *br = arg;

	bfs_cancel(br->clean);
	br->clean = NULL;
	uv_timer_stop(&br->kick);
	while (br->jobs != NULL)
		job_drop(br->jobs);
	brec_maybe_free(br);
}

static struct bopen *
find_job(struct brec *br, const char *stack, const char *job, const char *id)
{
	struct bopen *b;

	for (b = br->jobs; b != NULL; b = b->next)
		if (strcmp(b->stack, stack) == 0 && strcmp(b->job, job) == 0 &&
		    strcmp(b->id, id) == 0)
			return b;
	return NULL;
}

static void
read_record(struct brec *br, const json_t *r)
{
	const char	*stack = json_string_value(json_object_get(r, "stack"));
	const char	*job = json_string_value(json_object_get(r, "job"));
	const char	*id = json_string_value(json_object_get(r, "id"));
	const char	*step = json_string_value(json_object_get(r, "step"));
	const char	*s;
	struct bopen	*b, **pp;
	json_t		*t;
	size_t		 i;

	if (stack == NULL || job == NULL || id == NULL || step == NULL)
		return;
	if (strcmp(step, "begin") == 0) {
		b = xcalloc(1, sizeof *b);
		b->sd = br->sd;
		b->br = br;
		b->stack = xstrdup(stack);
		b->job = xstrdup(job);
		b->id = xstrdup(id);
		b->targets = json_array();
		if ((s = json_string_value(json_object_get(r, "backup"))))
			b->backup = xstrdup(s);
		else if (strcmp(job, "backup") == 0)
			b->backup = xstrdup(id);
		for (pp = &br->jobs; *pp != NULL; pp = &(*pp)->next)
			;
		*pp = b;
		store_journal_hold(br->sd->store);
		return;
	}
	if ((b = find_job(br, stack, job, id)) == NULL)
		return;
	if ((s = json_string_value(json_object_get(r, "safety"))) != NULL &&
	    b->safety == NULL)
		b->safety = xstrdup(s);
	if (strcmp(step, "stop") == 0)
		json_array_foreach(json_object_get(r, "containers"), i, t)
			json_array_append(b->targets, t);
	else if (strcmp(step, "written") == 0)
		b->written = true;
	else if (strcmp(step, "start") == 0)
		b->started = true;
	else if (strcmp(step, "end") == 0)
		job_drop(b);	/* it ended */
}

void
backup_recover(struct shipd *sd)
{
	struct brec	*br = xcalloc(1, sizeof *br);
	json_t		*r;
	size_t		 i;
	char		*now = backup_id_new();

	br->sd = sd;
	uv_timer_init(sd->loop, &br->kick);
	br->kick.data = br;
	task_add(sd, &br->task, br, brec_stop);
	/* Read now, before ops_recover() may empty the journal; held until
	 * each job's end is on disk. */
	json_array_foreach(store_journal_read(sd->store), i, r) {
		const char *ev = json_string_value(json_object_get(r,
		    "event"));

		if (ev != NULL && strcmp(ev, "job") == 0)
			read_record(br, r);
	}
	br->clean = bfs_clean(sd->loop, sd->cfg.state_dir, now, on_cleaned,
	    br);
	free(now);
	uv_timer_start(&br->kick, on_kick, 0, 0);
}
