/*
 * The rules that span a stack's units: one name per service, completed
 * dependencies, declared volumes and networks, host ports, and what a
 * later scale must still satisfy.  The rules of one unit are in
 * unitcheck.c; see unitcheck.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unitcheck.h"
#include "util.h"

/* ---- the stack ----------------------------------------------------------- */

static void
check_names(char *const *v, size_t n, enum unit_field f,
    const struct unit_where *w, struct diag_list *errs)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i && strcmp(v[i], v[j]) != 0; j++)
			;
		if (!unit_volume_name_valid(v[i]))
			unit_report(w, errs, f, i, "invalid name '%s'", v[i]);
		else if (j < i)
			unit_report(w, errs, f, i, "'%s' is listed twice", v[i]);
	}
}

void
stack_validate(const struct stack *s, const struct unit_where *w,
    struct diag_list *errs)
{
	if (s->name != NULL && !stack_name_valid(s->name))
		unit_report(w, errs, UF_STACK_NAME, 0, "invalid stack name '%s': "
		    "use lower-case letters, digits, '_' and '-', starting "
		    "with a letter or digit, at most %d characters", s->name,
		    UNIT_NAME_MAX);
	if (s->dir != NULL && !unit_abs_path_valid(s->dir))
		unit_report(w, errs, UF_STACK_DIR, 0, "'%s' must be an absolute "
		    "path", s->dir);
	check_names(s->networks, s->nnetworks, UF_NETWORK, w, errs);
	check_names(s->volumes, s->nvolumes, UF_VOLUME, w, errs);
}

/* A dependent waits for its completed dependency to exit 0 once: that is
 * one run, so one replica.  n is the dependency's count. */
static void
report_completed(const struct unit *u, size_t i, int n,
    struct diag_list *errs)
{
	diag_add(errs, u->file, u->deps[i].line, u->deps[i].col,
	    "depends_on: '%s' is completed only with exactly one replica, "
	    "but it has replicas: %d", u->deps[i].name, n);
}

static void
check_completed(const struct stack *s, const struct unit *u,
    struct diag_list *errs)
{
	const struct unit	*t;
	size_t			 i;

	for (i = 0; i < u->ndeps; i++) {
		t = stack_unit(s, u->deps[i].name);
		/* A missing target is the graph's to report. */
		if (t == NULL || u->deps[i].cond != DEP_COMPLETED)
			continue;
		if (t->autoscale.present && t->autoscale.max != 1)
			diag_add(errs, u->file, u->deps[i].line,
			    u->deps[i].col, "depends_on: '%s' is completed "
			    "only with exactly one replica, but it is "
			    "autoscaled up to %d", u->deps[i].name,
			    t->autoscale.max);
		else if (t->replicas != 1)
			report_completed(u, i, t->replicas, errs);
	}
}

/* The same rule seen from the dependency t, run with n replicas. */
static void
check_completed_on(const struct stack *s, const struct unit *t, int n,
    struct diag_list *errs)
{
	const struct unit	*u;
	size_t			 i, j;

	if (n == 1)
		return;
	for (i = 0; i < s->nunits; i++) {
		u = s->units[i];
		for (j = 0; j < u->ndeps; j++) {
			if (u->deps[j].cond == DEP_COMPLETED &&
			    u->deps[j].name != NULL &&
			    strcmp(u->deps[j].name, t->name) == 0)
				report_completed(u, j, n, errs);
		}
	}
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Nothing is guessed from JSON: a volume in use must be declared. */
static void
check_declared(const struct stack *s, const struct unit *u,
    struct diag_list *errs)
{
	const struct unit_mount	*m;
	size_t			 i;

	for (i = 0; i < u->nmounts; i++) {
		m = &u->mounts[i];
		if (m->kind != MOUNT_VOLUME || (s->nvolumes > 0 &&
		    bsearch(&m->source, s->volumes, s->nvolumes,
		    sizeof *s->volumes, str_cmp) != NULL))
			continue;
		diag_add(errs, u->file, 0, 0, "service '%s' mounts volume '%s' "
		    "that the stack does not declare", u->name, m->source);
	}
}

/*
 * A unit's networks are the stack's: "default", which every stack has,
 * or one stack.yaml declares.  Nothing is created for a name only a unit
 * writes, so a typo cannot quietly isolate a service.
 */
static void
check_nets_declared(const struct stack *s, const struct unit *u,
    struct diag_list *errs)
{
	const struct unit_net	*n;
	size_t			 i;

	for (i = 0; i < u->nnetworks; i++) {
		n = &u->networks[i];
		if (strcmp(n->name, "default") == 0 || (s->nnetworks > 0 &&
		    bsearch(&n->name, s->networks, s->nnetworks,
		    sizeof *s->networks, str_cmp) != NULL))
			continue;
		diag_add(errs, u->file, n->line, n->col, "networks: '%s' is "
		    "not a network of the stack: use default or declare it "
		    "in stack.yaml's networks", n->name);
	}
}

static bool
ports_clash(const struct unit_port *p, const struct unit_port *q)
{
	if (p->host_port == 0 || p->host_port != q->host_port ||
	    strcmp(p->proto, q->proto) != 0)
		return false;
	return p->host_ip == NULL || q->host_ip == NULL ||
	    strcmp(p->host_ip, q->host_ip) == 0;
}

static void
check_clashes(const struct stack *s, size_t ui, struct diag_list *errs)
{
	const struct unit	*u = s->units[ui], *o;
	size_t			 i, j, k;

	for (i = 0; i < u->nports; i++) {
		for (j = 0; j < ui; j++) {
			o = s->units[j];
			for (k = 0; k < o->nports; k++) {
				if (!ports_clash(&u->ports[i], &o->ports[k]))
					continue;
				diag_add(errs, u->file, 0, 0, "service '%s' "
				    "publishes host port %d/%s, as does "
				    "service '%s'", u->name,
				    u->ports[i].host_port, u->ports[i].proto,
				    o->name);
			}
		}
	}
}

void
stack_validate_units(const struct stack *s, struct diag_list *errs)
{
	size_t i;

	if (s->nunits > UNIT_SERVICES_MAX) {
		diag_add(errs, s->dir, 0, 0, "%zu services; a stack may have "
		    "at most %d", s->nunits, UNIT_SERVICES_MAX);
		return;
	}
	for (i = 1; i < s->nunits; i++) {
		if (strcmp(s->units[i - 1]->name, s->units[i]->name) == 0)
			diag_add(errs, s->units[i]->file, 0, 0, "service '%s' "
			    "is defined twice", s->units[i]->name);
	}
	for (i = 0; i < s->nunits; i++) {
		check_completed(s, s->units[i], errs);
		check_declared(s, s->units[i], errs);
		check_nets_declared(s, s->units[i], errs);
		check_clashes(s, i, errs);
	}
}

/*
 * Every rule that takes a count in: each holds one service's count alone,
 * so checking each changed service on its own is checking the stack with
 * all of them changed.
 */
int
unit_check_replicas(const struct stack *s, const struct unit *u, int n,
    struct diag_list *errs)
{
	size_t before = errs->n;

	unit_check_count(u, n, NULL, errs);
	if (errs->n == before)
		check_completed_on(s, u, n, errs);
	return errs->n != before ? -EINVAL : 0;
}
