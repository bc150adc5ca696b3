/*
 * The backup store without an engine: ids and paths, the sink's
 * backpressure and hash, the source's read-ahead, prepare/commit/list/
 * find/verify/prune/discard on a temporary state dir; and, against the
 * fake engine, a paused archive stream that loses and repeats nothing and
 * an archive upload whose body pauses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "backup/backup_int.h"
#include "engine/docker.h"
#include "helper_fakeengine.h"
#include "util.h"

#define WATCHDOG_MS	20000
#define CHUNK		16384
#define BIG		(20u << 20)
#define STREAM_BYTES	(4u << 20)

/* Never 0: the fake engine keeps a request body as a C string. */
static unsigned char
pattern(uint64_t i)
{
	return (unsigned char)((i * 7 + (i >> 13)) % 255 + 1);
}

static void
sha_hex(const unsigned char *p, size_t n, char out[65])
{
	unsigned char	d[EVP_MAX_MD_SIZE];
	unsigned	dl = 0, i;

	EVP_Digest(p, n, d, &dl, EVP_sha256(), NULL);
	for (i = 0; i < dl; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* ---- a loop that runs until a flag is set -------------------------------- */

struct rig {
	uv_loop_t	 loop;
	uv_timer_t	 watchdog;
	uv_timer_t	 tick;
	int		 expired;
	char		 dir[64];
};

static void
on_watchdog(uv_timer_t *t)
{
	struct rig *g = t->data;

	g->expired = 1;
	uv_stop(&g->loop);
}

static void
rig_init(struct rig *g)
{
	memset(g, 0, sizeof *g);
	assert_int_equal(uv_loop_init(&g->loop), 0);
	uv_timer_init(&g->loop, &g->watchdog);
	uv_timer_init(&g->loop, &g->tick);
	g->watchdog.data = g->tick.data = g;
	snprintf(g->dir, sizeof g->dir, "/tmp/shipd-test-backup-XXXXXX");
	assert_non_null(mkdtemp(g->dir));
}

static void
rig_wait(struct rig *g, const int *flag)
{
	uv_timer_start(&g->watchdog, on_watchdog, WATCHDOG_MS, 0);
	while (!*flag && !g->expired)
		uv_run(&g->loop, UV_RUN_ONCE);
	uv_timer_stop(&g->watchdog);
	assert_false(g->expired);
}

static void
rig_free(struct rig *g)
{
	char *cmd;

	uv_close((uv_handle_t *)&g->watchdog, NULL);
	uv_close((uv_handle_t *)&g->tick, NULL);
	/* The pool's last after-work callbacks free what they carry. */
	uv_run(&g->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&g->loop), 0);
	xasprintf(&cmd, "rm -rf '%s'", g->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* ---- ids and paths ------------------------------------------------------- */

static void
test_ids(void **state)
{
	char *p;

	(void)state;
	assert_true(backup_id_valid("20261123-013629-753"));
	assert_true(backup_id_valid("db-0.tar"));
	assert_false(backup_id_valid(""));
	assert_false(backup_id_valid(".."));
	assert_false(backup_id_valid("a/b"));
	assert_false(backup_id_valid("-x"));
	assert_false(backup_id_valid("x.partial"));
	p = backup_parent_dir("/var/lib/data");
	assert_string_equal(p, "/var/lib");
	free(p);
	p = backup_parent_dir("/data/");
	assert_string_equal(p, "/");
	free(p);
	p = backup_parent_dir("/data");
	assert_string_equal(p, "/");
	free(p);
	p = backup_path("/s", "st", "id", true, "f");
	assert_string_equal(p, "/s/backups/st/id.partial/f");
	free(p);
}

/* ---- thread-pool operations ---------------------------------------------- */

struct res {
	int	 done;
	int	 err;
	json_t	*out;
};

static void
on_op(int err, const char *msg, json_t *out, void *arg)
{
	struct res *r = arg;

	(void)msg;
	r->done = 1;
	r->err = err;
	r->out = json_incref(out);
}

static void
res_reset(struct res *r)
{
	json_decref(r->out);
	memset(r, 0, sizeof *r);
}

#define RUN(g, r, call) do {						\
	res_reset(r);							\
	(void)(call);							\
	rig_wait((g), &(r)->done);					\
} while (0)

/* ---- the sink ------------------------------------------------------------ */

struct feed {
	struct rig		*g;
	struct bfs_sink		*sink;
	unsigned char		*data;
	size_t			 sent;
	size_t			 first_pause;	/* bytes queued when told */
	int			 pauses;
	int			 done;
	int			 failed;
};

static void	feed_more(struct feed *);

static void
on_sink(int what, void *arg)
{
	struct feed *f = arg;

	if (what == SINK_DRAINED)
		feed_more(f);
	else if (what == SINK_DONE)
		f->done = 1;
	else {
		f->failed = 1;
		f->done = 1;
	}
}

/* As a stream would: as much as the sink takes, then wait for DRAINED. */
static void
feed_more(struct feed *f)
{
	while (f->sent < BIG) {
		bool more = bfs_sink_write(f->sink, (char *)f->data + f->sent,
		    CHUNK);

		f->sent += CHUNK;
		if (!more) {
			if (f->pauses++ == 0)
				f->first_pause = f->sent;
			return;
		}
	}
	bfs_sink_finish(f->sink);
}

static void
test_sink_and_store(void **state)
{
	struct rig	 g;
	struct res	 r = { 0 };
	struct feed	 f;
	json_t		*m, *b;
	char		 want[65], *path, *p2;
	size_t		 i;
	FILE		*fp;

	(void)state;
	rig_init(&g);
	RUN(&g, &r, bfs_prepare(&g.loop, g.dir, "st", "id1", on_op, &r));
	assert_int_equal(r.err, 0);

	memset(&f, 0, sizeof f);
	f.g = &g;
	f.data = xmalloc(BIG);
	for (i = 0; i < BIG; i++)
		f.data[i] = pattern(i);
	path = backup_path(g.dir, "st", "id1", true, "db-0.tar");
	f.sink = bfs_sink_new(&g.loop, path, 0, on_sink, &f);
	feed_more(&f);
	rig_wait(&g, &f.done);
	assert_false(f.failed);
	/* The source was told to pause once 8 MiB were queued, no later. */
	assert_true(f.pauses > 0);
	assert_true(f.first_pause >= (8u << 20) &&
	    f.first_pause <= (8u << 20) + CHUNK);
	assert_int_equal(bfs_sink_size(f.sink), BIG);
	sha_hex(f.data, BIG, want);
	assert_string_equal(bfs_sink_sha256(f.sink), want);
	bfs_sink_free(f.sink);

	m = json_pack("{s:s, s:s, s:i, s:s, s:I, s:[{s:s, s:[{s:s, s:s, s:I, "
	    "s:s}]}]}", "id", "id1", "stack", "st", "revision", 3, "result",
	    "ok", "size", (json_int_t)BIG, "services", "service", "db",
	    "paths", "path", "/data", "file", "db-0.tar", "size",
	    (json_int_t)BIG, "sha256", want);
	RUN(&g, &r, bfs_commit(&g.loop, g.dir, "st", "id1", m, on_op, &r));
	assert_int_equal(r.err, 0);

	RUN(&g, &r, bfs_list(&g.loop, g.dir, NULL, on_op, &r));
	assert_int_equal(json_array_size(r.out), 1);
	b = json_array_get(r.out, 0);
	assert_string_equal(json_string_value(json_object_get(b, "id")), "id1");
	assert_int_equal(json_integer_value(json_object_get(b, "size")), BIG);
	assert_true(json_is_null(json_object_get(b, "verified")));

	RUN(&g, &r, bfs_find(&g.loop, g.dir, NULL, "id1", on_op, &r));
	assert_int_equal(r.err, 0);
	assert_string_equal(json_string_value(json_object_get(r.out, "stack")),
	    "st");
	RUN(&g, &r, bfs_find(&g.loop, g.dir, NULL, "nope", on_op, &r));
	assert_int_equal(r.err, -ENOENT);

	RUN(&g, &r, bfs_verify(&g.loop, g.dir, "st", "id1", NULL, on_op, &r));
	assert_int_equal(r.err, 0);
	assert_true(json_is_true(json_object_get(r.out, "ok")));
	assert_int_equal(json_integer_value(json_object_get(r.out, "files")),
	    1);

	/* One flipped byte. */
	p2 = backup_path(g.dir, "st", "id1", false, "db-0.tar");
	assert_non_null(fp = fopen(p2, "r+b"));
	fseek(fp, 12345, SEEK_SET);
	fputc(pattern(12345) ^ 1, fp);
	fclose(fp);
	free(p2);
	RUN(&g, &r, bfs_verify(&g.loop, g.dir, "st", "id1", NULL, on_op, &r));
	assert_false(json_is_true(json_object_get(r.out, "ok")));
	assert_int_equal(json_array_size(json_object_get(r.out, "problems")),
	    1);
	assert_non_null(strstr(json_string_value(json_array_get(
	    json_object_get(r.out, "problems"), 0)), "db-0.tar: sha256"));
	RUN(&g, &r, bfs_list(&g.loop, g.dir, "st", on_op, &r));
	b = json_object_get(json_array_get(r.out, 0), "verified");
	assert_false(json_is_true(json_object_get(b, "ok")));
	/* Limited to a service the backup lacks: nothing to read. */
	RUN(&g, &r, bfs_verify(&g.loop, g.dir, "st", "id1",
	    json_pack("[s]", "other"), on_op, &r));
	assert_true(json_is_true(json_object_get(r.out, "ok")));
	assert_int_equal(json_integer_value(json_object_get(r.out, "files")),
	    0);

	/* A newer backup of db, then keep 1: the older goes. */
	RUN(&g, &r, bfs_prepare(&g.loop, g.dir, "st", "id2", on_op, &r));
	m = json_pack("{s:s, s:[{s:s, s:[]}]}", "result", "ok", "services",
	    "service", "db", "paths");
	RUN(&g, &r, bfs_commit(&g.loop, g.dir, "st", "id2", m, on_op, &r));
	assert_int_equal(r.err, 0);
	RUN(&g, &r, bfs_prune(&g.loop, g.dir, "st", json_pack("{s:i}", "db",
	    1), 7, NULL, on_op, &r));
	assert_int_equal(r.err, 0);
	assert_int_equal(json_array_size(r.out), 1);
	assert_string_equal(json_string_value(json_array_get(r.out, 0)),
	    "id1");
	RUN(&g, &r, bfs_list(&g.loop, g.dir, "st", on_op, &r));
	assert_int_equal(json_array_size(r.out), 1);

	/* The same id in another stack makes a search ambiguous. */
	RUN(&g, &r, bfs_prepare(&g.loop, g.dir, "other", "id2", on_op, &r));
	m = json_pack("{s:s, s:[]}", "result", "ok", "services");
	RUN(&g, &r, bfs_commit(&g.loop, g.dir, "other", "id2", m, on_op, &r));
	RUN(&g, &r, bfs_find(&g.loop, g.dir, NULL, "id2", on_op, &r));
	assert_int_equal(r.err, -EEXIST);

	/* Discard, and stale partials cleared by the next prepare. */
	RUN(&g, &r, bfs_prepare(&g.loop, g.dir, "st", "id3", on_op, &r));
	RUN(&g, &r, bfs_discard(&g.loop, g.dir, "st", "id3", on_op, &r));
	assert_int_equal(r.err, 0);
	p2 = backup_path(g.dir, "st", "id3", true, NULL);
	assert_int_equal(access(p2, F_OK), -1);
	free(p2);
	RUN(&g, &r, bfs_prepare(&g.loop, g.dir, "st", "id4", on_op, &r));
	RUN(&g, &r, bfs_prepare(&g.loop, g.dir, "st", "id5", on_op, &r));
	p2 = backup_path(g.dir, "st", "id4", true, NULL);
	assert_int_equal(access(p2, F_OK), -1);
	free(p2);

	res_reset(&r);
	free(path);
	free(f.data);
	rig_free(&g);
}

/* At start: the partials older than the daemon go, its own stay, and so
 * does every finished backup. */
static void
test_clean_partials(void **state)
{
	struct rig	 g;
	struct res	 r = { 0 };
	char		*p, *boundary = backup_id_new();
	struct stat	 sb;

	(void)state;
	rig_init(&g);
	RUN(&g, &r, bfs_prepare(&g.loop, g.dir, "a", "20200101-000000-000",
	    on_op, &r));
	RUN(&g, &r, bfs_prepare(&g.loop, g.dir, "b", "20200101-000000-001",
	    on_op, &r));
	p = backup_path(g.dir, "b", "20190101-000000-000", false, NULL);
	assert_int_equal(mkdir(p, 0750), 0);
	free(p);
	RUN(&g, &r, bfs_prepare(&g.loop, g.dir, "c", "29990101-000000-000",
	    on_op, &r));
	RUN(&g, &r, bfs_clean(&g.loop, g.dir, boundary, on_op, &r));
	assert_int_equal(r.err, 0);
	assert_int_equal(json_array_size(r.out), 2);
	p = backup_path(g.dir, "a", "20200101-000000-000", true, NULL);
	assert_int_equal(stat(p, &sb), -1);
	assert_string_equal(json_string_value(json_array_get(r.out, 0)), p);
	free(p);
	p = backup_path(g.dir, "b", "20190101-000000-000", false, NULL);
	assert_int_equal(stat(p, &sb), 0);
	free(p);
	p = backup_path(g.dir, "c", "29990101-000000-000", true, NULL);
	assert_int_equal(stat(p, &sb), 0);
	free(p);
	res_reset(&r);
	free(boundary);
	rig_free(&g);
}

static void
test_sink_error(void **state)
{
	struct rig	 g;
	struct feed	 f;
	char		*path;

	(void)state;
	rig_init(&g);
	memset(&f, 0, sizeof f);
	xasprintf(&path, "%s/missing/db-0.tar", g.dir);
	f.sink = bfs_sink_new(&g.loop, path, 0, on_sink, &f);
	bfs_sink_write(f.sink, "abc", 3);
	bfs_sink_finish(f.sink);
	rig_wait(&g, &f.done);
	assert_true(f.failed);
	assert_int_equal(bfs_sink_err(f.sink), -ENOENT);
	bfs_sink_free(f.sink);
	free(path);
	rig_free(&g);
}

/* Freed with a write on the pool: the pool's callback finishes the job. */
static void
test_sink_free_busy(void **state)
{
	struct rig	 g;
	struct feed	 f;
	char		*path, *buf = xcalloc(1, 1u << 20);

	(void)state;
	rig_init(&g);
	memset(&f, 0, sizeof f);
	xasprintf(&path, "%s/x.tar", g.dir);
	f.sink = bfs_sink_new(&g.loop, path, 0, on_sink, &f);
	bfs_sink_write(f.sink, buf, 1u << 20);	/* a full block: queued */
	bfs_sink_free(f.sink);
	free(path);
	free(buf);
	rig_free(&g);
	assert_false(f.done);
}

/* ---- the source ---------------------------------------------------------- */

struct drain {
	struct bfs_source	*src;
	EVP_MD_CTX		*md;
	uint64_t		 got;
	int			 ready;
	int			 eof;
};

static void
on_ready(void *arg)
{
	struct drain *d = arg;

	d->ready = 1;
}

static void
drain_all(struct rig *g, struct drain *d)
{
	char	buf[10000];
	size_t	n;

	for (;;) {
		n = bfs_source_read(d->src, buf, sizeof buf);
		if (n == DOCKER_READ_PAUSE) {
			if (bfs_source_err(d->src) != 0)
				return;
			d->ready = 0;
			rig_wait(g, &d->ready);
			continue;
		}
		if (n == 0) {
			d->eof = 1;
			return;
		}
		EVP_DigestUpdate(d->md, buf, n);
		d->got += n;
	}
}

static void
test_source(void **state)
{
	struct rig	 g;
	struct drain	 d;
	unsigned char	*data = xmalloc(3 * 1048576 + 77), dig[32];
	unsigned	 dl, i;
	char		*path, want[65], got[65];
	FILE		*fp;

	(void)state;
	rig_init(&g);
	for (i = 0; i < 3 * 1048576 + 77; i++)
		data[i] = pattern(i);
	xasprintf(&path, "%s/src", g.dir);
	assert_non_null(fp = fopen(path, "wb"));
	fwrite(data, 1, 3 * 1048576 + 77, fp);
	fclose(fp);
	sha_hex(data, 3 * 1048576 + 77, want);

	memset(&d, 0, sizeof d);
	d.md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(d.md, EVP_sha256(), NULL);
	d.src = bfs_source_new(&g.loop, path, on_ready, &d);
	drain_all(&g, &d);
	assert_true(d.eof);
	assert_int_equal(d.got, 3 * 1048576 + 77);
	EVP_DigestFinal_ex(d.md, dig, &dl);
	for (i = 0; i < dl; i++)
		snprintf(got + 2 * i, 3, "%02x", dig[i]);
	assert_string_equal(got, want);
	EVP_MD_CTX_free(d.md);
	bfs_source_free(d.src);

	/* A file that is not there: an error, through ready(). */
	memset(&d, 0, sizeof d);
	d.md = EVP_MD_CTX_new();
	free(path);
	xasprintf(&path, "%s/none", g.dir);
	d.src = bfs_source_new(&g.loop, path, on_ready, &d);
	drain_all(&g, &d);
	assert_int_equal(bfs_source_err(d.src), -ENOENT);
	/* Asked again after the error: ready() again, from the loop and not
	 * from inside the read (a curl read callback, in shipd). */
	d.ready = 0;
	assert_true(bfs_source_read(d.src, got, 1) == DOCKER_READ_PAUSE);
	assert_false(d.ready);
	rig_wait(&g, &d.ready);
	bfs_source_free(d.src);
	EVP_MD_CTX_free(d.md);
	free(path);
	free(data);
	rig_free(&g);
}

/* ---- pausing a stream and an upload, against the fake engine ------------- */

struct xfer {
	struct rig		*g;
	struct docker		*d;
	struct docker_req	*req;
	uint64_t		 got;		/* stream: bytes in order */
	uint64_t		 sent;		/* upload: bytes handed over */
	uint64_t		 mark;
	int			 paused;
	int			 pauses;
	int			 bad;
	int			 reads;
	int			 done;
	int			 err;
	int			 closed;
};

static void
tar_handler(struct fake_conn *c, const struct fake_request *rq, void *arg)
{
	int		*upload_ok = arg;
	char		 buf[65536];
	uint64_t	 off, i;
	size_t		 n;

	if (strcmp(rq->method, "GET") == 0 && strcmp(rq->target,
	    "/v1.41/containers/c1/archive?path=%2Fdata") == 0) {
		fake_head(c, 200, "Content-Type: application/x-tar\r\n"
		    "Transfer-Encoding: chunked\r\n");
		for (off = 0; off < STREAM_BYTES; off += n) {
			n = sizeof buf;
			for (i = 0; i < n; i++)
				buf[i] = (char)pattern(off + i);
			fake_chunk(c, buf, n);
		}
		fake_chunk(c, NULL, 0);
		return;
	}
	if (strcmp(rq->method, "PUT") == 0 && strcmp(rq->target,
	    "/v1.41/containers/c1/archive?path=%2Fvar%2Flib") == 0) {
		*upload_ok = rq->body_len == STREAM_BYTES;
		for (i = 0; *upload_ok && i < rq->body_len; i++)
			if ((unsigned char)rq->body[i] != pattern(i))
				*upload_ok = 0;
		fake_reply(c, 200, NULL, "");
		return;
	}
	fake_reply(c, 404, NULL, "{\"message\":\"no such thing\"}");
}

static void
on_resume(uv_timer_t *t)
{
	struct xfer *x = t->data;

	x->paused = 0;
	docker_stream_pause(x->req, 0);	/* NULL once it ended */
}

static void
on_stream_data(const char *p, size_t len, void *arg)
{
	struct xfer	*x = arg;
	size_t		 i;

	if (x->paused)
		x->bad++;	/* a chunk arrived after pausing */
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] != pattern(x->got + i))
			x->bad++;
	x->got += len;
	if (x->got - x->mark >= (512u << 10)) {
		x->mark = x->got;
		x->paused = 1;
		x->pauses++;
		docker_stream_pause(x->req, 1);
		uv_timer_start(&x->g->tick, on_resume, 2, 0);
	}
}

static void
on_xfer_done(const struct docker_result *res, void *arg)
{
	struct xfer *x = arg;

	/* The last chunk may have come with a pause asked for: the transfer
	 * ends without pausing, and the request is gone. */
	x->req = NULL;
	uv_timer_stop(&x->g->tick);
	x->done = 1;
	x->err = res->err;
}

static size_t
on_upload_read(char *buf, size_t n, void *arg)
{
	struct xfer	*x = arg;
	size_t		 i;

	/* Every other call has nothing yet: the transfer must wait. */
	if (x->reads++ % 2 == 0 && x->sent < STREAM_BYTES) {
		uv_timer_start(&x->g->tick, on_resume, 1, 0);
		return DOCKER_READ_PAUSE;
	}
	if (n > STREAM_BYTES - x->sent)
		n = STREAM_BYTES - x->sent;
	for (i = 0; i < n; i++)
		buf[i] = (char)pattern(x->sent + i);
	x->sent += n;
	return n;
}

static void
on_docker_closed(void *arg)
{
	struct xfer *x = arg;

	x->closed = 1;
}

static void
test_stream_pause(void **state)
{
	struct rig		 g;
	struct xfer		 x;
	struct fake_engine	*fe;
	int			 upload_ok = 0;

	(void)state;
	rig_init(&g);
	memset(&x, 0, sizeof x);
	x.g = &g;
	g.tick.data = &x;
	assert_int_equal(fake_engine_start(tar_handler, &upload_ok, &fe), 0);
	assert_int_equal(docker_new(&g.loop, fake_engine_path(fe), &x.d), 0);

	x.req = docker_archive_get(x.d, "c1", "/data", on_stream_data,
	    on_xfer_done, &x);
	rig_wait(&g, &x.done);
	assert_int_equal(x.err, 0);
	assert_int_equal(x.got, STREAM_BYTES);
	assert_int_equal(x.bad, 0);
	assert_true(x.pauses >= 7);

	x.done = 0;
	x.req = docker_archive_put(x.d, "c1", "/var/lib", STREAM_BYTES,
	    on_upload_read, on_xfer_done, &x);
	rig_wait(&g, &x.done);
	assert_int_equal(x.err, 0);
	assert_int_equal(x.sent, STREAM_BYTES);
	assert_true(upload_ok);

	docker_close(x.d, on_docker_closed, &x);
	rig_wait(&g, &x.closed);
	fake_engine_stop(fe);
	g.tick.data = &g;
	rig_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_sink_and_store),
		cmocka_unit_test(test_clean_partials),
		cmocka_unit_test(test_sink_error),
		cmocka_unit_test(test_sink_free_busy),
		cmocka_unit_test(test_source),
		cmocka_unit_test(test_stream_pause),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
