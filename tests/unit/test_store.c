/*
 * The state store against a real directory: what is written comes back
 * after a reopen, writes land and call back in order, and damaged files
 * (torn journal, corrupt revision, leftover temp files) are survived; a
 * rewrite leaves no temp file, even when it fails.  One store per
 * directory: a second open is refused while the first holds it, and a
 * holder killed with SIGKILL leaves it free.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <uv.h>

#include "state/store.h"
#include "util.h"

#define DONE_ID		9999

struct fx {
	uv_loop_t	 loop;
	struct store	*st;
	char		 dir[64];
	int		 closed;
};

/* Every callback appends (id, err) here; setup resets it. */
static int	cb_id[512];
static int	cb_err[512];
static size_t	ncb;

static void
on_write(int err, void *arg)
{
	assert_true(ncb < nitems(cb_id));
	cb_id[ncb] = (int)(intptr_t)arg;
	cb_err[ncb++] = err;
}

static void
on_closed(void *arg)
{
	struct fx *f = arg;

	f->closed = 1;
	f->st = NULL;
	on_write(0, (void *)(intptr_t)DONE_ID);
}

static void *
id(int n)
{
	return (void *)(intptr_t)n;
}

static char *
path_of(struct fx *f, const char *rel)
{
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "%s/%s", f->dir, rel);
	return buf_steal(&b);
}

static void
put_file(struct fx *f, const char *rel, const char *text)
{
	char	*p = path_of(f, rel);
	char	*dir = xstrndup(p, (size_t)(strrchr(p, '/') - p));
	FILE	*fp;

	assert_int_equal(mkdir_p(dir, 0700), 0);
	free(dir);
	assert_non_null(fp = fopen(p, "a"));
	fputs(text, fp);
	fclose(fp);
	free(p);
}

static int
exists(struct fx *f, const char *rel)
{
	char	*p = path_of(f, rel);
	int	 rc = access(p, F_OK) == 0;

	free(p);
	return rc;
}

static char *
slurp(struct fx *f, const char *rel)
{
	char	*p = path_of(f, rel), *data = NULL;

	assert_int_equal(file_read_all(p, 1 << 24, &data, NULL), 0);
	free(p);
	return data;
}

static void
run(struct fx *f)
{
	uv_run(&f->loop, UV_RUN_DEFAULT);
}

static void
close_store(struct fx *f)
{
	f->closed = 0;
	store_close(f->st, on_closed, f);
	run(f);
	assert_true(f->closed);
}

static void
reopen(struct fx *f)
{
	if (f->st != NULL)
		close_store(f);
	assert_int_equal(store_open(&f->loop, f->dir, &f->st), 0);
}

/* The callbacks so far were ids first..first+n-1 in order, all with err. */
static void
assert_cbs(size_t n, int first, int err)
{
	size_t i;

	assert_int_equal(ncb, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(cb_id[i], first + (int)i);
		assert_int_equal(cb_err[i], err);
	}
}

static json_t *
rev_doc(int n, const char *result)
{
	return json_pack("{s:i, s:s, s:s, s:{s:s, s:[i, i]}}", "revision", n,
	    "result", result, "finished", "2026-01-01T00:00:00Z", "stack",
	    "name", "demo", "list", n, n * 2);
}

static void
put_rev(struct fx *f, const char *stack, int n, int cbid)
{
	json_t *doc = rev_doc(n, "committed");

	store_revision_put(f->st, stack, n, doc, on_write, id(cbid));
	json_decref(doc);
}

static int
rm_one(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
	return remove(p);
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/shipd-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL || uv_loop_init(&f->loop) != 0 ||
	    store_open(&f->loop, f->dir, &f->st) != 0)
		return -1;
	ncb = 0;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;
	int		 rc;

	if (f->st != NULL)
		close_store(f);
	rc = uv_loop_close(&f->loop);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return rc == 0 ? 0 : -1;
}

static void
test_revisions_roundtrip(void **state)
{
	struct fx	*f = *state;
	const char	*names[8];
	json_t		*want1 = rev_doc(1, "committed");
	json_t		*want2 = rev_doc(2, "committed");
	int		 revs[8];

	put_rev(f, "demo", 1, 0);
	put_rev(f, "demo", 2, 1);
	store_current_set(f->st, "demo", 2, on_write, id(2));
	put_rev(f, "other", 1, 3);
	/* Nothing lands before the loop runs. */
	assert_int_equal(ncb, 0);
	assert_null(store_revision_get(f->st, "demo", 1));
	run(f);
	assert_cbs(4, 0, 0);
	assert_int_equal(store_current(f->st, "demo"), 2);
	assert_true(json_equal((json_t *)store_revision_get(f->st, "demo", 1),
	    want1));

	reopen(f);
	assert_true(json_equal((json_t *)store_revision_get(f->st, "demo", 1),
	    want1));
	assert_true(json_equal((json_t *)store_revision_get(f->st, "demo", 2),
	    want2));
	assert_null(store_revision_get(f->st, "demo", 3));
	assert_int_equal(store_current(f->st, "demo"), 2);
	assert_int_equal(store_current(f->st, "other"), 0);
	assert_int_equal(store_current(f->st, "nosuch"), 0);
	assert_int_equal(store_revision_list(f->st, "demo", revs, 8), 2);
	assert_int_equal(revs[0], 1);
	assert_int_equal(revs[1], 2);
	/* A stack that was only asked for a number is not listed. */
	assert_int_equal(store_revision_next(f->st, "fresh"), 1);
	assert_int_equal(store_stacks(f->st, names, 8), 2);
	assert_string_equal(names[0], "demo");
	assert_string_equal(names[1], "other");
	assert_int_equal(store_stacks(f->st, names, 1), 1);
	json_decref(want1);
	json_decref(want2);
}

static void
test_revision_next(void **state)
{
	struct fx	*f = *state;
	int		 revs[3], i;

	/* Asking reserves nothing: a number is taken by its revision. */
	assert_int_equal(store_revision_next(f->st, "demo"), 1);
	assert_int_equal(store_revision_next(f->st, "demo"), 1);
	assert_int_equal(store_revision_next(f->st, "other"), 1);
	for (i = 1; i <= 5; i++)
		put_rev(f, "demo", i, i - 1);
	/* The put itself moves the number past it. */
	assert_int_equal(store_revision_next(f->st, "demo"), 6);
	run(f);
	reopen(f);
	assert_int_equal(store_revision_next(f->st, "demo"), 6);
	assert_int_equal(store_revision_next(f->st, "demo"), 6);
	/* Too small a buffer gets the newest, still ascending. */
	assert_int_equal(store_revision_list(f->st, "demo", revs, 3), 3);
	assert_int_equal(revs[0], 3);
	assert_int_equal(revs[2], 5);
}

static struct fx *order_fx;

/* Put i's callback runs before put i+1 is handed to the thread pool. */
static void
on_serial(int err, void *arg)
{
	char	rel[64];
	int	n = (int)(intptr_t)arg;

	on_write(err, arg);
	snprintf(rel, sizeof rel, "stacks/demo/revisions/%d.json", n + 2);
	/* at most one write in flight: the next one has not started */
	if (n < 49)
		assert_false(exists(order_fx, rel));
}

static void
test_ordering(void **state)
{
	struct fx	*f = *state;
	json_t		*doc;
	int		 revs[64], i;

	order_fx = f;
	for (i = 1; i <= 50; i++) {
		doc = rev_doc(i, "committed");
		store_revision_put(f->st, "demo", i, doc, on_serial, id(i - 1));
		json_decref(doc);
	}
	store_current_set(f->st, "demo", 50, on_write, id(50));
	run(f);
	assert_cbs(51, 0, 0);
	assert_int_equal(store_current(f->st, "demo"), 50);
	reopen(f);
	assert_int_equal(store_current(f->st, "demo"), 50);
	assert_int_equal(store_revision_list(f->st, "demo", revs, 64), 50);
}

static void
test_journal_roundtrip(void **state)
{
	struct fx	*f = *state;
	json_t		*rec, *arr;
	size_t		 i;
	const char	*t;

	for (i = 0; i < 100; i++) {
		rec = json_pack("{s:i, s:s}", "step", (int)i, "kind", "apply");
		if (i == 7)
			json_object_set_new(rec, "time", json_string("given"));
		store_journal_append(f->st, rec, on_write, id((int)i));
		json_decref(rec);
	}
	run(f);
	assert_cbs(100, 0, 0);
	/* Appends are not added to what recovery reads. */
	assert_int_equal(json_array_size(store_journal_read(f->st)), 0);
	reopen(f);
	arr = store_journal_read(f->st);
	assert_int_equal(json_array_size(arr), 100);
	json_array_foreach(arr, i, rec) {
		assert_int_equal(json_integer_value(json_object_get(rec,
		    "step")), (json_int_t)i);
		t = json_string_value(json_object_get(rec, "time"));
		assert_non_null(t);
		if (i == 7) {
			assert_string_equal(t, "given");
			continue;
		}
		/* 2026-11-23T00:12:04.123Z */
		assert_int_equal(strlen(t), 24);
		assert_int_equal(t[10], 'T');
		assert_int_equal(t[19], '.');
		assert_int_equal(t[23], 'Z');
	}
}

static void
test_journal_torn(void **state)
{
	struct fx	*f = *state;
	json_t		*rec, *arr;
	char		*before, *after;
	int		 i;

	for (i = 0; i < 3; i++) {
		rec = json_pack("{s:i}", "step", i);
		store_journal_append(f->st, rec, on_write, id(i));
		json_decref(rec);
	}
	close_store(f);
	before = slurp(f, "journal");
	put_file(f, "journal", "{\"step\": 3, \"ki");
	reopen(f);
	arr = store_journal_read(f->st);
	assert_int_equal(json_array_size(arr), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr,
	    2), "step")), 2);
	/* The torn tail is cut so the next record starts on its own line. */
	after = slurp(f, "journal");
	assert_string_equal(before, after);
	rec = json_pack("{s:i}", "step", 4);
	store_journal_append(f->st, rec, on_write, id(3));
	json_decref(rec);
	reopen(f);
	arr = store_journal_read(f->st);
	assert_int_equal(json_array_size(arr), 4);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr,
	    3), "step")), 4);
	/* 0-2, the close, 3, the close of reopen() */
	assert_int_equal(ncb, 6);
	assert_int_equal(cb_id[3], DONE_ID);
	assert_int_equal(cb_id[4], 3);
	for (i = 0; i < 6; i++)
		assert_int_equal(cb_err[i], 0);
	free(before);
	free(after);
}

/* A backup job holding the journal keeps it through a truncate. */
static void
test_journal_hold(void **state)
{
	struct fx	*f = *state;
	json_t		*rec = json_pack("{s:s}", "event", "job");

	store_journal_append(f->st, rec, on_write, id(0));
	json_decref(rec);
	reopen(f);
	assert_int_equal(json_array_size(store_journal_read(f->st)), 1);
	ncb = 0;
	store_journal_hold(f->st);
	store_journal_truncate(f->st, on_write, id(0));
	run(f);
	assert_cbs(1, 0, 0);
	assert_int_equal(json_array_size(store_journal_read(f->st)), 1);
	/* A rewrite keeping nothing is a truncate: held, it is none too. */
	ncb = 0;
	store_journal_rewrite(f->st, NULL, on_write, id(0));
	run(f);
	assert_cbs(1, 0, 0);
	assert_int_equal(json_array_size(store_journal_read(f->st)), 1);
	store_journal_release(f->st);
	ncb = 0;
	store_journal_truncate(f->st, on_write, id(0));
	run(f);
	assert_cbs(1, 0, 0);
	assert_int_equal(json_array_size(store_journal_read(f->st)), 0);
	reopen(f);
	assert_int_equal(json_array_size(store_journal_read(f->st)), 0);
}

static void
test_journal_truncate(void **state)
{
	struct fx	*f = *state;
	json_t		*rec;
	int		 i;

	for (i = 0; i < 5; i++) {
		rec = json_pack("{s:i}", "step", i);
		store_journal_append(f->st, rec, on_write, id(i));
		json_decref(rec);
	}
	reopen(f);
	assert_int_equal(json_array_size(store_journal_read(f->st)), 5);
	ncb = 0;
	store_journal_truncate(f->st, on_write, id(0));
	rec = json_pack("{s:i}", "step", 99);
	store_journal_append(f->st, rec, on_write, id(1));
	json_decref(rec);
	run(f);
	assert_cbs(2, 0, 0);
	assert_int_equal(json_array_size(store_journal_read(f->st)), 0);
	reopen(f);
	assert_int_equal(json_array_size(store_journal_read(f->st)), 1);
}

/* A rewrite keeps exactly the records given, on disk and as read, after
 * every earlier write; later appends follow them. */
static void
test_journal_rewrite(void **state)
{
	struct fx	*f = *state;
	json_t		*rec, *keep, *arr;
	int		 i;

	for (i = 0; i < 5; i++) {
		rec = json_pack("{s:i, s:s}", "step", i, "stack",
		    i % 2 ? "held" : "other");
		store_journal_append(f->st, rec, on_write, id(i));
		json_decref(rec);
	}
	reopen(f);
	keep = json_array();
	json_array_foreach(store_journal_read(f->st), i, rec)
		if (strcmp(json_string_value(json_object_get(rec, "stack")),
		    "held") == 0)
			json_array_append(keep, rec);
	assert_int_equal(json_array_size(keep), 2);
	ncb = 0;
	store_journal_rewrite(f->st, keep, on_write, id(0));
	json_decref(keep);
	rec = json_pack("{s:i, s:s}", "step", 99, "stack", "other");
	store_journal_append(f->st, rec, on_write, id(1));
	json_decref(rec);
	run(f);
	assert_cbs(2, 0, 0);
	arr = store_journal_read(f->st);
	assert_int_equal(json_array_size(arr), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr,
	    0), "step")), 1);
	reopen(f);
	arr = store_journal_read(f->st);
	assert_int_equal(json_array_size(arr), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr,
	    0), "step")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr,
	    1), "step")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr,
	    2), "step")), 99);
}

static void
test_tmp_removed(void **state)
{
	struct fx *f = *state;

	close_store(f);
	put_file(f, "journal.tmp.1234", "{");
	put_file(f, "stacks/demo/current.tmp.77", "3");
	put_file(f, "stacks/demo/revisions/3.json.tmp.5", "{\"x\":");
	put_file(f, "stacks/demo/revisions/1.json", "{\"revision\": 1}\n");
	reopen(f);
	assert_false(exists(f, "journal.tmp.1234"));
	assert_false(exists(f, "stacks/demo/current.tmp.77"));
	assert_false(exists(f, "stacks/demo/revisions/3.json.tmp.5"));
	assert_non_null(store_revision_get(f->st, "demo", 1));
	assert_int_equal(store_revision_next(f->st, "demo"), 2);
}

static void
test_corrupt_skipped(void **state)
{
	struct fx	*f = *state;
	int		 revs[8];

	close_store(f);
	put_file(f, "stacks/demo/revisions/1.json", "{\"revision\": 1}\n");
	put_file(f, "stacks/demo/revisions/2.json", "{\"revision\": 2, ");
	put_file(f, "stacks/demo/revisions/3.json", "[1, 2]\n");
	put_file(f, "stacks/demo/revisions/4.json", "{\"revision\": 4}\n");
	put_file(f, "stacks/demo/revisions/notes.txt", "hello\n");
	put_file(f, "stacks/demo/current", "4\n");
	put_file(f, "stacks/demo/scale.json", "{\"api\": ");
	put_file(f, "stacks/bad/current", "four\n");
	put_file(f, "journal", "{\"step\": 0}\nnot json\n{\"step\": 2}\n");
	reopen(f);
	assert_int_equal(store_revision_list(f->st, "demo", revs, 8), 2);
	assert_int_equal(revs[0], 1);
	assert_int_equal(revs[1], 4);
	assert_null(store_revision_get(f->st, "demo", 2));
	assert_int_equal(store_current(f->st, "demo"), 4);
	assert_null(store_scale_get(f->st, "demo"));
	assert_int_equal(store_current(f->st, "bad"), 0);
	assert_int_equal(store_revision_next(f->st, "demo"), 5);
	assert_int_equal(json_array_size(store_journal_read(f->st)), 2);
}

static void
test_close_completes_queued(void **state)
{
	struct fx	*f = *state;
	json_t		*rec = json_pack("{s:s}", "step", "commit");
	int		 revs[64], i;

	for (i = 1; i <= 30; i++)
		put_rev(f, "demo", i, i - 1);
	store_current_set(f->st, "demo", 30, on_write, id(30));
	store_journal_append(f->st, rec, on_write, id(31));
	store_audit(f->st, rec);
	json_decref(rec);
	f->closed = 0;
	store_close(f->st, on_closed, f);
	assert_false(f->closed);
	run(f);
	assert_true(f->closed);
	assert_int_equal(ncb, 33);
	for (i = 0; i < 32; i++) {
		assert_int_equal(cb_id[i], i);
		assert_int_equal(cb_err[i], 0);
	}
	assert_int_equal(cb_id[32], DONE_ID);
	reopen(f);
	assert_int_equal(store_revision_list(f->st, "demo", revs, 64), 30);
	assert_int_equal(store_current(f->st, "demo"), 30);
	assert_int_equal(json_array_size(store_journal_read(f->st)), 1);
}

static void
test_close_idle_is_async(void **state)
{
	struct fx *f = *state;

	f->closed = 0;
	store_close(f->st, on_closed, f);
	assert_false(f->closed);
	run(f);
	assert_true(f->closed);
}

static void
test_bad_names(void **state)
{
	struct fx	*f = *state;
	json_t		*doc = rev_doc(1, "committed");
	json_t		*arr = json_array();
	const char	*bad[] = { "a/b", ".hidden", "..", "", NULL };
	const char	*names[4];
	size_t		 i;

	for (i = 0; i < nitems(bad); i++) {
		store_revision_put(f->st, bad[i], 1, doc, on_write,
		    id((int)i * 3));
		store_current_set(f->st, bad[i], 1, on_write,
		    id((int)i * 3 + 1));
		store_scale_set(f->st, bad[i], doc, on_write,
		    id((int)i * 3 + 2));
		assert_int_equal(store_revision_next(f->st, bad[i]), -EINVAL);
		assert_null(store_revision_get(f->st, bad[i], 1));
		assert_null(store_scale_get(f->st, bad[i]));
	}
	/* Refusals too come back from the loop, never from inside the call. */
	assert_int_equal(ncb, 0);
	run(f);
	assert_cbs(nitems(bad) * 3, 0, -EINVAL);
	ncb = 0;
	store_revision_put(f->st, "demo", 0, doc, on_write, id(0));
	store_revision_put(f->st, "demo", 1, arr, on_write, id(1));
	store_scale_set(f->st, "demo", arr, on_write, id(2));
	store_current_set(f->st, "demo", -1, on_write, id(3));
	store_journal_append(f->st, arr, on_write, id(4));
	store_audit(f->st, arr);
	run(f);
	assert_cbs(5, 0, -EINVAL);
	assert_int_equal(store_stacks(f->st, names, 4), 0);
	assert_false(exists(f, "stacks/a"));
	assert_false(exists(f, "stacks/demo"));
	assert_false(exists(f, "audit.log"));
	json_decref(doc);
	json_decref(arr);
}

static void
test_revision_immutable(void **state)
{
	struct fx	*f = *state;
	json_t		*doc = rev_doc(1, "running"), *changed;

	store_revision_put(f->st, "demo", 1, doc, on_write, id(0));
	/* Compared with the queued write, not just what has landed. */
	json_object_set_new(doc, "result", json_string("failed"));
	json_object_set_new(doc, "reason", json_string("gate timed out"));
	store_revision_put(f->st, "demo", 1, doc, on_write, id(1));
	changed = json_deep_copy(doc);
	json_object_set_new(changed, "stack", json_string("other"));
	store_revision_put(f->st, "demo", 1, changed, on_write, id(2));
	run(f);
	assert_int_equal(ncb, 3);
	assert_int_equal(cb_err[0], 0);
	assert_int_equal(cb_err[1], 0);
	assert_int_equal(cb_err[2], -EEXIST);
	reopen(f);
	assert_true(json_equal((json_t *)store_revision_get(f->st, "demo", 1),
	    doc));
	json_decref(doc);
	json_decref(changed);
}

static void
test_scale(void **state)
{
	struct fx	*f = *state;
	json_t		*obj = json_pack("{s:{s:i, s:i}}", "api", "replicas", 4,
			    "unit_replicas", 2);
	const char	*names[2];

	store_scale_set(f->st, "demo", obj, on_write, id(0));
	run(f);
	assert_cbs(1, 0, 0);
	assert_true(json_equal((json_t *)store_scale_get(f->st, "demo"), obj));
	reopen(f);
	assert_true(json_equal((json_t *)store_scale_get(f->st, "demo"), obj));
	assert_int_equal(store_stacks(f->st, names, 2), 1);
	assert_null(store_scale_get(f->st, "other"));
	json_decref(obj);
}

static int	mode_of(struct fx *, const char *);

/* The supervisor's counts (heal.json) outlive a reopen, as scale does. */
static void
test_heal(void **state)
{
	struct fx	*f = *state;
	json_t		*obj = json_pack("{s:{s:i, s:{s:i}, s:s, s:b}}", "web",
			    "restarts", 2, "reasons", "unhealthy", 2,
			    "last_reason", "unhealthy: HTTP 500", "crash_loop",
			    1);

	assert_null(store_heal_get(f->st, "demo"));
	store_heal_set(f->st, "demo", obj, on_write, id(0));
	run(f);
	assert_cbs(1, 0, 0);
	assert_true(json_equal((json_t *)store_heal_get(f->st, "demo"), obj));
	assert_int_equal(mode_of(f, "stacks/demo/heal.json"), 0600);
	reopen(f);
	assert_true(json_equal((json_t *)store_heal_get(f->st, "demo"), obj));
	assert_null(store_heal_get(f->st, "other"));
	json_decref(obj);
}

static void
test_audit(void **state)
{
	struct fx	*f = *state;
	json_t		*rec;
	char		*data, *line, *save = NULL;
	int		 i;

	for (i = 0; i < 3; i++) {
		rec = json_pack("{s:i, s:i, s:s, s:s}", "uid", 1000, "pid", 42,
		    "cmd", i == 1 ? "scale" : "deploy", "result", "ok");
		store_audit(f->st, rec);
		json_decref(rec);
	}
	close_store(f);
	/* A torn line left by a crash is ended, not continued. */
	put_file(f, "audit.log", "{\"uid\": 0, \"cm");
	reopen(f);
	rec = json_pack("{s:s}", "cmd", "down");
	store_audit(f->st, rec);
	json_decref(rec);
	close_store(f);
	data = slurp(f, "audit.log");
	for (i = 0, line = strtok_r(data, "\n", &save); line != NULL;
	    i++, line = strtok_r(NULL, "\n", &save)) {
		const char *want[] = { "deploy", "scale", "deploy", NULL,
		    "down" };

		if (i == 3)
			continue;
		assert_true(i < 5);
		rec = json_loads(line, 0, NULL);
		assert_non_null(rec);
		assert_string_equal(json_string_value(json_object_get(rec,
		    "cmd")), want[i]);
		assert_non_null(json_object_get(rec, "time"));
		json_decref(rec);
	}
	assert_int_equal(i, 5);
	free(data);
}

/* Temp files under the state directory; nftw passes no argument. */
static int	ntmp;

static int
count_one(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
	if (strstr(p + ftw->base, ".tmp.") != NULL)
		ntmp++;
	return 0;
}

static int
tmp_files(struct fx *f)
{
	ntmp = 0;
	assert_int_equal(nftw(f->dir, count_one, 16, FTW_PHYS), 0);
	return ntmp;
}

static int
mode_of(struct fx *f, const char *rel)
{
	struct stat	 sb;
	char		*p = path_of(f, rel);

	assert_int_equal(stat(p, &sb), 0);
	free(p);
	return (int)(sb.st_mode & 07777);
}

/*
 * Every rewrite goes by a temp file renamed into place: none is left once
 * the writes have landed, and what they made is private to shipd.
 */
static void
test_writes_atomic(void **state)
{
	struct fx	*f = *state;
	json_t		*obj = json_pack("{s:{s:i}}", "api", "replicas", 2);
	json_t		*rec = json_pack("{s:s}", "event", "begin");
	char		*data;

	put_rev(f, "demo", 1, 0);
	store_current_set(f->st, "demo", 1, on_write, id(1));
	store_scale_set(f->st, "demo", obj, on_write, id(2));
	store_journal_append(f->st, rec, on_write, id(3));
	store_audit(f->st, rec);
	store_journal_truncate(f->st, on_write, id(4));
	run(f);
	assert_cbs(5, 0, 0);
	assert_int_equal(tmp_files(f), 0);
	assert_int_equal(mode_of(f, "stacks/demo"), 0700);
	assert_int_equal(mode_of(f, "stacks/demo/revisions"), 0700);
	assert_int_equal(mode_of(f, "stacks/demo/revisions/1.json"), 0600);
	assert_int_equal(mode_of(f, "stacks/demo/current"), 0600);
	assert_int_equal(mode_of(f, "stacks/demo/scale.json"), 0600);
	assert_int_equal(mode_of(f, "journal"), 0600);
	assert_int_equal(mode_of(f, "audit.log"), 0600);
	/* Truncating leaves an empty journal, not a missing one. */
	data = slurp(f, "journal");
	assert_string_equal(data, "");
	free(data);
	data = slurp(f, "stacks/demo/current");
	assert_string_equal(data, "1\n");
	free(data);
	json_decref(obj);
	json_decref(rec);
}

/*
 * A write that fails reaches its callback with the error, leaves neither
 * a temp file nor a change in the cache, and does not stall the queue.
 */
static void
test_failed_write(void **state)
{
	struct fx	*f = *state;
	json_t		*obj = json_pack("{s:{s:i}}", "api", "replicas", 2);
	char		*p;

	close_store(f);
	/* revisions/ is a file: no revision can be made under it. */
	put_file(f, "stacks/demo/revisions", "");
	/* scale.json is a directory: the rename onto it fails. */
	p = path_of(f, "stacks/demo/scale.json");
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	reopen(f);
	ncb = 0;
	put_rev(f, "demo", 1, 0);
	store_scale_set(f->st, "demo", obj, on_write, id(1));
	store_current_set(f->st, "demo", 1, on_write, id(2));
	run(f);
	assert_int_equal(ncb, 3);
	assert_int_equal(cb_err[0], -ENOTDIR);
	assert_int_equal(cb_err[1], -EISDIR);
	assert_int_equal(cb_err[2], 0);
	assert_null(store_revision_get(f->st, "demo", 1));
	assert_null(store_scale_get(f->st, "demo"));
	assert_int_equal(store_current(f->st, "demo"), 1);
	assert_int_equal(tmp_files(f), 0);
	json_decref(obj);
}

/*
 * The loop keeps running while writes wait for the disk.  Timing fsync is
 * flaky (tmpfs makes it free), so the disk is made "slow" instead: every
 * thread-pool thread is held on a gate, and the writes can only be queued.
 */
#define POOL_THREADS	4

struct gate {
	uv_sem_t	 sem;
	uv_work_t	 hold[POOL_THREADS];
	uv_timer_t	 tick;
	struct fx	*f;
	int		 ticks;
	size_t		 cbs_at_release;
	int		 file_at_release;
};

static void
gate_wait(uv_work_t *w)
{
	struct gate *g = w->data;

	uv_sem_wait(&g->sem);
}

static void
gate_passed(uv_work_t *w, int status)
{
}

static void
on_tick(uv_timer_t *t)
{
	struct gate	*g = t->data;
	int		 i;

	if (++g->ticks < 5)
		return;
	g->cbs_at_release = ncb;
	g->file_at_release = exists(g->f, "stacks/demo/revisions/1.json");
	for (i = 0; i < POOL_THREADS; i++)
		uv_sem_post(&g->sem);
	uv_close((uv_handle_t *)t, NULL);
}

static void
test_loop_not_blocked(void **state)
{
	struct fx	*f = *state;
	struct gate	 g;
	int		 i;

	memset(&g, 0, sizeof g);
	g.f = f;
	assert_int_equal(uv_sem_init(&g.sem, 0), 0);
	for (i = 0; i < POOL_THREADS; i++) {
		g.hold[i].data = &g;
		assert_int_equal(uv_queue_work(&f->loop, &g.hold[i], gate_wait,
		    gate_passed), 0);
	}
	for (i = 1; i <= 20; i++)
		put_rev(f, "demo", i, i - 1);
	uv_timer_init(&f->loop, &g.tick);
	g.tick.data = &g;
	uv_timer_start(&g.tick, on_tick, 1, 1);
	run(f);
	assert_int_equal(g.ticks, 5);
	assert_int_equal(g.cbs_at_release, 0);
	assert_false(g.file_at_release);
	assert_cbs(20, 0, 0);
	uv_sem_destroy(&g.sem);
}

/* The pid on the first line of the directory's lock file, 0 if none. */
static long
lock_pid(struct fx *f)
{
	char	*path;
	FILE	*fp;
	long	 pid = 0;

	xasprintf(&path, "%s/shipd.lock", f->dir);
	if ((fp = fopen(path, "r")) != NULL) {
		if (fscanf(fp, "%ld", &pid) != 1)
			pid = 0;
		fclose(fp);
	}
	free(path);
	return pid;
}

/* A child that opens the store and waits to be killed; its pid once it
 * holds the directory. */
static pid_t
holder_child(struct fx *f)
{
	struct store	*st;
	pid_t		 pid;
	int		 p[2];
	char		 c;

	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		if (store_open(&f->loop, f->dir, &st) != 0)
			_exit(1);
		if (write(p[1], "y", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	assert_true(pid > 0);
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

static void
test_one_store_per_dir(void **state)
{
	struct fx	*f = *state;
	struct store	*second = (struct store *)1;
	pid_t		 child;
	int		 status;

	/* The same process, another open: refused, nothing handed out. */
	assert_int_equal(store_open(&f->loop, f->dir, &second), -EBUSY);
	assert_null(second);
	assert_int_equal(lock_pid(f), (long)getpid());

	/* Another process holds it: refused until that one is SIGKILLed. */
	close_store(f);
	f->st = NULL;
	child = holder_child(f);
	assert_int_equal(lock_pid(f), (long)child);
	assert_int_equal(store_open(&f->loop, f->dir, &second), -EBUSY);
	assert_int_equal(kill(child, SIGKILL), 0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	reopen(f);
	assert_int_equal(lock_pid(f), (long)getpid());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_revisions_roundtrip),
		T(test_revision_next),
		T(test_ordering),
		T(test_journal_roundtrip),
		T(test_journal_torn),
		T(test_journal_rewrite),
		T(test_journal_hold),
		T(test_journal_truncate),
		T(test_tmp_removed),
		T(test_corrupt_skipped),
		T(test_close_completes_queued),
		T(test_close_idle_is_async),
		T(test_bad_names),
		T(test_revision_immutable),
		T(test_scale),
		T(test_heal),
		T(test_audit),
		T(test_writes_atomic),
		T(test_failed_write),
		T(test_loop_not_blocked),
		T(test_one_store_per_dir),
#undef T
	};

	/* test_loop_not_blocked must be able to occupy the whole pool. */
	setenv("UV_THREADPOOL_SIZE", "4", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
