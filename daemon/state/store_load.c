/*
 * Loading the state directory into the store's cache, once, at open:
 * synchronous, before the loop runs.  Damage left by a crash is survived
 * here: temp files are removed, corrupt files skipped, torn lines cut.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "state/store_int.h"
#include "util.h"

#define DOC_MAX		(16u << 20)
#define JOURNAL_MAX	(256u << 20)

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
			store_rev_set(k, n, doc);
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
		if (v > 0 && store_rev_find(k, k->current) == NULL)
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
	xasprintf(&path, "%s/svcstate.json", k->dir);
	k->svcstate = read_object(path);
	free(path);
	xasprintf(&path, "%s/heal.json", k->dir);
	k->heal = read_object(path);
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
		if (!store_name_valid(de->d_name)) {
			log_warn("%s/%s: not a stack name, ignored", dir,
			    de->d_name);
			continue;
		}
		load_stack(store_stk_get(st, de->d_name));
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
	int		fd, rc;

	if ((fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC)) < 0)
		return;
	if (fstat(fd, &sb) == 0 && sb.st_size > 0 &&
	    pread(fd, &c, 1, sb.st_size - 1) == 1 && c != '\n') {
		log_warn("%s: last record is torn", path);
		if ((rc = write_all(fd, "\n", 1)) < 0)
			log_warn("%s: %s", path, strerror(-rc));
	}
	close(fd);
}

int
store_load(struct store *st)
{
	int	rc;

	sweep_tmp(st->dir);
	if ((rc = load_stacks(st)) < 0)
		return rc;
	load_journal(st);
	audit_repair(st->audit_path);
	return 0;
}
