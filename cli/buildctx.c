/*
 * A unit's build context as shipctl reads it, with the caller's rights:
 * the files .dockerignore leaves in (the Dockerfile and .dockerignore are
 * always sent, as Docker sends them), in name order.  buildctx_hash()
 * digests their names, modes, link targets and contents with the build's
 * settings; buildctx_tar() writes them as a tar stream through libarchive
 * in pieces, so no more than one piece is ever in memory.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "buildctx.h"
#include "dockerignore.h"
#include "util.h"

#define CHUNK	(64 * 1024)

struct walk {
	const struct unit_build	*b;
	struct dockerignore	 di;
	int			(*fn)(struct walk *, const char *rel,
				    const char *full, const struct stat *);
	EVP_MD_CTX		*md;
	struct archive		*ar;
	char			*err;
	char			*buf;
};

static bool
always_sent(const struct walk *w, const char *rel)
{
	return strcmp(rel, w->b->dockerfile) == 0 ||
	    strcmp(rel, ".dockerignore") == 0;
}

static int
walk_dir(struct walk *w, const char *rel)
{
	struct dirent	**ents = NULL;
	struct stat	  st;
	char		 *full, *sub;
	int		  n, i, rc = 0;
	bool		  out;

	xasprintf(&full, "%s%s%s", w->b->context, *rel ? "/" : "", rel);
	if ((n = scandir(full, &ents, NULL, alphasort)) < 0) {
		xasprintf(&w->err, "%s: %s", full, strerror(errno));
		free(full);
		return -1;
	}
	free(full);
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;

		if (rc != 0 || strcmp(name, ".") == 0 ||
		    strcmp(name, "..") == 0)
			continue;
		xasprintf(&sub, "%s%s%s", rel, *rel ? "/" : "", name);
		xasprintf(&full, "%s/%s", w->b->context, sub);
		if (lstat(full, &st) != 0) {
			xasprintf(&w->err, "%s: %s", full, strerror(errno));
			rc = -1;
		} else {
			out = !always_sent(w, sub) &&
			    dockerignore_excluded(&w->di, sub);
			if (!out)
				rc = w->fn(w, sub, full, &st);
			if (rc == 0 && S_ISDIR(st.st_mode) && (!out ||
			    dockerignore_may_reinclude(&w->di, sub)))
				rc = walk_dir(w, sub);
		}
		free(full);
		free(sub);
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return rc;
}

static int
walk_start(struct walk *w, const struct unit_build *b)
{
	char	*path, *text = NULL;
	size_t	 len = 0;
	int	 rc;

	w->b = b;
	xasprintf(&path, "%s/.dockerignore", b->context);
	rc = file_read_all(path, 1024 * 1024, &text, &len);
	if (rc != 0 && rc != -ENOENT) {
		xasprintf(&w->err, "%s: %s", path, strerror(-rc));
		free(path);
		return -1;
	}
	free(path);
	dockerignore_parse(&w->di, text ? text : "", text ? len : 0);
	free(text);
	w->buf = xmalloc(CHUNK);
	rc = walk_dir(w, "");
	dockerignore_free(&w->di);
	free(w->buf);
	return rc;
}

/* ---- hash ---------------------------------------------------------------- */

static void
md_str(EVP_MD_CTX *md, const char *s)
{
	EVP_DigestUpdate(md, s, strlen(s) + 1);
}

static int
hash_one(struct walk *w, const char *rel, const char *full,
    const struct stat *st)
{
	char	 meta[64], link[4096];
	ssize_t	 n;
	int	 fd;

	md_str(w->md, rel);
	snprintf(meta, sizeof meta, "%o", (unsigned)st->st_mode);
	md_str(w->md, meta);
	if (S_ISLNK(st->st_mode)) {
		if ((n = readlink(full, link, sizeof link - 1)) < 0)
			n = 0;
		link[n] = '\0';
		md_str(w->md, link);
	}
	if (!S_ISREG(st->st_mode))
		return 0;
	if ((fd = open(full, O_RDONLY | O_CLOEXEC)) < 0) {
		xasprintf(&w->err, "%s: %s", full, strerror(errno));
		return -1;
	}
	while ((n = read(fd, w->buf, CHUNK)) > 0)
		EVP_DigestUpdate(w->md, w->buf, (size_t)n);
	close(fd);
	if (n < 0) {
		xasprintf(&w->err, "%s: %s", full, strerror(errno));
		return -1;
	}
	return 0;
}

int
buildctx_hash(const struct unit_build *b, char out[65], char **err)
{
	struct walk	 w;
	unsigned char	 d[32];
	unsigned	 dl = 0, i;
	size_t		 k;
	int		 rc;

	memset(&w, 0, sizeof w);
	w.fn = hash_one;
	w.md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(w.md, EVP_sha256(), NULL);
	md_str(w.md, "shipd-build-1");
	md_str(w.md, b->dockerfile);
	md_str(w.md, b->target ? b->target : "");
	for (k = 0; k < b->nargs; k++) {
		md_str(w.md, b->args[k].key);
		md_str(w.md, b->args[k].value);
	}
	md_str(w.md, "labels");
	for (k = 0; k < b->nlabels; k++) {
		md_str(w.md, b->labels[k].key);
		md_str(w.md, b->labels[k].value);
	}
	md_str(w.md, "files");
	rc = walk_start(&w, b);
	EVP_DigestFinal_ex(w.md, d, &dl);
	EVP_MD_CTX_free(w.md);
	for (i = 0; i < dl; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	*err = w.err;
	return rc;
}

/* ---- tar ----------------------------------------------------------------- */

struct sink {
	buildctx_write_fn	*write;
	void			*arg;
	int			 failed;
};

static la_ssize_t
sink_write(struct archive *a, void *arg, const void *p, size_t n)
{
	struct sink *s = arg;

	if (s->write(p, n, s->arg) != 0) {
		s->failed = 1;
		archive_set_error(a, EPIPE, "the context could not be sent");
		return -1;
	}
	return (la_ssize_t)n;
}

static int
tar_one(struct walk *w, const char *rel, const char *full,
    const struct stat *st)
{
	struct archive_entry	*e;
	char			 link[4096];
	ssize_t			 n;
	int			 fd = -1, rc = 0;

	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode) &&
	    !S_ISLNK(st->st_mode))
		return 0;	/* sockets, fifos, devices: not content */
	if (S_ISREG(st->st_mode) &&
	    (fd = open(full, O_RDONLY | O_CLOEXEC)) < 0) {
		xasprintf(&w->err, "%s: %s", full, strerror(errno));
		return -1;
	}
	e = archive_entry_new();
	archive_entry_copy_stat(e, st);
	archive_entry_set_pathname(e, rel);
	/* The engine owns what it unpacks; who wrote it here is ours. */
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "");
	archive_entry_set_gname(e, "");
	if (S_ISLNK(st->st_mode)) {
		if ((n = readlink(full, link, sizeof link - 1)) < 0)
			n = 0;
		link[n] = '\0';
		archive_entry_set_symlink(e, link);
	}
	if (archive_write_header(w->ar, e) != ARCHIVE_OK)
		rc = -1;
	while (rc == 0 && fd >= 0 && (n = read(fd, w->buf, CHUNK)) > 0) {
		if (archive_write_data(w->ar, w->buf, (size_t)n) != n)
			rc = -1;
	}
	if (rc == 0 && fd >= 0 && n < 0) {
		xasprintf(&w->err, "%s: %s", full, strerror(errno));
		rc = -1;
	}
	if (rc != 0 && w->err == NULL)
		xasprintf(&w->err, "%s: %s", full,
		    archive_error_string(w->ar));
	if (fd >= 0)
		close(fd);
	archive_entry_free(e);
	return rc;
}

int
buildctx_tar(const struct unit_build *b, buildctx_write_fn *write, void *arg,
    char **err)
{
	struct walk	w;
	struct sink	s = { write, arg, 0 };
	int		rc;

	memset(&w, 0, sizeof w);
	w.fn = tar_one;
	w.ar = archive_write_new();
	archive_write_set_format_pax_restricted(w.ar);
	archive_write_set_bytes_per_block(w.ar, CHUNK);
	if (archive_write_open(w.ar, &s, NULL, sink_write, NULL) !=
	    ARCHIVE_OK) {
		xasprintf(err, "%s", archive_error_string(w.ar));
		archive_write_free(w.ar);
		return -1;
	}
	rc = walk_start(&w, b);
	if (archive_write_close(w.ar) != ARCHIVE_OK && rc == 0) {
		rc = -1;
		xasprintf(&w.err, "%s", archive_error_string(w.ar));
	}
	archive_write_free(w.ar);
	*err = w.err;
	return rc;
}
