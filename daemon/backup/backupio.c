/*
 * Archive bytes between the engine and the disk without the loop waiting
 * on either: a sink queues what a stream delivers and writes and hashes it
 * on the thread pool, telling its owner when to pause and resume the
 * stream; a source reads a file ahead in blocks for an upload.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "backup/backup_int.h"
#include "engine/docker.h"
#include "util.h"

#define IO_BLOCK	(1u << 20)
#define SINK_HIGH	(8u << 20)	/* queued: the source pauses... */
#define SINK_LOW	(2u << 20)	/* ...and before it resumes */
#define SINK_SPARE	12		/* written blocks kept for reuse */

/* ---- sink ---------------------------------------------------------------- */

struct sblock {
	struct sblock	*next;
	size_t		 len;
	size_t		 cap;
	char		 data[];
};

struct bfs_sink {
	uv_loop_t	*loop;
	uv_work_t	 work;
	char		*path;
	int		 fd;
	EVP_MD_CTX	*md;
	struct sblock	*head, *tail;	/* queued, not yet being written */
	struct sblock	*batch;		/* being written by the pool */
	struct sblock	*spare;		/* written, to be filled again */
	int		 nspare;
	uint64_t	 queued;	/* bytes in both lists */
	uint64_t	 size;		/* bytes on disk */
	uint64_t	 rate;
	uint64_t	 t0;
	bool		 busy;		/* a work is on the pool */
	bool		 over;		/* owner told to pause */
	bool		 finishing;
	bool		 final;		/* the work under way closes the file */
	bool		 reported;
	bool		 closing;	/* the work under way only closes */
	bool		 dead;
	bool		 in_after;
	int		 err;
	int		 werr;		/* the pool's, copied to err after */
	char		 sha[65];
	bfs_sink_cb	*cb;
	void		*arg;
};

static void	sink_kick(struct bfs_sink *);

static void
blocks_free(struct sblock *b)
{
	struct sblock *next;

	for (; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
}

/* On the pool: the only place that touches fd and md while busy. */
static void
sink_work(uv_work_t *w)
{
	struct bfs_sink	*s = w->data;
	struct sblock	*b;
	unsigned char	 dig[EVP_MAX_MD_SIZE];
	unsigned	 dlen = 0, i;
	int		 rc;

	if (s->closing) {
		close(s->fd);
		s->fd = -1;
		return;
	}
	if (s->fd < 0 && (s->fd = open(s->path, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC, 0640)) < 0) {
		s->werr = -errno;
		return;
	}
	for (b = s->batch; b != NULL; b = b->next) {
		if ((rc = write_all(s->fd, b->data, b->len)) < 0) {
			s->werr = rc;
			return;
		}
		EVP_DigestUpdate(s->md, b->data, b->len);
		s->size += b->len;
	}
	if (s->rate > 0) {
		/* The test hook: hold the pool thread, never the loop. */
		uint64_t due = s->t0 + s->size * 1000 / s->rate, now = now_ms();

		if (due > now) {
			struct timespec ts = { (time_t)((due - now) / 1000),
			    (long)((due - now) % 1000) * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	if (!s->final)
		return;
	if (fsync(s->fd) < 0)
		s->werr = -errno;
	if (close(s->fd) < 0 && s->werr == 0)
		s->werr = -errno;
	s->fd = -1;
	EVP_DigestFinal_ex(s->md, dig, &dlen);
	for (i = 0; i < dlen && i < 32; i++)
		snprintf(s->sha + 2 * i, 3, "%02x", dig[i]);
}

static void	sink_after(uv_work_t *, int);

static void
sink_reap(struct bfs_sink *s)
{
	if (s->busy || s->in_after)
		return;
	if (s->fd >= 0) {
		/* close() may flush; let the pool do it. */
		s->busy = true;
		s->closing = true;
		if (uv_queue_work(s->loop, &s->work, sink_work,
		    sink_after) == 0)
			return;
		close(s->fd);
		s->fd = -1;
	}
	blocks_free(s->head);
	blocks_free(s->batch);
	blocks_free(s->spare);
	EVP_MD_CTX_free(s->md);
	free(s->path);
	free(s);
}

static void
sink_report(struct bfs_sink *s, int what)
{
	if (s->reported)
		return;
	if (what != SINK_DRAINED)
		s->reported = true;
	if (s->cb != NULL)
		s->cb(what, s->arg);
}

static void
sink_after(uv_work_t *w, int status)
{
	struct bfs_sink	*s = w->data;
	struct sblock	*b;

	s->busy = false;
	if (s->dead) {
		sink_reap(s);
		return;
	}
	/* Reused rather than freed: a fresh megabyte from malloc is a fresh
	 * mapping, and faulting it in again costs more than the copy. */
	while ((b = s->batch) != NULL) {
		s->batch = b->next;
		s->queued -= b->len;
		if (s->nspare < SINK_SPARE && b->cap == IO_BLOCK) {
			b->next = s->spare;
			s->spare = b;
			s->nspare++;
		} else
			free(b);
	}
	s->err = s->werr;
	if (status < 0 && s->err == 0)
		s->err = -EIO;
	s->in_after = true;
	if (s->err != 0)
		sink_report(s, SINK_FAILED);
	else if (s->final) {
		s->final = false;
		sink_report(s, SINK_DONE);
	} else {
		if (s->over && s->queued <= SINK_LOW) {
			s->over = false;
			sink_report(s, SINK_DRAINED);
		}
		if (!s->dead)
			sink_kick(s);
	}
	s->in_after = false;
	if (s->dead)
		sink_reap(s);
}

static void
sink_kick(struct bfs_sink *s)
{
	int rc;

	if (s->busy || s->err != 0 || s->reported)
		return;
	if (s->head == NULL && !s->finishing)
		return;
	s->batch = s->head;
	s->head = s->tail = NULL;
	s->final = s->finishing;
	s->busy = true;
	/* It fails only without a work function, and reporting that here
	 * would call back from inside bfs_sink_write(). */
	rc = uv_queue_work(s->loop, &s->work, sink_work, sink_after);
	assert(rc == 0);
}

struct bfs_sink *
bfs_sink_new(uv_loop_t *loop, const char *path, uint64_t rate,
    bfs_sink_cb *cb, void *arg)
{
	struct bfs_sink *s = xcalloc(1, sizeof *s);

	s->loop = loop;
	s->path = xstrdup(path);
	s->fd = -1;
	s->rate = rate;
	s->t0 = now_ms();
	s->cb = cb;
	s->arg = arg;
	s->work.data = s;
	s->md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(s->md, EVP_sha256(), NULL);
	return s;
}

bool
bfs_sink_write(struct bfs_sink *s, const char *p, size_t len)
{
	struct sblock	*b = s->tail;
	size_t		 take;

	if (s->err != 0 || s->finishing)
		return false;
	if (len == 0)
		return !s->over;
	s->queued += len;
	while (len > 0) {
		if (b == NULL || b->len == b->cap) {
			if ((b = s->spare) != NULL) {
				s->spare = b->next;
				s->nspare--;
			} else
				b = xmalloc(sizeof *b + IO_BLOCK);
			b->next = NULL;
			b->len = 0;
			b->cap = IO_BLOCK;
			if (s->tail != NULL)
				s->tail->next = b;
			else
				s->head = b;
			s->tail = b;
		}
		take = b->cap - b->len < len ? b->cap - b->len : len;
		memcpy(b->data + b->len, p, take);
		b->len += take;
		p += take;
		len -= take;
	}
	/* Full blocks go at once; a part-filled one waits for more. */
	if (s->head != s->tail || s->head->len == s->head->cap)
		sink_kick(s);
	if (s->queued >= SINK_HIGH)
		s->over = true;
	return !s->over;
}

void
bfs_sink_finish(struct bfs_sink *s)
{
	s->finishing = true;
	sink_kick(s);
}

int
bfs_sink_err(const struct bfs_sink *s)
{
	return s->err;
}

uint64_t
bfs_sink_size(const struct bfs_sink *s)
{
	return s->size;
}

const char *
bfs_sink_sha256(const struct bfs_sink *s)
{
	return s->sha;
}

void
bfs_sink_free(struct bfs_sink *s)
{
	if (s == NULL)
		return;
	s->dead = true;
	s->cb = NULL;
	sink_reap(s);
}

/* ---- source -------------------------------------------------------------- */

struct bfs_source {
	uv_loop_t	*loop;
	uv_work_t	 work;
	char		*path;
	int		 fd;
	char		*cur;		/* being handed out */
	size_t		 len, off;
	char		*next;		/* being read ahead */
	size_t		 nlen;
	bool		 filled;	/* next holds data */
	bool		 eof;		/* the file is all read */
	bool		 busy;
	bool		 starved;	/* a read returned DOCKER_READ_PAUSE */
	bool		 closing;
	bool		 notifying;	/* the work under way reads nothing */
	bool		 dead;
	int		 err;
	int		 werr;		/* the pool's, copied after */
	bool		 weof;
	void		(*ready)(void *);
	void		*arg;
};

static void
source_work(uv_work_t *w)
{
	struct bfs_source	*s = w->data;
	ssize_t			 n;

	if (s->closing) {
		close(s->fd);
		s->fd = -1;
		return;
	}
	if (s->notifying)
		return;
	if (s->fd < 0 && (s->fd = open(s->path, O_RDONLY | O_CLOEXEC)) < 0) {
		s->werr = -errno;
		return;
	}
	s->nlen = 0;
	while (s->nlen < IO_BLOCK) {
		if ((n = read(s->fd, s->next + s->nlen, IO_BLOCK -
		    s->nlen)) < 0) {
			if (errno == EINTR)
				continue;
			s->werr = -errno;
			return;
		}
		if (n == 0) {
			s->weof = true;
			break;
		}
		s->nlen += (size_t)n;
	}
}

static void	source_after(uv_work_t *, int);

static void
source_reap(struct bfs_source *s)
{
	if (s->busy)
		return;
	if (s->fd >= 0) {
		s->busy = true;
		s->closing = true;
		if (uv_queue_work(s->loop, &s->work, source_work,
		    source_after) == 0)
			return;
		close(s->fd);
		s->fd = -1;
	}
	free(s->cur);
	free(s->next);
	free(s->path);
	free(s);
}

static void
source_after(uv_work_t *w, int status)
{
	struct bfs_source *s = w->data;

	s->busy = false;
	if (s->dead) {
		source_reap(s);
		return;
	}
	if (!s->notifying) {
		s->err = s->werr;
		s->eof = s->weof;
		if (status < 0 && s->err == 0)
			s->err = -EIO;
		s->filled = s->err == 0 && s->nlen > 0;
	}
	s->notifying = false;
	if (s->starved) {
		s->starved = false;
		s->ready(s->arg);
	}
}

static void
source_queue(struct bfs_source *s)
{
	int rc;

	s->busy = true;
	/* It fails only without a work function. */
	rc = uv_queue_work(s->loop, &s->work, source_work, source_after);
	assert(rc == 0);
}

static void
source_fill(struct bfs_source *s)
{
	if (s->busy || s->filled || s->eof || s->err != 0 || s->dead)
		return;
	source_queue(s);
}

struct bfs_source *
bfs_source_new(uv_loop_t *loop, const char *path, void (*ready)(void *),
    void *arg)
{
	struct bfs_source *s = xcalloc(1, sizeof *s);

	s->loop = loop;
	s->path = xstrdup(path);
	s->fd = -1;
	s->cur = xmalloc(IO_BLOCK);
	s->next = xmalloc(IO_BLOCK);
	s->ready = ready;
	s->arg = arg;
	s->work.data = s;
	source_fill(s);
	return s;
}

size_t
bfs_source_read(struct bfs_source *s, char *p, size_t n)
{
	char *t;

	if (s->off == s->len && s->filled) {
		t = s->cur;
		s->cur = s->next;
		s->next = t;
		s->len = s->nlen;
		s->off = 0;
		s->filled = false;
		source_fill(s);
	}
	if (s->off < s->len) {
		if (n > s->len - s->off)
			n = s->len - s->off;
		memcpy(p, s->cur + s->off, n);
		s->off += n;
		if (s->off == s->len)
			source_fill(s);
		return n;
	}
	if (s->err == 0 && s->eof && !s->busy && !s->filled)
		return 0;
	/* An error also pauses: the owner hears of it through ready(),
	 * which a round trip through the pool brings from the loop rather
	 * than from inside this read. */
	s->starved = true;
	source_fill(s);
	if (!s->busy && s->err != 0) {
		s->notifying = true;
		source_queue(s);
	}
	return DOCKER_READ_PAUSE;
}

int
bfs_source_err(const struct bfs_source *s)
{
	return s->err;
}

void
bfs_source_free(struct bfs_source *s)
{
	if (s == NULL)
		return;
	s->dead = true;
	source_reap(s);
}
