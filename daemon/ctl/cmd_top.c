/*
 * top: the latest engine stats sample of every running replica of
 * shipd's stacks (engine/stats.c), with its health, restarts and uptime.
 * Read-only and answered at once from what the streams hold.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/shipd.h"
#include "ctl/ctl.h"
#include "engine/spec.h"
#include "engine/stats.h"
#include "ops/health.h"
#include "proto.h"
#include "util.h"

struct pick {
	const char			 *stack;
	const struct stats_sample	**v;
	size_t				  n;
};

static void
pick_one(const struct stats_sample *s, void *arg)
{
	struct pick *p = arg;

	if (p->stack != NULL && strcmp(p->stack, s->stack) != 0)
		return;
	if (p->n < STATS_MAX)
		p->v[p->n++] = s;
}

static int
cmp_sample(const void *a, const void *b)
{
	const struct stats_sample *x = *(const struct stats_sample *const *)a;
	const struct stats_sample *y = *(const struct stats_sample *const *)b;
	int c;

	if ((c = strcmp(x->stack, y->stack)) != 0 ||
	    (c = strcmp(x->service, y->service)) != 0)
		return c;
	if (x->replica != y->replica)
		return x->replica < y->replica ? -1 : 1;
	return strcmp(x->name, y->name);
}

static json_t *
sample_json(struct shipd *sd, const struct stats_sample *s, time_t now)
{
	const char	*h = health_own(sd, s->id, NULL);
	char		 t[64];
	json_t		*o;

	if (h == NULL)
		h = s->health;
	o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:b, s:b, s:s, s:i}",
	    "stack", s->stack, "service", s->service, "replica", s->replica,
	    "name", s->name, "id", s->id, "kept", spec_kept_revision(s->name) >
	    0, "sampled", s->have, "health", h, "restarts", s->restarts);
	json_object_set_new(o, "cpu_percent", json_real(s->cpu_percent));
	json_object_set_new(o, "online_cpus", json_integer(s->online_cpus));
	json_object_set_new(o, "memory_bytes",
	    json_integer((json_int_t)s->mem_bytes));
	json_object_set_new(o, "memory_limit_bytes",
	    json_integer((json_int_t)s->mem_limit));
	json_object_set_new(o, "rx_bytes", json_integer((json_int_t)s->rx_bytes));
	json_object_set_new(o, "tx_bytes", json_integer((json_int_t)s->tx_bytes));
	if (s->started > 0) {
		fmt_time_utc(t, sizeof t, (long long)s->started);
		json_object_set_new(o, "started", json_string(t));
		json_object_set_new(o, "uptime_ms", json_integer(
		    (json_int_t)(now > s->started ? now - s->started : 0) *
		    1000));
	}
	return o;
}

static void
cmd_top(struct shipd *sd, struct ctl_req *r)
{
	struct pick	 p;
	json_t		*a = json_array();
	time_t		 now = time(NULL);
	size_t		 i;

	memset(&p, 0, sizeof p);
	p.stack = ctl_str(r, "stack");
	p.v = xcalloc(STATS_MAX, sizeof *p.v);
	stats_foreach(sd, pick_one, &p);
	qsort(p.v, p.n, sizeof *p.v, cmp_sample);
	for (i = 0; i < p.n; i++)
		json_array_append_new(a, sample_json(sd, p.v[i], now));
	free(p.v);
	ctl_req_ok(r, json_pack("{s:o, s:b}", "containers", a,
	    "engine_reachable", sd->engine_ok));
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_top = {
	PROTO_CMD_TOP, false, false, cmd_top, args
};
