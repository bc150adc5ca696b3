/*
 * The planner: diff the desired stack against the containers that exist,
 * found by their io.shipd.* labels.  Per service one action with its
 * reason; per replica whether its container is kept, replaced, created or
 * removed.  A container is kept exactly when its spec hash and image ID
 * match, so a redeploy touches only what changed, and judges only that
 * and what depends on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ascalc.h"
#include "ops/op.h"
#include "ops/steps.h"
#include "core/shipd.h"
#include "engine/spec.h"
#include "state/store.h"
#include "util.h"

const char *
plan_action_name(enum svc_action a)
{
	switch (a) {
	case ACT_NONE:		return "none";
	case ACT_UNCHANGED:	return "unchanged";
	case ACT_CREATE:	return "create";
	case ACT_RECREATE:	return "recreate";
	case ACT_SCALE:		return "scale";
	case ACT_REMOVE:	return "remove";
	case ACT_STOP:		return "stop";
	case ACT_START:		return "start";
	case ACT_RESTART:	return "restart";
	}
	return "?";
}

static const char *
label(json_t *c, const char *key)
{
	return json_string_value(json_object_get(json_object_get(c, "Labels"),
	    key));
}

/* The container of replica n of this service, by name: kept containers
 * of old revisions carry a suffix and never match. */
static json_t *
existing(const struct op *op, const struct unit *u, int n)
{
	json_t	*c;
	size_t	 i;
	char	*want;

	want = spec_container_name(op->stack_name, u->name, n);
	json_array_foreach(op->containers, i, c) {
		const char *name = json_string_value(json_array_get(
		    json_object_get(c, "Names"), 0));

		if (name != NULL && name[0] == '/' &&
		    strcmp(name + 1, want) == 0) {
			free(want);
			return c;
		}
	}
	free(want);
	return NULL;
}

static int
highest_replica(const struct op *op, const char *service)
{
	json_t	*c;
	size_t	 i;
	int	 max = 0, n;

	json_array_foreach(op->containers, i, c) {
		const char *s = label(c, LABEL_SERVICE);
		const char *r = label(c, LABEL_REPLICA);

		if (s == NULL || r == NULL || strcmp(s, service) != 0)
			continue;
		if ((n = atoi(r)) > max)
			max = n;
	}
	return max;
}

/* Which spec fields differ from the revision the old container came
 * from, for the reason line; NULL if that revision is unknown. */
static char *
changed_fields(struct op *op, const struct unit *u, json_t *old)
{
	const json_t	*doc, *was;
	json_t		*now, *v;
	const char	*rev = label(old, LABEL_REVISION), *key;
	struct buf	 b;

	if (rev == NULL || op->sd->store == NULL)
		return NULL;
	doc = store_revision_get(op->sd->store, op->stack_name, atoi(rev));
	was = json_object_get(json_object_get(doc, "specs"), u->name);
	if (was == NULL)
		return NULL;
	now = unit_spec_json(u);
	buf_init(&b);
	json_object_foreach(now, key, v)
		if (!json_equal(v, json_object_get(was, key)))
			buf_printf(&b, "%s%s", b.len ? ", " : "", key);
	json_object_foreach((json_t *)was, key, v)
		if (json_object_get(now, key) == NULL)
			buf_printf(&b, "%s%s", b.len ? ", " : "", key);
	json_decref(now);
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static int
wanted_replicas(const struct op *op, const struct unit *u,
    const json_t *overrides)
{
	json_t *o = json_object_get(overrides, u->name);

	if (op->scale != NULL && json_object_get(op->scale, u->name))
		return (int)json_integer_value(json_object_get(op->scale,
		    u->name));
	/* Autoscaled: the count it has, within the bounds that stand (a
	 * redeploy must not reset it); the unit's replicas the first time. */
	if (u->autoscale.present)
		return ascalc_count(u, o);
	/* A scale persists until the unit file's own count changes. */
	if (o != NULL && json_integer_value(json_object_get(o,
	    "unit_replicas")) == u->replicas)
		return (int)json_integer_value(json_object_get(o, "replicas"));
	return u->replicas;
}

/* A container of replica n kept from an earlier revision, renamed
 * <name>-r<rev>, that matches the wanted spec and image: the newest one. */
static json_t *
kept(const struct op *op, const struct svc *s, int n)
{
	json_t	*c, *best = NULL;
	size_t	 i, plen;
	char	*prefix;
	long	 rev, best_rev = 0;

	prefix = spec_container_name(op->stack_name, s->unit->name, n);
	plen = strlen(prefix);
	json_array_foreach(op->containers, i, c) {
		const char *name = json_string_value(json_array_get(
		    json_object_get(c, "Names"), 0));
		const char *hash = label(c, LABEL_HASH);
		const char *img = json_string_value(json_object_get(c,
		    "ImageID"));
		char *end;

		if (name == NULL || name[0] != '/' ||
		    strncmp(name + 1, prefix, plen) != 0 ||
		    strncmp(name + 1 + plen, "-r", 2) != 0)
			continue;
		rev = strtol(name + 1 + plen + 2, &end, 10);
		if (*end != '\0' || rev <= 0 || hash == NULL ||
		    strcmp(hash, s->hash) != 0 || img == NULL ||
		    s->image_id == NULL || strcmp(img, s->image_id) != 0)
			continue;
		if (rev > best_rev) {
			best = c;
			best_rev = rev;
		}
	}
	free(prefix);
	return best;
}

static bool
committed(const struct op *op, int rev)
{
	const json_t	*doc;
	const char	*res;

	if (rev <= 0 || op->sd->store == NULL)
		return false;
	doc = store_revision_get(op->sd->store, op->stack_name, rev);
	res = json_string_value(json_object_get(doc, "result"));
	return res != NULL && strcmp(res, "committed") == 0;
}

static void
note_occupant(struct op *op, struct replica *r, json_t *c)
{
	const char *rev = label(c, LABEL_REVISION);
	const char *st = json_string_value(json_object_get(c, "State"));

	r->old_id = xstrdup(json_string_value(json_object_get(c, "Id")));
	r->old_rev = rev ? atoi(rev) : 0;
	r->old_running = st != NULL && strcmp(st, "running") == 0;
	/* Containers of committed revisions are worth keeping (one left
	 * unchanged by later deploys still carries the revision that made
	 * it); a failed or interrupted revision's are removed. */
	r->old_keep = op->scale == NULL && op->keep_rev > 0 &&
	    committed(op, r->old_rev);
}

static void
plan_service(struct op *op, struct svc *s, const json_t *overrides)
{
	const struct unit	*u = s->unit;
	json_t			*c, *k;
	size_t			 nexist = 0, nrecreate = 0, ncreate = 0;
	size_t			 nrestore = 0;
	int			 n, top, restore_rev = 0;
	char			*why = NULL;
	bool			 image_changed = false;

	unit_spec_hash(u, s->hash);
	s->image_id = json_string_value(json_object_get(op->images, u->image));
	s->want = wanted_replicas(op, u, overrides);
	top = highest_replica(op, u->name);
	if (top < s->want)
		top = s->want;
	s->reps = xcalloc((size_t)top + 1, sizeof *s->reps);
	for (n = 1; n <= top; n++) {
		struct replica *r = &s->reps[s->nreps];

		c = existing(op, u, n);
		if (c == NULL && n > s->want)
			continue;
		s->nreps++;
		r->svc = s;
		r->n = n;
		if (c != NULL) {
			nexist++;
			note_occupant(op, r, c);
		}
		if (n > s->want) {
			r->remove = true;
			continue;
		}
		const char *hash = c ? label(c, LABEL_HASH) : NULL;
		const char *img = c ? json_string_value(json_object_get(c,
		    "ImageID")) : NULL;
		bool same_spec = hash && strcmp(hash, s->hash) == 0;
		bool same_image = img && s->image_id &&
		    strcmp(img, s->image_id) == 0;

		/* scale never recreates: it changes counts only */
		if (c != NULL && ((same_spec && same_image) ||
		    op->scale != NULL)) {
			r->reuse = true;
			r->id = r->old_id;
			r->old_id = NULL;
			continue;
		}
		if ((k = kept(op, s, n)) != NULL) {
			const char *kr = label(k, LABEL_REVISION);

			r->restore_id = xstrdup(json_string_value(
			    json_object_get(k, "Id")));
			nrestore++;
			restore_rev = kr ? atoi(kr) : 0;
			continue;
		}
		if (c == NULL) {
			ncreate++;
			continue;
		}
		nrecreate++;
		if (!same_image && same_spec)
			image_changed = true;
		if (!same_spec && why == NULL)
			why = changed_fields(op, u, c);
	}

	if (nrestore > 0) {
		s->action = ACT_RECREATE;
		xasprintf(&s->reason, "restore %zu kept container%s of "
		    "revision %d", nrestore, nrestore == 1 ? "" : "s",
		    restore_rev);
	} else if (nexist == 0 && s->want > 0) {
		s->action = ACT_CREATE;
		xasprintf(&s->reason, "new service, %d replica%s", s->want,
		    s->want == 1 ? "" : "s");
	} else if (nrecreate > 0) {
		s->action = ACT_RECREATE;
		if (image_changed)
			xasprintf(&s->reason, "image %s now resolves to %.19s",
			    u->image, s->image_id ? s->image_id : "?");
		else if (why != NULL)
			xasprintf(&s->reason, "changed: %s", why);
		else
			s->reason = xstrdup("spec changed");
	} else if (ncreate > 0 || nexist > (size_t)s->want) {
		s->action = ACT_SCALE;
		xasprintf(&s->reason, "replicas %zu -> %d", nexist, s->want);
	} else {
		s->action = ACT_UNCHANGED;
		s->reason = xstrdup("up to date");
	}
	free(why);
}

/* Dependents that need this service completed make it a one-shot gate. */
static enum gate_goal
goal_of(const struct op *op, size_t idx)
{
	size_t i, j;

	for (i = 0; i < op->stack->nunits; i++) {
		const struct unit *u = op->stack->units[i];

		for (j = 0; j < u->ndeps; j++)
			if (u->deps[j].cond == DEP_COMPLETED &&
			    strcmp(u->deps[j].name,
			    op->stack->units[idx]->name) == 0)
				return GATE_COMPLETED;
	}
	return GATE_HEALTHY;
}

static struct svc *
svc_named(struct op *op, const char *name)
{
	size_t i;

	for (i = 0; i < op->stack->nunits; i++)
		if (strcmp(op->svcs[i].unit->name, name) == 0)
			return &op->svcs[i];
	return NULL;
}

static bool
touches(const struct op *op, const struct svc *s)
{
	size_t i;

	if (s->action == ACT_CREATE || s->action == ACT_RECREATE ||
	    s->action == ACT_SCALE)
		return true;
	if (s->action == ACT_STOP)
		return false;
	if (s->action == ACT_START || s->action == ACT_RESTART)
		return true;
	for (i = 0; s->action == ACT_UNCHANGED && !s->stopped &&
	    i < s->nreps; i++)
		if (s->reps[i].reuse && steps_reuse_starts(s->unit,
		    container_state(op, s->reps[i].id)))
			return true;
	return false;
}

/*
 * What the operation judges: the services it touches, those that depend
 * on them (a change may break what uses it), and what a touched service
 * waits on being healthy or completed before it can start.  A service
 * that is none of these is left as it is, whatever its health.
 */
static void
plan_judge(struct op *op)
{
	struct svc	*s, *d;
	size_t		 i, j;
	bool		 more = true;

	for (i = 0; i < op->stack->nunits; i++) {
		s = &op->svcs[i];
		s->judged = s->touched = s->action != ACT_NONE &&
		    touches(op, s);
	}
	while (more) {
		more = false;
		for (i = 0; i < op->stack->nunits; i++) {
			s = &op->svcs[i];
			for (j = 0; j < s->unit->ndeps && !s->judged &&
			    s->action != ACT_NONE; j++)
				if ((d = svc_named(op, s->unit->deps[j].name)) !=
				    NULL && d->judged)
					s->judged = more = true;
		}
	}
	for (i = 0; i < op->stack->nunits; i++) {
		s = &op->svcs[i];
		/* Left stopped, or being stopped: nothing to judge. */
		if (s->stopped || s->action == ACT_STOP)
			s->judged = false;
		for (j = 0; s->touched && j < s->unit->ndeps; j++)
			if (s->unit->deps[j].cond != DEP_STARTED &&
			    (d = svc_named(op, s->unit->deps[j].name)) !=
			    NULL && d->action != ACT_NONE)
				d->needed = true;
	}
}

/*
 * A service of a stop, start or restart: its containers as they are, the
 * action the kind says (steps.c plans each replica's steps from it).
 */
static void
plan_svcop(struct op *op, struct svc *s)
{
	const struct unit	*u = s->unit;
	json_t			*c;
	int			 n, top;

	unit_spec_hash(u, s->hash);
	s->action = op->kind->id == OP_STOP ? ACT_STOP :
	    op->kind->id == OP_START ? ACT_START : ACT_RESTART;
	s->reason = xstrdup(json_string_value(json_object_get(op->targets,
	    u->name)) ?: "");
	s->stopped = false;
	top = highest_replica(op, u->name);
	s->reps = xcalloc((size_t)top + 1, sizeof *s->reps);
	for (n = 1; n <= top; n++) {
		struct replica *r = &s->reps[s->nreps];

		if ((c = existing(op, u, n)) == NULL)
			continue;
		s->nreps++;
		r->svc = s;
		r->n = n;
		r->reuse = true;
		r->id = xstrdup(json_string_value(json_object_get(c, "Id")));
	}
	s->want = (int)s->nreps;
}

/* What shipctl stop left stopped, by service (svcstate.json). */
static bool
marked_stopped(const struct op *op, const char *svc)
{
	const json_t *doc;

	if (op->sd->store == NULL)
		return false;
	doc = store_svcstate_get(op->sd->store, op->stack_name);
	return json_object_get(json_object_get(doc, "stopped"), svc) != NULL;
}

int
plan_compute(struct op *op, const json_t *overrides)
{
	json_t	*c;
	size_t	 i;

	op->svcs = xcalloc(op->stack->nunits, sizeof *op->svcs);
	op->met = xcalloc(op->stack->nunits, sizeof *op->met);
	op->begun = xcalloc(op->stack->nunits, 1);
	for (i = 0; i < op->stack->nunits; i++) {
		struct svc *s = &op->svcs[i];

		s->op = op;
		s->unit = op->stack->units[i];
		s->idx = i;
		s->goal = goal_of(op, i);
		s->stopped = marked_stopped(op, s->unit->name);
		if (op->targets != NULL) {
			if (json_object_get(op->targets, s->unit->name) !=
			    NULL) {
				plan_svcop(op, s);
				continue;
			}
			/* Not one of them: as it is. */
			s->action = ACT_NONE;
			s->state = SVC_DONE;
			op->met[i] = DEP_STARTED | DEP_HEALTHY | DEP_COMPLETED;
			op->begun[i] = 1;
			continue;
		}
		if (op->scale != NULL &&
		    json_object_get(op->scale, s->unit->name) == NULL) {
			/* Untouched by a scale: its dependents may go. */
			s->action = ACT_NONE;
			s->state = SVC_DONE;
			op->met[i] = DEP_STARTED | DEP_HEALTHY | DEP_COMPLETED;
			op->begun[i] = 1;
			continue;
		}
		plan_service(op, s, overrides);
		/* Left stopped: its dependents (stopped with it, or started
		 * by hand) do not wait for it. */
		if (s->stopped) {
			op->met[i] = DEP_STARTED | DEP_HEALTHY | DEP_COMPLETED;
			if (s->action == ACT_UNCHANGED) {
				free(s->reason);
				s->reason = xstrdup("stopped (shipctl start "
				    "brings it back)");
			}
		}
	}
	plan_judge(op);
	/* Containers of services no longer in the stack go at the end. */
	op->removals = json_array();
	op->orphans = json_object();
	if (op->scale != NULL || op->targets != NULL)
		return 0;
	json_array_foreach(op->containers, i, c) {
		const char *svc = label(c, LABEL_SERVICE);

		/* Only what shipd made: a service label it no longer has. */
		if (svc == NULL || stack_unit(op->stack, svc) != NULL)
			continue;
		json_array_append(op->removals, c);
		json_object_set_new(op->orphans, svc, json_integer(
		    json_integer_value(json_object_get(op->orphans, svc)) + 1));
	}
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **
plan_orphans(const struct op *op, size_t *n)
{
	const char	**v, *svc;
	json_t		 *c;

	*n = 0;
	v = xcalloc(json_object_size(op->orphans) + 1, sizeof *v);
	json_object_foreach(op->orphans, svc, c)
		v[(*n)++] = svc;
	qsort(v, *n, sizeof *v, name_cmp);
	return v;
}

json_t *
plan_json(const struct op *op)
{
	json_t		*arr = json_array();
	const char	**orphans;
	size_t		  i, n, order_n = op->stack->nunits;
	size_t		 *order = xcalloc(order_n ? order_n : 1, sizeof *order);

	graph_topo_order(op->graph, order);
	for (i = 0; i < order_n; i++) {
		const struct svc *s = &op->svcs[order[i]];

		if (s->action == ACT_NONE)
			continue;
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i}",
		    "service", s->unit->name, "action",
		    plan_action_name(s->action), "reason",
		    s->reason ? s->reason : "", "replicas", s->want));
	}
	/* One row per service, whatever its containers (replicas, kept
	 * ones): the removals outlive the list apply empties. */
	orphans = plan_orphans(op, &n);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i, "
		    "s:O}", "service", orphans[i], "action", "remove", "reason",
		    "no longer in the stack", "replicas", 0, "remove_containers",
		    json_object_get(op->orphans, orphans[i])));
	free(orphans);
	free(order);
	return arr;
}
