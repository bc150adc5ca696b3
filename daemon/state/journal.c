/*
 * The deploy journal: every step that changes the engine is recorded, and
 * fsync'd, before it is taken.  After a crash (of shipd or the machine)
 * the journal says which operation was under way; with the labels on the
 * engine's objects that is enough to bring the stack to one consistent
 * state (ops/recover.c).
 *
 * Records: {"event":"begin","stack","kind","revision","prev"},
 * {"event":"step","stack","revision","service","replica","step"},
 * {"event":"commit",...}, {"event":"end",...}.  Backup and restore jobs,
 * which are not operations, write {"event":"job","stack","id","job":
 * backup|restore,"step", ...} (backup/bjournal.c says which steps).
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "state/journal.h"
#include "log.h"
#include "state/store.h"
#include "util.h"

/*
 * Crash testing: SHIPD_TEST_KILL_AT=LABEL makes shipd SIGKILL itself the
 * moment the record LABEL ("begin", "commit", "step:create", a job's
 * "backup:stop", "restore:write:db", "restore:written", ...) is on
 * disk, before the step it announces is taken: the worst moment, made
 * repeatable.  Only the test suite sets it.
 */
struct ticket {
	store_cb	*cb;
	void		*arg;
	char		 label[32];
};

static void
on_durable(int err, void *arg)
{
	struct ticket	*t = arg;
	const char	*at = getenv("SHIPD_TEST_KILL_AT");
	store_cb	*cb = t->cb;
	void		*cbarg = t->arg;

	if (err == 0 && at != NULL && strcmp(at, t->label) == 0) {
		log_warn("journal: SHIPD_TEST_KILL_AT=%s: killing myself", at);
		kill(getpid(), SIGKILL);
	}
	free(t);
	if (cb != NULL)
		cb(err, cbarg);
}

static void
append(struct store *st, json_t *rec, const char *label, store_cb *cb,
    void *arg)
{
	struct ticket *t = xcalloc(1, sizeof *t);

	t->cb = cb;
	t->arg = arg;
	snprintf(t->label, sizeof t->label, "%s", label);
	store_journal_append(st, rec, on_durable, t);
	json_decref(rec);
}

void
journal_op(struct store *st, const char *event, const char *stack,
    const char *kind, int rev, int prev, store_cb *cb, void *arg)
{
	append(st, json_pack("{s:s, s:s, s:s, s:i, s:i}", "event", event,
	    "stack", stack, "kind", kind, "revision", rev, "prev", prev),
	    event, cb, arg);
}

void
journal_step(struct store *st, const char *stack, const char *kind, int rev,
    const char *service, int replica, const char *step, store_cb *cb,
    void *arg)
{
	char label[32];

	snprintf(label, sizeof label, "step:%s", step);
	append(st, json_pack("{s:s, s:s, s:s, s:i, s:s, s:i, s:s}",
	    "event", "step", "stack", stack, "kind", kind, "revision", rev,
	    "service", service, "replica", replica, "step", step), label, cb,
	    arg);
}

void
journal_job(struct store *st, const char *stack, const char *job,
    const char *id, const char *step, json_t *fields, store_cb *cb, void *arg)
{
	json_t		*rec = fields != NULL ? fields : json_object();
	const char	*svc;
	char		 label[32];

	/* No "kind": the operations' recovery reads only records with one. */
	json_object_set_new(rec, "event", json_string("job"));
	json_object_set_new(rec, "stack", json_string(stack));
	json_object_set_new(rec, "id", json_string(id));
	json_object_set_new(rec, "job", json_string(job));
	json_object_set_new(rec, "step", json_string(step));
	svc = json_string_value(json_object_get(rec, "service"));
	snprintf(label, sizeof label, "%s:%s%s%s", job, step, svc ? ":" : "",
	    svc ? svc : "");
	append(st, rec, label, cb, arg);
}

/* ---- what stays ---------------------------------------------------------- */

void
journal_hold(struct shipd *sd, const char *stack, const char *why)
{
	if (sd->journal_held == NULL)
		sd->journal_held = json_object();
	json_object_set_new(sd->journal_held, stack, json_string(why));
}

void
journal_release(struct shipd *sd, const char *stack)
{
	if (sd->journal_held != NULL &&
	    json_object_del(sd->journal_held, stack) == 0)
		log_info("journal: %s: no longer held for recovery", stack);
}

const char *
journal_held(const struct shipd *sd, const char *stack)
{
	return json_string_value(json_object_get(sd->journal_held, stack));
}

void
journal_settle(struct shipd *sd, store_cb *cb, void *arg)
{
	json_t		*recs = store_journal_read(sd->store), *keep, *r;
	const char	*stack;
	size_t		 i;

	if (sd->journal_held == NULL || json_object_size(sd->journal_held) ==
	    0) {
		store_journal_truncate(sd->store, cb, arg);
		return;
	}
	keep = json_array();
	json_array_foreach(recs, i, r)
		if ((stack = json_string_value(json_object_get(r,
		    "stack"))) != NULL && journal_held(sd, stack) != NULL)
			json_array_append(keep, r);
	store_journal_rewrite(sd->store, keep, cb, arg);
	json_decref(keep);
}

void
journal_holds_free(struct shipd *sd)
{
	json_decref(sd->journal_held);
	sd->journal_held = NULL;
}
