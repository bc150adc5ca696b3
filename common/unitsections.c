/*
 * The mapping-valued keys of a unit file: health:, update:, resources:
 * and backup:, each decoded through its own key table.  What the values
 * must satisfy is unitcheck.c's; here is only how they are written.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unityaml.h"
#include "util.h"

/* ---- health ------------------------------------------------------------ */

enum { HK_TEST, HK_HTTP, HK_TCP, HK_INTERVAL, HK_TIMEOUT, HK_START_PERIOD,
    HK_START_INTERVAL, HK_RETRIES, HK_N };

static void
h_test(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct unit_health	*h = &UCTX(obj)->u->health;
	char			**v, *s;

	if (n->type == Y_SCALAR && !ytree_null(n)) {
		if ((s = ytree_text(c, path, n, "a string")) == NULL)
			return;
		v = xcalloc(3, sizeof *v);
		v[0] = xstrdup("CMD-SHELL");
		v[1] = s;
	} else if ((v = ytree_strv(c, path, n, false, false)) == NULL)
		return;
	if (strcmp(v[0], "NONE") == 0 && v[1] == NULL)
		h->kind = HEALTH_DISABLED;
	else if (unit_health_test_valid(v)) {
		h->kind = HEALTH_CMD;
		h->test = v;
		return;
	} else
		ytree_err(c, n, "%s: expected [CMD, arg...], [CMD-SHELL, "
		    "\"command\"] or [NONE]", path);
	strv_free(v);
}

static void
hh_path(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct unit_health	*h = &UCTX(obj)->u->health;
	char			*s;

	if ((s = ytree_string(c, path, n)) == NULL)
		return;
	free(h->http_path);
	h->http_path = s;
	YMARK(&UCTX(obj)->at, UF_HEALTH_PATH, n, path);
}

static void
hh_port(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_int(c, path, n, 1, UNIT_PORT_MAX, &UCTX(obj)->u->health.port);
}

static const struct ykey http_keys[] = {
	{ "path", hh_path },
	{ "port", hh_port },
};

static void
h_http(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct unit_health	*h = &UCTX(obj)->u->health;
	const struct ynode	*seen[nitems(http_keys)] = { NULL };
	char			*s, *slash;

	h->kind = HEALTH_HTTP;
	if (n->type == Y_MAP) {
		ytree_walk(c, path, n, http_keys, nitems(http_keys), obj, seen);
		if (seen[1] == NULL)
			ytree_err(c, n, "%s: 'port' is required", path);
		if (h->http_path == NULL)
			h->http_path = xstrdup("/");
		return;
	}
	/* "8080/healthz" */
	if ((s = ytree_text(c, path, n, "PORT/path or a mapping")) == NULL)
		return;
	if ((slash = strchr(s, '/')) != NULL)
		*slash = '\0';
	if (unit_port_number(s, &h->port) != 0)
		ytree_err(c, n, "%s: expected PORT/path with a port from 1 to "
		    "65535, got '%s'", path, s);
	else {
		if (slash != NULL)
			*slash = '/';
		h->http_path = xstrdup(slash != NULL ? slash : "/");
	}
	free(s);
}

static void
h_tcp(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	UCTX(obj)->u->health.kind = HEALTH_TCP;
	ytree_int(c, path, n, 1, UNIT_PORT_MAX, &UCTX(obj)->u->health.port);
}

static void
h_interval(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_duration(c, path, n, 1, &UCTX(obj)->u->health.interval_ms);
}

static void
h_timeout(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_duration(c, path, n, 1, &UCTX(obj)->u->health.timeout_ms);
}

static void
h_start_period(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_duration(c, path, n, 0, &UCTX(obj)->u->health.start_period_ms);
}

static void
h_start_interval(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	/* 0 turns shipd's startup probing off: the engine's checks alone
	 * decide. */
	ytree_duration(c, path, n, 0,
	    &UCTX(obj)->u->health.start_interval_ms);
}

static void
h_retries(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_int(c, path, n, UNIT_RETRIES_MIN, UNIT_RETRIES_MAX,
	    &UCTX(obj)->u->health.retries);
}

static const struct ykey health_keys[HK_N] = {
	[HK_TEST] = { "test", h_test },
	[HK_HTTP] = { "http", h_http },
	[HK_TCP] = { "tcp", h_tcp },
	[HK_INTERVAL] = { "interval", h_interval },
	[HK_TIMEOUT] = { "timeout", h_timeout },
	[HK_START_PERIOD] = { "start_period", h_start_period },
	[HK_START_INTERVAL] = { "start_interval", h_start_interval },
	[HK_RETRIES] = { "retries", h_retries },
};

/* Which keys a file wrote, not what they hold: the values are checked
 * with every other form's. */
static void
health_keys_check(struct yctx *c, const char *path, int kind,
    const struct ynode **seen)
{
	const struct ynode	*first = NULL;
	int			 i;

	for (i = HK_TEST; i <= HK_TCP; i++) {
		if (seen[i] == NULL)
			continue;
		if (first != NULL)
			ytree_err(c, seen[i], "%s: set one of test, http or "
			    "tcp, not both %s and %s", path, first->str,
			    seen[i]->str);
		else
			first = seen[i];
	}
	for (i = HK_INTERVAL; kind == HEALTH_DISABLED && i < HK_N; i++) {
		if (seen[i] != NULL)
			ytree_err(c, seen[i], "%s.%s: has no effect with "
			    "test: [NONE]", path, seen[i]->str);
	}
}

void
unit_yaml_health(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct unit_health	*h = &UCTX(obj)->u->health;
	const struct ynode	*seen[HK_N] = { NULL };

	unit_yaml_walk(c, path, n, health_keys, HK_N, obj, seen);
	health_keys_check(c, path, h->kind, seen);
	if (h->kind == HEALTH_DISABLED) {
		h->interval_ms = h->timeout_ms = h->start_period_ms = 0;
		h->start_interval_ms = 0;
		h->retries = 0;
		return;
	}
	if (h->kind == HEALTH_IMAGE)
		return;	/* zero means the image's own value */
	if (seen[HK_INTERVAL] == NULL)
		h->interval_ms = UNIT_DEF_INTERVAL_MS;
	if (seen[HK_TIMEOUT] == NULL)
		h->timeout_ms = UNIT_DEF_TIMEOUT_MS;
	if (seen[HK_RETRIES] == NULL)
		h->retries = UNIT_DEF_RETRIES;
}

/* ---- update -------------------------------------------------------------- */

static void
u_order(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	struct unit	*u = UCTX(obj)->u;
	char		*s;

	if ((s = ytree_text(c, path, n, "stop-first or start-first")) == NULL)
		return;
	if (unit_update_order_parse(s, &u->update.order) != 0)
		ytree_err(c, n, "%s: expected stop-first or start-first, got "
		    "'%s'", path, s);
	else
		YMARK(&UCTX(obj)->at, UF_ORDER, n, path);
	free(s);
}

static void
u_parallelism(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_int(c, path, n, UNIT_PARALLELISM_MIN, UNIT_PARALLELISM_MAX,
	    &UCTX(obj)->u->update.parallelism);
}

static void
u_deadline(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_duration(c, path, n, 1,
	    &UCTX(obj)->u->update.healthy_deadline_ms);
}

static void
u_monitor(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_duration(c, path, n, 0, &UCTX(obj)->u->update.monitor_ms);
}

static void
u_apply_deadline(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_duration(c, path, n, 1, &UCTX(obj)->u->update.deadline_ms);
}

static void
u_on_failure(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct unit	*u = UCTX(obj)->u;
	char		*s;

	if ((s = ytree_text(c, path, n, "rollback or pause")) == NULL)
		return;
	if (unit_update_failure_parse(s, &u->update.on_failure) != 0)
		ytree_err(c, n, "%s: expected rollback or pause, got '%s'",
		    path, s);
	free(s);
}

static const struct ykey update_keys[] = {
	{ "order", u_order },
	{ "parallelism", u_parallelism },
	{ "healthy_deadline", u_deadline },
	{ "monitor", u_monitor },
	{ "deadline", u_apply_deadline },
	{ "on_failure", u_on_failure },
};

void
unit_yaml_update(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	unit_yaml_walk(c, path, n, update_keys, nitems(update_keys), obj,
	    NULL);
}

/* ---- resources ----------------------------------------------------------- */

static void
r_memory(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	uint64_t	 v;
	char		*s;

	if ((s = ytree_text(c, path, n, "a size")) == NULL)
		return;
	if (parse_size(s, &v) != 0 || v > INT64_MAX)
		ytree_err(c, n, "%s: invalid size '%s' (expected a number "
		    "with an optional k, M, G or T: 512M, 1G)", path, s);
	else {
		UCTX(obj)->u->memory = v;
		YMARK(&UCTX(obj)->at, UF_MEMORY, n, path);
	}
	free(s);
}

static void
r_cpus(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	double	 v;
	char	*s;

	if ((s = ytree_text(c, path, n, "a number")) == NULL)
		return;
	/* Past an int64 of nanoCPUs is not a number of CPUs at all; the
	 * validator has the range. */
	if (parse_decimal(s, &v) != 0 || v * 1e9 > (double)INT64_MAX / 2)
		ytree_err(c, n, "%s: expected " UNIT_CPUS_WANT ", got '%s'",
		    path, s);
	else {
		UCTX(obj)->u->nano_cpus = (int64_t)(v * 1e9 + 0.5);
		YMARK(&UCTX(obj)->at, UF_CPUS, n, path);
	}
	free(s);
}

static const struct ykey resources_keys[] = {
	{ "memory", r_memory },
	{ "cpus", r_cpus },
};

void
unit_yaml_resources(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	ytree_walk(c, path, n, resources_keys, nitems(resources_keys), obj,
	    NULL);
}

/* ---- backup -------------------------------------------------------------- */

static void
b_paths(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	char	**v;
	size_t	  i;

	if ((v = ytree_strv(c, path, n, false, false)) == NULL)
		return;
	UCTX(obj)->u->backup.paths = v;
	for (i = 0; i < n->nkids; i++)
		unit_mark(&UCTX(obj)->at, UF_BACKUP_PATH, n->kids[i]->file,
		    n->kids[i]->line,
		    n->kids[i]->col, "%s[%zu]", path, i);
}

static void
b_pre(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	UCTX(obj)->u->backup.pre = ytree_strv(c, path, n, true, false);
}

static void
b_post(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	UCTX(obj)->u->backup.post = ytree_strv(c, path, n, true, false);
}

static void
b_stop(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_bool(c, path, n, &UCTX(obj)->u->backup.stop);
}

static void
b_keep(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_int(c, path, n, UNIT_KEEP_MIN, UNIT_KEEP_MAX,
	    &UCTX(obj)->u->backup.keep);
}

static void
b_timeout(struct yctx *c, const char *path, const struct ynode *n, void *obj)
{
	ytree_duration(c, path, n, 1, &UCTX(obj)->u->backup.timeout_ms);
}

static const struct ykey backup_keys[] = {
	{ "paths", b_paths },
	{ "pre", b_pre },
	{ "post", b_post },
	{ "stop", b_stop },
	{ "keep", b_keep },
	{ "timeout", b_timeout },
};

void
unit_yaml_backup(struct yctx *c, const char *path, const struct ynode *n,
    void *obj)
{
	struct unit_backup	*b = &UCTX(obj)->u->backup;
	const struct ynode	*seen[nitems(backup_keys)] = { NULL };

	b->present = true;
	b->keep = UNIT_DEF_BACKUP_KEEP;
	b->timeout_ms = UNIT_DEF_BACKUP_TIMEOUT_MS;
	if (!ytree_is(c, path, n, Y_MAP))
		return;
	ytree_walk(c, path, n, backup_keys, nitems(backup_keys), obj, seen);
	if (seen[0] == NULL)
		ytree_err(c, n, "%s: 'paths' is required", path);
}
