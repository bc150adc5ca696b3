/*
 * A backup's or a restore's records in the journal, so that a shipd killed
 * in the middle leaves enough to start again what it stopped
 * (backup/recover.c).  Each record is fsync'd before the job takes the step
 * it announces: begin, stop (the containers it stops), start, for a
 * restore each write and "written" once every archive is back, end.
 */
#include <stdlib.h>

#include "backup/backup_int.h"
#include "core/shipd.h"
#include "state/journal.h"
#include "state/store.h"
#include "util.h"

struct bjrec {
	struct shipd	*sd;
	char		*stack;
	char		*job;
	char		*id;
	bool		 held;
	bool		 cancelled;	/* no callback follows */
	bool		 writing;
	bool		 ending;	/* goes once its end is written */
	bjrec_cb	*cb;
	void		*arg;
};

static void
bjr_free(struct bjrec *r)
{
	free(r->stack);
	free(r->job);
	free(r->id);
	free(r);
}

static void
unhold(struct bjrec *r)
{
	if (r->held && r->sd->store != NULL)
		store_journal_release(r->sd->store);
	r->held = false;
}

static void
on_written(int err, void *arg)
{
	struct bjrec	*r = arg;
	bjrec_cb	*cb = r->cb;

	r->writing = false;
	r->cb = NULL;
	if (r->cancelled) {
		bjr_free(r);
		return;
	}
	if (r->ending) {
		unhold(r);
		/* As op_end() does: with nothing under way the journal is
		 * history, but for the stacks a failed recovery holds (a
		 * settle while another job holds it changes nothing). */
		if (err == 0 && r->sd->ops == NULL && r->sd->recovered &&
		    !r->sd->stopping && r->sd->store != NULL)
			journal_settle(r->sd, NULL, NULL);
		if (cb != NULL)
			cb(err, r->arg);
		bjr_free(r);
		return;
	}
	if (cb != NULL)
		cb(err, r->arg);
}

static void
write_step(struct bjrec *r, const char *step, json_t *fields, bjrec_cb *cb,
    void *arg)
{
	assert(!r->writing && !r->cancelled);
	r->writing = true;
	r->cb = cb;
	r->arg = arg;
	journal_job(r->sd->store, r->stack, r->job, r->id, step, fields,
	    on_written, r);
}

struct bjrec *
bjr_begin(struct shipd *sd, const char *stack, const char *job,
    const char *id, json_t *fields, bjrec_cb *cb, void *arg)
{
	struct bjrec *r = xcalloc(1, sizeof *r);

	r->sd = sd;
	r->stack = xstrdup(stack);
	r->job = xstrdup(job);
	r->id = xstrdup(id);
	/* Until its end is on disk the records must survive a truncate. */
	store_journal_hold(sd->store);
	r->held = true;
	write_step(r, "begin", fields, cb, arg);
	return r;
}

void
bjr_step(struct bjrec *r, const char *step, json_t *fields, bjrec_cb *cb,
    void *arg)
{
	write_step(r, step, fields, cb, arg);
}

void
bjr_end(struct bjrec *r, bool ok, const char *why, bjrec_cb *cb, void *arg)
{
	r->ending = true;
	write_step(r, "end", json_pack("{s:s, s:s?}", "result", ok ? "ok" :
	    "failed", "message", why), cb, arg);
}

void
bjr_cancel(struct bjrec *r)
{
	if (r == NULL)
		return;
	/* Without its end the job stays open: the next start finishes it. */
	unhold(r);
	if (r->writing) {
		r->cancelled = true;
		r->cb = NULL;
		return;
	}
	bjr_free(r);
}
