/*
 * The project's name (compose-spec 04-version-and-name.md and spec.md
 * "Project name") and the services its profiles enable
 * (15-profiles.md).  See compose.h and docs/compose.md.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compose_int.h"
#include "unit.h"
#include "util.h"

/*
 * compose's normalisation of a directory's name into a project name:
 * lower case, only [a-z0-9_-] kept, no leading '_' or '-'.
 */
static char *
compose_name_normalise(const char *s)
{
	char	*out = xmalloc(strlen(s) + 1), *o = out;
	int	 c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-'))
			continue;
		if (o == out && (c == '_' || c == '-'))
			continue;
		*o++ = (char)c;
	}
	*o = '\0';
	return out;
}

static const char *
env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++) {
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	}
	return NULL;
}

/*
 * The project's name: -p, COMPOSE_PROJECT_NAME, top-level name:, else the
 * directory's name normalised.  A name given explicitly must already be
 * valid: shipd (like compose) does not silently rename a project.
 */
int
cload_project_name(const struct compose_opts *o, const char *dotenv_name,
    const struct ynode *name_node, const char *name_text, const char *dir,
    char **out, struct diag_list *errs)
{
	const char	*given = NULL, *what = NULL, *base;
	char		*norm;

	*out = NULL;
	if (o->project != NULL && *o->project != '\0') {
		given = o->project;
		what = "-p";
	} else if ((given = env_get(o->envp, "COMPOSE_PROJECT_NAME")) != NULL &&
	    *given != '\0')
		what = "COMPOSE_PROJECT_NAME";
	else if ((given = dotenv_name) != NULL && *given != '\0')
		what = "COMPOSE_PROJECT_NAME (from the .env file)";
	else if (name_text != NULL && *name_text != '\0') {
		given = name_text;
		what = "name:";
	} else
		given = NULL;
	if (given != NULL) {
		if (stack_name_valid(given)) {
			*out = xstrdup(given);
			return 0;
		}
		norm = compose_name_normalise(given);
		if (what != NULL && strcmp(what, "name:") == 0 &&
		    name_node != NULL)
			diag_add(errs, name_node->file, name_node->line,
			    name_node->col, "invalid project name '%s': use "
			    "lower-case letters, digits, '_' and '-', starting "
			    "with a letter or digit%s%s%s", given,
			    *norm ? " (for example '" : "", norm,
			    *norm ? "')" : "");
		else
			diag_add(errs, NULL, 0, 0, "invalid project name '%s' "
			    "(%s): use lower-case letters, digits, '_' and '-', "
			    "starting with a letter or digit%s%s%s", given,
			    what, *norm ? " (for example '" : "", norm,
			    *norm ? "')" : "");
		free(norm);
		return -EINVAL;
	}
	base = strrchr(dir, '/');
	base = base != NULL ? base + 1 : dir;
	norm = compose_name_normalise(base);
	if (!stack_name_valid(norm)) {
		diag_add(errs, NULL, 0, 0, "the project directory's name '%s' "
		    "gives no valid project name; name the project with -p, "
		    "COMPOSE_PROJECT_NAME or a top-level 'name:'", base);
		free(norm);
		return -EINVAL;
	}
	*out = norm;
	return 0;
}

/* ---- profiles ------------------------------------------------------------ */

struct profiles {
	char	**v;
	size_t	  n;
	bool	  all;		/* "*" */
};

static void
profiles_add(struct profiles *pr, const char *s, size_t len)
{
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return;
	if (len == 1 && *s == '*')
		pr->all = true;
	pr->v = xrealloc(pr->v, (pr->n + 1) * sizeof *pr->v);
	pr->v[pr->n++] = xstrndup(s, len);
}

static bool
svc_enabled(const struct profiles *pr, const struct ynode *svc)
{
	const struct ynode	*l = ytree_get(svc, "profiles");
	size_t			 i, j;

	if (l == NULL || ytree_null(l) || (l->type == Y_SEQ && l->nkids == 0))
		return true;
	if (pr->all)
		return true;
	for (i = 0; l->type == Y_SEQ && i < l->nkids; i++) {
		for (j = 0; j < pr->n; j++) {
			if (l->kids[i]->type == Y_SCALAR &&
			    strcmp(l->kids[i]->str, pr->v[j]) == 0)
				return true;
		}
	}
	return false;
}

/* profiles: a list of names (compose's schema: a list of strings). */
static void
check_profiles(struct cload *st, const char *name, const struct ynode *svc)
{
	const struct ynode	*l = ytree_get(svc, "profiles"), *it;
	size_t			 i;

	if (l == NULL || ytree_null(l))
		return;
	if (l->type != Y_SEQ) {
		diag_add(st->errs, l->file, l->line, l->col, "services.%s."
		    "profiles: expected a list of profile names, got %s", name,
		    ytree_kind(l));
		return;
	}
	for (i = 0; i < l->nkids; i++) {
		it = l->kids[i];
		if (it->type != Y_SCALAR || ytree_null(it) || *it->str == '\0')
			diag_add(st->errs, it->file, it->line, it->col,
			    "services.%s.profiles[%zu]: expected a profile "
			    "name, got %s", name, i, it->type == Y_SCALAR ?
			    "an empty string" : ytree_kind(it));
	}
}

static void
disabled_ref(struct cload *st, const struct ynode *svcs, const char *from,
    const char *key, const struct ynode *at, const char *to, size_t tolen,
    const bool *on)
{
	const struct ynode	*l;
	struct buf		 b;
	char			*name = xstrndup(to, tolen);
	ssize_t			 j;
	size_t			 i;

	if ((j = ytree_find(svcs, name)) < 0 || on[j / 2]) {
		free(name);
		return;
	}
	buf_init(&b);
	l = ytree_get(svcs->kids[j + 1], "profiles");
	for (i = 0; l != NULL && l->type == Y_SEQ && i < l->nkids; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", l->kids[i]->str ?
		    l->kids[i]->str : "?");
	if (l != NULL && l->type == Y_SCALAR)
		buf_puts(&b, l->str);
	diag_add(st->errs, at->file, at->line, at->col, "services.%s.%s: "
	    "service '%s' needs '%s', which its profiles (%s) leave out: "
	    "enable one with --profile or COMPOSE_PROFILES, or give '%s' the "
	    "profiles of '%s'", from, key, from, name, b.len ? b.data : "",
	    from, name);
	buf_free(&b);
	free(name);
}

/* A service that an enabled one needs must be enabled too (15-profiles.md). */
static void
check_refs(struct cload *st, const struct ynode *svcs, const char *name,
    const struct ynode *svc, const bool *on)
{
	const struct ynode	*d, *v, *req;
	const char		*s, *c;
	size_t			 i;

	if ((d = ytree_get(svc, "depends_on")) != NULL) {
		for (i = 0; d->type == Y_SEQ && i < d->nkids; i++) {
			if (d->kids[i]->type == Y_SCALAR)
				disabled_ref(st, svcs, name, "depends_on",
				    d->kids[i], d->kids[i]->str,
				    strlen(d->kids[i]->str), on);
		}
		for (i = 0; d->type == Y_MAP && i + 1 < d->nkids; i += 2) {
			v = d->kids[i + 1];
			req = v->type == Y_MAP ? ytree_get(v, "required") :
			    NULL;
			if (req != NULL && req->type == Y_SCALAR &&
			    strcasecmp(req->str, "false") == 0)
				continue;
			disabled_ref(st, svcs, name, "depends_on", d->kids[i],
			    d->kids[i]->str ? d->kids[i]->str : "",
			    d->kids[i]->str ? strlen(d->kids[i]->str) : 0, on);
		}
	}
	if ((d = ytree_get(svc, "links")) != NULL && d->type == Y_SEQ) {
		for (i = 0; i < d->nkids; i++) {
			if (d->kids[i]->type != Y_SCALAR)
				continue;
			s = d->kids[i]->str;
			c = strchr(s, ':');
			disabled_ref(st, svcs, name, "links", d->kids[i], s,
			    c ? (size_t)(c - s) : strlen(s), on);
		}
	}
	if ((d = ytree_get(svc, "volumes_from")) != NULL && d->type == Y_SEQ) {
		for (i = 0; i < d->nkids; i++) {
			if (d->kids[i]->type != Y_SCALAR ||
			    strncmp(d->kids[i]->str, "container:", 10) == 0)
				continue;
			s = d->kids[i]->str;
			c = strchr(s, ':');
			disabled_ref(st, svcs, name, "volumes_from",
			    d->kids[i], s, c ? (size_t)(c - s) : strlen(s), on);
		}
	}
	for (i = 0; i < 3; i++) {
		static const char *keys[] = { "network_mode", "ipc", "pid" };

		d = ytree_get(svc, keys[i]);
		if (d != NULL && d->type == Y_SCALAR &&
		    strncmp(d->str, "service:", 8) == 0)
			disabled_ref(st, svcs, name, keys[i], d, d->str + 8,
			    strlen(d->str + 8), on);
	}
}

/*
 * A dependency with required: false on a service its profiles leave out
 * is dropped, as compose drops it: the service runs without it.
 */
static void
drop_optional(const struct ynode *svcs, struct ynode *svc, const bool *on)
{
	struct ynode	*d = ytree_get(svc, "depends_on");
	ssize_t		 j;
	size_t		 i;

	if (d == NULL || d->type != Y_MAP)
		return;
	for (i = d->nkids; i >= 2; i -= 2) {
		if (d->kids[i - 2]->type != Y_SCALAR)
			continue;
		j = ytree_find(svcs, d->kids[i - 2]->str);
		if (j >= 0 && !on[j / 2])
			ytree_del(d, i - 2);
	}
}

int
cload_profiles(struct cload *st, const struct expand_ctx *x,
    struct ynode *root)
{
	struct profiles	 pr = { NULL, 0, false };
	struct ynode	*svcs = ytree_get(root, "services");
	const char	*env, *c;
	size_t		 i, before = st->errs->n, n;
	bool		*on;

	if (svcs == NULL || svcs->type != Y_MAP)
		return 0;
	for (i = 0; i < st->o->nprofiles; i++)
		profiles_add(&pr, st->o->profiles[i],
		    strlen(st->o->profiles[i]));
	if ((env = expand_lookup(x, "COMPOSE_PROFILES")) != NULL) {
		for (; (c = strchr(env, ',')) != NULL; env = c + 1)
			profiles_add(&pr, env, (size_t)(c - env));
		profiles_add(&pr, env, strlen(env));
	}
	n = svcs->nkids / 2;
	for (i = 0; i < n; i++)
		check_profiles(st, svcs->kids[2 * i]->str ?
		    svcs->kids[2 * i]->str : "", svcs->kids[2 * i + 1]);
	if (st->errs->n != before) {
		for (i = 0; i < pr.n; i++)
			free(pr.v[i]);
		free(pr.v);
		return -EINVAL;
	}
	on = xcalloc(n + 1, sizeof *on);
	for (i = 0; i < n; i++)
		on[i] = svcs->kids[2 * i + 1]->type != Y_MAP ||
		    svc_enabled(&pr, svcs->kids[2 * i + 1]);
	for (i = 0; i < n; i++) {
		if (on[i] && svcs->kids[2 * i + 1]->type == Y_MAP)
			check_refs(st, svcs, svcs->kids[2 * i]->str ?
			    svcs->kids[2 * i]->str : "", svcs->kids[2 * i + 1],
			    on);
	}
	for (i = 0; i < n; i++) {
		if (on[i] && svcs->kids[2 * i + 1]->type == Y_MAP)
			drop_optional(svcs, svcs->kids[2 * i + 1], on);
	}
	for (i = n; i > 0; i--) {
		if (!on[i - 1])
			ytree_del(svcs, 2 * (i - 1));
	}
	free(on);
	for (i = 0; i < pr.n; i++)
		free(pr.v[i]);
	free(pr.v);
	return st->errs->n == before ? 0 : -EINVAL;
}
