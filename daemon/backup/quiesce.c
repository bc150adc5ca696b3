/*
 * Quiesce: take a set of services and everything that depends on them out
 * of service for a copy (a backup with stop: true, a restore), dependents
 * first, and bring back exactly what was running, dependencies first, each
 * replica gated on health before the next service starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup_int.h"
#include "engine/docker.h"
#include "engine/gate.h"
#include "log.h"
#include "core/shipd.h"
#include "engine/spec.h"
#include "util.h"

struct qctr {
	struct quiesce		*q;
	char			*id;
	char			*name;
	size_t			 node;
	struct docker_req	*dreq;
	struct gate		*gate;
};

struct quiesce {
	struct shipd		*sd;
	int			 refs;
	uv_timer_t		 kick;		/* each sequence's first step */
	const struct stack	*st;
	const struct graph	*g;
	size_t			*order;		/* the sequence under way */
	size_t			 norder;
	size_t			 pos;
	int			 inflight;	/* of the service at pos */
	bool			 starting;
	bool			 stopped_any;
	bool			 svc_failed;
	unsigned char		*set;		/* by graph node */
	struct qctr		*ctrs;
	size_t			 nctrs;
	struct buf		 errors;
	quiesce_event_cb	*ev;
	quiesce_cb		*cb;
	void			*arg;
};

static void	step(struct quiesce *);

static void
q_error(struct quiesce *q, const char *name, const char *what,
    const char *msg)
{
	buf_printf(&q->errors, "%s%s: %s: %s", q->errors.len ? "\n" : "",
	    name, what, msg);
}

static void
event(struct quiesce *q, size_t node, const char *status)
{
	if (q->ev != NULL)
		q->ev(graph_name(q->g, node), status, q->arg);
}

static void
svc_settled(struct quiesce *q)
{
	if (--q->inflight > 0)
		return;
	if (q->starting)
		event(q, q->order[q->pos], q->svc_failed ? "failed" :
		    "healthy");
	else if (!q->svc_failed)
		event(q, q->order[q->pos], "stopped");
	q->pos++;
	/* A failed stop ends the stopping; a failed start does not end the
	 * starting, since the rest may still come up. */
	if (!q->starting && q->svc_failed)
		q->pos = q->norder;
	step(q);
}

static void
on_gate(int ok, const char *why, void *arg)
{
	struct qctr *c = arg;

	c->gate = NULL;
	if (!ok) {
		c->q->svc_failed = true;
		q_error(c->q, c->name, "not healthy after restart",
		    why ? why : "gate failed");
	}
	svc_settled(c->q);
}

static void
on_started(const struct docker_result *res, void *arg)
{
	struct qctr		*c = arg;
	struct quiesce		*q = c->q;
	const struct unit	*u = q->st->units[c->node];

	c->dreq = NULL;
	if (res->err != 0) {
		q->svc_failed = true;
		q_error(q, c->name, "start", res->message);
		svc_settled(q);
		return;
	}
	c->gate = gate_start(q->sd, u, c->id, c->name, GATE_HEALTHY,
	    u->update.healthy_deadline_ms, on_gate, c);
}

static void
on_stopped(const struct docker_result *res, void *arg)
{
	struct qctr *c = arg;

	c->dreq = NULL;
	if (res->err != 0 && res->err != DOCKER_E_NOT_FOUND) {
		c->q->svc_failed = true;
		q_error(c->q, c->name, "stop", res->message);
	} else
		c->q->stopped_any = true;
	svc_settled(c->q);
}

/* Every replica of the service at pos at once; the next service after. */
static void
step(struct quiesce *q)
{
	const struct unit	*u;
	quiesce_cb		*cb;
	size_t			 node, i;

	while (q->pos < q->norder) {
		node = q->order[q->pos];
		u = q->st->units[node];
		q->svc_failed = false;
		q->inflight = 1;	/* held while the calls go out */
		for (i = 0; i < q->nctrs; i++) {
			struct qctr *c = &q->ctrs[i];

			if (c->node != node)
				continue;
			q->inflight++;
			if (q->starting)
				c->dreq = docker_container_start(q->sd->docker,
				    c->id, on_started, c);
			else
				c->dreq = docker_container_stop(q->sd->docker,
				    c->id, (int)((u->stop_grace_ms + 999) /
				    1000), on_stopped, c);
		}
		if (q->inflight > 1) {
			event(q, node, q->starting ? "starting" : "stopping");
			q->inflight--;
			return;
		}
		/* Nothing of it runs: nothing to do, nothing to report. */
		q->inflight = 0;
		q->pos++;
	}
	cb = q->cb;
	q->cb = NULL;
	if (cb == NULL)
		return;
	/* The owner may drop its reference in cb: q lasts until it returns. */
	quiesce_ref(q);
	cb(q->errors.len ? q->errors.data : NULL, q->arg);
	quiesce_unref(q);
}

static void
on_kick(uv_timer_t *t)
{
	step(t->data);
}

/* The nodes of the set, in topological order (or reversed). */
static void
set_order(struct quiesce *q, const unsigned char *set, bool reverse)
{
	size_t	n = graph_count(q->g), i, *all = xcalloc(n + 1, sizeof *all);

	if (reverse)
		graph_reverse_order(q->g, all);
	else
		graph_topo_order(q->g, all);
	free(q->order);
	q->order = xcalloc(n + 1, sizeof *q->order);
	q->norder = 0;
	for (i = 0; i < n; i++)
		if (set[all[i]])
			q->order[q->norder++] = all[i];
	free(all);
	q->pos = 0;
}

struct quiesce *
quiesce_new(struct shipd *sd, const struct stack *st, const struct graph *g,
    const unsigned char *mark, json_t *containers, quiesce_event_cb *ev,
    void *arg)
{
	struct quiesce	*q = xcalloc(1, sizeof *q);
	size_t		 n = graph_count(g), i;
	unsigned char	*set = xcalloc(n + 1, 1);
	json_t		*c;

	q->sd = sd;
	q->refs = 1;		/* the caller's */
	uv_timer_init(sd->loop, &q->kick);
	q->kick.data = q;
	q->st = st;
	q->g = g;
	q->ev = ev;
	q->arg = arg;
	buf_init(&q->errors);
	q->set = set;
	memcpy(set, mark, n);
	for (i = 0; i < n; i++)
		if (mark[i])
			graph_closure_dependents(g, i, set);
	json_array_foreach(containers, i, c) {
		const char *svc = json_string_value(json_object_get(
		    json_object_get(c, "Labels"), LABEL_SERVICE));
		const char *name = json_string_value(json_array_get(
		    json_object_get(c, "Names"), 0));
		const char *state = json_string_value(json_object_get(c,
		    "State"));
		int node = svc ? graph_index(g, svc) : -1;
		struct qctr *qc;

		if (node < 0 || !set[node] || name == NULL ||
		    spec_kept_revision(name + (name[0] == '/')) > 0 ||
		    state == NULL || strcmp(state, "running") != 0)
			continue;
		q->ctrs = xrealloc(q->ctrs, (q->nctrs + 1) * sizeof *q->ctrs);
		qc = &q->ctrs[q->nctrs++];
		memset(qc, 0, sizeof *qc);
		qc->id = xstrdup(json_string_value(json_object_get(c, "Id")));
		qc->name = xstrdup(name + (name[0] == '/'));
		qc->node = (size_t)node;
	}
	/* The array is final: containers' back pointers may be set now. */
	for (i = 0; i < q->nctrs; i++)
		q->ctrs[i].q = q;
	return q;
}

json_t *
quiesce_targets(const struct quiesce *q)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < q->nctrs; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}",
		    "service", graph_name(q->g, q->ctrs[i].node), "id",
		    q->ctrs[i].id, "name", q->ctrs[i].name));
	return a;
}

struct quiesce *
quiesce_from_targets(struct shipd *sd, const struct stack *st,
    const struct graph *g, const json_t *targets, quiesce_event_cb *ev,
    void *arg)
{
	size_t		 n = graph_count(g), i;
	unsigned char	*mark = xcalloc(n + 1, 1);
	json_t		*list = json_array(), *t;
	struct quiesce	*q;
	int		 node;

	/* Shaped as the engine's list, every one running, so quiesce_new
	 * takes them all; only those named are marked. */
	json_array_foreach(targets, i, t) {
		const char *svc = json_string_value(json_object_get(t,
		    "service"));
		const char *id = json_string_value(json_object_get(t, "id"));
		const char *name = json_string_value(json_object_get(t,
		    "name"));

		if (svc == NULL || id == NULL || name == NULL ||
		    (node = graph_index(g, svc)) < 0)
			continue;
		mark[node] = 1;
		json_array_append_new(list, json_pack("{s:s, s:[s], s:s, "
		    "s:{s:s}}", "Id", id, "Names", name, "State", "running",
		    "Labels", LABEL_SERVICE, svc));
	}
	q = quiesce_new(sd, st, g, mark, list, ev, arg);
	/* Only what was stopped: not the dependents quiesce_new added. */
	memcpy(q->set, mark, n);
	free(mark);
	json_decref(list);
	return q;
}

void
quiesce_stop(struct quiesce *q, quiesce_cb *cb, void *arg)
{
	q->cb = cb;
	q->arg = arg;
	set_order(q, q->set, true);
	/* Never from inside this call, even with nothing to stop. */
	uv_timer_start(&q->kick, on_kick, 0, 0);
}

void
quiesce_start(struct quiesce *q, quiesce_cb *cb, void *arg)
{
	buf_reset(&q->errors);
	q->starting = true;
	q->cb = cb;
	q->arg = arg;
	set_order(q, q->set, false);
	uv_timer_start(&q->kick, on_kick, 0, 0);
}

bool
quiesce_has(const struct quiesce *q, const char *service)
{
	int node = graph_index(q->g, service);

	return node >= 0 && q->set[node];
}

bool
quiesce_stopped_any(const struct quiesce *q)
{
	return q->stopped_any;
}

static void
on_closed(uv_handle_t *h)
{
	struct quiesce	*q = h->data;
	size_t		 i;

	for (i = 0; i < q->nctrs; i++) {
		free(q->ctrs[i].id);
		free(q->ctrs[i].name);
	}
	free(q->ctrs);
	free(q->order);
	free(q->set);
	buf_free(&q->errors);
	free(q);
}

void
quiesce_ref(struct quiesce *q)
{
	q->refs++;
}

void
quiesce_unref(struct quiesce *q)
{
	size_t i;

	if (q == NULL)
		return;
	assert(q->refs > 0);
	if (--q->refs > 0)
		return;
	q->cb = NULL;
	for (i = 0; i < q->nctrs; i++) {
		/* Once the engine client is closed its requests are gone. */
		if (q->sd->docker != NULL)
			docker_cancel(q->ctrs[i].dreq);
		q->ctrs[i].dreq = NULL;
		gate_cancel(q->ctrs[i].gate);
		q->ctrs[i].gate = NULL;
	}
	uv_close((uv_handle_t *)&q->kick, on_closed);
}
