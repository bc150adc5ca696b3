/*
 * The harnesses' scratch directory (fuzzdir.h).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzzdir.h"

static char	top[4096];
static char	dir[4096];
static int	dfd = -1;

static void
fuzzdir_remove(void)
{
	if (dfd == -1)
		return;
	fuzzdir_clean();
	close(dfd);
	dfd = -1;
	rmdir(dir);
	rmdir(top);
}

const char *
fuzzdir(const char *leaf)
{
	const char *tmp;

	if (dfd != -1)
		return dir;
	/* Memory, when there is some: the loader runs on every input. */
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(top, sizeof top, "%s/shipd-fuzz.XXXXXX", tmp);
	if (mkdtemp(top) == NULL) {
		perror(top);
		abort();
	}
	snprintf(dir, sizeof dir, "%s/%s", top, leaf);
	if (mkdir(dir, 0700) != 0 ||
	    (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		perror(dir);
		abort();
	}
	atexit(fuzzdir_remove);
	return dir;
}

void
fuzzdir_clean(void)
{
	struct dirent	*e;
	DIR		*d;
	int		 fd;

	if ((fd = dup(dfd)) == -1 || (d = fdopendir(fd)) == NULL)
		abort();
	rewinddir(d);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dfd, e->d_name, 0) != 0)
			abort();
	}
	closedir(d);
}

int
fuzzdir_write(const char *name, const void *data, size_t len)
{
	int	fd;
	ssize_t	n;

	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return -1;
	while (len > 0) {
		if ((n = write(fd, data, len)) <= 0)
			abort();
		data = (const char *)data + n;
		len -= (size_t)n;
	}
	close(fd);
	return 0;
}
