/*
 * Strict JSON field readers.  See jread.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jread.h"
#include "util.h"

void
jread_err(struct jread *c, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(c->errs, NULL, 0, 0, path, fmt, ap);
	va_end(ap);
}

void
jread_path(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

const char *
jread_kind(const json_t *v)
{
	if (v == NULL)
		return "nothing";
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		break;
	}
	return "null";
}

static bool
listed(const char *const *fields, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n && strcmp(fields[i], key) != 0; i++)
		;
	return i < n;
}

/* v must be an object holding exactly the given fields. */
bool
jread_obj(struct jread *c, const char *path, const json_t *v,
    const char *const *fields, size_t n)
{
	return jread_obj_opt(c, path, v, fields, n, NULL, 0);
}

bool
jread_obj_opt(struct jread *c, const char *path, const json_t *v,
    const char *const *fields, size_t n, const char *const *opt,
    size_t nopt)
{
	const char	*key;
	json_t		*val;
	size_t		 i;

	if (!json_is_object(v)) {
		jread_err(c, path, "expected an object, got %s",
		    jread_kind(v));
		return false;
	}
	json_object_foreach((json_t *)v, key, val) {
		if (!listed(fields, n, key) && !listed(opt, nopt, key))
			jread_err(c, path, "unknown field '%s'", key);
	}
	for (i = 0; i < n; i++) {
		if (json_object_get(v, fields[i]) == NULL)
			jread_err(c, path, "missing field '%s'", fields[i]);
	}
	return true;
}

/* A field of o, or NULL if absent (jread_obj has said so already). */
const json_t *
jread_field(const char *path, const json_t *o, const char *key, char *sub)
{
	jread_path(sub, JREAD_PATH, "%s.%s", path, key);
	return json_object_get(o, key);
}

bool
jread_string_ok(struct jread *c, const char *path, const json_t *v)
{
	if (!json_is_string(v)) {
		jread_err(c, path, "expected a string, got %s", jread_kind(v));
		return false;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		jread_err(c, path, "contains a NUL character");
		return false;
	}
	return true;
}

bool
jread_str(struct jread *c, const char *path, const json_t *o, const char *key,
    int flags, char **out)
{
	const json_t	*v;
	char		 sub[JREAD_PATH];

	*out = NULL;
	if ((v = jread_field(path, o, key, sub)) == NULL)
		return false;
	if (json_is_null(v) && (flags & JREAD_NULL))
		return true;
	if (!jread_string_ok(c, sub, v))
		return false;
	if ((flags & JREAD_NONEMPTY) && json_string_length(v) == 0) {
		jread_err(c, sub, "must not be empty");
		return false;
	}
	*out = xstrdup(json_string_value(v));
	return true;
}

bool
jread_int(struct jread *c, const char *path, const json_t *o, const char *key,
    json_int_t min, json_int_t max, json_int_t *out)
{
	const json_t	*v;
	char		 sub[JREAD_PATH];

	if ((v = jread_field(path, o, key, sub)) == NULL)
		return false;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		jread_err(c, sub, "expected an integer from %lld to %lld, "
		    "got %s",
		    (long long)min, (long long)max, json_is_integer(v) ?
		    "one out of range" : jread_kind(v));
		return false;
	}
	*out = json_integer_value(v);
	return true;
}

void
jread_int_i(struct jread *c, const char *path, const json_t *o, const char *key,
    int min, int max, int *out)
{
	json_int_t v;

	if (jread_int(c, path, o, key, min, max, &v))
		*out = (int)v;
}

void
jread_ms(struct jread *c, const char *path, const json_t *o, const char *key,
    uint64_t min, uint64_t *out)
{
	json_int_t v;

	if (jread_int(c, path, o, key, (json_int_t)min,
	    (json_int_t)DURATION_MAX_MS, &v))
		*out = (uint64_t)v;
}

void
jread_bool(struct jread *c, const char *path, const json_t *o, const char *key,
    bool *out)
{
	const json_t	*v;
	char		 sub[JREAD_PATH];

	if ((v = jread_field(path, o, key, sub)) == NULL)
		return;
	if (!json_is_boolean(v))
		jread_err(c, sub, "expected true or false, got %s",
		    jread_kind(v));
	else
		*out = json_is_true(v);
}

void
jread_strv(struct jread *c, const char *path, const json_t *o, const char *key,
    int flags, char ***out)
{
	const json_t	*v, *e;
	char		 sub[JREAD_PATH], esub[JREAD_PATH + 16], **vec;
	size_t		 i, n;

	*out = NULL;
	if ((v = jread_field(path, o, key, sub)) == NULL ||
	    (json_is_null(v) && (flags & JREAD_NULL)))
		return;
	if (!json_is_array(v)) {
		jread_err(c, sub, "expected an array of strings, got %s",
		    jread_kind(v));
		return;
	}
	if ((n = json_array_size(v)) == 0 && (flags & JREAD_NONEMPTY)) {
		jread_err(c, sub, "must not be empty");
		return;
	}
	vec = xcalloc(n + 1, sizeof *vec);
	for (i = 0; i < n; i++) {
		e = json_array_get(v, i);
		jread_path(esub, sizeof esub, "%s[%zu]", sub, i);
		if (!jread_string_ok(c, esub, e))
			break;
		vec[i] = xstrdup(json_string_value(e));
	}
	if (i == n) {
		*out = vec;
		return;
	}
	strv_free(vec);
}
