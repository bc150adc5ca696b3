/*
 * notify: in stack.yaml, a list of webhook targets shipd POSTs events to
 * (docs/units.md, "notify"; the daemon's side is daemon/core/webhook.c).
 * Decoded from YAML with file:line:col, and to and from its JSON form.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "unitnotify.h"
#include "util.h"

/* ---- rules, shared by both forms ------------------------------------------ */

static const char *
env_problem(const char *s)
{
	size_t i;

	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return "a variable name starts with a letter or '_'";
	for (i = 1; s[i] != '\0'; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return "a variable name holds letters, digits and '_'";
	}
	return NULL;
}

static const char *
url_problem(const char *s)
{
	size_t i;

	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		return "a webhook URL starts with http:// or https://";
	for (i = 0; s[i] != '\0'; i++) {
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return "a URL holds no spaces or control characters";
	}
	return NULL;
}

static const char *
header_name_problem(const char *s)
{
	static const char	 tchar[] = "!#$%&'*+-.^_`|~";
	size_t			 i;

	if (*s == '\0')
		return "a header name must not be empty";
	for (i = 0; s[i] != '\0'; i++) {
		if (!isalnum((unsigned char)s[i]) &&
		    strchr(tchar, s[i]) == NULL)
			return "not a valid HTTP header name";
	}
	/* shipd writes these itself. */
	if (strcasecmp(s, "Content-Type") == 0 ||
	    strcasecmp(s, "Content-Length") == 0 || strcasecmp(s, "Host") == 0)
		return "shipd sets this header itself";
	return NULL;
}

static const char *
header_value_problem(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\r' || *s == '\n')
			return "a header value holds no line breaks";
	}
	return NULL;
}

/* ---- YAML ------------------------------------------------------------------ */

struct hctx {
	struct notify_hook	*h;
	bool			 events_seen;
};

/* A string, or {env: NAME}. */
static void
y_value(struct yctx *c, const char *path, const struct ynode *n,
    struct notify_value *v, const char *(*problem)(const char *))
{
	const struct ynode	*k;
	const char		*why;
	char			*s, *sub;

	if (n->type == Y_MAP) {
		if (n->nkids != 2 || (k = ytree_map_key(c, n, 0)) == NULL ||
		    strcmp(k->str, "env") != 0) {
			ytree_err(c, n, "%s: expected a string or {env: "
			    "VARIABLE}", path);
			return;
		}
		sub = ytree_path(path, "env");
		/* The name is shipd's, read when sending: not expanded. */
		n = n->kids[1];
		if (n->type != Y_SCALAR || ytree_null(n) || n->str[0] == '\0')
			ytree_err(c, n, "%s: expected a variable name, got %s",
			    sub, ytree_kind(n));
		else if ((why = env_problem(n->str)) != NULL)
			ytree_err(c, n, "%s: %s", sub, why);
		else
			v->env = xstrdup(n->str);
		free(sub);
		return;
	}
	if ((s = ytree_string(c, path, n)) == NULL)
		return;
	if ((why = problem(s)) != NULL) {
		ytree_err(c, n, "%s: %s", path, why);
		free(s);
		return;
	}
	v->value = s;
}

static void
h_url(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	y_value(c, path, n, &((struct hctx *)obj)->h->url, url_problem);
}

static void
h_events(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct hctx	*hc = obj;
	char		*s;
	size_t		 i;
	int		 e;

	hc->events_seen = true;
	if (!ytree_is(c, path, n, Y_SEQ))
		return;
	if (n->nkids == 0)
		ytree_err(c, n, "%s: list at least one event", path);
	for (i = 0; i < n->nkids; i++) {
		if ((s = ytree_string(c, path, n->kids[i])) == NULL)
			continue;
		if ((e = notify_event_parse(s)) < 0)
			ytree_err(c, n->kids[i], "%s[%zu]: unknown event '%s' "
			    "(deploy_start, deploy_success, deploy_failure, "
			    "rollback, backup_failure, crash_loop, autoscale)",
			    path, i, s);
		else if (hc->h->events & (1u << e))
			ytree_err(c, n->kids[i], "%s[%zu]: '%s' is listed "
			    "twice", path, i, s);
		else
			hc->h->events |= 1u << e;
		free(s);
	}
}

static void
h_timeout(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct notify_hook	*h = ((struct hctx *)obj)->h;
	uint64_t		 ms = 0;

	ytree_duration(c, path, n, 1, &ms);
	if (ms > NOTIFY_TIMEOUT_MAX_MS)
		ytree_err(c, n, "%s: at most %ds", path,
		    NOTIFY_TIMEOUT_MAX_MS / 1000);
	else if (ms != 0)
		h->timeout_ms = ms;
}

static void
h_retries(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_int(c, path, n, 0, NOTIFY_RETRIES_MAX,
	    &((struct hctx *)obj)->h->retries);
}

static void
h_headers(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct notify_hook	*h = ((struct hctx *)obj)->h;
	struct notify_header	*hd;
	const struct ynode	*k;
	const char		*why;
	char			*sub;
	size_t			 i;

	if (!ytree_is(c, path, n, Y_MAP))
		return;
	if (n->nkids / 2 > NOTIFY_HEADERS_MAX) {
		ytree_err(c, n, "%s: at most %d headers", path,
		    NOTIFY_HEADERS_MAX);
		return;
	}
	for (i = 0; i < n->nkids; i += 2) {
		if ((k = ytree_map_key(c, n, i)) == NULL)
			continue;
		sub = ytree_path(path, k->str);
		if ((why = header_name_problem(k->str)) != NULL) {
			ytree_err(c, k, "%s: %s", sub, why);
			free(sub);
			continue;
		}
		h->headers = xrealloc(h->headers,
		    (h->nheaders + 1) * sizeof *h->headers);
		hd = &h->headers[h->nheaders++];
		memset(hd, 0, sizeof *hd);
		hd->name = xstrdup(k->str);
		y_value(c, sub, n->kids[i + 1], &hd->v, header_value_problem);
		free(sub);
	}
}

static const struct ykey hook_keys[] = {
	{ "url", h_url },
	{ "events", h_events },
	{ "timeout", h_timeout },
	{ "retries", h_retries },
	{ "headers", h_headers },
};

static void
hook_defaults(struct notify_hook *h)
{
	memset(h, 0, sizeof *h);
	h->timeout_ms = NOTIFY_DEF_TIMEOUT_MS;
	h->retries = NOTIFY_DEF_RETRIES;
}

static void
y_hook(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct stack		*s = obj;
	struct hctx		 hc;
	const struct ynode	*seen[nitems(hook_keys)] = { NULL };

	if (!ytree_is(c, path, n, Y_MAP))
		return;
	s->hooks = xrealloc(s->hooks, (s->nhooks + 1) * sizeof *s->hooks);
	hc.h = &s->hooks[s->nhooks++];
	hc.events_seen = false;
	hook_defaults(hc.h);
	ytree_walk(c, path, n, hook_keys, nitems(hook_keys), &hc, seen);
	if (seen[0] == NULL)
		ytree_err(c, n, "%s: 'url' is required", path);
	if (!hc.events_seen)
		hc.h->events = NOTIFY_ALL;
}

void
notify_yaml_load(struct yctx *c, const char *path, const struct ynode *n,
    struct stack *s)
{
	if (n->type == Y_SEQ && n->nkids > NOTIFY_HOOKS_MAX) {
		ytree_err(c, n, "%s: at most %d webhooks", path,
		    NOTIFY_HOOKS_MAX);
		return;
	}
	ytree_each(c, path, n, y_hook, s);
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *
jstr_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

json_t *
notify_hooks_json(const struct stack *s)
{
	const struct notify_hook	*h;
	const struct notify_header	*hd;
	json_t				*a, *ev, *hds;
	size_t				 i, j;
	int				 e;

	if (s->nhooks == 0)
		return NULL;
	a = json_array();
	for (i = 0; i < s->nhooks; i++) {
		h = &s->hooks[i];
		ev = json_array();
		for (e = 0; e < NOTIFY_NEVENTS; e++) {
			if (h->events & (1u << e))
				json_array_append_new(ev,
				    json_string(notify_event_name(e)));
		}
		hds = json_array();
		for (j = 0; j < h->nheaders; j++) {
			hd = &h->headers[j];
			json_array_append_new(hds, json_pack("{s:s, s:o, s:o}",
			    "name", hd->name, "value", jstr_or_null(hd->v.value),
			    "env", jstr_or_null(hd->v.env)));
		}
		json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:I, s:i, "
		    "s:o}", "url", jstr_or_null(h->url.value),
		    "url_env", jstr_or_null(h->url.env), "events", ev,
		    "timeout_ms", (json_int_t)h->timeout_ms,
		    "retries", h->retries, "headers", hds));
	}
	return a;
}

/* value/env, one of them a string and the other null. */
static void
j_value(struct jread *c, const char *path, const json_t *o, const char *vkey,
    const char *ekey, struct notify_value *v,
    const char *(*problem)(const char *))
{
	const char	*why;
	char		 sub[JREAD_PATH];

	jread_str(c, path, o, vkey, JREAD_NULL, &v->value);
	jread_str(c, path, o, ekey, JREAD_NULL, &v->env);
	if ((v->value == NULL) == (v->env == NULL)) {
		jread_err(c, path, "exactly one of %s and %s is a string",
		    vkey, ekey);
		return;
	}
	if (v->value != NULL && (why = problem(v->value)) != NULL) {
		jread_path(sub, sizeof sub, "%s.%s", path, vkey);
		jread_err(c, sub, "%s", why);
	}
	if (v->env != NULL && (why = env_problem(v->env)) != NULL) {
		jread_path(sub, sizeof sub, "%s.%s", path, ekey);
		jread_err(c, sub, "%s", why);
	}
}

static void
j_headers(struct jread *c, const char *path, const json_t *o,
    struct notify_hook *h)
{
	static const char *const f[] = { "name", "value", "env" };
	struct notify_header	*hd;
	const json_t		*a, *e;
	const char		*why;
	char			 sub[JREAD_PATH], esub[JREAD_PATH];
	size_t			 i;

	if ((a = jread_field(path, o, "headers", sub)) == NULL)
		return;
	if (!json_is_array(a) || json_array_size(a) > NOTIFY_HEADERS_MAX) {
		jread_err(c, sub, "expected an array of at most %d headers",
		    NOTIFY_HEADERS_MAX);
		return;
	}
	for (i = 0; i < json_array_size(a); i++) {
		jread_path(esub, sizeof esub, "%s[%zu]", sub, i);
		e = json_array_get(a, i);
		if (!jread_obj(c, esub, e, f, nitems(f)))
			continue;
		h->headers = xrealloc(h->headers,
		    (h->nheaders + 1) * sizeof *h->headers);
		hd = &h->headers[h->nheaders++];
		memset(hd, 0, sizeof *hd);
		if (jread_str(c, esub, e, "name", 0, &hd->name) &&
		    (why = header_name_problem(hd->name)) != NULL)
			jread_err(c, esub, "%s", why);
		j_value(c, esub, e, "value", "env", &hd->v,
		    header_value_problem);
	}
}

void
notify_hooks_from_json(struct jread *c, const char *path, const json_t *a,
    struct stack *s)
{
	static const char *const f[] = { "url", "url_env", "events",
	    "timeout_ms", "retries", "headers" };
	struct notify_hook	*h;
	const json_t		*o, *ev;
	char			 sub[JREAD_PATH], esub[JREAD_PATH];
	size_t			 i, j;
	int			 e;

	if (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > NOTIFY_HOOKS_MAX) {
		jread_err(c, path, "expected an array of 1 to %d webhooks",
		    NOTIFY_HOOKS_MAX);
		return;
	}
	for (i = 0; i < json_array_size(a); i++) {
		jread_path(sub, sizeof sub, "%s[%zu]", path, i);
		o = json_array_get(a, i);
		if (!jread_obj(c, sub, o, f, nitems(f)))
			continue;
		s->hooks = xrealloc(s->hooks,
		    (s->nhooks + 1) * sizeof *s->hooks);
		h = &s->hooks[s->nhooks++];
		hook_defaults(h);
		j_value(c, sub, o, "url", "url_env", &h->url, url_problem);
		jread_ms(c, sub, o, "timeout_ms", 1, &h->timeout_ms);
		if (h->timeout_ms > NOTIFY_TIMEOUT_MAX_MS)
			jread_err(c, sub, "timeout_ms: at most %d",
			    NOTIFY_TIMEOUT_MAX_MS);
		jread_int_i(c, sub, o, "retries", 0, NOTIFY_RETRIES_MAX,
		    &h->retries);
		j_headers(c, sub, o, h);
		ev = json_object_get(o, "events");
		jread_path(esub, sizeof esub, "%s.events", sub);
		if (!json_is_array(ev) || json_array_size(ev) == 0) {
			jread_err(c, esub, "expected a non-empty array");
			continue;
		}
		for (j = 0; j < json_array_size(ev); j++) {
			e = json_is_string(json_array_get(ev, j)) ?
			    notify_event_parse(json_string_value(
			    json_array_get(ev, j))) : -1;
			if (e < 0)
				jread_err(c, esub, "[%zu]: not an event", j);
			else
				h->events |= 1u << e;
		}
	}
}
