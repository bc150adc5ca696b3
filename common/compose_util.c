/*
 * What every part of compose_to_stack() shares: reporting a loss,
 * finding keys and declarations, paths under the project directory, and
 * splitting a command line into words as compose does.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "composemap.h"
#include "util.h"

void
cm_loss(struct cmctx *m, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(m->strict ? m->errs : m->warns, n != NULL ? n->file : NULL,
	    n != NULL ? n->line : 0, n != NULL ? n->col : 0, NULL, fmt, ap);
	va_end(ap);
}

const struct ynode *
cm_get(const struct ynode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->type != Y_MAP)
		return NULL;
	for (i = 0; i + 1 < map->nkids; i += 2) {
		if (map->kids[i]->type == Y_SCALAR &&
		    strcmp(map->kids[i]->str, key) == 0)
			return map->kids[i + 1];
	}
	return NULL;
}

bool
cm_declared(const struct ynode *section, const char *name)
{
	size_t i;

	if (section == NULL || section->type != Y_MAP)
		return false;
	for (i = 0; i + 1 < section->nkids; i += 2) {
		if (section->kids[i]->type == Y_SCALAR &&
		    strcmp(section->kids[i]->str, name) == 0)
			return true;
	}
	return false;
}

char *
cm_path(const struct cmctx *m, const char *name)
{
	char *tmp, *out;

	if (name[0] == '/')
		return path_clean(name);
	xasprintf(&tmp, "%s/%s", m->p->dir != NULL ? m->p->dir : ".", name);
	out = path_clean(tmp);
	free(tmp);
	return out;
}

/* Every key of map n not in keys[] is lost. */
void
cm_lost_others(struct yctx *c, const char *path, const struct ynode *n,
    void *obj, const char *const *keys, const char *why)
{
	const struct ynode	*k;
	size_t			 i, j;

	if (!ytree_is(c, path, n, Y_MAP))
		return;
	for (i = 0; i + 1 < n->nkids; i += 2) {
		if ((k = ytree_map_key(c, n, i)) == NULL ||
		    strncmp(k->str, "x-", 2) == 0)
			continue;
		for (j = 0; keys[j] != NULL && strcmp(keys[j], k->str) != 0;
		    j++)
			;
		if (keys[j] == NULL)
			cm_loss(CSVC(obj)->m, k, "%s.%s: %s", path, k->str, why);
	}
}


/* ---- words ---------------------------------------------------------------- */

char **
cm_split_words(const char *s, char **err)
{
	char	**v = xcalloc(1, sizeof *v), *w = xmalloc(strlen(s) + 1);
	size_t	  n = 0, len = 0;
	bool	  in = false;
	char	  q = 0;

	*err = NULL;
	for (; *s != '\0'; s++) {
		if (q == '\'') {
			if (*s == '\'')
				q = 0;
			else
				w[len++] = *s;
			continue;
		}
		if (q == '"') {
			if (*s == '"')
				q = 0;
			else if (*s == '\\' && (s[1] == '"' || s[1] == '\\' ||
			    s[1] == '$' || s[1] == '`'))
				w[len++] = *++s;
			else if (*s == '\\' && s[1] == '\n')
				s++;
			else
				w[len++] = *s;
			continue;
		}
		if (*s == ' ' || *s == '\t' || *s == '\n') {
			if (in) {
				v = xrealloc(v, (n + 2) * sizeof *v);
				v[n++] = xstrndup(w, len);
				v[n] = NULL;
				len = 0;
				in = false;
			}
			continue;
		}
		in = true;
		if (*s == '\'' || *s == '"')
			q = *s;
		else if (*s == '\\' && s[1] != '\0') {
			if (s[1] != '\n')
				w[len++] = s[1];
			s++;
		} else
			w[len++] = *s;
	}
	if (q != 0) {
		xasprintf(err, "unterminated %s quote",
		    q == '"' ? "double" : "single");
		free(w);
		strv_free(v);
		return NULL;
	}
	if (in) {
		v = xrealloc(v, (n + 2) * sizeof *v);
		v[n++] = xstrndup(w, len);
		v[n] = NULL;
	}
	free(w);
	return v;
}
