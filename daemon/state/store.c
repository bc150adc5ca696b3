/*
 * The on-disk state store.  store_open reads everything synchronously and
 * caches it; afterwards each write is serialised on the loop, run on the
 * thread pool one at a time in FIFO order, and applied to the cache when done.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "state/store.h"
#include "util.h"

#define FILE_MODE	0600	/* revisions hold the services' environment */
#define DIR_MODE	0700
#define DOC_MAX		(16u << 20)
#define JOURNAL_MAX	(256u << 20)

struct rev {
	int		 n;
	json_t		*doc;
};

struct stk {
	char		*name;
	char		*dir;		/* <state>/stacks/<name>; immutable */
	struct rev	*revs;		/* ascending by n */
	size_t		 nrevs;
	size_t		 caprevs;
	int		 current;
	int		 next;		/* lowest number not yet handed out */
	json_t		*scale;
};

enum wkind { W_NOP, W_REPLACE, W_APPEND };
enum wapply { A_NONE, A_REVISION, A_CURRENT, A_SCALE, A_TRUNCATE };

/* One queued write.  The worker sees only path, data, len, err and
 * stk->dir: JSON values never cross to the thread pool. */
struct wreq {
	uv_work_t	 work;
	struct store	*st;
	struct wreq	*next;
	enum wkind	 kind;
	enum wapply	 apply;
	char		*path;
	char		*data;
	size_t		 len;
	int		 err;
	struct stk	*stk;		/* its directories are made first */
	int		 rev;
	json_t		*doc;		/* cached once the write lands */
	store_cb	*cb;
	void		*arg;
};

struct store {
	uv_loop_t	*loop;
	char		*dir;
	char		*journal_path;
	char		*audit_path;
	struct stk	**stks;		/* sorted by name */
	size_t		 nstks;
	json_t		*journal;	/* records read at open */
	struct wreq	*head;		/* head is in flight when busy */
	struct wreq	*tail;
	bool		 busy;
	bool		 closing;
	void		(*done)(void *);
	void		*done_arg;
};

static bool
valid_name(const char *name)
{
	return name != NULL && name[0] != '\0' && name[0] != '.' &&
	    strchr(name, '/') == NULL && strlen(name) <= NAME_MAX;
}

/* ---- the in-memory cache ------------------------------------------------- */

static struct stk *
stk_find(struct store *st, const char *name, size_t *at)
{
	size_t	lo = 0, hi = st->nstks;

	while (lo < hi) {
		size_t	mid = lo + (hi - lo) / 2;
		int	c = strcmp(name, st->stks[mid]->name);

		if (c == 0)
			return st->stks[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (at != NULL)
		*at = lo;
	return NULL;
}

static struct stk *
stk_get(struct store *st, const char *name)
{
	struct stk	*k;
	size_t		 at;

	if ((k = stk_find(st, name, &at)) != NULL)
		return k;
	k = xcalloc(1, sizeof *k);
	k->name = xstrdup(name);
	xasprintf(&k->dir, "%s/stacks/%s", st->dir, name);
	k->next = 1;
	st->stks = xrealloc(st->stks, (st->nstks + 1) * sizeof *st->stks);
	memmove(st->stks + at + 1, st->stks + at,
	    (st->nstks - at) * sizeof *st->stks);
	st->stks[at] = k;
	st->nstks++;
	return k;
}

static struct stk *
stk_lookup(struct store *st, const char *name)
{
	return valid_name(name) ? stk_find(st, name, NULL) : NULL;
}

static void
stk_free(struct stk *k)
{
	size_t	i;

	for (i = 0; i < k->nrevs; i++)
		json_decref(k->revs[i].doc);
	free(k->revs);
	json_decref(k->scale);
	free(k->dir);
	free(k->name);
	free(k);
}

static struct rev *
rev_find(struct stk *k, int n)
{
	size_t	i;

	for (i = 0; i < k->nrevs; i++)
		if (k->revs[i].n == n)
			return &k->revs[i];
	return NULL;
}

/* Takes the reference to doc. */
static void
rev_set(struct stk *k, int n, json_t *doc)
{
	struct rev	*r;
	size_t		 at;

	if ((r = rev_find(k, n)) != NULL) {
		json_decref(r->doc);
		r->doc = doc;
		return;
	}
	if (k->nrevs == k->caprevs) {
		k->caprevs = k->caprevs ? k->caprevs * 2 : 8;
		k->revs = xrealloc(k->revs, k->caprevs * sizeof *k->revs);
	}
	for (at = k->nrevs; at > 0 && k->revs[at - 1].n > n; at--)
		k->revs[at] = k->revs[at - 1];
	k->revs[at].n = n;
	k->revs[at].doc = doc;
	k->nrevs++;
	if (n >= k->next)
		k->next = n + 1;
}

/* ---- the worker side: plain system calls only ---------------------------- */

static int
fsync_parent(const char *path)
{
	const char	*slash = strrchr(path, '/');
	char		*parent;
	int		 rc;

	if (slash == NULL)
		return fsync_dir(".");
	parent = xstrndup(path, (size_t)(slash - path));
	rc = fsync_dir(parent[0] != '\0' ? parent : "/");
	free(parent);
	return rc;
}

/* A new directory's name is only durable once its parent is synced. */
static int
mkdir_durable(const char *path)
{
	if (mkdir(path, DIR_MODE) < 0)
		return errno == EEXIST ? 0 : -errno;
	return fsync_parent(path);
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
		    FILE_MODE);
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
		rc = fsync_parent(path);
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
		r->err = file_write_atomic(r->path, r->data, r->len, FILE_MODE);
	else
		r->err = append_sync(r->path, r->data, r->len);
}

/* ---- the queue ----------------------------------------------------------- */

static void	w_done(uv_work_t *, int);

static struct wreq *
wreq_new(enum wkind kind, enum wapply apply, store_cb *cb, void *arg)
{
	struct wreq *r = xcalloc(1, sizeof *r);

	r->work.data = r;
	r->kind = kind;
	r->apply = apply;
	r->cb = cb;
	r->arg = arg;
	return r;
}

static void
wreq_free(struct wreq *r)
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

static void
submit(struct store *st, struct wreq *r)
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
static void
reject(struct store *st, int err, store_cb *cb, void *arg)
{
	struct wreq *r = wreq_new(W_NOP, A_NONE, cb, arg);

	r->err = err;
	submit(st, r);
}

/* doc as the file's contents: one JSON text and a newline. */
static int
wreq_dump(struct wreq *r, const json_t *doc, size_t flags)
{
	char	*s;

	if ((s = json_dumps(doc, flags)) == NULL)
		return -EINVAL;
	r->len = (size_t)xasprintf(&r->data, "%s\n", s);
	free(s);
	return 0;
}

static void
store_free(struct store *st)
{
	size_t	i;

	for (i = 0; i < st->nstks; i++)
		stk_free(st->stks[i]);
	free(st->stks);
	json_decref(st->journal);
	free(st->journal_path);
	free(st->audit_path);
	free(st->dir);
	free(st);
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
		rev_set(r->stk, r->rev, r->doc);
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
	case A_TRUNCATE:
		json_array_clear(st->journal);
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
	wreq_free(r);
	pump(st);
	if (!st->closing || st->head != NULL)
		return;
	done = st->done;
	arg = st->done_arg;
	store_free(st);
	if (done != NULL)
		done(arg);
}

/* ---- loading at open ----------------------------------------------------- */

/* Remove what file_write_atomic leaves when shipd dies mid-write. */
static void
sweep_tmp(const char *dir)
{
	struct dirent	*de;
	struct stat	 sb;
	DIR		*d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".tmp.") == NULL ||
		    fstatat(dirfd(d), de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sb.st_mode))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0)
			log_warn("%s/%s: cannot remove leftover temp file: %s",
			    dir, de->d_name, strerror(errno));
		else
			log_warn("%s/%s: removed leftover temp file", dir,
			    de->d_name);
	}
	closedir(d);
}

/* A JSON object file, or NULL with what went wrong logged (ENOENT aside). */
static json_t *
read_object(const char *path)
{
	json_error_t	 e;
	json_t		*doc;
	char		*data;
	size_t		 len;
	int		 rc;

	if ((rc = file_read_all(path, DOC_MAX, &data, &len)) < 0) {
		if (rc != -ENOENT)
			log_warn("%s: %s; ignored", path, strerror(-rc));
		return NULL;
	}
	doc = json_loadb(data, len, 0, &e);
	free(data);
	if (doc == NULL)
		log_warn("%s:%d:%d: %s; ignored", path, e.line, e.column,
		    e.text);
	else if (!json_is_object(doc)) {
		log_warn("%s: not a JSON object; ignored", path);
		json_decref(doc);
		doc = NULL;
	}
	return doc;
}

/* "<N>.json" with N a positive int without leading zeros; else 0. */
static int
rev_file_number(const char *name)
{
	long	 v = 0;
	size_t	 i;

	if (name[0] < '1' || name[0] > '9')
		return 0;
	for (i = 0; name[i] >= '0' && name[i] <= '9'; i++) {
		v = v * 10 + (name[i] - '0');
		if (v >= INT_MAX)
			return 0;
	}
	return strcmp(name + i, ".json") == 0 ? (int)v : 0;
}

static void
load_revisions(struct stk *k)
{
	struct dirent	*de;
	json_t		*doc;
	DIR		*d;
	char		*dir, *path;
	int		 n;

	xasprintf(&dir, "%s/revisions", k->dir);
	sweep_tmp(dir);
	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT)
			log_warn("%s: %s", dir, strerror(errno));
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if ((n = rev_file_number(de->d_name)) == 0)
			continue;
		/* Even an unreadable revision keeps its number taken. */
		if (n >= k->next)
			k->next = n + 1;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		if ((doc = read_object(path)) != NULL)
			rev_set(k, n, doc);
		free(path);
	}
	closedir(d);
	free(dir);
}

static void
load_current(struct stk *k)
{
	char	*path, *data, *end;
	long	 v;
	int	 rc;

	xasprintf(&path, "%s/current", k->dir);
	if ((rc = file_read_all(path, 64, &data, NULL)) < 0) {
		if (rc != -ENOENT)
			log_warn("%s: %s", path, strerror(-rc));
		free(path);
		return;
	}
	errno = 0;
	v = strtol(data, &end, 10);
	if (end == data || (*end != '\0' && strcmp(end, "\n") != 0) ||
	    errno != 0 || v < 0 || v >= INT_MAX)
		log_warn("%s: not a revision number; %s has no current "
		    "revision", path, k->name);
	else {
		k->current = (int)v;
		if (v > 0 && rev_find(k, k->current) == NULL)
			log_warn("%s: current revision %d of %s is missing",
			    path, k->current, k->name);
		if (k->current >= k->next)
			k->next = k->current + 1;
	}
	free(data);
	free(path);
}

static void
load_stack(struct stk *k)
{
	char	*path;

	sweep_tmp(k->dir);
	load_revisions(k);
	load_current(k);
	xasprintf(&path, "%s/scale.json", k->dir);
	k->scale = read_object(path);
	free(path);
}

static int
load_stacks(struct store *st)
{
	struct dirent	*de;
	struct stat	 sb;
	DIR		*d;
	char		*dir;

	xasprintf(&dir, "%s/stacks", st->dir);
	if ((d = opendir(dir)) == NULL) {
		int rc = -errno;

		free(dir);
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(sb.st_mode))
			continue;
		if (!valid_name(de->d_name)) {
			log_warn("%s/%s: not a stack name, ignored", dir,
			    de->d_name);
			continue;
		}
		load_stack(stk_get(st, de->d_name));
	}
	closedir(d);
	free(dir);
	return 0;
}

/* Cut the file back to its last complete line, durably. */
static void
journal_cut(const char *path, size_t keep)
{
	int	fd;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 ||
	    ftruncate(fd, (off_t)keep) < 0 || fsync(fd) < 0)
		log_warn("%s: cannot drop torn record: %s", path,
		    strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void
load_journal(struct store *st)
{
	json_error_t	 e;
	json_t		*rec;
	char		*data, *p, *nl, *end;
	size_t		 len, line = 0;
	int		 rc;

	if ((rc = file_read_all(st->journal_path, JOURNAL_MAX, &data,
	    &len)) < 0) {
		if (rc != -ENOENT)
			log_warn("%s: unreadable, recovery will not use it: %s",
			    st->journal_path, strerror(-rc));
		return;
	}
	end = data + len;
	for (p = data; (nl = memchr(p, '\n', (size_t)(end - p))) != NULL;
	    p = nl + 1) {
		line++;
		if (nl == p)
			continue;
		rec = json_loadb(p, (size_t)(nl - p), 0, &e);
		if (json_is_object(rec))
			json_array_append(st->journal, rec);
		else
			log_warn("%s:%zu: skipping corrupt record: %s",
			    st->journal_path, line,
			    rec == NULL ? e.text : "not an object");
		json_decref(rec);
	}
	if (p < end) {
		log_warn("%s: dropping torn last record (%zu bytes)",
		    st->journal_path, (size_t)(end - p));
		journal_cut(st->journal_path, (size_t)(p - data));
	}
	free(data);
}

/* A torn audit line is left for humans to read, but must not swallow the
 * next record: end it. */
static void
audit_repair(const char *path)
{
	struct stat	sb;
	char		c;
	int		fd;

	if ((fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC)) < 0)
		return;
	if (fstat(fd, &sb) == 0 && sb.st_size > 0 &&
	    pread(fd, &c, 1, sb.st_size - 1) == 1 && c != '\n') {
		log_warn("%s: last record is torn", path);
		if (write_all(fd, "\n", 1) < 0)
			log_warn("%s: %s", path, strerror(errno));
	}
	close(fd);
}

int
store_open(uv_loop_t *loop, const char *dir, struct store **out)
{
	struct store	*st;
	char		*stacks;
	int		 rc;

	*out = NULL;
	xasprintf(&stacks, "%s/stacks", dir);
	rc = mkdir_p(stacks, DIR_MODE);
	free(stacks);
	if (rc < 0)
		return rc;
	st = xcalloc(1, sizeof *st);
	st->loop = loop;
	st->dir = xstrdup(dir);
	xasprintf(&st->journal_path, "%s/journal", dir);
	xasprintf(&st->audit_path, "%s/audit.log", dir);
	st->journal = json_array();
	sweep_tmp(dir);
	if ((rc = load_stacks(st)) < 0) {
		store_free(st);
		return rc;
	}
	load_journal(st);
	audit_repair(st->audit_path);
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
		submit(st, wreq_new(W_NOP, A_NONE, NULL, NULL));
}

/* ---- revisions ----------------------------------------------------------- */

int
store_revision_next(struct store *st, const char *stack)
{
	if (!valid_name(stack))
		return -EINVAL;
	return stk_get(st, stack)->next++;
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
	if (doc == NULL && (cached = rev_find(k, n)) != NULL)
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

	if (!valid_name(stack) || rev < 1 || rev == INT_MAX ||
	    !json_is_object(doc)) {
		reject(st, -EINVAL, cb, arg);
		return;
	}
	k = stk_get(st, stack);
	if ((old = rev_latest(st, k, rev)) != NULL && !rev_same(old, doc)) {
		log_warn("%s: revision %d is immutable", stack, rev);
		reject(st, -EEXIST, cb, arg);
		return;
	}
	r = wreq_new(W_REPLACE, A_REVISION, cb, arg);
	r->stk = k;
	r->rev = rev;
	r->doc = json_deep_copy(doc);
	if (wreq_dump(r, r->doc, JSON_INDENT(2) | JSON_SORT_KEYS) < 0) {
		wreq_free(r);
		reject(st, -EINVAL, cb, arg);
		return;
	}
	xasprintf(&r->path, "%s/revisions/%d.json", k->dir, rev);
	if (rev >= k->next)
		k->next = rev + 1;
	submit(st, r);
}

const json_t *
store_revision_get(struct store *st, const char *stack, int rev)
{
	struct stk	*k = stk_lookup(st, stack);
	struct rev	*r = k != NULL ? rev_find(k, rev) : NULL;

	return r != NULL ? r->doc : NULL;
}

size_t
store_revision_list(struct store *st, const char *stack, int *revs,
    size_t max)
{
	struct stk	*k = stk_lookup(st, stack);
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
	struct stk *k = stk_lookup(st, stack);

	return k != NULL ? k->current : 0;
}

void
store_current_set(struct store *st, const char *stack, int rev, store_cb *cb,
    void *arg)
{
	struct wreq	*r;

	if (!valid_name(stack) || rev < 0 || rev == INT_MAX) {
		reject(st, -EINVAL, cb, arg);
		return;
	}
	r = wreq_new(W_REPLACE, A_CURRENT, cb, arg);
	r->stk = stk_get(st, stack);
	r->rev = rev;
	if (rev >= r->stk->next)
		r->stk->next = rev + 1;
	r->len = (size_t)xasprintf(&r->data, "%d\n", rev);
	xasprintf(&r->path, "%s/current", r->stk->dir);
	submit(st, r);
}

size_t
store_stacks(struct store *st, const char **names, size_t max)
{
	size_t	i, n = 0;

	for (i = 0; i < st->nstks && n < max; i++) {
		const struct stk *k = st->stks[i];

		/* a stack that only reserved a number has nothing on disk */
		if (k->nrevs > 0 || k->current > 0 || k->scale != NULL)
			names[n++] = k->name;
	}
	return n;
}

/* ---- scale overrides ----------------------------------------------------- */

const json_t *
store_scale_get(struct store *st, const char *stack)
{
	struct stk *k = stk_lookup(st, stack);

	return k != NULL ? k->scale : NULL;
}

void
store_scale_set(struct store *st, const char *stack, json_t *obj,
    store_cb *cb, void *arg)
{
	struct wreq	*r;

	if (!valid_name(stack) || !json_is_object(obj)) {
		reject(st, -EINVAL, cb, arg);
		return;
	}
	r = wreq_new(W_REPLACE, A_SCALE, cb, arg);
	r->stk = stk_get(st, stack);
	r->doc = json_deep_copy(obj);
	if (wreq_dump(r, r->doc, JSON_INDENT(2) | JSON_SORT_KEYS) < 0) {
		wreq_free(r);
		reject(st, -EINVAL, cb, arg);
		return;
	}
	xasprintf(&r->path, "%s/scale.json", r->stk->dir);
	submit(st, r);
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
	r = wreq_new(W_APPEND, apply, cb, arg);
	rc = wreq_dump(r, copy, JSON_COMPACT);
	json_decref(copy);
	if (rc < 0) {
		wreq_free(r);
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
		reject(st, -EINVAL, cb, arg);
	else
		submit(st, r);
}

json_t *
store_journal_read(struct store *st)
{
	return st->journal;
}

void
store_journal_truncate(struct store *st, store_cb *cb, void *arg)
{
	struct wreq *r = wreq_new(W_REPLACE, A_TRUNCATE, cb, arg);

	r->path = xstrdup(st->journal_path);
	submit(st, r);
}

void
store_audit(struct store *st, json_t *record)
{
	struct wreq *r;

	if ((r = line_new(record, st->audit_path, A_NONE, NULL, NULL)) == NULL)
		log_warn("%s: record is not a JSON object", st->audit_path);
	else
		submit(st, r);
}
