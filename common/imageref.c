/*
 * Image references, checked by the grammar the engine parses them with
 * (distribution's reference package), so a unit file is refused at its
 * line rather than a pull failing in the middle of a deploy.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unitcheck.h"
#include "util.h"

/* [HOST[:PORT]/]PATH[:TAG][@DIGEST]: "svc:${TAG}" with TAG empty gives
 * "svc:", which the engine refuses. */
#define IMAGE_NAME_MAX	255
#define IMAGE_TAG_MAX	128
#define IMAGE_HEX_MIN	32

static bool
is_lower_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_alnum(int c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* alnum+ ([._]|__|-+ alnum+)* over [s, e). */
static bool
path_component_valid(const char *s, const char *e)
{
	const char *sep;

	while (s < e) {
		if (!is_lower_alnum((unsigned char)*s))
			return false;
		while (s < e && is_lower_alnum((unsigned char)*s))
			s++;
		if (s == e)
			return true;
		sep = s;
		if (*s == '.')
			s++;
		else if (*s == '_')
			s += s + 1 < e && s[1] == '_' ? 2 : 1;
		else
			while (s < e && *s == '-')
				s++;
		if (s == sep || s == e)
			return false;
	}
	return true;
}

/* host components (alnum, inner '-') joined by '.', then [:digits]. */
static bool
domain_valid(const char *s, const char *e)
{
	const char	*c = memchr(s, ':', (size_t)(e - s)), *he = c ? c : e;
	const char	*p;

	if (*s == '[')	/* an IPv6 address; the engine checks it */
		return memchr(s, ']', (size_t)(e - s)) != NULL;
	for (p = s; p <= he; p++) {
		if (p < he && *p != '.')
			continue;
		if (p == s || !is_alnum((unsigned char)*s) ||
		    !is_alnum((unsigned char)p[-1]))
			return false;
		for (; s < p; s++)
			if (!is_alnum((unsigned char)*s) && *s != '-')
				return false;
		s = p + 1;
	}
	if (c == NULL)
		return true;
	if (c + 1 == e)
		return false;
	for (p = c + 1; p < e; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static bool
tag_valid(const char *t)
{
	size_t i, n = strlen(t);

	if (n > IMAGE_TAG_MAX || (!is_alnum((unsigned char)*t) && *t != '_'))
		return false;
	for (i = 1; i < n; i++)
		if (!is_alnum((unsigned char)t[i]) && strchr("_.-", t[i]) ==
		    NULL)
			return false;
	return true;
}

/* ALGORITHM:HEX, ALGORITHM of letter-led alnum parts joined by [+._-]. */
static bool
digest_valid(const char *d)
{
	const char	*c = strchr(d, ':'), *p;
	size_t		 n;

	if (c == NULL || c == d)
		return false;
	for (p = d; p < c; p++) {
		if ((p == d || strchr("+._-", p[-1]) != NULL) &&
		    !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return false;
		if (!is_alnum((unsigned char)*p) && strchr("+._-", *p) == NULL)
			return false;
	}
	if (strchr("+._-", c[-1]) != NULL)
		return false;
	n = strspn(c + 1, "0123456789abcdefABCDEF");
	return n >= IMAGE_HEX_MIN && c[1 + n] == '\0';
}

static const char *
last_of(const char *s, const char *e, int ch)
{
	const char *p = NULL;

	for (; s < e; s++)
		if (*s == ch)
			p = s;
	return p;
}

/* The name part, [s, e): "" or what is wrong with it. */
static const char *
image_name_problem(const char *s, const char *e)
{
	const char	*slash = memchr(s, '/', (size_t)(e - s)), *p, *c;
	bool		 domain;

	if (s == e)
		return "the name is empty";
	if (e - s > IMAGE_NAME_MAX)
		return "the name is longer than 255 characters";
	/* The engine's rule: a first part with '.' or ':', or localhost. */
	domain = slash != NULL && (memchr(s, '.', (size_t)(slash - s)) ||
	    memchr(s, ':', (size_t)(slash - s)) ||
	    (slash - s == 9 && strncmp(s, "localhost", 9) == 0) ||
	    (slash > s && *s == '['));
	if (domain) {
		if (!domain_valid(s, slash))
			return "the registry host is not HOST or HOST:PORT";
		s = slash + 1;
	}
	for (p = s;; p = c + 1) {
		if ((c = memchr(p, '/', (size_t)(e - p))) == NULL)
			c = e;
		if (c == p)
			return "it has an empty path component";
		if (!path_component_valid(p, c))
			return "path components are lower-case letters and "
			    "digits, separated by '.', '_', '__' or '-'";
		if (c == e)
			return "";
	}
}

char *
unit_image_problem(const char *ref)
{
	const char	*at = strchr(ref, '@'), *e, *slash, *colon, *why;
	char		*tag = NULL, *err = NULL;

	e = at != NULL ? at : ref + strlen(ref);
	if (at != NULL && at[1] == '\0')
		why = "the digest after '@' is empty";
	else if (at != NULL && !digest_valid(at + 1))
		why = "the digest is not ALGORITHM:HEX with at least 32 hex "
		    "digits";
	else
		why = NULL;
	/* A ':' after the last '/' starts the tag; before, it is a port. */
	slash = last_of(ref, e, '/');
	if ((colon = last_of(ref, e, ':')) != NULL && slash != NULL &&
	    colon < slash)
		colon = NULL;
	if (why == NULL && colon != NULL) {
		tag = xstrndup(colon + 1, (size_t)(e - colon - 1));
		if (*tag == '\0')
			why = "the tag after ':' is empty";
		else if (!tag_valid(tag))
			why = "a tag is letters, digits, '_', '.' and '-', not "
			    "starting with '.' or '-', at most 128 characters";
		e = colon;
	}
	if (why == NULL && *(why = image_name_problem(ref, e)) == '\0')
		why = NULL;
	if (why != NULL)
		xasprintf(&err, "invalid reference '%s': %s", ref, why);
	free(tag);
	return err;
}
