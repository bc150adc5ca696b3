/*
 * Small shared utilities: a growable byte buffer, strict parsers for
 * durations and sizes, atomic file rewrites, and checked allocation.
 */
#ifndef SHIPD_UTIL_H
#define SHIPD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Allocation that aborts on failure: shipd cannot do anything useful
 * after malloc fails, and checking every call hides the real logic. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

struct buf {
	char	*data;		/* always NUL-terminated when non-NULL */
	size_t	 len;
	size_t	 cap;
};

void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);
void	 buf_append(struct buf *, const void *, size_t);
void	 buf_puts(struct buf *, const char *);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_consume(struct buf *, size_t);	/* drop n bytes from the front */
/* Append a formatted line, newline-separated from what is there. */
void	 buf_vline(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
char	*buf_steal(struct buf *);		/* caller frees; buf is reset */

/* Free a NULL-terminated vector of strings and the strings; NULL is fine. */
void	 strv_free(char **);
/* Append s (taken) to *v, which may be NULL; whether v holds s. */
void	 strv_push(char ***, char *);
bool	 strv_contains(char *const *, const char *);

/*
 * "500ms", "1s", "2m", "1h", "1m30s", "0": whole numbers with a unit,
 * concatenated.  No sign, no bare number except "0", no overflow.
 * Returns 0 or -EINVAL.
 */
int	 parse_duration_ms(const char *, uint64_t *);
/* Durations are kept in ms but the engine wants ns in an int64. */
#define DURATION_MAX_MS	((uint64_t)(INT64_MAX / 1000000))
/* "512M", "1G", "64k", "1024" (bytes), binary multiples.  0 or -EINVAL. */
int	 parse_size(const char *, uint64_t *);
/* "1", "0.5", ".5", "2.": digits with at most one dot, nothing else (no
 * sign, exponent, "inf" or hex).  0 or -EINVAL. */
int	 parse_decimal(const char *, double *);
/* Format for humans: "1.5s", "120ms", "2m03s". */
void	 fmt_duration_ms(char *, size_t, uint64_t);

/* Blocking file helpers (startup or the thread pool, never the loop). */
int	 write_all(int fd, const void *, size_t);	/* 0 or -errno */
int	 fsync_dir(const char *dir);			/* 0 or -errno */
/* fsync the directory holding path: a new name in it is durable. */
int	 fsync_dir_of(const char *path);		/* 0 or -errno */
/* write-temp, fsync, rename, fsync dir.  0 or -errno. */
int	 file_write_atomic(const char *path, const void *, size_t, int mode);
/* Read a whole (small) file.  0 or -errno; *out is NUL-terminated. */
int	 file_read_all(const char *path, size_t max, char **out, size_t *len);
/* mkdir -p; 0 or -errno. */
int	 mkdir_p(const char *path, int mode);
/* Lexically tidy an absolute path: no "//", "." or "..", no trailing
 * '/' (caller frees). */
char	*path_clean(const char *);

/* "2026-11-23T00:12:04Z" */
void	 fmt_time_utc(char *, size_t, long long unix_seconds);
/*
 * RFC 3339: "2026-11-23T00:12:04Z", "2026-11-23t00:12:04.5+01:00", a
 * space for the T; the fraction up to nanoseconds (more digits are cut).
 * Returns how many characters it read (the time may be followed by more)
 * or 0 if s does not start with one.
 */
size_t	 parse_rfc3339(const char *s, long long *sec, long *nsec);

/* Monotonic milliseconds. */
uint64_t now_ms(void);

#endif
