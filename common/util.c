/*
 * Small shared utilities.  See util.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static void
oom(void)
{
	fputs("out of memory\n", stderr);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		oom();
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		oom();
	return p;
}

int
xasprintf(char **out, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	return n;
}

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static void
buf_grow(struct buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 64;

	if (b->len + need + 1 <= b->cap)
		return;
	while (cap < b->len + need + 1) {
		if (cap > SIZE_MAX / 2)
			oom();
		cap *= 2;
	}
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void
buf_append(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
buf_vline(struct buf *b, const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	buf_printf(b, "%s%s", b->len ? "\n" : "", s);
	free(s);
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

char *
buf_steal(struct buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = xstrdup("");
	buf_init(b);
	return p;
}

/* Append s (taken) to a NULL-terminated vector, *v NULL for none yet. */
void
strv_push(char ***v, char *s)
{
	size_t n = 0;

	while (*v != NULL && (*v)[n] != NULL)
		n++;
	*v = xrealloc(*v, (n + 2) * sizeof **v);
	(*v)[n] = s;
	(*v)[n + 1] = NULL;
}

bool
strv_contains(char *const *v, const char *s)
{
	for (; v != NULL && *v != NULL; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

void
strv_free(char **v)
{
	char **p;

	if (v == NULL)
		return;
	for (p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

/* Parse leading decimal digits into *v; returns chars consumed, 0 on none
 * or overflow. */
static size_t
parse_uint(const char *s, uint64_t *v)
{
	size_t	i;

	*v = 0;
	for (i = 0; isdigit((unsigned char)s[i]); i++) {
		if (*v > (UINT64_MAX - 9) / 10)
			return 0;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return i;
}

int
parse_duration_ms(const char *s, uint64_t *out)
{
	static const struct { const char *unit; uint64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	uint64_t total = 0, v;
	size_t	 n, i;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	while (*s != '\0') {
		if ((n = parse_uint(s, &v)) == 0)
			return -EINVAL;
		s += n;
		for (i = 0; i < nitems(units); i++) {
			size_t ul = strlen(units[i].unit);

			/* "m" must not match the start of "ms" */
			if (strncmp(s, units[i].unit, ul) == 0 &&
			    !(ul == 1 && s[0] == 'm' && s[1] == 's'))
				break;
		}
		if (i == nitems(units))
			return -EINVAL;
		if (v > (UINT64_MAX - total) / units[i].ms)
			return -EINVAL;
		total += v * units[i].ms;
		s += strlen(units[i].unit);
	}
	*out = total;
	return 0;
}

int
parse_decimal(const char *s, double *out)
{
	char	*end;
	double	 v;

	/* Digits and dots only: strtod would also take "inf", "0x1p3",
	 * "1e3", signs and leading space; a second dot stops it short. */
	if (s == NULL || *s == '\0' || strspn(s, "0123456789.") != strlen(s))
		return -EINVAL;
	v = strtod(s, &end);
	if (end == s || *end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

int
parse_size(const char *s, uint64_t *out)
{
	uint64_t v, mul = 1;
	size_t	 n;

	if (s == NULL || (n = parse_uint(s, &v)) == 0)
		return -EINVAL;
	s += n;
	switch (toupper((unsigned char)*s)) {
	case '\0':
		break;
	case 'K':
		mul = 1ULL << 10;
		break;
	case 'M':
		mul = 1ULL << 20;
		break;
	case 'G':
		mul = 1ULL << 30;
		break;
	case 'T':
		mul = 1ULL << 40;
		break;
	default:
		return -EINVAL;
	}
	if (*s != '\0') {
		s++;
		/* accept "512M", "512MB", "512MiB" */
		if (strcmp(s, "B") == 0 || strcmp(s, "b") == 0 ||
		    strcmp(s, "iB") == 0)
			s += strlen(s);
		if (*s != '\0')
			return -EINVAL;
	}
	if (v > UINT64_MAX / mul)
		return -EINVAL;
	*out = v * mul;
	return 0;
}

void
fmt_duration_ms(char *dst, size_t len, uint64_t ms)
{
	if (ms < 1000)
		snprintf(dst, len, "%llums", (unsigned long long)ms);
	else if (ms < 60000)
		snprintf(dst, len, "%.1fs", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(dst, len, "%llum%02llus",
		    (unsigned long long)(ms / 60000),
		    (unsigned long long)(ms / 1000 % 60));
	else
		snprintf(dst, len, "%lluh%02llum",
		    (unsigned long long)(ms / 3600000),
		    (unsigned long long)(ms / 60000 % 60));
}

int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fsync_dir(const char *dir)
{
	int fd, rc = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int
fsync_dir_of(const char *path)
{
	char	*dir = xstrdup(path), *slash;
	int	 rc;

	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	rc = fsync_dir(dir);
	free(dir);
	return rc;
}

int
file_write_atomic(const char *path, const void *data, size_t len, int mode)
{
	char	*tmp;
	int	 fd, rc = 0;

	xasprintf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if ((rc = write_all(fd, data, len)) < 0)
		goto out;
	if (fsync(fd) < 0) {
		rc = -errno;
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = -errno;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto out;
	}
	rc = fsync_dir_of(path);
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int
file_read_all(const char *path, size_t max, char **out, size_t *lenp)
{
	struct buf	b;
	char		chunk[8192];
	ssize_t		n;
	int		fd, rc = 0;

	buf_init(&b);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (b.len + (size_t)n > max) {
			rc = -EFBIG;
			break;
		}
		buf_append(&b, chunk, (size_t)n);
	}
	close(fd);
	if (rc < 0) {
		buf_free(&b);
		return rc;
	}
	if (lenp != NULL)
		*lenp = b.len;
	*out = buf_steal(&b);
	return 0;
}

int
mkdir_p(const char *path, int mode)
{
	char	*p = xstrdup(path), *s;
	int	 rc = 0;

	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
			rc = -errno;
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
fmt_time_utc(char *dst, size_t len, long long secs)
{
	time_t		t = (time_t)secs;
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL)
		snprintf(dst, len, "?");
	else
		strftime(dst, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* n digits exactly; -1 if not. */
static int
digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

size_t
parse_rfc3339(const char *s, long long *sec, long *nsec)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	const char	*p;
	struct tm	 tm;
	int		 y, mo, d, h, mi, se, oh, om, scale;
	long		 ns = 0;
	long long	 off = 0;

	if ((y = digits(s, 4)) < 0 || s[4] != '-' ||
	    (mo = digits(s + 5, 2)) < 1 || mo > 12 || s[7] != '-' ||
	    (d = digits(s + 8, 2)) < 1 || d > mdays[mo - 1] ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    (h = digits(s + 11, 2)) < 0 || h > 23 || s[13] != ':' ||
	    (mi = digits(s + 14, 2)) < 0 || mi > 59 || s[16] != ':' ||
	    (se = digits(s + 17, 2)) < 0 || se > 60)
		return 0;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		for (scale = 100000000; isdigit((unsigned char)*p); p++) {
			ns += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		if ((oh = digits(p + 1, 2)) < 0 || oh > 23 || p[3] != ':' ||
		    (om = digits(p + 4, 2)) < 0 || om > 59)
			return 0;
		off = (oh * 3600LL + om * 60LL) * (*p == '+' ? 1 : -1);
		p += 6;
	} else
		return 0;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*sec = (long long)timegm(&tm) - off;
	*nsec = ns;
	return (size_t)(p - s);
}

/* Lexically tidy an absolute path: no "//", "." or "..", no trailing '/'. */
char *
path_clean(const char *in)
{
	char	*out = xmalloc(strlen(in) + 2), *o = out;
	const char *p = in, *e;
	size_t	 n;

	while (*p != '\0') {
		while (*p == '/')
			p++;
		for (e = p; *e != '\0' && *e != '/'; e++)
			;
		n = (size_t)(e - p);
		if (n == 0 || (n == 1 && p[0] == '.'))
			;
		else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > out && *--o != '/')
				;
		} else {
			*o++ = '/';
			memcpy(o, p, n);
			o += n;
		}
		p = e;
	}
	if (o == out)
		*o++ = '/';
	*o = '\0';
	return out;
}
