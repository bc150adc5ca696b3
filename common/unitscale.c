/*
 * autoscale: of a unit, in its file and in its JSON form.  The model is struct
 * unit_autoscale in unit.h, its rules against the rest of the unit are in
 * unitcheck.c, and what shipd does with it is daemon/ops/autoscale.c's.  docs/units.md, "autoscale".
 *
 *	autoscale:
 *	  min: 2
 *	  max: 10
 *	  cpu: 70%
 *	  memory: 80%
 *	  up: { max_step: 2, max_percent: 100, every: 30s }
 *	  down: { max_percent: 50, every: 60s }
 *	  window: 30s
 *	  stabilization: 5m
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jread.h"
#include "unityaml.h"
#include "util.h"

static void
policy_defaults(struct unit_scale_policy *p, bool up)
{
	p->max_step = up ? UNIT_AUTOSCALE_DEF_UP_STEP : 0;
	p->max_percent = up ? UNIT_AUTOSCALE_DEF_UP_PERCENT :
	    UNIT_AUTOSCALE_DEF_DOWN_PERCENT;
	p->every_ms = UNIT_AUTOSCALE_DEF_EVERY_MS;
}

static void
autoscale_defaults(struct unit_autoscale *a)
{
	memset(a, 0, sizeof *a);
	a->present = true;
	a->min = 1;
	policy_defaults(&a->up, true);
	policy_defaults(&a->down, false);
	a->window_ms = UNIT_AUTOSCALE_DEF_WINDOW_MS;
	a->stabilization_ms = UNIT_AUTOSCALE_DEF_STAB_MS;
}

/* ---- unit files ---------------------------------------------------------- */

/* "70%" or 70: 0 (with *out set) or -EINVAL (reported). */
static int
y_percent(struct yctx *c, const char *path, const struct ynode *n, int max,
    int *out)
{
	char	*s, *end;
	long	 v;
	int	 rc = -EINVAL;

	if ((s = ytree_text(c, path, n, "a percentage")) == NULL)
		return -EINVAL;
	v = strtol(s, &end, 10);
	if (end != s && s[0] >= '0' && s[0] <= '9' &&
	    (*end == '\0' || strcmp(end, "%") == 0) && v >= 1 && v <= max) {
		*out = (int)v;
		rc = 0;
	} else
		ytree_err(c, n, "%s: expected a percentage from 1%% to %d%% "
		    "(70%% or 70), got '%s'", path, max, s);
	free(s);
	return rc;
}

struct pctx {
	struct unit_scale_policy	*p;
};

static void
p_max_step(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_int(c, path, n, 1, UNIT_REPLICAS_MAX,
	    &((struct pctx *)obj)->p->max_step);
}

static void
p_max_percent(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	y_percent(c, path, n, UNIT_AUTOSCALE_PERCENT_MAX,
	    &((struct pctx *)obj)->p->max_percent);
}

static void
p_every(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_duration(c, path, n, UNIT_AUTOSCALE_EVERY_MIN_MS,
	    &((struct pctx *)obj)->p->every_ms);
}

static const struct ykey policy_keys[] = {
	{ "max_step", p_max_step },
	{ "max_percent", p_max_percent },
	{ "every", p_every },
};

/* A block that is written replaces the default's bounds: up: {max_step:
 * 2} allows two replicas per period and no percentage. */
static void
y_policy(struct yctx *c, const char *path, const struct ynode *n,
    struct unit_scale_policy *p)
{
	const struct ynode	*seen[nitems(policy_keys)] = { NULL };
	struct pctx		 pc = { p };

	if (!ytree_is(c, path, n, Y_MAP))
		return;
	p->max_step = p->max_percent = 0;
	ytree_walk(c, path, n, policy_keys, nitems(policy_keys), &pc, seen);
	if (seen[0] == NULL && seen[1] == NULL)
		ytree_err(c, n, "%s: give max_step, max_percent or both",
		    path);
}

static void
a_min(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_int(c, path, n, 1, UNIT_REPLICAS_MAX,
	    &UCTX(obj)->u->autoscale.min);
}

static void
a_max(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_int(c, path, n, 1, UNIT_REPLICAS_MAX,
	    &UCTX(obj)->u->autoscale.max);
}

static void
a_cpu(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	y_percent(c, path, n, UNIT_AUTOSCALE_CPU_MAX,
	    &UCTX(obj)->u->autoscale.cpu);
}

static void
a_memory(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	y_percent(c, path, n, UNIT_AUTOSCALE_MEMORY_MAX,
	    &UCTX(obj)->u->autoscale.memory);
}

static void
a_up(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	y_policy(c, path, n, &UCTX(obj)->u->autoscale.up);
}

static void
a_down(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	y_policy(c, path, n, &UCTX(obj)->u->autoscale.down);
}

static void
a_window(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_duration(c, path, n, UNIT_AUTOSCALE_WINDOW_MIN_MS,
	    &UCTX(obj)->u->autoscale.window_ms);
}

static void
a_stabilization(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_duration(c, path, n, 0, &UCTX(obj)->u->autoscale.stabilization_ms);
}

static const struct ykey autoscale_keys[] = {
	{ "min", a_min },
	{ "max", a_max },
	{ "cpu", a_cpu },
	{ "memory", a_memory },
	{ "up", a_up },
	{ "down", a_down },
	{ "window", a_window },
	{ "stabilization", a_stabilization },
};

void
unit_yaml_autoscale(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct unit_autoscale	*a = &UCTX(obj)->u->autoscale;
	const struct ynode	*seen[nitems(autoscale_keys)] = { NULL };
	size_t			 before = c->errs->n;

	if (!ytree_is(c, path, n, Y_MAP))
		return;
	autoscale_defaults(a);
	ytree_walk(c, path, n, autoscale_keys, nitems(autoscale_keys), obj,
	    seen);
	if (seen[1] == NULL)
		ytree_err(c, n, "%s: 'max' is required", path);
	else if (seen[0] != NULL && a->min > a->max)
		ytree_err(c, seen[0], "%s.min: %d is above max %d", path,
		    a->min, a->max);
	if (seen[2] == NULL && seen[3] == NULL)
		ytree_err(c, n, "%s: give a target: cpu, memory or both",
		    path);
	if (c->errs->n != before) {
		memset(a, 0, sizeof *a);
		return;
	}
	YMARK(&UCTX(obj)->at, UF_AUTOSCALE, n, path);
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *
policy_json(const struct unit_scale_policy *p)
{
	return json_pack("{s:i, s:i, s:I}", "max_step", p->max_step,
	    "max_percent", p->max_percent, "every_ms", (json_int_t)p->every_ms);
}

json_t *
unit_autoscale_json(const struct unit_autoscale *a)
{
	if (!a->present)
		return NULL;
	return json_pack("{s:i, s:i, s:i, s:i, s:o, s:o, s:I, s:I}",
	    "min", a->min, "max", a->max, "cpu", a->cpu, "memory", a->memory,
	    "up", policy_json(&a->up), "down", policy_json(&a->down),
	    "window_ms", (json_int_t)a->window_ms,
	    "stabilization_ms", (json_int_t)a->stabilization_ms);
}

static void
j_policy(struct jread *c, const char *path, const json_t *o, const char *key,
    struct unit_scale_policy *p)
{
	static const char *const f[] = { "max_step", "max_percent",
	    "every_ms" };
	const json_t	*v;
	char		 sub[JREAD_PATH];

	if ((v = jread_field(path, o, key, sub)) == NULL ||
	    !jread_obj(c, sub, v, f, nitems(f)))
		return;
	jread_int_i(c, sub, v, "max_step", 0, UNIT_REPLICAS_MAX, &p->max_step);
	jread_int_i(c, sub, v, "max_percent", 0, UNIT_AUTOSCALE_PERCENT_MAX,
	    &p->max_percent);
	jread_ms(c, sub, v, "every_ms", UNIT_AUTOSCALE_EVERY_MIN_MS,
	    &p->every_ms);
	if (p->max_step == 0 && p->max_percent == 0)
		jread_err(c, sub, "max_step and max_percent are both 0");
}

void
unit_autoscale_from_json(struct jread *c, const char *path, const json_t *u,
    struct unit *unit)
{
	static const char *const f[] = { "min", "max", "cpu", "memory", "up",
	    "down", "window_ms", "stabilization_ms" };
	struct unit_autoscale	*a = &unit->autoscale;
	const json_t		*v;
	char			 sub[JREAD_PATH];

	if ((v = jread_field(path, u, "autoscale", sub)) == NULL ||
	    !jread_obj(c, sub, v, f, nitems(f)))
		return;
	autoscale_defaults(a);
	jread_int_i(c, sub, v, "min", 1, UNIT_REPLICAS_MAX, &a->min);
	jread_int_i(c, sub, v, "max", 1, UNIT_REPLICAS_MAX, &a->max);
	jread_int_i(c, sub, v, "cpu", 0, UNIT_AUTOSCALE_CPU_MAX, &a->cpu);
	jread_int_i(c, sub, v, "memory", 0, UNIT_AUTOSCALE_MEMORY_MAX,
	    &a->memory);
	j_policy(c, sub, v, "up", &a->up);
	j_policy(c, sub, v, "down", &a->down);
	jread_ms(c, sub, v, "window_ms", UNIT_AUTOSCALE_WINDOW_MIN_MS,
	    &a->window_ms);
	jread_ms(c, sub, v, "stabilization_ms", 0, &a->stabilization_ms);
}
