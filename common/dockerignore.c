/*
 * .dockerignore patterns (dockerignore.h).  Matching is a small
 * backtracking glob over the whole path: '*' never crosses a '/', "**"
 * does, and "**" followed by '/' may also match nothing at all, so
 * "**" "/x" matches "x" at the top too.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dockerignore.h"
#include "util.h"

/* Lexically clean a pattern: no leading '/', no "." segments, no "//", no
 * trailing '/'; ".." folds into its parent: path_clean() under a '/'. */
static char *
pat_clean(const char *in)
{
	char *tmp, *abs, *out;

	xasprintf(&tmp, "/%s", in);
	abs = path_clean(tmp);
	out = xstrdup(abs + 1);
	free(abs);
	free(tmp);
	return out;
}

void
dockerignore_parse(struct dockerignore *di, const char *text, size_t len)
{
	const char	*p = text, *end = text + len, *nl;
	char		*line, *s, *t;
	bool		 neg;

	memset(di, 0, sizeof *di);
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		line = xstrndup(p, (size_t)(nl - p));
		p = nl + 1;
		s = line;
		if (*s == '#') {
			free(line);
			continue;
		}
		/* Surrounding blanks go, as Docker trims them. */
		while (isspace((unsigned char)*s))
			s++;
		t = s + strlen(s);
		while (t > s && isspace((unsigned char)t[-1]))
			*--t = '\0';
		neg = false;
		if (*s == '!') {
			neg = true;
			s++;
			while (isspace((unsigned char)*s))
				s++;
		}
		if (*s != '\0') {
			t = pat_clean(s);
			if (*t != '\0') {
				di->v = xrealloc(di->v,
				    (di->n + 1) * sizeof *di->v);
				di->v[di->n].pat = t;
				di->v[di->n].negate = neg;
				di->n++;
				di->any_negate |= neg;
			} else
				free(t);
		}
		free(line);
	}
}

void
dockerignore_free(struct dockerignore *di)
{
	size_t i;

	for (i = 0; i < di->n; i++)
		free(di->v[i].pat);
	free(di->v);
	memset(di, 0, sizeof *di);
}

/* [class] at p against c; *end gets past the ']'.  -1: malformed. */
static int
class_match(const char *p, char c, const char **end)
{
	bool		 neg = false, hit = false;
	unsigned char	 lo, hi;

	p++;
	if (*p == '^' || *p == '!') {
		neg = true;
		p++;
	}
	do {
		if (*p == '\0')
			return -1;
		if (*p == '\\' && p[1] != '\0')
			p++;
		lo = hi = (unsigned char)*p++;
		if (*p == '-' && p[1] != ']' && p[1] != '\0') {
			p++;
			if (*p == '\\' && p[1] != '\0')
				p++;
			hi = (unsigned char)*p++;
		}
		if ((unsigned char)c >= lo && (unsigned char)c <= hi)
			hit = true;
	} while (*p != ']');
	*end = p + 1;
	return c != '/' && hit != neg;
}

static bool
glob(const char *p, const char *s)
{
	const char	*end;
	int		 r;

	for (;;) {
		switch (*p) {
		case '\0':
			return *s == '\0';
		case '*':
			if (p[1] == '*') {
				p += 2;
				/* "**" "/": nothing, or any run of segments. */
				if (*p == '/') {
					if (glob(p + 1, s))
						return true;
				}
				for (; *s != '\0'; s++)
					if (glob(p, s))
						return true;
				return glob(p, s);
			}
			p++;
			for (;; s++) {
				if (glob(p, s))
					return true;
				if (*s == '\0' || *s == '/')
					return false;
			}
		case '?':
			if (*s == '\0' || *s == '/')
				return false;
			p++;
			s++;
			break;
		case '[':
			if (*s == '\0' || (r = class_match(p, *s, &end)) < 0)
				return false;
			if (r == 0)
				return false;
			p = end;
			s++;
			break;
		case '\\':
			if (p[1] != '\0')
				p++;
			/* FALLTHROUGH */
		default:
			if (*p != *s)
				return false;
			p++;
			s++;
			break;
		}
	}
}

bool
dockerignore_match(const char *pat, const char *path)
{
	return glob(pat, path);
}

/* pat matches path or one of the directories above it. */
static bool
covers(const char *pat, const char *path)
{
	char	*tmp;
	size_t	 i, n = strlen(path);
	bool	 hit;

	if (glob(pat, path))
		return true;
	tmp = xstrdup(path);
	hit = false;
	for (i = n; i > 0 && !hit; i--) {
		if (tmp[i - 1] != '/')
			continue;
		tmp[i - 1] = '\0';
		hit = glob(pat, tmp);
	}
	free(tmp);
	return hit;
}

bool
dockerignore_excluded(const struct dockerignore *di, const char *path)
{
	bool	 out = false;
	size_t	 i;

	for (i = 0; i < di->n; i++) {
		if (di->v[i].negate == out && covers(di->v[i].pat, path))
			out = !di->v[i].negate;
	}
	return out;
}

bool
dockerignore_may_reinclude(const struct dockerignore *di, const char *dir)
{
	size_t	n = strlen(dir), i;

	for (i = 0; i < di->n; i++) {
		if (!di->v[i].negate)
			continue;
		/* A pattern under dir, or one with a wildcard that might
		 * reach into it: walk rather than guess. */
		if (strpbrk(di->v[i].pat, "*?[\\") != NULL)
			return true;
		if (strncmp(di->v[i].pat, dir, n) == 0 &&
		    di->v[i].pat[n] == '/')
			return true;
	}
	return false;
}
