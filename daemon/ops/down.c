/*
 * down: stop and remove a stack's containers, dependents before what they
 * depend on, then its networks, and its volumes only when asked.  Order
 * comes from the current revision's graph; a service is taken down the
 * moment every service depending on it is gone.  What described the
 * containers (stop marks, restart counts) is cleared before the reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/req.h"
#include "engine/docker.h"
#include "ops/ops.h"
#include "state/journal.h"
#include "state/lock.h"
#include "state/revision.h"
#include "log.h"
#include "proto.h"
#include "core/shipd.h"
#include "engine/spec.h"
#include "stackgraph.h"
#include "state/store.h"
#include "util.h"
#include "engine/watch.h"
#include "ops/heal.h"

struct down_svc {
	char		*name;
	int		 grace_s;
	size_t		 waiting;	/* dependents not yet gone */
	size_t		 pending;	/* containers not yet removed */
	bool		 begun;
	bool		 done;
	int		 node;		/* graph node, or -1 */
};

struct down {
	struct shipd		*sd;
	struct task		 task;
	struct stack_lock	*lock;
	struct ctl_req		*req;
	char			*stack;
	bool			 volumes;
	json_t			*containers;
	struct graph		*graph;
	struct stack		*spec;
	struct down_svc		*svcs;
	size_t			 nsvcs;
	int			 inflight;
	size_t			 removed;
	struct buf		 errors;
	uint64_t		 t0;
};

static void	down_kick(struct down *);

static void
down_free(void *arg)
{
	struct down	*d = arg;
	size_t		 i;

	task_del(d->sd, &d->task);
	lock_release(d->sd, d->lock);
	for (i = 0; i < d->nsvcs; i++)
		free(d->svcs[i].name);
	free(d->svcs);
	json_decref(d->containers);
	if (d->graph != NULL)
		graph_free(d->graph);
	if (d->spec != NULL)
		stack_free(d->spec);
	buf_free(&d->errors);
	free(d->stack);
	free(d);
}

static void
down_error(struct down *d, const char *what, const char *msg)
{
	buf_printf(&d->errors, "%s%s: %s", d->errors.len ? "; " : "", what,
	    msg);
}

static void
down_reply(struct down *d)
{
	if (d->req != NULL) {
		if (d->errors.len > 0)
			ctl_req_err(d->req, PROTO_E_FAILED, "%s",
			    d->errors.data);
		else
			ctl_req_ok(d->req, json_pack("{s:s, s:I, s:I}",
			    "stack", d->stack, "removed",
			    (json_int_t)d->removed, "elapsed_ms",
			    (json_int_t)(now_ms() - d->t0)));
	}
	/* The lock goes now; the memory once this callback has returned. */
	task_del(d->sd, &d->task);
	lock_release(d->sd, d->lock);
	d->lock = NULL;
	defer_free(d->sd, down_free, d);
}

/* ---- the state that described the containers ----------------------------- */

static void
state_cleared(struct down *d, int err, const char *what)
{
	char msg[256];

	if (err < 0) {
		snprintf(msg, sizeof msg, "the containers are gone, but %s "
		    "could not be cleared: %s", what, strerror(-err));
		down_error(d, "state", msg);
	}
	if (--d->inflight == 0)
		down_reply(d);
}

static void
on_svcstate_cleared(int err, void *arg)
{
	state_cleared(arg, err, "the stop marks (svcstate.json)");
}

static void
on_heal_cleared(int err, void *arg)
{
	state_cleared(arg, err, "the restart counts (heal.json)");
}

/*
 * No container is left for a stop's mark to keep down, nor for the
 * supervisor's counts and crash loops to describe: the next deploy starts
 * every service afresh.  The revisions, the scale overrides and the
 * history stay.  The reply waits for these writes, since the store's
 * cache changes only when they land: a deploy sent right after it must
 * not see the old marks.
 */
static void
clear_state(struct down *d)
{
	struct store	*st = d->sd->store;
	const json_t	*doc;
	json_t		*c;

	heal_forget(d->sd, d->stack);
	if (st == NULL) {
		down_reply(d);
		return;
	}
	d->inflight++;		/* until both are submitted */
	doc = store_svcstate_get(st, d->stack);
	if (json_object_size(json_object_get(doc, "stopped")) > 0) {
		c = json_deep_copy(doc);
		json_object_del(c, "stopped");
		d->inflight++;
		store_svcstate_set(st, d->stack, c, on_svcstate_cleared, d);
		json_decref(c);
	}
	if (json_object_size(store_heal_get(st, d->stack)) > 0) {
		c = json_object();
		d->inflight++;
		store_heal_set(st, d->stack, c, on_heal_cleared, d);
		json_decref(c);
	}
	if (--d->inflight == 0)
		down_reply(d);
}

/* Everything was removed, or something failed. */
static void
down_done(struct down *d)
{
	if (d->errors.len > 0) {
		down_reply(d);
		return;
	}
	/* Nothing of the stack is left for a failed recovery to bring
	 * back: its records go (when nothing else is under way; else
	 * when the last operation ends). */
	if (journal_held(d->sd, d->stack) != NULL) {
		journal_release(d->sd, d->stack);
		if (d->sd->ops == NULL && d->sd->recovered && !d->sd->stopping)
			journal_settle(d->sd, NULL, NULL);
	}
	/* A follower of its logs or events hears that it is gone. */
	watch_stack_removed(d->sd, d->stack);
	clear_state(d);
}

/* ---- networks and volumes, last ------------------------------------------ */

static void
on_object_removed(const struct docker_result *res, void *arg)
{
	struct down *d = arg;

	/* 404: gone already; 409 on a network: something outside the
	 * stack still uses it, which the operator must hear about. */
	if (res->err != 0 && res->err != DOCKER_E_NOT_FOUND)
		down_error(d, "remove", res->message);
	if (--d->inflight == 0)
		down_done(d);
}

static void
on_objects_listed(const struct docker_result *res, void *arg, bool vols)
{
	struct down	*d = arg;
	json_t		*list, *o;
	size_t		 i;

	if (res->err != 0)
		down_error(d, vols ? "list volumes" : "list networks",
		    res->message);
	list = vols ? json_object_get(res->body, "Volumes") : res->body;
	json_array_foreach(list, i, o) {
		const char *name = json_string_value(json_object_get(o,
		    vols ? "Name" : "Id"));

		if (name == NULL)
			continue;
		d->inflight++;
		if (vols)
			docker_volume_remove(d->sd->docker, name, 0,
			    on_object_removed, d);
		else
			docker_network_remove(d->sd->docker, name,
			    on_object_removed, d);
	}
	if (--d->inflight == 0)
		down_done(d);
}

static void
on_networks(const struct docker_result *res, void *arg)
{
	on_objects_listed(res, arg, false);
}

static void
on_volumes(const struct docker_result *res, void *arg)
{
	on_objects_listed(res, arg, true);
}

static void
remove_objects(struct down *d)
{
	char *filter;

	xasprintf(&filter, LABEL_STACK "=%s", d->stack);
	d->inflight++;
	docker_networks_list(d->sd->docker, filter, on_networks, d);
	if (d->volumes) {
		d->inflight++;
		docker_volumes_list(d->sd->docker, filter, on_volumes, d);
	}
	free(filter);
}

/* ---- containers ---------------------------------------------------------- */

struct down_ctr {
	struct down	*d;
	struct down_svc	*s;
	char		*id;
	char		*name;
};

static void
svc_gone(struct down *d, struct down_svc *s)
{
	size_t	 i, n, *deps;

	s->done = true;
	if (d->req != NULL)
		ctl_req_event(d->req, PROTO_EV_SERVICE, json_pack("{s:s, s:s, s:I}",
		    "service", s->name, "status", "removed", "elapsed_ms",
		    (json_int_t)(now_ms() - d->t0)));
	if (s->node >= 0) {
		deps = xcalloc(d->nsvcs + graph_count(d->graph), sizeof *deps);
		n = graph_deps(d->graph, (size_t)s->node, deps, NULL);
		for (i = 0; i < d->nsvcs; i++) {
			size_t k;

			for (k = 0; k < n; k++)
				if (d->svcs[i].node == (int)deps[k] &&
				    d->svcs[i].waiting > 0)
					d->svcs[i].waiting--;
		}
		free(deps);
	}
}

static void
on_ctr_removed(const struct docker_result *res, void *arg)
{
	struct down_ctr	*c = arg;
	struct down	*d = c->d;

	if (res->err != 0 && res->err != DOCKER_E_NOT_FOUND)
		down_error(d, c->name, res->message);
	else
		d->removed++;
	if (--c->s->pending == 0)
		svc_gone(d, c->s);
	free(c->id);
	free(c->name);
	free(c);
	d->inflight--;
	down_kick(d);
}

static void
on_ctr_stopped(const struct docker_result *res, void *arg)
{
	struct down_ctr *c = arg;

	if (res->err != 0 && res->err != DOCKER_E_NOT_FOUND)
		log_warn("down %s: stop %s: %s", c->d->stack, c->name,
		    res->message);
	/* force: whatever the stop did, the container goes. */
	docker_container_remove(c->d->sd->docker, c->id, 1, 0,
	    on_ctr_removed, c);
}

static void
svc_down(struct down *d, struct down_svc *s)
{
	json_t	*c;
	size_t	 i;

	s->begun = true;
	if (s->pending == 0) {
		svc_gone(d, s);
		return;
	}
	json_array_foreach(d->containers, i, c) {
		const char *svc = json_string_value(json_object_get(
		    json_object_get(c, "Labels"), LABEL_SERVICE));
		const char *name = json_string_value(json_array_get(
		    json_object_get(c, "Names"), 0));
		struct down_ctr *dc;

		if (svc == NULL || strcmp(svc, s->name) != 0)
			continue;
		dc = xcalloc(1, sizeof *dc);
		dc->d = d;
		dc->s = s;
		dc->id = xstrdup(json_string_value(json_object_get(c, "Id")));
		dc->name = xstrdup(name ? name + (name[0] == '/') : dc->id);
		d->inflight++;
		docker_container_stop(d->sd->docker, dc->id, s->grace_s,
		    on_ctr_stopped, dc);
	}
}

static void
down_kick(struct down *d)
{
	size_t	i;
	bool	all = true;

	for (i = 0; i < d->nsvcs; i++) {
		struct down_svc *s = &d->svcs[i];

		if (!s->begun && s->waiting == 0)
			svc_down(d, s);
		if (!s->done)
			all = false;
	}
	if (all && d->inflight == 0)
		remove_objects(d);
}

static struct down_svc *
svc_get(struct down *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->nsvcs; i++)
		if (strcmp(d->svcs[i].name, name) == 0)
			return &d->svcs[i];
	d->svcs = xrealloc(d->svcs, (d->nsvcs + 1) * sizeof *d->svcs);
	memset(&d->svcs[d->nsvcs], 0, sizeof *d->svcs);
	d->svcs[d->nsvcs].name = xstrdup(name);
	d->svcs[d->nsvcs].node = -1;
	d->svcs[d->nsvcs].grace_s = 10;
	return &d->svcs[d->nsvcs++];
}

static void
on_listed(const struct docker_result *res, void *arg)
{
	struct down	*d = arg;
	json_t		*c;
	size_t		 i, j, n, *deps;

	if (res->err != 0) {
		down_error(d, "list containers", res->message);
		down_done(d);
		return;
	}
	d->containers = json_incref(res->body);
	json_array_foreach(d->containers, i, c) {
		const char *svc = json_string_value(json_object_get(
		    json_object_get(c, "Labels"), LABEL_SERVICE));

		svc_get(d, svc ? svc : "?")->pending++;
	}
	/* Dependents first, where the current revision says who they are. */
	for (i = 0; d->graph != NULL && i < d->nsvcs; i++) {
		struct down_svc *s = &d->svcs[i];
		const struct unit *u = stack_unit(d->spec, s->name);

		s->node = graph_index(d->graph, s->name);
		if (u != NULL)
			s->grace_s = (int)((u->stop_grace_ms + 999) / 1000);
	}
	deps = xcalloc(d->nsvcs + 1, sizeof *deps);
	for (i = 0; d->graph != NULL && i < d->nsvcs; i++) {
		if (d->svcs[i].node < 0)
			continue;
		n = graph_deps(d->graph, (size_t)d->svcs[i].node, NULL, NULL);
		deps = xrealloc(deps, (n + 1) * sizeof *deps);
		n = graph_deps(d->graph, (size_t)d->svcs[i].node, deps, NULL);
		for (j = 0; j < d->nsvcs; j++) {
			size_t k;

			for (k = 0; k < n; k++)
				if (d->svcs[j].node == (int)deps[k])
					d->svcs[j].waiting++;
		}
	}
	free(deps);
	down_kick(d);
}

static void
on_cancel(struct ctl_req *r, void *arg)
{
	struct down *d = arg;

	(void)r;
	d->req = NULL;
}

void
ops_down(struct shipd *sd, struct ctl_req *r, const char *stack, bool volumes)
{
	struct down		*d;
	struct stack_lock	*lock;
	char			 why[256], *filter;

	if (lock_acquire(sd, stack, "down", r->uid, r->pid, &lock, why,
	    sizeof why) < 0) {
		ctl_req_err(r, PROTO_E_BUSY, "%s", why);
		return;
	}
	d = xcalloc(1, sizeof *d);
	d->lock = lock;
	d->sd = sd;
	d->req = r;
	d->stack = xstrdup(stack);
	d->volumes = volumes;
	d->t0 = now_ms();
	buf_init(&d->errors);
	task_add(sd, &d->task, d, down_free);
	ctl_req_on_cancel(r, on_cancel, d);
	/* Without a readable current revision there is no order to keep:
	 * everything goes at once. */
	if (revision_load(sd->store, stack, 0, &d->spec, &d->graph, NULL, why,
	    sizeof why) < 0)
		log_info("down %s: %s; removing in any order", stack, why);
	xasprintf(&filter, LABEL_STACK "=%s", d->stack);
	docker_containers_list(sd->docker, filter, 1, on_listed, d);
	free(filter);
}
