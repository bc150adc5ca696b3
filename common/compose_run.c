/*
 * How a compose service runs: depends_on, healthcheck, restart and
 * deploy (replicas, resources, restart_policy, update_config) onto
 * struct unit's dependencies, health, restart policy, resources and
 * update strategy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "composemap.h"
#include "util.h"

#define SV(obj)		CSVC(obj)
#define U(obj)		(CSVC(obj)->uc.u)
#define MARK(obj, f, n, path)	YMARK(&CSVC(obj)->uc.at, f, n, path)

/* Compose's healthcheck defaults, which are the engine's. */
#define CM_HEALTH_INTERVAL_MS	30000
#define CM_HEALTH_TIMEOUT_MS	30000
#define CM_HEALTH_RETRIES	3

/* ---- depends_on ------------------------------------------------------------ */

static void
dep_long(struct yctx *c, const char *path, const struct ynode *k,
    const struct ynode *v, void *obj)
{
	struct cmctx		*m = SV(obj)->m;
	const struct ynode	*x;
	enum dep_cond		 cond = DEP_STARTED;
	bool			 required = true, restart = false;
	char			*ipath = ytree_path(path, k->str);

	if (v->type != Y_MAP && !ytree_null(v)) {
		ytree_err(c, v, "%s: expected a mapping with condition:, got "
		    "%s", ipath, ytree_kind(v));
		goto out;
	}
	if ((x = cm_get(v, "condition")) != NULL) {
		if (x->type == Y_SCALAR && strcmp(x->str,
		    "service_started") == 0)
			cond = DEP_STARTED;
		else if (x->type == Y_SCALAR && strcmp(x->str,
		    "service_healthy") == 0)
			cond = DEP_HEALTHY;
		else if (x->type == Y_SCALAR && strcmp(x->str,
		    "service_completed_successfully") == 0)
			cond = DEP_COMPLETED;
		else {
			ytree_err(c, x, "%s.condition: expected "
			    "service_started, service_healthy or "
			    "service_completed_successfully", ipath);
			goto out;
		}
	}
	if ((x = cm_get(v, "required")) != NULL)
		ytree_bool(c, ipath, x, &required);
	if ((x = cm_get(v, "restart")) != NULL) {
		ytree_bool(c, ipath, x, &restart);
	}
	/* Not required and not in the project (a profile left it out):
	 * compose goes on without it, and so does shipd. */
	if (!required && !cm_declared(m->services, k->str))
		goto out;
	unit_yaml_dep_add(&CSVC(obj)->uc, k, path, k->str, cond);
	if (restart)
		U(obj)->deps[U(obj)->ndeps - 1].restart = true;
out:
	free(ipath);
}

void
cm_depends_on(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	const struct ynode	*k;
	char			*s, *ipath;
	size_t			 i;

	if (n->type == Y_SEQ) {
		for (i = 0; i < n->nkids; i++) {
			xasprintf(&ipath, "%s[%zu]", path, i);
			s = ytree_text(c, ipath, n->kids[i], "a service name");
			if (s != NULL)
				unit_yaml_dep_add(&CSVC(obj)->uc, n->kids[i],
				    ipath, s, DEP_STARTED);
			free(s);
			free(ipath);
		}
		return;
	}
	if (n->type != Y_MAP) {
		ytree_err(c, n, "%s: expected a list of services or a "
		    "mapping, got %s", path, ytree_kind(n));
		return;
	}
	for (i = 0; i + 1 < n->nkids; i += 2) {
		if ((k = ytree_map_key(c, n, i)) != NULL)
			dep_long(c, path, k, n->kids[i + 1], obj);
	}
}

/* ---- healthcheck ---------------------------------------------------------- */

void
cm_healthcheck(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct unit_health	*h = &U(obj)->health;
	const struct ynode	*k, *v, *test = NULL;
	bool			 disable = false, seen_i = false, seen_t = false;
	bool			 seen_r = false;
	char			*ipath, **t;
	size_t			 i;

	SV(obj)->healthcheck = n;
	if (!ytree_is(c, path, n, Y_MAP))
		return;
	for (i = 0; i + 1 < n->nkids; i += 2) {
		if ((k = ytree_map_key(c, n, i)) == NULL)
			continue;
		v = n->kids[i + 1];
		ipath = ytree_path(path, k->str);
		if (strcmp(k->str, "test") == 0)
			test = v;
		else if (strcmp(k->str, "disable") == 0)
			ytree_bool(c, ipath, v, &disable);
		else if (strcmp(k->str, "interval") == 0) {
			ytree_duration(c, ipath, v, 1, &h->interval_ms);
			seen_i = true;
		} else if (strcmp(k->str, "timeout") == 0) {
			ytree_duration(c, ipath, v, 1, &h->timeout_ms);
			seen_t = true;
		} else if (strcmp(k->str, "start_period") == 0)
			ytree_duration(c, ipath, v, 0, &h->start_period_ms);
		else if (strcmp(k->str, "start_interval") == 0)
			ytree_duration(c, ipath, v, 0, &h->start_interval_ms);
		else if (strcmp(k->str, "retries") == 0) {
			ytree_int(c, ipath, v, UNIT_RETRIES_MIN,
			    UNIT_RETRIES_MAX, &h->retries);
			seen_r = true;
		} else if (strncmp(k->str, "x-", 2) != 0)
			cm_loss(SV(obj)->m, k, "%s: not a healthcheck key "
			    "shipd knows; ignored", ipath);
		free(ipath);
	}
	if (test != NULL && !disable) {
		ipath = ytree_path(path, "test");
		if (test->type == Y_SCALAR && !ytree_null(test)) {
			t = xcalloc(3, sizeof *t);
			t[0] = xstrdup("CMD-SHELL");
			t[1] = ytree_text(c, ipath, test, "a string");
		} else
			t = ytree_strv(c, ipath, test, false, false);
		if (t == NULL || t[0] == NULL)
			;
		else if (strcmp(t[0], "NONE") == 0 && t[1] == NULL)
			disable = true;
		else if (unit_health_test_valid(t)) {
			h->kind = HEALTH_CMD;
			h->test = t;
			t = NULL;
		} else
			ytree_err(c, test, "%s: expected a string, [CMD, "
			    "arg...], [CMD-SHELL, \"command\"] or [NONE]",
			    ipath);
		strv_free(t);
		free(ipath);
	}
	if (disable) {
		strv_free(h->test);
		memset(h, 0, sizeof *h);
		h->kind = HEALTH_DISABLED;
		return;
	}
	if (h->kind == HEALTH_IMAGE)
		return;		/* the image's test, with these timings */
	if (!seen_i)
		h->interval_ms = CM_HEALTH_INTERVAL_MS;
	if (!seen_t)
		h->timeout_ms = CM_HEALTH_TIMEOUT_MS;
	if (!seen_r)
		h->retries = CM_HEALTH_RETRIES;
}

/* ---- restart, deploy ------------------------------------------------------ */

void
cm_cpus(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	char	*s;
	double	 v;

	if ((s = ytree_text(c, path, n, UNIT_CPUS_WANT)) == NULL)
		return;
	if (parse_decimal(s, &v) != 0 || v > 4096)
		ytree_err(c, n, "%s: expected %s, got '%s'", path,
		    UNIT_CPUS_WANT, s);
	else {
		U(obj)->nano_cpus = (int64_t)(v * 1e9 + 0.5);
		MARK(obj, UF_CPUS, n, path);
	}
	free(s);
}

void
cm_memory(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	char *s;

	if ((s = ytree_text(c, path, n, "a size")) == NULL)
		return;
	if (parse_size(s, &U(obj)->memory) != 0)
		ytree_err(c, n, "%s: expected a size such as 512m or 1g, got "
		    "'%s'", path, s);
	else
		MARK(obj, UF_MEMORY, n, path);
	free(s);
}

static void
resources(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	static const char *const top[] = { "limits", NULL };
	static const char *const lim[] = { "cpus", "memory", NULL };
	const struct ynode	*l, *v;
	char			*lpath, *ipath;

	cm_lost_others(c, path, n, obj, top, "shipd sets limits only; "
	    "ignored");
	if ((l = cm_get(n, "limits")) == NULL)
		return;
	lpath = ytree_path(path, "limits");
	cm_lost_others(c, lpath, l, obj, lim, "not supported by shipd; ignored");
	if ((v = cm_get(l, "cpus")) != NULL) {
		ipath = ytree_path(lpath, "cpus");
		cm_cpus(c, ipath, v, obj);
		free(ipath);
	}
	if ((v = cm_get(l, "memory")) != NULL) {
		ipath = ytree_path(lpath, "memory");
		cm_memory(c, ipath, v, obj);
		free(ipath);
	}
	free(lpath);
}

static void
restart_policy(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	static const char *const keys[] = { "condition", "max_attempts",
	    NULL };
	struct unit		*u = U(obj);
	const struct ynode	*v;
	int			 max = 0;

	cm_lost_others(c, path, n, obj, keys, "the engine restarts at once, "
	    "with its own backoff; ignored");
	if ((v = cm_get(n, "max_attempts")) != NULL)
		ytree_int(c, path, v, 0, 1000000, &max);
	if ((v = cm_get(n, "condition")) == NULL)
		v = n;		/* compose's default: any */
	free(u->restart);
	u->restart_max = 0;
	if (v != n && v->type == Y_SCALAR && strcmp(v->str, "none") == 0)
		u->restart = xstrdup("no");
	else if (v != n && v->type == Y_SCALAR && strcmp(v->str,
	    "on-failure") == 0) {
		u->restart = xstrdup("on-failure");
		u->restart_max = max;
	} else {
		if (v != n && (v->type != Y_SCALAR || strcmp(v->str,
		    "any") != 0))
			ytree_err(c, v, "%s.condition: expected none, "
			    "on-failure or any", path);
		u->restart = xstrdup("always");
		if (max > 0)
			cm_loss(SV(obj)->m, cm_get(n, "max_attempts"),
			    "%s.max_attempts: the engine bounds retries only "
			    "with on-failure; ignored", path);
	}
}

static void
update_config(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	static const char *const keys[] = { "parallelism", "delay", "order",
	    "failure_action", "monitor", "max_failure_ratio", NULL };
	struct unit_update	*up = &U(obj)->update;
	const struct ynode	*v;
	uint64_t		 delay = 0;
	char			*ipath;
	int			 par;

	cm_lost_others(c, path, n, obj, keys, "not supported by shipd; "
	    "ignored");
	if ((v = cm_get(n, "parallelism")) != NULL) {
		ipath = ytree_path(path, "parallelism");
		if (ytree_int(c, ipath, v, 0, UNIT_PARALLELISM_MAX, &par) == 0)
			/* 0: all at once */
			up->parallelism = par == 0 ? UNIT_PARALLELISM_MAX : par;
		free(ipath);
	}
	if ((v = cm_get(n, "delay")) != NULL) {
		ipath = ytree_path(path, "delay");
		ytree_duration(c, ipath, v, 0, &delay);
		if (delay > 0)
			cm_loss(SV(obj)->m, v, "%s: shipd starts the next "
			    "batch as soon as one is healthy; no delay",
			    ipath);
		free(ipath);
	}
	if ((v = cm_get(n, "order")) != NULL) {
		ipath = ytree_path(path, "order");
		if (v->type != Y_SCALAR || unit_update_order_parse(v->str,
		    &up->order) != 0)
			ytree_err(c, v, "%s: expected stop-first or "
			    "start-first", ipath);
		else
			MARK(obj, UF_ORDER, v, ipath);
		free(ipath);
	}
	if ((v = cm_get(n, "failure_action")) != NULL) {
		if (v->type == Y_SCALAR && strcmp(v->str, "rollback") == 0)
			up->on_failure = UPDATE_ROLLBACK;
		else if (v->type == Y_SCALAR && strcmp(v->str, "pause") == 0)
			up->on_failure = UPDATE_PAUSE;
		else if (v->type == Y_SCALAR && strcmp(v->str, "continue") ==
		    0) {
			up->on_failure = UPDATE_PAUSE;
			cm_loss(SV(obj)->m, v, "%s.failure_action: shipd never "
			    "continues past a failed batch; it pauses",
			    path);
		} else
			ytree_err(c, v, "%s.failure_action: expected "
			    "rollback, pause or continue", path);
	}
	if ((v = cm_get(n, "monitor")) != NULL) {
		ipath = ytree_path(path, "monitor");
		ytree_duration(c, ipath, v, 0, &up->monitor_ms);
		free(ipath);
	}
	if ((v = cm_get(n, "max_failure_ratio")) != NULL && !(v->type ==
	    Y_SCALAR && (strcmp(v->str, "0") == 0 || strcmp(v->str, "0.0") ==
	    0)))
		cm_loss(SV(obj)->m, v, "%s.max_failure_ratio: shipd stops at "
		    "the first failed batch", path);
}

void
cm_deploy(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	static const char *const keys[] = { "mode", "replicas", "resources",
	    "restart_policy", "update_config", "rollback_config", NULL };
	const struct ynode	*v;
	char			*ipath;

	cm_lost_others(c, path, n, obj, keys, "a swarm setting shipd has no "
	    "use for on one host; ignored");
	if (n->type != Y_MAP)
		return;
	if ((v = cm_get(n, "mode")) != NULL && !(v->type == Y_SCALAR &&
	    (strcmp(v->str, "replicated") == 0 || strcmp(v->str,
	    "global") == 0)))
		ytree_err(c, v, "%s.mode: shipd runs replicated (or global, "
		    "one on one host) services only", path);
	else if (v != NULL && strcmp(v->str, "global") == 0)
		U(obj)->replicas = 1;
	if ((v = cm_get(n, "replicas")) != NULL) {
		ipath = ytree_path(path, "replicas");
		if (ytree_int(c, ipath, v, UNIT_REPLICAS_MIN, UNIT_REPLICAS_MAX,
		    &U(obj)->replicas) == 0)
			MARK(obj, UF_REPLICAS, v, ipath);
		free(ipath);
	}
	if ((v = cm_get(n, "resources")) != NULL) {
		ipath = ytree_path(path, "resources");
		resources(c, ipath, v, obj);
		free(ipath);
	}
	if ((v = cm_get(n, "restart_policy")) != NULL) {
		ipath = ytree_path(path, "restart_policy");
		restart_policy(c, ipath, v, obj);
		free(ipath);
	}
	if ((v = cm_get(n, "update_config")) != NULL) {
		ipath = ytree_path(path, "update_config");
		update_config(c, ipath, v, obj);
		free(ipath);
	}
	if ((v = cm_get(n, "rollback_config")) != NULL)
		cm_loss(SV(obj)->m, v, "%s.rollback_config: shipd rolls back "
		    "with update_config's strategy; ignored", path);
}
