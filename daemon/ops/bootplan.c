/*
 * What ordered boot does to one stack (boot.h), apart from the loop so
 * the unit tests can give it rows of their own: from the engine's list of
 * the current revision's replicas, the services running ahead of a
 * dependency that is not ready (to stop, dependents first) and those to
 * start, in order, gated.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "engine/spec.h"
#include "ops/boot.h"
#include "unit.h"
#include "util.h"

/* One service as the list shows it: its replicas of the current
 * revision. */
enum sat { SAT_YES, SAT_NO, SAT_UNKNOWN };

struct bsvc {
	const struct unit *u;
	bool		 rows;		/* it has replicas */
	bool		 down;		/* one is down, and not meant so */
	bool		 running;	/* one is running */
	enum sat	 healthy;	/* every replica runs and is healthy */
	bool		 completed;	/* every replica exited 0 */
	bool		 stop;		/* running ahead of what it needs */
	const char	*ahead_of;	/* ...that */
};

static const char *
label(json_t *c, const char *key)
{
	return json_string_value(json_object_get(json_object_get(c,
	    "Labels"), key));
}

static const char *
str(json_t *c, const char *key)
{
	return json_string_value(json_object_get(c, key));
}

/* Down, and not meant to be: exited or created, but for a clean exit the
 * engine would leave as it is (restart "no" or "on-failure"). */
static bool
down_unmeant(json_t *c, const struct unit *u)
{
	const char *state = str(c, "State");
	const char *status = str(c, "Status");

	if (state == NULL || (strcmp(state, "exited") != 0 &&
	    strcmp(state, "created") != 0))
		return false;
	if (status != NULL && strncmp(status, "Exited (0)", 10) == 0 &&
	    u->restart != NULL && (strcmp(u->restart, "no") == 0 ||
	    strcmp(u->restart, "on-failure") == 0))
		return false;
	return true;
}

/*
 * How long the list's Status says the container has run ("Up 3 seconds
 * (health: starting)", in the engine's human units); a long time for
 * what it does not say in seconds or minutes.
 */
static long
up_seconds(const char *status)
{
	long	 n;
	char	*end;

	if (strncmp(status, "Up ", 3) != 0)
		return LONG_MAX;
	status += 3;
	if (strncmp(status, "Less than a second", 18) == 0)
		return 0;
	if (strncmp(status, "About a minute", 14) == 0)
		return 60;
	n = strtol(status, &end, 10);
	if (end == status || n < 0)
		return LONG_MAX;
	if (strncmp(end, " second", 7) == 0)
		return n;
	if (strncmp(end, " minute", 7) == 0)
		return n * 60;
	return LONG_MAX;
}

/* When the engine's first probe has answered: one interval after the
 * start, plus its timeout (the image's own timing: the engine's 30 s). */
static long
first_probe_s(const struct unit *u)
{
	uint64_t iv = u->health.interval_ms, to = u->health.timeout_ms;

	if (iv == 0)
		iv = 30000;
	if (to == 0)
		to = 30000;
	return (long)((iv + to) / 1000) + 1;
}

/*
 * Is the replica healthy, as a gate would judge it: the engine's verdict
 * in the list's Status ("Up 3 s (healthy)"), else shipd's own http/tcp
 * check (unknown until its first probe: shipd has only just started),
 * else running is enough.
 */
static enum sat
replica_healthy(json_t *c, const struct unit *u, boot_own_fn *own_fn,
    void *arg)
{
	const char	*state = str(c, "State"), *status = str(c, "Status");
	const char	*own, *detail = NULL;

	if (state == NULL || strcmp(state, "running") != 0)
		return SAT_NO;
	if (status != NULL && strstr(status, "(healthy)") != NULL)
		return SAT_YES;
	/* Starting, and too young for the engine's first probe: shipd's
	 * gate may have judged it healthy by its own probes already. */
	if (status != NULL && strstr(status, "(health: starting)") != NULL &&
	    up_seconds(status) < first_probe_s(u))
		return SAT_UNKNOWN;
	if (status != NULL && strstr(status, "health") != NULL)
		return SAT_NO;		/* starting, or unhealthy */
	if (u->health.kind != HEALTH_HTTP && u->health.kind != HEALTH_TCP)
		return SAT_YES;
	own = own_fn != NULL ? own_fn(str(c, "Id") ?: "", &detail, arg) :
	    NULL;
	if (own == NULL || (strcmp(own, "starting") == 0 &&
	    (detail == NULL || *detail == '\0')))
		return SAT_UNKNOWN;
	return strcmp(own, "healthy") == 0 ? SAT_YES : SAT_NO;
}

static ssize_t
unit_idx(const struct stack *st, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < st->nunits; i++)
		if (strcmp(st->units[i]->name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* Each service of st (by unit index) as the list shows it. */
static struct bsvc *
survey(const struct stack *st, json_t *rows, const json_t *after,
    boot_own_fn *own, void *arg)
{
	struct bsvc	*v = xcalloc(st->nunits + 1, sizeof *v), *s;
	json_t		*c;
	const char	*state, *status;
	enum sat	 h;
	size_t		 i;
	ssize_t		 k;

	for (i = 0; i < st->nunits; i++) {
		v[i].u = st->units[i];
		v[i].healthy = SAT_YES;
		v[i].completed = true;
	}
	json_array_foreach(rows, i, c) {
		if ((k = unit_idx(st, label(c, LABEL_SERVICE))) < 0)
			continue;
		s = &v[k];
		state = str(c, "State");
		status = str(c, "Status");
		s->rows = true;
		s->down |= down_unmeant(c, s->u);
		s->running |= state != NULL && strcmp(state, "running") == 0;
		h = replica_healthy(c, s->u, own, arg);
		if (h == SAT_NO || (h == SAT_UNKNOWN && s->healthy == SAT_YES))
			s->healthy = h;
		s->completed &= state != NULL && strcmp(state, "exited") == 0 &&
		    status != NULL && strncmp(status, "Exited (0)", 10) == 0;
	}
	/* What boot stopped is started again, whatever its exit. */
	for (i = 0; i < st->nunits; i++)
		if (json_object_get(after, v[i].u->name) != NULL &&
		    v[i].rows && !v[i].running)
			v[i].down = true;
	return v;
}

/* Does the dependency meet its condition now?  One with no replica
 * (none, or left stopped by shipctl stop) is not waited for. */
static enum sat
dep_met(const struct bsvc *v, const struct stack *st,
    const struct unit_dep *d)
{
	ssize_t k = unit_idx(st, d->name);

	if (k < 0 || !v[k].rows)
		return SAT_YES;
	if (v[k].down || v[k].stop)
		return SAT_NO;
	if (d->cond == DEP_COMPLETED)
		return v[k].completed ? SAT_YES : SAT_NO;
	return v[k].healthy;
}

/*
 * Mark what runs ahead of what it waits on: a running service with a
 * healthy or completed dependency not met (down, being stopped itself,
 * starting, unhealthy, not yet completed).  A started condition holds
 * once the dependency has run at all, as compose has it.  False when a
 * verdict it needs is not known yet (and patient).
 */
static bool
mark_ahead(struct bsvc *v, const struct stack *st, bool patient)
{
	const struct unit	*u;
	enum sat		 m;
	bool			 more = true, unknown = false;
	size_t			 i, j;

	while (more) {
		more = false;
		for (i = 0; i < st->nunits; i++) {
			u = v[i].u;
			if (!v[i].running || v[i].stop)
				continue;
			for (j = 0; j < u->ndeps; j++) {
				if (u->deps[j].cond == DEP_STARTED)
					continue;
				m = dep_met(v, st, &u->deps[j]);
				if (m == SAT_UNKNOWN && patient) {
					unknown = true;
					continue;
				}
				if (m == SAT_YES)
					continue;
				v[i].stop = more = true;
				v[i].ahead_of = u->deps[j].name;
				break;
			}
		}
	}
	return !unknown;
}

/* {svc: why}: what is down or ahead, and the running services those
 * wait on (healthy, completed), which the start gates and leaves be.
 * Not further: a running service not ahead has its own waits met. */
static json_t *
start_targets(const struct bsvc *v, const struct stack *st)
{
	json_t	*t = json_object();
	char	*why;
	size_t	 i, j;
	ssize_t	 k;

	for (i = 0; i < st->nunits; i++) {
		if (v[i].stop)
			xasprintf(&why, "started before %s was ready",
			    v[i].ahead_of);
		else if (v[i].down)
			why = xstrdup("down at boot");
		else
			continue;
		json_object_set_new(t, v[i].u->name, json_string(why));
		free(why);
	}
	for (i = 0; i < st->nunits; i++) {
		if (!v[i].stop && !v[i].down)
			continue;
		for (j = 0; j < v[i].u->ndeps; j++) {
			const struct unit_dep *d = &v[i].u->deps[j];

			if (d->cond == DEP_STARTED || (k = unit_idx(st,
			    d->name)) < 0 || !v[k].running || v[k].stop ||
			    v[k].down || json_object_get(t, d->name) != NULL)
				continue;
			xasprintf(&why, "%s waits for it", v[i].u->name);
			json_object_set_new(t, d->name, json_string(why));
			free(why);
		}
	}
	return t;
}

bool
boot_plan(const struct stack *st, json_t *rows, const json_t *after,
    bool patient, boot_own_fn *own, void *arg, json_t **stop,
    json_t **start)
{
	struct bsvc	*v;
	size_t		 i;

	*stop = *start = NULL;
	v = survey(st, rows, after, own, arg);
	if (!mark_ahead(v, st, patient)) {
		free(v);
		return false;
	}
	*start = start_targets(v, st);
	*stop = json_object();
	for (i = 0; i < st->nunits; i++)
		if (v[i].stop)
			json_object_set(*stop, v[i].u->name, json_object_get(
			    *start, v[i].u->name));
	free(v);
	return true;
}
