/*
 * The state store's write queue: each write is queued on the loop, run on
 * the libuv thread pool one at a time in FIFO order, and applied to the
 * cache when it has landed, just before its callback.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "state/store_int.h"
#include "util.h"

/* ---- the worker side: plain system calls only ---------------------------- */

/* A new directory's name is only durable once its parent is synced. */
static int
mkdir_durable(const char *path)
{
	if (mkdir(path, STORE_DIR_MODE) < 0)
		return errno == EEXIST ? 0 : -errno;
	return fsync_dir_of(path);
}

static int
stack_dirs(const char *dir)
{
	char	*revs;
	int	 rc;

	if ((rc = mkdir_durable(dir)) < 0)
		return rc;
	xasprintf(&revs, "%s/revisions", dir);
	rc = mkdir_durable(revs);
	free(revs);
	return rc;
}

/*
 * Append one line and fdatasync.  A failed write is cut back off so the
 * next record does not get glued onto half of this one.
 */
static int
append_sync(const char *path, const char *data, size_t len)
{
	struct stat	sb;
	bool		created = false;
	int		fd, rc;

	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    STORE_FILE_MODE);
		created = true;
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if ((rc = write_all(fd, data, len)) < 0) {
		/* Should this fail too, store_open cuts the torn line. */
		int cut = ftruncate(fd, sb.st_size);

		(void)cut;
	} else if (fdatasync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && created)
		rc = fsync_dir_of(path);
	return rc;
}

static void
w_run(uv_work_t *w)
{
	struct wreq *r = w->data;

	if (r->err < 0 || r->kind == W_NOP)
		return;
	if (r->stk != NULL && (r->err = stack_dirs(r->stk->dir)) < 0)
		return;
	if (r->kind == W_REPLACE)
		r->err = file_write_atomic(r->path, r->data, r->len, STORE_FILE_MODE);
	else
		r->err = append_sync(r->path, r->data, r->len);
}

/* ---- the queue ----------------------------------------------------------- */

static void	w_done(uv_work_t *, int);

struct wreq *
store_wreq_new(enum wkind kind, enum wapply apply, store_cb *cb, void *arg)
{
	struct wreq *r = xcalloc(1, sizeof *r);

	r->work.data = r;
	r->kind = kind;
	r->apply = apply;
	r->cb = cb;
	r->arg = arg;
	return r;
}

void
store_wreq_free(struct wreq *r)
{
	json_decref(r->doc);
	free(r->path);
	free(r->data);
	free(r);
}

static void
pump(struct store *st)
{
	if (st->busy || st->head == NULL)
		return;
	st->busy = true;
	/* Fails only for a NULL after-callback. */
	if (uv_queue_work(st->loop, &st->head->work, w_run, w_done) != 0)
		abort();
}

void
store_submit(struct store *st, struct wreq *r)
{
	r->st = st;
	if (st->tail != NULL)
		st->tail->next = r;
	else
		st->head = r;
	st->tail = r;
	pump(st);
}

/* Errors found at submission still travel the queue, so callbacks stay
 * asynchronous and in order. */
void
store_reject(struct store *st, int err, store_cb *cb, void *arg)
{
	struct wreq *r = store_wreq_new(W_NOP, A_NONE, cb, arg);

	r->err = err;
	store_submit(st, r);
}

/* doc as the file's contents: one JSON text and a newline. */
int
store_wreq_dump(struct wreq *r, const json_t *doc, size_t flags)
{
	char	*s;

	if ((s = json_dumps(doc, flags)) == NULL)
		return -EINVAL;
	r->len = (size_t)xasprintf(&r->data, "%s\n", s);
	free(s);
	return 0;
}

static void
w_apply(struct store *st, struct wreq *r)
{
	if (r->err < 0) {
		if (r->path != NULL)
			log_warn("%s: %s", r->path, strerror(-r->err));
		return;
	}
	switch (r->apply) {
	case A_REVISION:
		store_rev_set(r->stk, r->rev, r->doc);
		r->doc = NULL;
		break;
	case A_CURRENT:
		r->stk->current = r->rev;
		break;
	case A_SCALE:
		json_decref(r->stk->scale);
		r->stk->scale = r->doc;
		r->doc = NULL;
		break;
	case A_SVCSTATE:
		json_decref(r->stk->svcstate);
		r->stk->svcstate = r->doc;
		r->doc = NULL;
		break;
	case A_HEAL:
		json_decref(r->stk->heal);
		r->stk->heal = r->doc;
		r->doc = NULL;
		break;
	case A_TRUNCATE:
		/* What was rewritten is what the journal holds now. */
		json_array_clear(st->journal);
		if (r->doc != NULL)
			json_array_extend(st->journal, r->doc);
		break;
	case A_NONE:
		break;
	}
}

static void
w_done(uv_work_t *w, int status)
{
	struct wreq	*r = w->data;
	struct store	*st = r->st;
	void		(*done)(void *);
	void		*arg;

	if (status < 0 && r->err == 0)
		r->err = status;
	st->head = r->next;
	if (st->head == NULL)
		st->tail = NULL;
	st->busy = false;
	w_apply(st, r);
	if (r->cb != NULL)
		r->cb(r->err, r->arg);
	store_wreq_free(r);
	pump(st);
	if (!st->closing || st->head != NULL)
		return;
	done = st->done;
	arg = st->done_arg;
	store_free(st);
	if (done != NULL)
		done(arg);
}

