/*
 * build: and pull_policy: of a unit, in its file and in its JSON form.
 * build is either a string (the context) or a mapping of context,
 * dockerfile, args, target, labels and cache_from: the keys compose's
 * build: has that make sense on one host.  docs/units.md, "build".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jread.h"
#include "unityaml.h"
#include "util.h"

static const char *const pull_names[] = {
	[PULL_MISSING] = "missing", [PULL_ALWAYS] = "always",
	[PULL_NEVER] = "never", [PULL_BUILD] = "build",
};

const char *
unit_pull_policy_name(enum unit_pull_policy p)
{
	if ((unsigned)p >= nitems(pull_names))
		return NULL;
	return pull_names[p];
}

int
unit_pull_policy_parse(const char *s, enum unit_pull_policy *out)
{
	size_t i;

	for (i = 0; i < nitems(pull_names); i++) {
		if (strcmp(s, pull_names[i]) == 0) {
			*out = (enum unit_pull_policy)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* What is wrong with a label's or an argument's key, or NULL. */
static const char *
key_problem(const char *k, bool label)
{
	if (*k == '\0')
		return "empty key";
	if (label && strncmp(k, UNIT_LABEL_RESERVED,
	    strlen(UNIT_LABEL_RESERVED)) == 0)
		return "keys starting with " UNIT_LABEL_RESERVED " are shipd's";
	if (strchr(k, '=') != NULL)
		return "a key holds no '='";
	return NULL;
}

/* ---- unit files ---------------------------------------------------------- */

struct bctx {
	struct uctx		*uc;
	struct unit_kv		**v;
	size_t			*n;
	bool			 label;
};

static void
bkv_add(struct yctx *c, const struct ynode *at, const char *path,
    struct bctx *bc, const char *key, const char *value)
{
	const char *err;

	if ((err = key_problem(key, bc->label)) != NULL)
		ytree_err(c, at, "%s: %s: %s", path, key, err);
	else if (unit_kv_has(*bc->v, *bc->n, key))
		ytree_err(c, at, "%s: %s given twice", path, key);
	else
		unit_kv_push(bc->v, bc->n, xstrdup(key), xstrdup(value));
}

static void
bkv_entry(struct yctx *c, const struct ykv *e, void *obj)
{
	bkv_add(c, e->at, e->path, obj, e->key, e->value);
}

/* KEY: value mapping, or a list of "KEY=VALUE"; sorted after. */
static void
bkv_decode(struct yctx *c, const char *path, const struct ynode *n,
    struct bctx *bc)
{
	ytree_kv(c, path, n, false, bkv_entry, bc);
	if (*bc->n > 1)
		qsort(*bc->v, *bc->n, sizeof **bc->v, unit_kv_cmp);
}

static void
set_context(struct yctx *c, struct uctx *uc, const char *path,
    const struct ynode *n, const char *s)
{
	struct unit_build	*b = &uc->u->build;
	char			*tmp;

	free(b->context);
	b->context = NULL;
	if (strstr(s, "://") != NULL || strncmp(s, "git@", 4) == 0) {
		ytree_err(c, n, "%s: '%s': only a local directory can be a "
		    "build context", path, s);
		return;
	}
	if (s[0] == '/')
		b->context = path_clean(s);
	else {
		xasprintf(&tmp, "%s/%s", uc->dir ? uc->dir : "/", s);
		b->context = path_clean(tmp);
		free(tmp);
	}
}

static void
b_context(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	char *s;

	if ((s = ytree_string(c, path, n)) != NULL)
		set_context(c, UCTX(obj), path, n, s);
	free(s);
}

static void
b_dockerfile(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct unit_build	*b = &UCTX(obj)->u->build;
	char			*s;

	if ((s = ytree_string(c, path, n)) == NULL)
		return;
	if (s[0] == '/' || strcmp(s, "..") == 0 || strncmp(s, "../", 3) == 0 ||
	    strstr(s, "/../") != NULL) {
		ytree_err(c, n, "%s: '%s': the Dockerfile is a path inside "
		    "the context", path, s);
		free(s);
		return;
	}
	free(b->dockerfile);
	b->dockerfile = s;
}

static void
b_args(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct unit_build	*b = &UCTX(obj)->u->build;
	struct bctx		 bc = { UCTX(obj), &b->args, &b->nargs, false };

	bkv_decode(c, path, n, &bc);
}

static void
b_labels(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct unit_build	*b = &UCTX(obj)->u->build;
	struct bctx		 bc = { UCTX(obj), &b->labels, &b->nlabels,
				    true };

	bkv_decode(c, path, n, &bc);
}

static void
b_target(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	UCTX(obj)->u->build.target = ytree_string(c, path, n);
}

static void
b_cache_from(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	UCTX(obj)->u->build.cache_from = ytree_strv(c, path, n, false, false);
}

static const struct ykey build_keys[] = {
	{ "context", b_context },
	{ "dockerfile", b_dockerfile },
	{ "args", b_args },
	{ "target", b_target },
	{ "labels", b_labels },
	{ "cache_from", b_cache_from },
};

void
unit_yaml_build(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct unit_build	*b = &UCTX(obj)->u->build;
	const struct ynode	*seen[nitems(build_keys)] = { NULL };
	char			*s;

	b->present = true;
	if (n->type == Y_SCALAR) {
		if ((s = ytree_string(c, path, n)) != NULL)
			set_context(c, UCTX(obj), path, n, s);
		free(s);
	} else if (ytree_is(c, path, n, Y_MAP)) {
		ytree_walk(c, path, n, build_keys, nitems(build_keys), obj,
		    seen);
		if (seen[0] == NULL)
			ytree_err(c, n, "%s: 'context' is required", path);
	}
	if (b->dockerfile == NULL)
		b->dockerfile = xstrdup("Dockerfile");
}

void
unit_yaml_pull_policy(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	char *s;

	if ((s = ytree_string(c, path, n)) == NULL)
		return;
	if (unit_pull_policy_parse(s, &UCTX(obj)->u->pull_policy) != 0)
		ytree_err(c, n, "%s: expected always, missing, never or "
		    "build, got '%s'", path, s);
	free(s);
}

void
stack_build_tags(struct stack *s)
{
	struct unit	*u;
	size_t		 i;

	for (i = 0; i < s->nunits; i++) {
		u = s->units[i];
		if (u->build.present && u->image == NULL && s->name != NULL)
			xasprintf(&u->image, UNIT_BUILD_REPO "%s-%s:"
			    UNIT_BUILD_TAG, s->name, u->name);
	}
}

/* ---- JSON ---------------------------------------------------------------- */

json_t *
unit_kv_json(const struct unit_kv *v, size_t n)
{
	json_t	*o = json_object();
	size_t	 i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, v[i].key, json_string(v[i].value));
	return o;
}

json_t *
unit_build_json(const struct unit_build *b)
{
	json_t	*cf;
	size_t	 i;

	if (!b->present)
		return json_null();
	cf = json_array();
	for (i = 0; b->cache_from != NULL && b->cache_from[i] != NULL; i++)
		json_array_append_new(cf, json_string(b->cache_from[i]));
	return json_pack("{s:s, s:s, s:o, s:s?, s:o, s:o}",
	    "context", b->context, "dockerfile", b->dockerfile,
	    "args", unit_kv_json(b->args, b->nargs), "target", b->target,
	    "labels", unit_kv_json(b->labels, b->nlabels), "cache_from", cf);
}

static const char *
arg_problem(const char *k)
{
	return key_problem(k, false);
}

static const char *
label_problem(const char *k)
{
	return key_problem(k, true);
}

void
unit_kv_from_json(struct jread *c, const char *path, const json_t *o,
    const char *key, const char *(*check)(const char *),
    struct unit_kv **out, size_t *nout)
{
	const json_t	*v;
	const char	*k, *err;
	json_t		*val;
	char		 sub[JREAD_PATH], ksub[JREAD_PATH * 2];

	if ((v = jread_field(path, o, key, sub)) == NULL)
		return;
	if (!json_is_object(v)) {
		jread_err(c, sub, "expected an object of strings, got %s",
		    jread_kind(v));
		return;
	}
	json_object_foreach((json_t *)v, k, val) {
		jread_path(ksub, sizeof ksub, "%s.%s", sub, k);
		if (!jread_string_ok(c, ksub, val))
			continue;
		if (check != NULL && (err = check(k)) != NULL) {
			jread_err(c, ksub, "%s", err);
			continue;
		}
		unit_kv_push(out, nout, xstrdup(k),
		    xstrdup(json_string_value(val)));
	}
}

/* The unit's "build" and "pull_policy" members, both optional (a unit
 * recorded before they existed has neither). */
void
unit_build_from_json(struct jread *c, const char *path, const json_t *v,
    struct unit *u)
{
	static const char *const f[] = { "context", "dockerfile", "args",
	    "labels", "cache_from" };
	static const char *const opt[] = { "target" };
	struct unit_build	*b = &u->build;
	const json_t		*j;
	const char		*s;
	char			 sub[JREAD_PATH];

	if ((j = jread_field(path, v, "pull_policy", sub)) != NULL) {
		if ((s = json_string_value(j)) == NULL ||
		    unit_pull_policy_parse(s, &u->pull_policy) != 0)
			jread_err(c, sub, "expected always, missing, never or "
			    "build");
	}
	if ((j = jread_field(path, v, "build", sub)) == NULL ||
	    json_is_null(j))
		return;
	if (!jread_obj_opt(c, sub, j, f, nitems(f), opt, nitems(opt)))
		return;
	b->present = true;
	jread_str(c, sub, j, "context", JREAD_NONEMPTY, &b->context);
	if (b->context != NULL && b->context[0] != '/')
		jread_err(c, sub, "context: expected an absolute path");
	jread_str(c, sub, j, "dockerfile", JREAD_NONEMPTY, &b->dockerfile);
	if (json_object_get(j, "target") != NULL)
		jread_str(c, sub, j, "target", JREAD_NULL | JREAD_NONEMPTY,
		    &b->target);
	unit_kv_from_json(c, sub, j, "args", arg_problem, &b->args,
	    &b->nargs);
	unit_kv_from_json(c, sub, j, "labels", label_problem, &b->labels,
	    &b->nlabels);
	if (b->nargs > 1)
		qsort(b->args, b->nargs, sizeof *b->args, unit_kv_cmp);
	if (b->nlabels > 1)
		qsort(b->labels, b->nlabels, sizeof *b->labels, unit_kv_cmp);
	jread_strv(c, sub, j, "cache_from", 0, &b->cache_from);
	if (b->cache_from != NULL && b->cache_from[0] == NULL) {
		free(b->cache_from);
		b->cache_from = NULL;
	}
}
