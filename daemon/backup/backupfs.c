/*
 * The backup store on disk: directories, manifests, listing, verifying and
 * pruning, each run on the libuv thread pool so the loop never waits on a
 * disk.  Archives stream in and out through backupio.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "backup/backup_int.h"
#include "unit.h"
#include "util.h"

#define MANIFEST_MAX	(16u << 20)
#define HASH_BLOCK	(1u << 20)

enum bfs_kind { BFS_PREPARE, BFS_COMMIT, BFS_DISCARD, BFS_LIST, BFS_FIND,
	BFS_VERIFY, BFS_PRUNE, BFS_CLEAN };

struct bfs_op {
	uv_work_t	 work;
	enum bfs_kind	 kind;
	char		*state;
	char		*stack;		/* NULL: every stack */
	char		*id;
	json_t		*in;
	int		 dflt;
	json_t		*out;
	int		 err;
	char		 msg[512];
	bfs_cb		*cb;
	void		*arg;
};

bool
backup_id_valid(const char *id)
{
	size_t n = strlen(id), i;

	if (n == 0 || n > BACKUP_ID_MAX || id[0] == '.' || id[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= 'A' && id[i] <= 'Z') ||
		    (id[i] >= '0' && id[i] <= '9') ||
		    id[i] == '-' || id[i] == '_' || id[i] == '.'))
			return false;
	n = strlen(BACKUP_PARTIAL);
	return strlen(id) <= n ||
	    strcmp(id + strlen(id) - n, BACKUP_PARTIAL) != 0;
}

/* Sortable, readable, and unique within this process. */
char *
backup_id_new(void)
{
	static uint64_t	 last;
	struct timespec	 ts;
	struct tm	 tm;
	uint64_t	 ms;
	time_t		 secs;
	char		 buf[32], *id;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (ms <= last)
		ms = last + 1;
	last = ms;
	secs = (time_t)(ms / 1000);
	gmtime_r(&secs, &tm);
	strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
	xasprintf(&id, "%s-%03u", buf, (unsigned)(ms % 1000));
	return id;
}

char *
backup_path(const char *state, const char *stack, const char *id,
    bool partial, const char *file)
{
	char *p;

	xasprintf(&p, "%s/backups/%s%s%s%s%s%s", state, stack, id ? "/" : "",
	    id ? id : "", id && partial ? BACKUP_PARTIAL : "",
	    file ? "/" : "", file ? file : "");
	return p;
}

/* ---- small blocking helpers: only ever called on the thread pool --------- */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 ? -1 : 0;
	return unlink(path) < 0 ? -1 : 0;
}

static int
rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return -errno;
	return 0;
}

static bool
is_partial(const char *name)
{
	size_t n = strlen(name), k = strlen(BACKUP_PARTIAL);

	return n > k && strcmp(name + n - k, BACKUP_PARTIAL) == 0;
}

static json_t *
load_json(const char *path)
{
	char	*data;
	size_t	 len;
	json_t	*j;

	if (file_read_all(path, MANIFEST_MAX, &data, &len) < 0)
		return NULL;
	j = json_loadb(data, len, 0, NULL);
	free(data);
	return j;
}

/* A committed backup's manifest, or NULL for anything else in the dir. */
static json_t *
load_manifest(const char *state, const char *stack, const char *id)
{
	char	*path;
	json_t	*m;

	if (!backup_id_valid(id))
		return NULL;
	path = backup_path(state, stack, id, false, BACKUP_MANIFEST);
	m = load_json(path);
	free(path);
	if (m != NULL && (!json_is_object(m) || strcmp(json_string_value(
	    json_object_get(m, "result")) ?: "", "ok") != 0)) {
		json_decref(m);
		m = NULL;
	}
	return m;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir (skipping dot files), count in *n; NULL if none. */
static char **
dir_names(const char *dir, size_t *n)
{
	DIR		 *d;
	struct dirent	 *e;
	char		**v = NULL;

	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		v = xrealloc(v, (*n + 1) * sizeof *v);
		v[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (*n > 0)
		qsort(v, *n, sizeof *v, cmp_str);
	return v;
}

static void
names_free(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

/* ---- the operations ------------------------------------------------------ */

static void
op_fail(struct bfs_op *op, int err, const char *what)
{
	op->err = err;
	snprintf(op->msg, sizeof op->msg, "%s: %s", what, strerror(-err));
}

static void
do_prepare(struct bfs_op *op)
{
	char	*dir = backup_path(op->state, op->stack, NULL, false, NULL);
	char	*p, **names;
	size_t	 n, i;
	int	 rc;

	if ((rc = mkdir_p(dir, 0750)) < 0) {
		op_fail(op, rc, dir);
		free(dir);
		return;
	}
	names = dir_names(dir, &n);
	for (i = 0; i < n; i++) {
		if (!is_partial(names[i]))
			continue;
		/* One that will not go is still ignored by everything, and
		 * tried again next time. */
		xasprintf(&p, "%s/%s", dir, names[i]);
		(void)rm_rf(p);
		free(p);
	}
	names_free(names, n);
	p = backup_path(op->state, op->stack, op->id, true, NULL);
	if (mkdir(p, 0750) < 0)
		op_fail(op, -errno, p);
	free(p);
	free(dir);
}

static void
do_commit(struct bfs_op *op)
{
	char	*partial = backup_path(op->state, op->stack, op->id, true,
	    NULL);
	char	*final = backup_path(op->state, op->stack, op->id, false,
	    NULL);
	char	*dir = backup_path(op->state, op->stack, NULL, false, NULL);
	char	*mpath = backup_path(op->state, op->stack, op->id, true,
	    BACKUP_MANIFEST);
	char	*text;
	int	 rc;

	text = json_dumps(op->in, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (text == NULL) {
		op->err = -ENOMEM;
		snprintf(op->msg, sizeof op->msg, "cannot encode the manifest");
		goto out;
	}
	/* file_write_atomic() syncs the file and the partial directory
	 * that holds it, so the rename below publishes a complete one. */
	if ((rc = file_write_atomic(mpath, text, strlen(text), 0640)) < 0)
		op_fail(op, rc, mpath);
	else if (rename(partial, final) < 0)
		op_fail(op, -errno, final);
	else if ((rc = fsync_dir(dir)) < 0)
		op_fail(op, rc, dir);
	free(text);
out:
	free(mpath);
	free(dir);
	free(final);
	free(partial);
}

static void
do_discard(struct bfs_op *op)
{
	char	*p = backup_path(op->state, op->stack, op->id, true, NULL);
	int	 rc;

	if ((rc = rm_rf(p)) < 0)
		op_fail(op, rc, p);
	free(p);
}

static json_t *
summary(const char *stack, const char *id, json_t *m, json_t *verified)
{
	json_t	*svcs = json_array(), *s;
	size_t	 i;

	json_array_foreach(json_object_get(m, "services"), i, s)
		json_array_append(svcs, json_object_get(s, "service"));
	return json_pack("{s:s, s:s, s:s, s:O, s:O, s:O, s:O, s:o, s:O, s:o}",
	    "stack", stack, "id", id, "class", backup_class_of(m),
	    "started", json_object_get(m, "started") ?: json_null(),
	    "finished", json_object_get(m, "finished") ?: json_null(),
	    "revision", json_object_get(m, "revision") ?: json_null(),
	    "reason", json_object_get(m, "reason") ?: json_null(),
	    "services", svcs,
	    "size", json_object_get(m, "size") ?: json_null(),
	    "verified", verified ? verified : json_null());
}

static void
list_stack(struct bfs_op *op, const char *stack)
{
	char	*dir = backup_path(op->state, stack, NULL, false, NULL);
	char	**ids, *vp;
	size_t	 n, i;
	json_t	*m;

	ids = dir_names(dir, &n);
	for (i = 0; i < n; i++) {
		if ((m = load_manifest(op->state, stack, ids[i])) == NULL)
			continue;
		vp = backup_path(op->state, stack, ids[i], false,
		    BACKUP_VERIFIED);
		json_array_append_new(op->out, summary(stack, ids[i], m,
		    load_json(vp)));
		free(vp);
		json_decref(m);
	}
	names_free(ids, n);
	free(dir);
}

static void
do_list(struct bfs_op *op)
{
	char	*root, **stacks;
	size_t	 n, i;

	op->out = json_array();
	if (op->stack != NULL) {
		list_stack(op, op->stack);
		return;
	}
	xasprintf(&root, "%s/backups", op->state);
	stacks = dir_names(root, &n);
	for (i = 0; i < n; i++)
		if (stack_name_valid(stacks[i]))
			list_stack(op, stacks[i]);
	names_free(stacks, n);
	free(root);
}

static void
do_find(struct bfs_op *op)
{
	char	*root, **stacks = NULL;
	size_t	 n = 0, i;
	json_t	*m;

	if (op->stack != NULL) {
		stacks = xcalloc(1, sizeof *stacks);
		stacks[0] = xstrdup(op->stack);
		n = 1;
	} else {
		xasprintf(&root, "%s/backups", op->state);
		stacks = dir_names(root, &n);
		free(root);
	}
	for (i = 0; i < n; i++) {
		if (!stack_name_valid(stacks[i]) ||
		    (m = load_manifest(op->state, stacks[i], op->id)) == NULL)
			continue;
		if (op->out != NULL) {
			op->err = -EEXIST;
			snprintf(op->msg, sizeof op->msg, "backup %s exists in "
			    "stacks %s and %s: name one with --stack", op->id,
			    json_string_value(json_object_get(op->out,
			    "stack")), stacks[i]);
			json_decref(m);
			break;
		}
		op->out = json_pack("{s:s, s:o}", "stack", stacks[i],
		    "manifest", m);
	}
	names_free(stacks, n);
	if (op->out == NULL && op->err == 0) {
		op->err = -ENOENT;
		snprintf(op->msg, sizeof op->msg, "no backup %s%s%s", op->id,
		    op->stack ? " of stack " : "", op->stack ? op->stack : "");
	}
}

/* sha256 and size of a file, read in blocks. */
static int
hash_file(const char *path, uint64_t *size, char hex[65])
{
	EVP_MD_CTX	*md;
	unsigned char	 dig[EVP_MAX_MD_SIZE];
	unsigned	 dlen = 0, i;
	char		*blk;
	ssize_t		 n;
	int		 fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	blk = xmalloc(HASH_BLOCK);
	*size = 0;
	for (;;) {
		if ((n = read(fd, blk, HASH_BLOCK)) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(md, blk, (size_t)n);
		*size += (uint64_t)n;
	}
	EVP_DigestFinal_ex(md, dig, &dlen);
	for (i = 0; i < dlen && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", dig[i]);
	EVP_MD_CTX_free(md);
	free(blk);
	close(fd);
	return rc;
}

static bool
wanted(const json_t *services, const char *svc)
{
	const json_t	*s;
	size_t		 i;

	if (services == NULL)
		return true;
	json_array_foreach(services, i, s)
		if (strcmp(json_string_value(s) ?: "", svc) == 0)
			return true;
	return false;
}

static void
do_verify(struct bfs_op *op)
{
	json_t		*m, *svc, *p, *problems = json_array();
	size_t		 i, j, files = 0;
	uint64_t	 bytes = 0, size = 0;
	char		 hex[65], now[32], *path, *text;
	int		 rc;

	if ((m = load_manifest(op->state, op->stack, op->id)) == NULL) {
		op->err = -ENOENT;
		snprintf(op->msg, sizeof op->msg, "no backup %s of stack %s",
		    op->id, op->stack);
		json_decref(problems);
		return;
	}
	json_array_foreach(json_object_get(m, "services"), i, svc) {
		if (!wanted(op->in, json_string_value(json_object_get(svc,
		    "service")) ?: ""))
			continue;
		json_array_foreach(json_object_get(svc, "paths"), j, p) {
			const char *file = json_string_value(json_object_get(p,
			    "file"));
			const char *want = json_string_value(json_object_get(p,
			    "sha256"));
			json_int_t wsize = json_integer_value(json_object_get(p,
			    "size"));

			if (file == NULL)	/* absent in the container */
				continue;
			files++;
			path = backup_path(op->state, op->stack, op->id,
			    false, file);
			rc = backup_id_valid(file) ? hash_file(path, &size,
			    hex) : -EINVAL;
			free(path);
			if (rc < 0)
				json_array_append_new(problems, json_sprintf(
				    "%s: %s", file, strerror(-rc)));
			else if ((json_int_t)size != wsize)
				json_array_append_new(problems, json_sprintf(
				    "%s: %llu bytes, the manifest says %lld",
				    file, (unsigned long long)size,
				    (long long)wsize));
			else if (want == NULL || strcmp(hex, want) != 0)
				json_array_append_new(problems, json_sprintf(
				    "%s: sha256 %s, the manifest says %s", file,
				    hex, want ? want : "nothing"));
			bytes += size;
		}
	}
	json_decref(m);
	fmt_time_utc(now, sizeof now, (long long)time(NULL));
	op->out = json_pack("{s:b, s:I, s:I, s:s, s:o}", "ok",
	    json_array_size(problems) == 0, "files", (json_int_t)files,
	    "bytes", (json_int_t)bytes, "time", now, "problems", problems);
	if (op->in != NULL)
		return;
	/* Not worth failing the verification over: the reply says it. */
	path = backup_path(op->state, op->stack, op->id, false,
	    BACKUP_VERIFIED);
	if ((text = json_dumps(op->out, JSON_COMPACT)) != NULL)
		(void)file_write_atomic(path, text, strlen(text), 0640);
	free(text);
	free(path);
}

static void
do_prune(struct bfs_op *op)
{
	char	*dir = backup_path(op->state, op->stack, NULL, false, NULL);
	char	**ids, *from, *to;
	json_t	*all = json_array(), *gone, *m, *svc, *svcs, *v;
	size_t	 n, i, j;
	int	 rc;

	op->out = json_array();
	/* Oldest first: ids sort by the time they were taken. */
	ids = dir_names(dir, &n);
	for (i = 0; i < n; i++) {
		if ((m = load_manifest(op->state, op->stack, ids[i])) == NULL)
			continue;
		svcs = json_array();
		json_array_foreach(json_object_get(m, "services"), j, svc)
			json_array_append(svcs, json_object_get(svc,
			    "service"));
		json_array_append_new(all, json_pack("{s:s, s:s, s:o}", "id",
		    ids[i], "class", backup_class_of(m), "services", svcs));
		json_decref(m);
	}
	gone = backup_retain_select(all, json_object_get(op->in, "keep"),
	    op->dflt, json_object_get(op->in, "pinned"));
	json_array_foreach(gone, i, v) {
		/* Partial first, so a crash mid-removal leaves nothing that
		 * looks like a good backup. */
		from = backup_path(op->state, op->stack, json_string_value(v),
		    false, NULL);
		to = backup_path(op->state, op->stack, json_string_value(v),
		    true, NULL);
		rc = rename(from, to) < 0 ? -errno : rm_rf(to);
		if (rc < 0) {
			if (op->err == 0)
				op_fail(op, rc, from);
		} else
			json_array_append(op->out, v);
		free(from);
		free(to);
	}
	if (json_array_size(op->out) > 0)
		(void)fsync_dir(dir);
	json_decref(gone);
	json_decref(all);
	names_free(ids, n);
	free(dir);
}

/* Every stack's partial backups named before op->id: a dead shipd's. */
static void
do_clean(struct bfs_op *op)
{
	char	*top, **stacks, **names, *dir, *p;
	size_t	 ns, n, i, k, cut = strlen(BACKUP_PARTIAL);
	int	 rc;

	xasprintf(&top, "%s/backups", op->state);
	op->out = json_array();
	stacks = dir_names(top, &ns);
	for (i = 0; i < ns; i++) {
		xasprintf(&dir, "%s/%s", top, stacks[i]);
		names = dir_names(dir, &n);
		for (k = 0; k < n; k++) {
			if (!is_partial(names[k]))
				continue;
			p = xstrndup(names[k], strlen(names[k]) - cut);
			rc = strcmp(p, op->id);
			free(p);
			if (rc >= 0)
				continue;
			xasprintf(&p, "%s/%s", dir, names[k]);
			if ((rc = rm_rf(p)) < 0)
				op_fail(op, rc, p);
			else
				json_array_append_new(op->out, json_string(p));
			free(p);
		}
		names_free(names, n);
		free(dir);
	}
	names_free(stacks, ns);
	free(top);
}

static void
on_work(uv_work_t *w)
{
	struct bfs_op *op = w->data;

	switch (op->kind) {
	case BFS_PREPARE:	do_prepare(op);		break;
	case BFS_COMMIT:	do_commit(op);		break;
	case BFS_DISCARD:	do_discard(op);		break;
	case BFS_LIST:		do_list(op);		break;
	case BFS_FIND:		do_find(op);		break;
	case BFS_VERIFY:	do_verify(op);		break;
	case BFS_PRUNE:		do_prune(op);		break;
	case BFS_CLEAN:		do_clean(op);		break;
	}
}

static void
on_after(uv_work_t *w, int status)
{
	struct bfs_op *op = w->data;

	if (status < 0 && op->err == 0) {
		op->err = status == UV_ECANCELED ? -ECANCELED : -EIO;
		snprintf(op->msg, sizeof op->msg, "thread pool: %s",
		    uv_strerror(status));
	}
	if (op->cb != NULL)
		op->cb(op->err, op->err ? op->msg : NULL, op->out, op->arg);
	json_decref(op->in);
	json_decref(op->out);
	free(op->state);
	free(op->stack);
	free(op->id);
	free(op);
}

static struct bfs_op *
submit(uv_loop_t *loop, enum bfs_kind kind, const char *state,
    const char *stack, const char *id, json_t *in, int dflt, bfs_cb *cb,
    void *arg)
{
	struct bfs_op	*op = xcalloc(1, sizeof *op);
	int		 rc;

	op->kind = kind;
	op->state = xstrdup(state);
	op->stack = stack ? xstrdup(stack) : NULL;
	op->id = id ? xstrdup(id) : NULL;
	op->in = in;
	op->dflt = dflt;
	op->cb = cb;
	op->arg = arg;
	op->work.data = op;
	/* It fails only without a work function; reporting that from here
	 * would call back from inside the call. */
	rc = uv_queue_work(loop, &op->work, on_work, on_after);
	assert(rc == 0);
	return op;
}

struct bfs_op *
bfs_prepare(uv_loop_t *loop, const char *state, const char *stack,
    const char *id, bfs_cb *cb, void *arg)
{
	return submit(loop, BFS_PREPARE, state, stack, id, NULL, 0, cb,
	    arg);
}

struct bfs_op *
bfs_commit(uv_loop_t *loop, const char *state, const char *stack,
    const char *id, json_t *manifest, bfs_cb *cb, void *arg)
{
	return submit(loop, BFS_COMMIT, state, stack, id, manifest, 0, cb,
	    arg);
}

struct bfs_op *
bfs_discard(uv_loop_t *loop, const char *state, const char *stack,
    const char *id, bfs_cb *cb, void *arg)
{
	return submit(loop, BFS_DISCARD, state, stack, id, NULL, 0, cb,
	    arg);
}

struct bfs_op *
bfs_list(uv_loop_t *loop, const char *state, const char *stack, bfs_cb *cb,
    void *arg)
{
	return submit(loop, BFS_LIST, state, stack, NULL, NULL, 0, cb,
	    arg);
}

struct bfs_op *
bfs_find(uv_loop_t *loop, const char *state, const char *stack,
    const char *id, bfs_cb *cb, void *arg)
{
	return submit(loop, BFS_FIND, state, stack, id, NULL, 0, cb,
	    arg);
}

struct bfs_op *
bfs_verify(uv_loop_t *loop, const char *state, const char *stack,
    const char *id, json_t *services, bfs_cb *cb, void *arg)
{
	return submit(loop, BFS_VERIFY, state, stack, id, services, 0, cb,
	    arg);
}

struct bfs_op *
bfs_prune(uv_loop_t *loop, const char *state, const char *stack,
    json_t *keep, int dflt, json_t *pinned, bfs_cb *cb, void *arg)
{
	return submit(loop, BFS_PRUNE, state, stack, NULL, json_pack(
	    "{s:o, s:o}", "keep", keep ? keep : json_object(), "pinned",
	    pinned ? pinned : json_array()), dflt, cb, arg);
}

void
bfs_cancel(struct bfs_op *op)
{
	if (op != NULL)
		op->cb = NULL;
}

struct bfs_op *
bfs_clean(uv_loop_t *loop, const char *state, const char *before,
    bfs_cb *cb, void *arg)
{
	return submit(loop, BFS_CLEAN, state, NULL, before, NULL, 0, cb, arg);
}
