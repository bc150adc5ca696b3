/*
 * A YAML document as a small tree that keeps every node's position, and
 * typed readers over it that expand ${VAR}s and report each problem as
 * file:line:col.  See ytree.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "expand.h"
#include "util.h"
#include "yanchor.h"
#include "ytree.h"

#define Y_DEPTH		64
/* Entries of one mapping or list.  The readers find a repeated key by
 * scanning the ones before it, so this bounds their cost too. */
#define Y_ITEMS_MAX	4096

void
ytree_err(struct yctx *c, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(c->errs, n && n->file ? n->file : c->file,
	    n ? n->line : 0, n ? n->col : 0, NULL, fmt, ap);
	va_end(ap);
}

void
ytree_free(struct ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		ytree_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n->tag);
	free(n);
}

bool
ytree_null(const struct ynode *n)
{
	return n->type == Y_SCALAR && n->plain && (n->str[0] == '\0' ||
	    strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
	    strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0);
}

const char *
ytree_kind(const struct ynode *n)
{
	if (n->type == Y_MAP)
		return "a mapping";
	if (n->type == Y_SEQ)
		return "a list";
	return ytree_null(n) ? "nothing (null)" : "a scalar";
}

static struct ynode *
node_new(const struct yctx *c, enum ytype t, const yaml_mark_t *m)
{
	struct ynode *n = xcalloc(1, sizeof *n);

	n->type = t;
	n->file = c->file;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	return n;
}

static struct ynode *
tagged(struct ynode *n, const yaml_char_t *tag)
{
	if (tag != NULL)
		n->tag = xstrdup((const char *)tag);
	return n;
}

/* Returns the new node, or NULL (with an error) if it cannot be kept. */
static struct ynode *
event_node(struct yctx *c, const yaml_event_t *ev)
{
	struct ynode *n;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = tagged(node_new(c, Y_SCALAR, &ev->start_mark),
		    ev->data.scalar.tag);
		n->str = xstrndup((const char *)ev->data.scalar.value,
		    ev->data.scalar.length);
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if (strlen(n->str) != ev->data.scalar.length) {
			ytree_err(c, n, "a NUL character is not allowed here");
			ytree_free(n);
			return NULL;
		}
		return n;
	case YAML_SEQUENCE_START_EVENT:
		return tagged(node_new(c, Y_SEQ, &ev->start_mark),
		    ev->data.sequence_start.tag);
	case YAML_MAPPING_START_EVENT:
		return tagged(node_new(c, Y_MAP, &ev->start_mark),
		    ev->data.mapping_start.tag);
	case YAML_ALIAS_EVENT:
		diag_add(c->errs, c->file, (int)ev->start_mark.line + 1,
		    (int)ev->start_mark.column + 1, "aliases (*%s) are not "
		    "supported here (only in compose files); repeat the value",
		    ev->data.alias.anchor);
		return NULL;
	default:
		return NULL;
	}
}

/*
 * libyaml's reader (bad UTF-8, control characters such as NUL) gives a
 * byte offset and leaves problem_mark at 0:0, so count the position out
 * of the text: lines by '\n', columns in characters as the marks are.
 */
static void
offset_mark(const char *text, size_t len, size_t off, int *line, int *col)
{
	size_t i;

	*line = *col = 1;
	for (i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80)
			(*col)++;
	}
}

static void
syntax_err(struct yctx *c, const yaml_parser_t *p, const char *text,
    size_t len)
{
	const yaml_mark_t	*m = &p->problem_mark;
	int			 line = (int)m->line + 1, col = (int)m->column + 1;

	if (p->error == YAML_MEMORY_ERROR)
		abort();
	if (p->error == YAML_READER_ERROR) {
		offset_mark(text, len, p->problem_offset, &line, &col);
		diag_add(c->errs, c->file, line, col, "YAML syntax error: %s "
		    "(#x%X)", p->problem ? p->problem : "unreadable input",
		    (unsigned)p->problem_value);
		return;
	}
	diag_add(c->errs, c->file, line, col, "YAML syntax error: %s%s%s",
	    p->problem ? p->problem : "unknown", p->context ? " " : "",
	    p->context ? p->context : "");
}

/* Whether par is full; the error points where it starts. */
static bool
too_many(struct yctx *c, const struct ynode *par)
{
	size_t max = par->type == Y_MAP ? 2 * Y_ITEMS_MAX : Y_ITEMS_MAX;

	if (par->nkids < max)
		return false;
	ytree_err(c, par, "a %s holds at most %d entries",
	    par->type == Y_MAP ? "mapping" : "list", Y_ITEMS_MAX);
	return true;
}

static const char *
event_anchor(const yaml_event_t *ev)
{
	const yaml_char_t *a = NULL;

	if (ev->type == YAML_SCALAR_EVENT)
		a = ev->data.scalar.anchor;
	else if (ev->type == YAML_SEQUENCE_START_EVENT)
		a = ev->data.sequence_start.anchor;
	else if (ev->type == YAML_MAPPING_START_EVENT)
		a = ev->data.mapping_start.anchor;
	return (const char *)a;
}

/* The node for ev: a new one, or with aliases on a copy for an alias. */
static struct ynode *
make_node(struct yctx *c, struct yanchors *a, const yaml_event_t *ev,
    size_t depth)
{
	struct ynode	*n;
	const char	*anchor;

	if (ev->type == YAML_ALIAS_EVENT && c->aliases)
		return ya_alias(c, a, (const char *)ev->data.alias.anchor,
		    (int)ev->start_mark.line + 1,
		    (int)ev->start_mark.column + 1, depth, Y_DEPTH);
	if ((n = event_node(c, ev)) == NULL)
		return NULL;
	a->written++;
	if (c->aliases && (anchor = event_anchor(ev)) != NULL)
		ya_define(a, anchor, n);
	return n;
}

/* Parse text into a tree; an empty document gives a NULL root.  0/-EINVAL. */
int
ytree_parse(struct yctx *c, const char *text, size_t len, struct ynode **root)
{
	yaml_parser_t	 p;
	yaml_event_t	 ev;
	struct yanchors	 a;
	struct ynode	*stack[Y_DEPTH], *n, *par;
	size_t		 depth = 0;
	int		 docs = 0, rc = 0, done = 0;

	memset(&a, 0, sizeof a);

	*root = NULL;
	if (!yaml_parser_initialize(&p))
		abort();
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			syntax_err(c, &p, text, len);
			rc = -EINVAL;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (docs++ > 0) {
				diag_add(c->errs, c->file,
				    (int)ev.start_mark.line + 1,
				    (int)ev.start_mark.column + 1,
				    "only one YAML document is allowed");
				rc = -EINVAL;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			n = stack[--depth];
			if (!c->aliases)
				break;
			ya_close(&a, n);
			if (n->type == Y_MAP)
				rc = ya_merge(c, &a, n, Y_ITEMS_MAX);
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
		case YAML_ALIAS_EVENT:
			if ((n = make_node(c, &a, &ev, depth)) == NULL) {
				rc = -EINVAL;
				break;
			}
			if (depth == 0)
				*root = n;
			else if (too_many(c, stack[depth - 1])) {
				ytree_free(n);
				rc = -EINVAL;
				break;
			} else {
				par = stack[depth - 1];
				par->kids = xrealloc(par->kids,
				    (par->nkids + 1) * sizeof *par->kids);
				par->kids[par->nkids++] = n;
			}
			if (n->type == Y_SCALAR || ev.type == YAML_ALIAS_EVENT)
				break;
			if (depth == Y_DEPTH) {
				ytree_err(c, n, "nested too deeply");
				rc = -EINVAL;
				break;
			}
			stack[depth++] = n;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	ya_free(&a);
	if (rc != 0) {
		ytree_free(*root);
		*root = NULL;
	}
	return rc;
}

/* ---- typed values ------------------------------------------------------ */

char *
ytree_path(const char *path, const char *key)
{
	char *s;

	if (path == NULL)
		return xstrdup(key);
	xasprintf(&s, "%s.%s", path, key);
	return s;
}

/* The expanded text of a non-null scalar, or NULL with an error. */
char *
ytree_text(struct yctx *c, const char *path, const struct ynode *n,
    const char *want)
{
	char *out, *err;

	if (n->type != Y_SCALAR || ytree_null(n)) {
		ytree_err(c, n, "%s: expected %s, got %s", path, want,
		    ytree_kind(n));
		return NULL;
	}
	if (c->x == NULL)
		return xstrdup(n->str);
	if (expand_str(c->x, n->str, &out, &err) != 0) {
		ytree_err(c, n, "%s: %s", path, err);
		free(err);
		return NULL;
	}
	return out;
}

char *
ytree_string(struct yctx *c, const char *path, const struct ynode *n)
{
	char *s = ytree_text(c, path, n, "a string");

	if (s != NULL && *s == '\0') {
		ytree_err(c, n, "%s: must not be empty", path);
		free(s);
		s = NULL;
	}
	return s;
}

int
ytree_int(struct yctx *c, const char *path, const struct ynode *n, int min,
    int max, int *out)
{
	char	*s, *end;
	long	 v;
	int	 rc = -EINVAL;

	if ((s = ytree_text(c, path, n, "an integer")) == NULL)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] != '\0' && s[0] != ' ' && s[0] != '+' && *end == '\0' &&
	    errno == 0 && v >= min && v <= max) {
		*out = (int)v;
		rc = 0;
	} else
		ytree_err(c, n, "%s: expected an integer from %d to %d, "
		    "got '%s'",
		    path, min, max, s);
	free(s);
	return rc;
}

void
ytree_bool(struct yctx *c, const char *path, const struct ynode *n, bool *out)
{
	char *s;

	if ((s = ytree_text(c, path, n, "true or false")) == NULL)
		return;
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
	    strcmp(s, "TRUE") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
	    strcmp(s, "FALSE") == 0)
		*out = false;
	else
		ytree_err(c, n, "%s: expected true or false, got '%s'", path,
		    s);
	free(s);
}

void
ytree_duration(struct yctx *c, const char *path, const struct ynode *n,
    uint64_t min, uint64_t *out)
{
	uint64_t	 v;
	char		*s, m[32];

	if ((s = ytree_text(c, path, n, "a duration")) == NULL)
		return;
	if (parse_duration_ms(s, &v) != 0)
		ytree_err(c, n, "%s: invalid duration '%s' (expected whole "
		    "numbers with units: 500ms, 5s, 2m, 1h, 1m30s)", path, s);
	else if (v < min) {
		fmt_duration_ms(m, sizeof m, min);
		ytree_err(c, n, "%s: duration '%s' is shorter than %s", path,
		    s, m);
	} else if (v > DURATION_MAX_MS)
		ytree_err(c, n, "%s: duration '%s' is too long", path, s);
	else
		*out = v;
	free(s);
}

/*
 * A list of strings; a plain string becomes ["sh", "-c", string] when
 * shell is set.  Returns a NULL-terminated vector, or NULL with an error.
 */
char **
ytree_strv(struct yctx *c, const char *path, const struct ynode *n, bool shell,
    bool empty_ok)
{
	char	**v, *s, *ipath;
	size_t	  i, bad = 0;

	if (shell && n->type == Y_SCALAR && !ytree_null(n)) {
		if ((s = ytree_text(c, path, n, "a string")) == NULL)
			return NULL;
		v = xcalloc(4, sizeof *v);
		v[0] = xstrdup("sh");
		v[1] = xstrdup("-c");
		v[2] = s;
		return v;
	}
	if (n->type != Y_SEQ) {
		ytree_err(c, n, "%s: expected a list of strings%s, got %s",
		    path,
		    shell ? " (or one string for sh -c)" : "", ytree_kind(n));
		return NULL;
	}
	if (n->nkids == 0 && !empty_ok) {
		ytree_err(c, n, "%s: must not be empty", path);
		return NULL;
	}
	v = xcalloc(n->nkids + 1, sizeof *v);
	for (i = 0; i < n->nkids; i++) {
		xasprintf(&ipath, "%s[%zu]", path, i);
		if ((v[i - bad] = ytree_text(c, ipath, n->kids[i],
		    "a string")) == NULL)
			bad++;
		free(ipath);
	}
	if (bad > 0) {
		strv_free(v);
		return NULL;
	}
	return v;
}

bool
ytree_is(struct yctx *c, const char *path, const struct ynode *n, enum ytype t)
{
	if (n->type == t)
		return true;
	ytree_err(c, n, "%s: expected %s, got %s", path,
	    t == Y_MAP ? "a mapping" : "a list", ytree_kind(n));
	return false;
}

bool
ytree_each(struct yctx *c, const char *path, const struct ynode *n,
    void (*fn)(struct yctx *, const char *, const struct ynode *, void *),
    void *obj)
{
	char	*ipath;
	size_t	 i;

	if (!ytree_is(c, path, n, Y_SEQ))
		return false;
	for (i = 0; i < n->nkids; i++) {
		xasprintf(&ipath, "%s[%zu]", path, i);
		fn(c, ipath, n->kids[i], obj);
		free(ipath);
	}
	return true;
}

/* One "KEY=VALUE" item of a list: split at its first '='. */
static void
kv_item(struct yctx *c, const char *path, const struct ynode *n, bool bare,
    ytree_kv_fn *fn, void *obj)
{
	struct ykv	 e = { n, path, path, NULL, NULL };
	char		*s, *eq;

	if ((s = ytree_text(c, path, n, "KEY=VALUE")) == NULL)
		return;
	if ((eq = strchr(s, '=')) != NULL) {
		*eq = '\0';
		e.value = eq + 1;
	}
	e.key = s;
	if (eq != NULL || bare)
		fn(c, &e, obj);
	else
		ytree_err(c, n, "%s: expected KEY=VALUE, got '%s'", path, s);
	free(s);
}

bool
ytree_kv(struct yctx *c, const char *path, const struct ynode *n, bool bare,
    ytree_kv_fn *fn, void *obj)
{
	struct ykv	 e;
	char		*kpath, *s;
	size_t		 i;

	if (n->type == Y_SEQ) {
		for (i = 0; i < n->nkids; i++) {
			xasprintf(&kpath, "%s[%zu]", path, i);
			kv_item(c, kpath, n->kids[i], bare, fn, obj);
			free(kpath);
		}
		return true;
	}
	if (n->type != Y_MAP) {
		ytree_err(c, n, "%s: expected a mapping or a list of "
		    "KEY=VALUE, got %s", path, ytree_kind(n));
		return false;
	}
	for (i = 0; i + 1 < n->nkids; i += 2) {
		if ((e.at = ytree_map_key(c, n, i)) == NULL)
			continue;
		e.key = e.at->str;
		e.path = path;
		e.epath = kpath = ytree_path(path, e.key);
		e.value = s = NULL;
		if (!ytree_null(n->kids[i + 1]))
			e.value = s = ytree_text(c, kpath, n->kids[i + 1],
			    "a string");
		if (s != NULL || (bare && ytree_null(n->kids[i + 1])))
			fn(c, &e, obj);
		else if (ytree_null(n->kids[i + 1]))
			ytree_err(c, n->kids[i + 1], "%s: no value; write "
			    "%s: \"\" for an empty string", kpath, e.key);
		free(s);
		free(kpath);
	}
	return true;
}

/* ---- mappings ---------------------------------------------------------- */

static size_t
edit_distance(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b), i, j, d[32];
	size_t	 prev, tmp;

	if (lb >= nitems(d))
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		prev = d[0];
		d[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = d[j];
			d[j] = prev + (a[i - 1] != b[j - 1]);
			if (d[j - 1] + 1 < d[j])
				d[j] = d[j - 1] + 1;
			if (tmp + 1 < d[j])
				d[j] = tmp + 1;
			prev = tmp;
		}
	}
	return d[lb];
}

static void
unknown_key(struct yctx *c, const char *path, const struct ynode *k,
    const struct ykey *keys, size_t nkeys)
{
	struct buf	b;
	size_t		i, best = 0, bestd = SIZE_MAX, dist;

	for (i = 0; i < nkeys; i++) {
		if ((dist = edit_distance(k->str, keys[i].name)) < bestd) {
			bestd = dist;
			best = i;
		}
	}
	buf_init(&b);
	if (bestd <= 2)
		buf_printf(&b, "did you mean '%s'?", keys[best].name);
	else {
		buf_puts(&b, "valid keys:");
		for (i = 0; i < nkeys; i++)
			buf_printf(&b, "%s %s", i ? "," : "", keys[i].name);
	}
	ytree_err(c, k, "unknown key '%s'%s%s; %s", k->str, path ? " in " : "",
	    path ? path : "", b.data);
	buf_free(&b);
}

const struct ynode *
ytree_map_key(struct yctx *c, const struct ynode *map, size_t i)
{
	const struct ynode	*k = map->kids[i], *o;
	size_t			 j;

	if (k->type != Y_SCALAR) {
		ytree_err(c, k, "a key must be a string, not %s",
		    ytree_kind(k));
		return NULL;
	}
	for (j = 0; j < i; j += 2) {
		o = map->kids[j];
		if (o->type == Y_SCALAR && strcmp(o->str, k->str) == 0) {
			ytree_err(c, k, "duplicate key '%s' (first at line %d)",
			    k->str, o->line);
			return NULL;
		}
	}
	return k;
}

/* Decode map through keys; seen[i] gets the key node of keys[i] if any. */
void
ytree_walk(struct yctx *c, const char *path, const struct ynode *map,
    const struct ykey *keys, size_t nkeys, void *obj,
    const struct ynode **seen)
{
	const struct ynode	*k;
	char			*kpath;
	size_t			 i, j;

	if (map->type != Y_MAP) {
		ytree_err(c, map, "%s: expected a mapping, got %s",
		    path ? path : "top level", ytree_kind(map));
		return;
	}
	for (i = 0; i + 1 < map->nkids; i += 2) {
		if ((k = ytree_map_key(c, map, i)) == NULL)
			continue;
		for (j = 0; j < nkeys; j++) {
			if (strcmp(keys[j].name, k->str) == 0)
				break;
		}
		if (j == nkeys) {
			unknown_key(c, path, k, keys, nkeys);
			continue;
		}
		if (seen != NULL)
			seen[j] = k;
		kpath = ytree_path(path, k->str);
		keys[j].fn(c, kpath, map->kids[i + 1], obj);
		free(kpath);
	}
}

int
ytree_load_file(struct yctx *c, const char *path, size_t max,
    struct ynode **root)
{
	char	*text;
	size_t	 len;
	int	 rc;

	*root = NULL;
	if ((rc = file_read_all(path, max, &text, &len)) != 0) {
		if (rc == -EFBIG)
			diag_add(c->errs, path, 0, 0, "larger than %zu KiB",
			    max / 1024);
		else
			diag_add(c->errs, path, 0, 0, "%s", strerror(-rc));
		return rc == -EFBIG ? -EINVAL : rc;
	}
	rc = ytree_parse(c, text, len, root);
	free(text);
	return rc;
}
