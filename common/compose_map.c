/*
 * compose_to_stack(): a loaded compose project onto the stack model.  The
 * project's top-level sections and the loop over its services are here;
 * each service's keys are compose_svc.c's and compose_io.c's.  Whatever
 * shipd cannot honour is reported where it was written (cm_loss), so
 * nothing is dropped silently.  docs/compose.md is the reference.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "composemap.h"
#include "util.h"

/* ---- top-level networks and volumes -------------------------------------- */

/* Keys of a network or volume declaration and what shipd makes of them. */
static void
decl_keys(struct cmctx *m, const char *kind, const char *name,
    const struct ynode *decl, const char *driver)
{
	struct yctx	 c = { NULL, NULL, m->errs, false };
	const struct ynode *k, *v;
	char		*path;
	bool		 ext = false;
	size_t		 i;

	if (ytree_null(decl))
		return;
	xasprintf(&path, "%ss.%s", kind, name);
	if (decl->type != Y_MAP) {
		ytree_err(&c, decl, "%s: expected a mapping, got %s", path,
		    ytree_kind(decl));
		free(path);
		return;
	}
	for (i = 0; i + 1 < decl->nkids; i += 2) {
		if ((k = ytree_map_key(&c, decl, i)) == NULL)
			continue;
		v = decl->kids[i + 1];
		if (strcmp(k->str, "driver") == 0) {
			if (v->type != Y_SCALAR || strcmp(v->str, driver) != 0)
				cm_loss(m, k, "%s.driver: shipd creates every "
				    "%s with the %s driver; '%s' is ignored",
				    path, kind, driver, v->type == Y_SCALAR ?
				    v->str : "?");
		} else if (strcmp(k->str, "external") == 0) {
			ytree_bool(&c, path, v, &ext);
			if (ext)
				ytree_err(&c, k, "%s.external: shipd creates and "
				    "owns the %ss of its stacks; an external "
				    "%s is not supported", path, kind, kind);
		} else if (strcmp(k->str, "name") == 0)
			cm_loss(m, k, "%s.name: shipd names it %s_%s itself; "
			    "the name is ignored", path, m->s->name, name);
		else if (strncmp(k->str, "x-", 2) == 0)
			;
		else
			cm_loss(m, k, "%s.%s: not supported by shipd; ignored",
			    path, k->str);
	}
	free(path);
}

static void
names_add(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
}

static void
top_section(struct cmctx *m, const struct ynode *sec, const char *kind,
    const char *driver, char ***names, size_t *nnames)
{
	struct yctx	 c = { NULL, NULL, m->errs, false };
	const struct ynode *k;
	size_t		 i;

	if (sec == NULL || ytree_null(sec))
		return;
	if (sec->type != Y_MAP) {
		ytree_err(&c, sec, "%ss: expected a mapping, got %s", kind,
		    ytree_kind(sec));
		return;
	}
	for (i = 0; i + 1 < sec->nkids; i += 2) {
		if ((k = ytree_map_key(&c, sec, i)) == NULL)
			continue;
		decl_keys(m, kind, k->str, sec->kids[i + 1], driver);
		if (strcmp(k->str, "default") == 0)
			continue;
		if (!unit_volume_name_valid(k->str))
			ytree_err(&c, k, "%ss.%s: invalid name: use letters, "
			    "digits, '_', '.' and '-', starting with a letter "
			    "or digit", kind, k->str);
		else if (names != NULL)
			names_add(names, nnames, k->str);
	}
}

/* secrets: and configs: name files; the services mount them read-only. */
static void
top_files(struct cmctx *m, const struct ynode *sec, const char *kind)
{
	struct yctx	 c = { NULL, NULL, m->errs, false };
	const struct ynode *k, *d, *f;
	size_t		 i, j;

	if (sec == NULL || ytree_null(sec))
		return;
	if (sec->type != Y_MAP) {
		ytree_err(&c, sec, "%s: expected a mapping, got %s", kind,
		    ytree_kind(sec));
		return;
	}
	for (i = 0; i + 1 < sec->nkids; i += 2) {
		if ((k = ytree_map_key(&c, sec, i)) == NULL)
			continue;
		d = sec->kids[i + 1];
		if (d->type != Y_MAP) {
			ytree_err(&c, d, "%s.%s: expected a mapping with "
			    "file:, got %s", kind, k->str, ytree_kind(d));
			continue;
		}
		for (j = 0; j + 1 < d->nkids; j += 2) {
			f = d->kids[j];
			if (f->type != Y_SCALAR || strcmp(f->str, "file") == 0 ||
			    strncmp(f->str, "x-", 2) == 0)
				continue;
			if (strcmp(f->str, "name") == 0 ||
			    strcmp(f->str, "labels") == 0 ||
			    strcmp(f->str, "template_driver") == 0)
				cm_loss(m, f, "%s.%s.%s: not supported by "
				    "shipd; ignored", kind, k->str, f->str);
			else
				ytree_err(&c, f, "%s.%s.%s: shipd mounts %s "
				    "from files only; write file: PATH", kind,
				    k->str, f->str, kind);
		}
		if ((f = cm_get(d, "file")) == NULL)
			ytree_err(&c, d, "%s.%s: file: is required", kind,
			    k->str);
		else if (f->type != Y_SCALAR || ytree_null(f))
			ytree_err(&c, f, "%s.%s.file: expected a path, got %s",
			    kind, k->str, ytree_kind(f));
	}
}

/* x-shipd at the top: what stack.yaml would say. */
static void
top_shipd(struct cmctx *m, const struct ynode *n)
{
	struct yctx	 c = { NULL, NULL, m->errs, false };
	const struct ynode *k;
	size_t		 i;

	if (!ytree_is(&c, "x-shipd", n, Y_MAP))
		return;
	for (i = 0; i + 1 < n->nkids; i += 2) {
		if ((k = ytree_map_key(&c, n, i)) == NULL)
			continue;
		if (strcmp(k->str, "retain") == 0)
			ytree_int(&c, "x-shipd.retain", n->kids[i + 1],
			    UNIT_RETAIN_MIN, UNIT_RETAIN_MAX, &m->s->retain);
		else
			ytree_err(&c, k, "x-shipd.%s: unknown key (the "
			    "project's x-shipd takes retain)", k->str);
	}
}

static void
top_keys(struct cmctx *m, const struct ynode *root)
{
	struct yctx	 c = { NULL, NULL, m->errs, false };
	const struct ynode *k, *v;
	size_t		 i;

	for (i = 0; i + 1 < root->nkids; i += 2) {
		if ((k = ytree_map_key(&c, root, i)) == NULL)
			continue;
		v = root->kids[i + 1];
		if (strcmp(k->str, "services") == 0)
			m->services = v;
		else if (strcmp(k->str, "networks") == 0)
			m->networks = v;
		else if (strcmp(k->str, "volumes") == 0)
			m->volumes = v;
		else if (strcmp(k->str, "secrets") == 0)
			m->secrets = v;
		else if (strcmp(k->str, "configs") == 0)
			m->configs = v;
		else if (strcmp(k->str, "x-shipd") == 0)
			top_shipd(m, v);
		else if (strcmp(k->str, "name") == 0 ||
		    strcmp(k->str, "include") == 0 ||
		    strncmp(k->str, "x-", 2) == 0)
			;	/* the loader's, or compose's extensions */
		else if (strcmp(k->str, "version") == 0)
			cm_loss(m, k, "version: obsolete in compose and "
			    "ignored");
		else
			cm_loss(m, k, "%s: not a compose top-level key shipd "
			    "knows; ignored", k->str);
	}
}

/* ---- services ------------------------------------------------------------ */

static const struct cmkey *
service_key(const char *name)
{
	size_t i;

	for (i = 0; i < cm_nservice_keys; i++) {
		if (strcmp(name, cm_service_keys[i].name) == 0)
			return &cm_service_keys[i];
	}
	return NULL;
}

/* A service with no networks: is on compose's default network alone; in
 * shipd that is every network of the stack, so say default outright when
 * the stack has others. */
static void
default_network(struct csvc *sv)
{
	struct unit *u = sv->uc.u;

	if (sv->networks_key != NULL || sv->m->s->nnetworks == 0)
		return;
	u->networks = xcalloc(1, sizeof *u->networks);
	u->networks[0].name = xstrdup("default");
	u->nnetworks = 1;
}

static struct unit *
service_map(struct cmctx *m, const struct ynode *key, const struct ynode *n)
{
	struct csvc		 sv;
	struct unit_where	 w;
	const struct cmkey	*ck;
	const struct ynode	*k, *shipd = NULL;
	struct unit		*u;
	char			*path, *err;
	size_t			 i, before = m->errs->n;

	memset(&sv, 0, sizeof sv);
	sv.m = m;
	sv.name = key->str;
	sv.uc.y.file = key->file;
	sv.uc.y.errs = m->errs;
	sv.uc.dir = m->p->dir;
	sv.uc.at.file = key->file;
	u = sv.uc.u = xcalloc(1, sizeof *u);
	u->name = xstrdup(key->str);
	u->file = key->file != NULL ? xstrdup(key->file) : NULL;
	unit_defaults(u);
	free(u->restart);
	u->restart = xstrdup("no");	/* compose's default */
	if ((err = unit_name_problem(key->str)) != NULL) {
		diag_add(m->errs, key->file, key->line, key->col,
		    "services.%s: %s", key->str, err);
		free(err);
	}
	if (n->type != Y_MAP) {
		diag_add(m->errs, n->file, n->line, n->col, "services.%s: "
		    "expected a mapping, got %s", key->str, ytree_kind(n));
		goto out;
	}
	for (i = 0; i + 1 < n->nkids; i += 2) {
		if ((k = ytree_map_key(&sv.uc.y, n, i)) == NULL)
			continue;
		if (strcmp(k->str, "x-shipd") == 0) {
			shipd = k;	/* last: it may refine what compose set */
			continue;
		}
		xasprintf(&path, "services.%s.%s", key->str, k->str);
		if ((ck = service_key(k->str)) != NULL) {
			if (ck->fn != NULL)
				ck->fn(&sv.uc.y, path, n->kids[i + 1], &sv);
		} else if (strncmp(k->str, "x-", 2) != 0)
			cm_loss(m, k, "%s: not a compose service key shipd "
			    "knows; ignored", path);
		free(path);
	}
	if (shipd != NULL)
		cm_service_shipd(&sv, shipd, cm_get(n, "x-shipd"));
	if (u->image == NULL && cm_get(n, "build") == NULL)
		diag_add(m->errs, key->file, key->line, key->col,
		    "services.%s: needs image: (or build:)", key->str);
	default_network(&sv);
	unit_marks_where(&sv.uc.at, &w);
	unit_validate(u, &w, m->errs);
	unit_yaml_env_merge(&sv.uc);
	unit_sort(u);
out:
	unit_marks_free(&sv.uc.at);
	expand_envfile_free(&sv.uc.envf);
	if (m->errs->n != before) {
		unit_free(u);
		return NULL;
	}
	return u;
}

static void
services_map(struct cmctx *m)
{
	struct yctx	 c = { NULL, NULL, m->errs, false };
	const struct ynode *k;
	struct unit	*u;
	size_t		 i;

	if (m->services == NULL || ytree_null(m->services) ||
	    (m->services->type == Y_MAP && m->services->nkids == 0)) {
		diag_add(m->errs, m->p->files != NULL ? m->p->files[0] : NULL,
		    0, 0, "no services (with the profiles given)");
		return;
	}
	if (!ytree_is(&c, "services", m->services, Y_MAP))
		return;
	if (m->services->nkids / 2 > UNIT_SERVICES_MAX) {
		ytree_err(&c, m->services, "services: more than %d",
		    UNIT_SERVICES_MAX);
		return;
	}
	for (i = 0; i + 1 < m->services->nkids; i += 2) {
		if ((k = ytree_map_key(&c, m->services, i)) == NULL)
			continue;
		if ((u = service_map(m, k, m->services->kids[i + 1])) == NULL)
			continue;
		m->s->units = xrealloc(m->s->units, (m->s->nunits + 1) *
		    sizeof *m->s->units);
		m->s->units[m->s->nunits++] = u;
	}
}

int
compose_to_stack(const struct compose_project *p,
    const struct compose_map_opts *o, struct stack **out,
    struct diag_list *warns, struct diag_list *errs)
{
	struct cmctx	 m;
	size_t		 before = errs->n, wbefore = warns->n;

	*out = NULL;
	memset(&m, 0, sizeof m);
	m.p = p;
	m.strict = o != NULL && o->strict;
	m.warns = warns;
	m.errs = errs;
	m.s = stack_new();
	m.s->name = xstrdup(p->name != NULL ? p->name : "");
	m.s->dir = p->dir != NULL ? xstrdup(p->dir) : NULL;
	stack_validate(m.s, NULL, errs);
	if (p->root == NULL || p->root->type != Y_MAP)
		diag_add(errs, p->files != NULL ? p->files[0] : NULL, 0, 0,
		    "expected a mapping with services:");
	else {
		top_keys(&m, p->root);
		top_section(&m, m.networks, "network", "bridge",
		    &m.s->networks, &m.s->nnetworks);
		top_section(&m, m.volumes, "volume", "local", &m.s->volumes,
		    &m.s->nvolumes);
		top_files(&m, m.secrets, "secrets");
		top_files(&m, m.configs, "configs");
		services_map(&m);
	}
	if (errs->n == before) {
		stack_build_tags(m.s);
		stack_finish(m.s, true, errs);
	}
	diag_sort(warns, wbefore);
	diag_sort(errs, before);
	if (errs->n != before) {
		stack_free(m.s);
		return -EINVAL;
	}
	*out = m.s;
	return 0;
}
