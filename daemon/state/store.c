/*
 * The state store's API: reads answer from the cache, writes are checked
 * here, on the loop, and handed to the queue (store_queue.c).  store_open
 * locks the directory, one daemon per state dir, then loads it
 * (store_load.c) before the loop runs.
 */
#include <sys/file.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "state/store_int.h"
#include "util.h"

/* ---- one daemon per state dir ------------------------------------------- */

/* The pid on the lock file's first line, 0 if none (yet). */
static long
lock_holder(int fd)
{
	char	buf[32];
	ssize_t	n;
	long	pid;

	if ((n = pread(fd, buf, sizeof buf - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%ld", &pid) != 1 || pid <= 0)
		return 0;
	return pid;
}

/*
 * The holder writes its pid just after it takes the lock, so a reader
 * that comes in between sees nothing or the pid of a dead predecessor:
 * look again for a moment before saying so.
 */
static long
lock_holder_wait(int fd)
{
	struct timespec	tick = { 0, 10 * 1000 * 1000 };
	uint64_t	deadline = now_ms() + 1000;
	long		pid;

	for (;;) {
		pid = lock_holder(fd);
		if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
			return pid;
		if (now_ms() >= deadline)
			return 0;
		nanosleep(&tick, NULL);
	}
}

/*
 * A second shipd on the same directory would take the first's running
 * operations for interrupted ones, roll them back under it and truncate
 * the journal it is writing.  An flock dies with its process (a SIGKILLed
 * shipd never blocks the next); O_CLOEXEC keeps it out of hooks.  The pid
 * is one write of a whole line and the tail cut after, so a reader sees
 * the old first line or the new one, never a mix.
 */
static int
store_lock(const char *dir, int *out)
{
	char	*path, line[32];
	long	 pid;
	int	 fd, len, rc = 0;

	*out = -1;
	xasprintf(&path, "%s/" STORE_LOCK_FILE, dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    STORE_FILE_MODE);
	if (fd < 0) {
		rc = -errno;
		log_err("%s: %s", path, strerror(-rc));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (rc != -EBUSY)
			log_err("%s: flock: %s", path, strerror(-rc));
		else if ((pid = lock_holder_wait(fd)) > 0)
			log_err("state dir %s is in use by shipd pid %ld "
			    "(%s); one shipd per state dir", dir, pid, path);
		else
			log_err("state dir %s is in use by another shipd "
			    "(%s); one shipd per state dir", dir, path);
		goto out;
	}
	len = snprintf(line, sizeof line, "%ld\n", (long)getpid());
	errno = EIO;	/* for a short write */
	if (pwrite(fd, line, (size_t)len, 0) != len ||
	    ftruncate(fd, len) < 0) {
		rc = -errno;
		log_err("%s: %s", path, strerror(-rc));
		goto out;
	}
	*out = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

int
store_open(uv_loop_t *loop, const char *dir, struct store **out)
{
	struct store	*st;
	char		*stacks;
	int		 rc, lock_fd;

	*out = NULL;
	if ((rc = mkdir_p(dir, STORE_DIR_MODE)) < 0)
		return rc;
	/* Before anything reads the journal. */
	if ((rc = store_lock(dir, &lock_fd)) < 0)
		return rc;
	xasprintf(&stacks, "%s/stacks", dir);
	rc = mkdir_p(stacks, STORE_DIR_MODE);
	free(stacks);
	if (rc < 0) {
		close(lock_fd);
		return rc;
	}
	st = xcalloc(1, sizeof *st);
	st->lock_fd = lock_fd;
	st->loop = loop;
	st->dir = xstrdup(dir);
	xasprintf(&st->journal_path, "%s/journal", dir);
	xasprintf(&st->audit_path, "%s/audit.log", dir);
	st->journal = json_array();
	if ((rc = store_load(st)) < 0) {
		store_free(st);
		return rc;
	}
	*out = st;
	return 0;
}

void
store_close(struct store *st, void (*done)(void *), void *arg)
{
	st->closing = true;
	st->done = done;
	st->done_arg = arg;
	/* Even with nothing queued, done() comes from the loop, not from
	 * inside this call. */
	if (st->head == NULL)
		store_submit(st, store_wreq_new(W_NOP, A_NONE, NULL, NULL));
}

/* ---- revisions ----------------------------------------------------------- */

int
store_revision_next(struct store *st, const char *stack)
{
	struct stk *k;

	if (!store_name_valid(stack))
		return -EINVAL;
	/* Taken by the put of that revision, not here. */
	k = store_stk_lookup(st, stack);
	return k != NULL ? k->next : 1;
}

/* The newest version of revision n, counting writes still queued. */
static const json_t *
rev_latest(struct store *st, struct stk *k, int n)
{
	const json_t	*doc = NULL;
	struct wreq	*r;
	struct rev	*cached;

	for (r = st->head; r != NULL; r = r->next)
		if (r->apply == A_REVISION && r->stk == k && r->rev == n)
			doc = r->doc;
	if (doc == NULL && (cached = store_rev_find(k, n)) != NULL)
		doc = cached->doc;
	return doc;
}

/* Whether b differs from a only in the fields a finished deploy fills. */
static bool
rev_same(const json_t *a, const json_t *b)
{
	static const char *const loose[] = { "result", "reason", "finished" };
	json_t	*ca = json_copy((json_t *)a), *cb = json_copy((json_t *)b);
	size_t	 i;
	bool	 same;

	for (i = 0; i < nitems(loose); i++) {
		json_object_del(ca, loose[i]);
		json_object_del(cb, loose[i]);
	}
	same = json_equal(ca, cb);
	json_decref(ca);
	json_decref(cb);
	return same;
}

void
store_revision_put(struct store *st, const char *stack, int rev, json_t *doc,
    store_cb *cb, void *arg)
{
	const json_t	*old;
	struct stk	*k;
	struct wreq	*r;

	if (!store_name_valid(stack) || rev < 1 || rev == INT_MAX ||
	    !json_is_object(doc)) {
		store_reject(st, -EINVAL, cb, arg);
		return;
	}
	k = store_stk_get(st, stack);
	if ((old = rev_latest(st, k, rev)) != NULL && !rev_same(old, doc)) {
		log_warn("%s: revision %d is immutable", stack, rev);
		store_reject(st, -EEXIST, cb, arg);
		return;
	}
	r = store_wreq_new(W_REPLACE, A_REVISION, cb, arg);
	r->stk = k;
	r->rev = rev;
	r->doc = json_deep_copy(doc);
	if (store_wreq_dump(r, r->doc, JSON_INDENT(2) | JSON_SORT_KEYS) < 0) {
		store_wreq_free(r);
		store_reject(st, -EINVAL, cb, arg);
		return;
	}
	xasprintf(&r->path, "%s/revisions/%d.json", k->dir, rev);
	if (rev >= k->next)
		k->next = rev + 1;
	store_submit(st, r);
}

const json_t *
store_revision_get(struct store *st, const char *stack, int rev)
{
	struct stk	*k = store_stk_lookup(st, stack);
	struct rev	*r = k != NULL ? store_rev_find(k, rev) : NULL;

	return r != NULL ? r->doc : NULL;
}

size_t
store_revision_list(struct store *st, const char *stack, int *revs,
    size_t max)
{
	struct stk	*k = store_stk_lookup(st, stack);
	size_t		 i, first;

	if (k == NULL)
		return 0;
	first = k->nrevs > max ? k->nrevs - max : 0;
	for (i = first; i < k->nrevs; i++)
		revs[i - first] = k->revs[i].n;
	return k->nrevs - first;
}

int
store_current(struct store *st, const char *stack)
{
	struct stk *k = store_stk_lookup(st, stack);

	return k != NULL ? k->current : 0;
}

void
store_current_set(struct store *st, const char *stack, int rev, store_cb *cb,
    void *arg)
{
	struct wreq	*r;

	if (!store_name_valid(stack) || rev < 0 || rev == INT_MAX) {
		store_reject(st, -EINVAL, cb, arg);
		return;
	}
	r = store_wreq_new(W_REPLACE, A_CURRENT, cb, arg);
	r->stk = store_stk_get(st, stack);
	r->rev = rev;
	if (rev >= r->stk->next)
		r->stk->next = rev + 1;
	r->len = (size_t)xasprintf(&r->data, "%d\n", rev);
	xasprintf(&r->path, "%s/current", r->stk->dir);
	store_submit(st, r);
}

size_t
store_stacks(struct store *st, const char **names, size_t max)
{
	size_t	i, n = 0;

	for (i = 0; i < st->nstks && n < max; i++) {
		const struct stk *k = st->stks[i];

		/* a stack that only reserved a number has nothing on disk */
		if (k->nrevs > 0 || k->current > 0 || k->scale != NULL ||
		    k->svcstate != NULL)
			names[n++] = k->name;
	}
	return n;
}

/* ---- scale overrides ----------------------------------------------------- */

const json_t *
store_scale_get(struct store *st, const char *stack)
{
	struct stk *k = store_stk_lookup(st, stack);

	return k != NULL ? k->scale : NULL;
}

/* Replace a stack's object document, file name, with a copy of obj. */
static void
doc_set(struct store *st, const char *stack, json_t *obj, enum wapply what,
    const char *name, store_cb *cb, void *arg)
{
	struct wreq	*r;

	if (!store_name_valid(stack) || !json_is_object(obj)) {
		store_reject(st, -EINVAL, cb, arg);
		return;
	}
	r = store_wreq_new(W_REPLACE, what, cb, arg);
	r->stk = store_stk_get(st, stack);
	r->doc = json_deep_copy(obj);
	if (store_wreq_dump(r, r->doc, JSON_INDENT(2) | JSON_SORT_KEYS) < 0) {
		store_wreq_free(r);
		store_reject(st, -EINVAL, cb, arg);
		return;
	}
	xasprintf(&r->path, "%s/%s", r->stk->dir, name);
	store_submit(st, r);
}

void
store_scale_set(struct store *st, const char *stack, json_t *obj,
    store_cb *cb, void *arg)
{
	doc_set(st, stack, obj, A_SCALE, "scale.json", cb, arg);
}

/* ---- services' own state: stopped marks, operations without a revision -- */

const json_t *
store_svcstate_get(struct store *st, const char *stack)
{
	struct stk *k = store_stk_lookup(st, stack);

	return k != NULL ? k->svcstate : NULL;
}

void
store_svcstate_set(struct store *st, const char *stack, json_t *obj,
    store_cb *cb, void *arg)
{
	doc_set(st, stack, obj, A_SVCSTATE, "svcstate.json", cb, arg);
}

/* ---- the supervisor's restart counts ------------------------------------ */

const json_t *
store_heal_get(struct store *st, const char *stack)
{
	struct stk *k = store_stk_lookup(st, stack);

	return k != NULL ? k->heal : NULL;
}

void
store_heal_set(struct store *st, const char *stack, json_t *obj,
    store_cb *cb, void *arg)
{
	doc_set(st, stack, obj, A_HEAL, "heal.json", cb, arg);
}

/* ---- journal and audit log ----------------------------------------------- */

/* "2026-11-23T00:12:04.123Z" */
static void
fmt_time_ms(char *dst, size_t len)
{
	struct timespec	ts;
	struct tm	tm;
	char		sec[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (gmtime_r(&ts.tv_sec, &tm) == NULL ||
	    strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(sec, sizeof sec, "1970-01-01T00:00:00");
	snprintf(dst, len, "%s.%03dZ", sec, (int)(ts.tv_nsec / 1000000 % 1000));
}

/* A compact line for record, stamped with "time" unless it has one. */
static struct wreq *
line_new(json_t *record, const char *path, enum wapply apply, store_cb *cb,
    void *arg)
{
	struct wreq	*r;
	json_t		*copy;
	char		 t[48];
	int		 rc;

	if (!json_is_object(record))
		return NULL;
	/* A shallow copy is enough: only the top level gains a key. */
	copy = json_copy(record);
	if (json_object_get(copy, "time") == NULL) {
		fmt_time_ms(t, sizeof t);
		json_object_set_new(copy, "time", json_string(t));
	}
	r = store_wreq_new(W_APPEND, apply, cb, arg);
	rc = store_wreq_dump(r, copy, JSON_COMPACT);
	json_decref(copy);
	if (rc < 0) {
		store_wreq_free(r);
		return NULL;
	}
	r->path = xstrdup(path);
	return r;
}

void
store_journal_append(struct store *st, json_t *record, store_cb *cb,
    void *arg)
{
	struct wreq *r;

	if ((r = line_new(record, st->journal_path, A_NONE, cb, arg)) == NULL)
		store_reject(st, -EINVAL, cb, arg);
	else
		store_submit(st, r);
}

json_t *
store_journal_read(struct store *st)
{
	return st->journal;
}

void
store_journal_truncate(struct store *st, store_cb *cb, void *arg)
{
	store_journal_rewrite(st, NULL, cb, arg);
}

void
store_journal_rewrite(struct store *st, const json_t *keep, store_cb *cb,
    void *arg)
{
	struct wreq	*r;
	struct buf	 b;
	json_t		*rec;
	char		*s;
	size_t		 i;

	if (st->journal_holds > 0) {
		/* A job's records are still needed after a crash: the job's
		 * end settles the journal again (backup/bjournal.c). */
		store_reject(st, 0, cb, arg);
		return;
	}
	r = store_wreq_new(W_REPLACE, A_TRUNCATE, cb, arg);
	r->doc = json_array();
	buf_init(&b);
	json_array_foreach(keep, i, rec) {
		if (!json_is_object(rec) ||
		    (s = json_dumps(rec, JSON_COMPACT)) == NULL)
			continue;
		buf_puts(&b, s);
		buf_puts(&b, "\n");
		free(s);
		json_array_append(r->doc, rec);
	}
	r->len = b.len;
	r->data = buf_steal(&b);
	r->path = xstrdup(st->journal_path);
	store_submit(st, r);
}

void
store_journal_hold(struct store *st)
{
	st->journal_holds++;
}

void
store_journal_release(struct store *st)
{
	assert(st->journal_holds > 0);
	st->journal_holds--;
}

void
store_audit(struct store *st, json_t *record)
{
	struct wreq *r;

	if ((r = line_new(record, st->audit_path, A_NONE, NULL, NULL)) == NULL)
		log_warn("%s: record is not a JSON object", st->audit_path);
	else
		store_submit(st, r);
}
