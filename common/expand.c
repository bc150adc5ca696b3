/*
 * ${VAR} expansion and KEY=VALUE env files.  Expansion runs on each scalar
 * of a unit file as the loader reads it, so an error can name the scalar's
 * position.  See expand.h and docs/units.md.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "expand.h"
#include "unit.h"
#include "util.h"

#define EXPAND_DEPTH	8	/* ${A:-${B:-${C}}} nesting */

static bool
name_start(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool
name_char(int c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

const char *
expand_envfile_get(const struct envfile *ef, const char *key)
{
	size_t i;

	/* Last one wins, as if the file were sourced by a shell. */
	for (i = ef->n; i > 0; i--) {
		if (strcmp(ef->v[i - 1].key, key) == 0)
			return ef->v[i - 1].value;
	}
	return NULL;
}

const char *
expand_lookup(const struct expand_ctx *x, const char *name)
{
	char *const	*e;
	size_t		 n = strlen(name);

	if (x->envp != NULL) {
		for (e = x->envp; *e != NULL; e++) {
			if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
				return *e + n + 1;
		}
	}
	if (x->dotenv != NULL)
		return expand_envfile_get(x->dotenv, name);
	return NULL;
}

/* How expand_str_compose differs from the unit files' expansion. */
struct xmode {
	void	(*unset)(void *, const char *);
	void	 *arg;
};

static int	expand_into(const struct expand_ctx *, const struct xmode *,
		    const char *, size_t, struct buf *, char **, int);

/* Find the '}' closing a ${ whose word starts at s; nested ${} count. */
static size_t
find_close(const char *s, size_t len)
{
	size_t	i;
	int	depth = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '$' && i + 1 < len && s[i + 1] == '$')
			i++;
		else if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
			depth++;
			i++;
		} else if (s[i] == '}' && depth-- == 0)
			return i;
	}
	return len;
}

/*
 * One ${...} starting at s (pointing at '$'); returns the number of bytes
 * consumed, or 0 with *err set.
 */
static size_t
expand_brace(const struct expand_ctx *x, const struct xmode *m, const char *s,
    size_t len, struct buf *b, char **err, int depth)
{
	const char	*v;
	char		*name;
	size_t		 i = 2, n, wstart, wlen;
	int		 colon = 0, op = '}';

	while (i < len && (i == 2 ? name_start(s[i]) : name_char(s[i])))
		i++;
	if (i == 2) {
		xasprintf(err, "invalid variable reference '%.*s': expected "
		    "a name after '${'", (int)(len < 16 ? len : 16), s);
		return 0;
	}
	name = xstrndup(s + 2, i - 2);
	if (i < len && s[i] == ':' && i + 1 < len &&
	    (s[i + 1] == '-' || s[i + 1] == '?' ||
	    (m != NULL && s[i + 1] == '+'))) {
		colon = 1;
		i++;
	}
	if (i >= len) {
		xasprintf(err, "unterminated '${%s'", name);
		goto fail;
	}
	op = s[i];
	if (op != '}' && op != '-' && op != '?' && !(m != NULL && op == '+')) {
		xasprintf(err, "invalid character '%c' in '${%s...}'", op,
		    name);
		goto fail;
	}
	wstart = i + (op == '}' ? 0 : 1);
	wlen = find_close(s + wstart, len - wstart);
	if (wstart + wlen >= len) {
		xasprintf(err, "unterminated '${%s'", name);
		goto fail;
	}
	n = wstart + wlen + 1;
	v = expand_lookup(x, name);
	if (op == '+') {
		/* ${VAR+alt}: alt when set; ${VAR:+alt}: when set, not empty. */
		if (v != NULL && !(colon && *v == '\0') && expand_into(x, m,
		    s + wstart, wlen, b, err, depth + 1) != 0)
			goto fail;
		free(name);
		return n;
	}
	if (v != NULL && !(colon && *v == '\0')) {
		buf_puts(b, v);
		free(name);
		return n;
	}
	switch (op) {
	case '}':
		if (m != NULL) {
			if (m->unset != NULL)
				m->unset(m->arg, name);
			break;
		}
		xasprintf(err, "variable '%s' is not set (write ${%s:-default} "
		    "for a fallback)", name, name);
		goto fail;
	case '-':
		if (expand_into(x, m, s + wstart, wlen, b, err,
		    depth + 1) != 0)
			goto fail;
		break;
	case '?': {
		struct buf	msg;

		buf_init(&msg);
		if (expand_into(x, m, s + wstart, wlen, &msg, err,
		    depth + 1) != 0) {
			buf_free(&msg);
			goto fail;
		}
		xasprintf(err, "variable '%s' is %s: %s", name,
		    colon ? "not set or empty" : "not set",
		    msg.len ? msg.data : "a value is required");
		buf_free(&msg);
		goto fail;
	}
	}
	free(name);
	return n;
fail:
	free(name);
	return 0;
}

static int
expand_into(const struct expand_ctx *x, const struct xmode *m, const char *s,
    size_t len, struct buf *b, char **err, int depth)
{
	const char	*v;
	char		*name;
	size_t		 i = 0, j, n;

	if (depth > EXPAND_DEPTH) {
		xasprintf(err, "variable defaults nested too deeply");
		return -EINVAL;
	}
	while (i < len) {
		if (s[i] != '$' || i + 1 == len) {
			buf_append(b, s + i, 1);
			i++;
		} else if (s[i + 1] == '$') {
			buf_append(b, "$", 1);
			i += 2;
		} else if (s[i + 1] == '{') {
			if ((n = expand_brace(x, m, s + i, len - i, b, err,
			    depth)) == 0)
				return -EINVAL;
			i += n;
		} else if (name_start(s[i + 1])) {
			for (j = i + 1; j < len && name_char(s[j]); j++)
				;
			name = xstrndup(s + i + 1, j - i - 1);
			if ((v = expand_lookup(x, name)) == NULL &&
			    m != NULL) {
				if (m->unset != NULL)
					m->unset(m->arg, name);
			} else if (v == NULL) {
				xasprintf(err, "variable '%s' is not set "
				    "(write $$ for a literal '$')", name);
				free(name);
				return -EINVAL;
			} else
				buf_puts(b, v);
			free(name);
			i = j;
		} else {
			/* "$5", "$ ", "$(": not a reference; keep it. */
			buf_append(b, "$", 1);
			i++;
		}
	}
	return 0;
}

int
expand_str(const struct expand_ctx *x, const char *s, char **out, char **err)
{
	struct buf	b;

	*err = NULL;
	buf_init(&b);
	if (expand_into(x, NULL, s, strlen(s), &b, err, 0) != 0) {
		buf_free(&b);
		*out = NULL;
		return -EINVAL;
	}
	*out = buf_steal(&b);
	return 0;
}

/*
 * compose's interpolation (compose-spec 12-interpolation.md): as above,
 * plus ${VAR+alt} and ${VAR:+alt}, and a variable that is not set (with no
 * default) becomes "" after unset(arg, name) is told, rather than an error.
 */
int
expand_str_compose(const struct expand_ctx *x, const char *s,
    void (*unset)(void *, const char *), void *arg, char **out, char **err)
{
	struct xmode	m = { unset, arg };
	struct buf	b;

	*err = NULL;
	buf_init(&b);
	if (expand_into(x, &m, s, strlen(s), &b, err, 0) != 0) {
		buf_free(&b);
		*out = NULL;
		return -EINVAL;
	}
	*out = buf_steal(&b);
	return 0;
}

void
expand_envfile_free(struct envfile *ef)
{
	size_t i;

	for (i = 0; i < ef->n; i++) {
		free(ef->v[i].key);
		free(ef->v[i].value);
	}
	free(ef->v);
	ef->v = NULL;
	ef->n = 0;
}

static bool
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/*
 * A quoted value starting at p (the quote); the rest of the line may only
 * hold a comment.  Returns NULL, or what is wrong with *col set.
 */
static const char *
parse_quoted(const char *line, const char *p, const char *end, struct buf *v,
    size_t *col)
{
	const char	*open = p;
	char		 q = *p++;

	for (; p < end && *p != q; p++) {
		if (q == '"' && *p == '\\' && p + 1 < end) {
			p++;
			switch (*p) {
			case 'n':
				buf_append(v, "\n", 1);
				break;
			case 't':
				buf_append(v, "\t", 1);
				break;
			case 'r':
				buf_append(v, "\r", 1);
				break;
			default:	/* \" \\ \$ and anything else: itself */
				buf_append(v, p, 1);
				break;
			}
		} else
			buf_append(v, p, 1);
	}
	if (p >= end) {
		*col = (size_t)(open - line) + 1;
		return "unterminated quoted value";
	}
	for (p++; p < end && is_blank(*p); p++)
		;
	if (p < end && *p != '#') {
		*col = (size_t)(p - line) + 1;
		return "unexpected text after the quoted value";
	}
	return NULL;
}

static void
parse_line(const char *path, int lineno, const char *line, const char *end,
    struct envfile *ef, struct diag_list *errs)
{
	struct envfile_var	*var;
	struct buf		 v;
	const char		*p = line, *k, *ke, *bad = NULL;
	size_t			 badcol = 0;

	while (p < end && is_blank(*p))
		p++;
	if (p == end || *p == '#')
		return;
	if (end - p > 7 && strncmp(p, "export", 6) == 0 && is_blank(p[6])) {
		for (p += 6; p < end && is_blank(*p); p++)
			;
	}
	k = p;
	while (p < end && *p != '=' && !is_blank(*p))
		p++;
	ke = p;
	while (p < end && is_blank(*p))
		p++;
	if (p == end || *p != '=' || ke == k) {
		diag_add(errs, path, lineno, (int)(k - line) + 1,
		    "expected KEY=VALUE");
		return;
	}
	for (p++; p < end && is_blank(*p); p++)
		;
	buf_init(&v);
	if (p < end && (*p == '"' || *p == '\''))
		bad = parse_quoted(line, p, end, &v, &badcol);
	else {
		const char *ve = p;

		/* An unquoted value ends at " #"; trailing blanks go. */
		while (ve < end && !(*ve == '#' && ve > p && is_blank(ve[-1])))
			ve++;
		while (ve > p && is_blank(ve[-1]))
			ve--;
		buf_append(&v, p, (size_t)(ve - p));
	}
	if (bad != NULL) {
		diag_add(errs, path, lineno, (int)badcol, "%s", bad);
		buf_free(&v);
		return;
	}
	ef->v = xrealloc(ef->v, (ef->n + 1) * sizeof *ef->v);
	var = &ef->v[ef->n++];
	var->key = xstrndup(k, (size_t)(ke - k));
	var->value = buf_steal(&v);
	var->line = lineno;
	if (!unit_env_key_valid(var->key)) {
		diag_add(errs, path, lineno, (int)(k - line) + 1,
		    "invalid variable name '%s'", var->key);
	}
}

int
expand_envfile_parse(const char *path, const char *text, struct envfile *ef,
    struct diag_list *errs)
{
	const char	*p = text, *nl, *end;
	size_t		 before = errs->n;
	int		 lineno = 1;

	for (; *p != '\0'; p = nl + 1, lineno++) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		end = nl;
		if (end > p && end[-1] == '\r')
			end--;
		parse_line(path, lineno, p, end, ef, errs);
		/* A service's env files share ef: the bound is on them all. */
		if (ef->n > UNIT_KV_MAX) {
			diag_add(errs, path, lineno, 1, "more than %d "
			    "variables; a service may have at most %d",
			    UNIT_KV_MAX, UNIT_KV_MAX);
			break;
		}
		if (*nl == '\0')
			break;
	}
	return errs->n == before ? 0 : -EINVAL;
}

int
expand_envfile_load(const char *path, struct envfile *ef,
    struct diag_list *errs)
{
	char	*text;
	size_t	 len;
	int	 rc;

	if ((rc = file_read_all(path, UNIT_FILE_MAX, &text, &len)) != 0)
		return rc;
	if (strlen(text) != len) {
		diag_add(errs, path, 0, 0, "contains a NUL byte");
		rc = -EINVAL;
	} else
		rc = expand_envfile_parse(path, text, ef, errs);
	free(text);
	return rc;
}
