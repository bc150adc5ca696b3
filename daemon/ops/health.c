/*
 * The health watcher (health.h): when the engine says a container of a
 * stack started, died, was renamed or removed (or after a commit, or a
 * resync of the event stream), list the running replicas of every stack
 * again; for each whose service in the current revision has an http or
 * tcp check, keep an entry that inspects it once for its address and then
 * probes it at the check's interval.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "engine/docker.h"
#include "engine/probe.h"
#include "engine/spec.h"
#include "engine/watch.h"
#include "ops/health.h"
#include "proto.h"
#include "state/revision.h"
#include "state/store.h"
#include "util.h"

/* A burst of events (a deploy's) makes one list, this long after the
 * first of them. */
#define HEALTH_COALESCE_MS	50

enum verdict { V_STARTING, V_HEALTHY, V_UNHEALTHY };

struct hentry {
	struct health		*h;
	struct hentry		*next;
	char			*id;
	char			*stack;		/* its labels */
	char			*svc;
	struct unit_health	 chk;		/* http_path owned, test NULL */
	char			*ip;
	uv_timer_t		 timer;
	struct probe		*probe;
	struct docker_req	*dreq;
	int			 fails;		/* in a row */
	enum verdict		 verdict;
	char			 detail[96];
	unsigned		 gen;		/* last scan that listed it */
	struct health_sub	*subs;
};

struct health_sub {
	struct hentry		*e;
	health_bad_cb		*cb;
	void			*arg;
	struct health_sub	*next;
};

/* The current revision of a stack, loaded once per revision. */
struct hstack {
	char			*name;
	int			 rev;
	struct stack		*st;
	struct hstack		*next;
};

struct health {
	struct shipd		*sd;
	uv_timer_t		 tick;		/* the next list, once */
	struct watch		*watch;		/* every stack's events */
	bool			 again;		/* an event during a list */
	struct docker_req	*list;
	struct hentry		*entries;
	struct hstack		*stacks;
	unsigned		 gen;
};

static void	entry_probe(uv_timer_t *);
static void	on_tick(uv_timer_t *);

static bool
own_check(const struct unit_health *c)
{
	return c->kind == HEALTH_HTTP || c->kind == HEALTH_TCP;
}

static bool
same_check(const struct unit_health *a, const struct unit_health *b)
{
	return a->kind == b->kind && a->port == b->port &&
	    a->interval_ms == b->interval_ms &&
	    a->timeout_ms == b->timeout_ms && a->retries == b->retries &&
	    strcmp(a->http_path ? a->http_path : "",
	    b->http_path ? b->http_path : "") == 0;
}

static struct hentry *
entry_find(struct health *h, const char *id)
{
	struct hentry *e;

	for (e = h->entries; e != NULL; e = e->next)
		if (strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

static void
entry_closed(uv_handle_t *t)
{
	struct hentry *e = t->data;

	free(e->id);
	free(e->stack);
	free(e->svc);
	free(e->ip);
	free(e->chk.http_path);
	free(e);
}

/* Off the list already; its subscribers are gone. */
static void
entry_free(struct hentry *e)
{
	probe_cancel(e->probe);
	docker_cancel(e->dreq);
	uv_timer_stop(&e->timer);
	uv_close((uv_handle_t *)&e->timer, entry_closed);
}

static void
entry_result(struct hentry *e, int ok, const char *detail)
{
	struct health_sub *s;

	snprintf(e->detail, sizeof e->detail, "%s", detail ? detail : "");
	if (ok) {
		e->fails = 0;
		e->verdict = V_HEALTHY;
	} else if (++e->fails >= (e->chk.retries > 0 ? e->chk.retries : 1))
		e->verdict = V_UNHEALTHY;
	uv_timer_start(&e->timer, entry_probe, e->chk.interval_ms ?
	    e->chk.interval_ms : 1000, 0);
	/* The subscriber cancels on the first report: tell one.  With
	 * none (no gate is judging it), the supervisor is told. */
	if (e->verdict == V_UNHEALTHY && (s = e->subs) != NULL)
		s->cb(e->id, e->detail, s->arg);
	else if (e->verdict == V_UNHEALTHY && e->h->sd->heal_unhealthy != NULL)
		e->h->sd->heal_unhealthy(e->h->sd, e->stack, e->svc, e->id,
		    e->detail);
}

static void
on_probed(int ok, const char *detail, void *arg)
{
	struct hentry *e = arg;

	e->probe = NULL;
	entry_result(e, ok, detail);
}

static void
on_inspected(const struct docker_result *res, void *arg)
{
	struct hentry	*e = arg;
	json_t		*nets, *n;
	const char	*key, *ip;

	e->dreq = NULL;
	if (res->err != 0) {
		entry_result(e, 0, res->message);
		return;
	}
	nets = json_object_get(json_object_get(res->body, "NetworkSettings"),
	    "Networks");
	json_object_foreach(nets, key, n) {
		ip = json_string_value(json_object_get(n, "IPAddress"));
		if (ip != NULL && *ip != '\0') {
			e->ip = xstrdup(ip);
			break;
		}
	}
	if (e->ip == NULL) {
		entry_result(e, 0, "no address");
		return;
	}
	entry_probe(&e->timer);
}

static void
entry_probe(uv_timer_t *t)
{
	struct hentry	*e = t->data;
	struct shipd	*sd = e->h->sd;
	uint64_t	 to = e->chk.timeout_ms ? e->chk.timeout_ms : 1000;

	if (e->ip == NULL) {
		if (sd->docker != NULL && sd->engine_ok)
			e->dreq = docker_container_inspect(sd->docker, e->id,
			    on_inspected, e);
		else
			entry_result(e, 0, "engine unavailable");
		return;
	}
	e->probe = e->chk.kind == HEALTH_HTTP ?
	    probe_http(sd->loop, e->ip, e->chk.port, e->chk.http_path, to,
		on_probed, e) :
	    probe_tcp(sd->loop, e->ip, e->chk.port, to, on_probed, e);
}

/* A check other than the one probed so far: its verdict starts over. */
static void
entry_set_check(struct hentry *e, const struct unit_health *c)
{
	free(e->chk.http_path);
	e->chk = *c;
	e->chk.test = NULL;
	e->chk.http_path = c->http_path ? xstrdup(c->http_path) : NULL;
	e->fails = 0;
	e->verdict = V_STARTING;
}

static struct hentry *
entry_new(struct health *h, const char *id, const struct unit_health *c)
{
	struct hentry *e = xcalloc(1, sizeof *e);

	e->h = h;
	e->id = xstrdup(id);
	entry_set_check(e, c);
	e->gen = h->gen;
	uv_timer_init(h->sd->loop, &e->timer);
	e->timer.data = e;
	/* The first probe on the next turn: no work inside our caller. */
	uv_timer_start(&e->timer, entry_probe, 0, 0);
	e->next = h->entries;
	h->entries = e;
	return e;
}

/* ---- the scan ------------------------------------------------------------ */

static const struct stack *
stack_current(struct health *h, const char *name)
{
	struct hstack	*s;
	char		 why[256];
	int		 cur = store_current(h->sd->store, name);

	for (s = h->stacks; s != NULL; s = s->next)
		if (strcmp(s->name, name) == 0)
			break;
	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		s->name = xstrdup(name);
		s->next = h->stacks;
		h->stacks = s;
	}
	if (s->rev != cur) {
		stack_free(s->st);
		s->st = NULL;
		s->rev = cur;
		if (cur > 0 && revision_load(h->sd->store, name, 0, &s->st,
		    NULL, NULL, why, sizeof why) != 0)
			s->st = NULL;
	}
	return s->st;
}

static const char *
label(json_t *c, const char *key)
{
	return json_string_value(json_object_get(json_object_get(c, "Labels"),
	    key));
}

/*
 * The unit a listed container is checked by: its service in the stack's
 * current revision, when that has an http or tcp check.  Kept containers
 * are not, nor those of a revision not yet committed (the deploy's gate
 * and monitor period are theirs).
 */
static const struct unit *
checked_unit(struct health *h, json_t *c)
{
	const struct stack	*st;
	const struct unit	*u;
	const char		*stack, *svc, *name, *rev;

	stack = label(c, LABEL_STACK);
	svc = label(c, LABEL_SERVICE);
	rev = label(c, LABEL_REVISION);
	name = json_string_value(json_array_get(json_object_get(c, "Names"),
	    0));
	if (stack == NULL || svc == NULL || name == NULL ||
	    spec_kept_revision(name[0] == '/' ? name + 1 : name) > 0 ||
	    (st = stack_current(h, stack)) == NULL ||
	    (rev != NULL && atoi(rev) > store_current(h->sd->store, stack)) ||
	    (u = stack_unit(st, svc)) == NULL || !own_check(&u->health))
		return NULL;
	return u;
}

static void
scan_row(struct health *h, json_t *c)
{
	const struct unit	*u;
	struct hentry		*e;
	const char		*id;

	if ((id = json_string_value(json_object_get(c, "Id"))) == NULL ||
	    (u = checked_unit(h, c)) == NULL)
		return;
	/* A new revision changed the check; a subscriber's is the newer. */
	if ((e = entry_find(h, id)) != NULL && e->subs == NULL &&
	    !same_check(&e->chk, &u->health))
		entry_set_check(e, &u->health);
	if (e == NULL)
		e = entry_new(h, id, &u->health);
	if (e->stack == NULL) {
		e->stack = xstrdup(label(c, LABEL_STACK));
		e->svc = xstrdup(u->name);
	}
	e->gen = h->gen;
}

/* Drop what the last scan did not list (stopped, removed, no longer
 * checked), unless a subscriber still wants it. */
static void
scan_sweep(struct health *h)
{
	struct hentry **pp = &h->entries, *e;

	while ((e = *pp) != NULL) {
		if (e->gen != h->gen && e->subs == NULL) {
			*pp = e->next;
			entry_free(e);
		} else
			pp = &e->next;
	}
}

static void
on_listed(const struct docker_result *res, void *arg)
{
	struct health	*h = arg;
	json_t		*c;
	size_t		 i;

	h->list = NULL;
	if (res->err == 0) {
		h->gen++;
		json_array_foreach(res->body, i, c)
			scan_row(h, c);
		scan_sweep(h);
	}
	if (h->again || res->err != 0) {
		h->again = false;
		uv_timer_start(&h->tick, on_tick, res->err != 0 ? 1000 :
		    HEALTH_COALESCE_MS, 0);
	}
}

static void
on_tick(uv_timer_t *t)
{
	struct health	*h = t->data;
	struct shipd	*sd = h->sd;

	if (h->list == NULL && sd->docker != NULL && sd->engine_ok &&
	    sd->store != NULL)
		h->list = docker_containers_list(sd->docker, LABEL_STACK, 0,
		    on_listed, h);
}

/* List again soon; once the list under way is in, when there is one. */
static void
rescan(struct health *h, uint64_t delay)
{
	if (h->list != NULL)
		h->again = true;
	else if (!uv_is_active((uv_handle_t *)&h->tick))
		uv_timer_start(&h->tick, on_tick, delay, 0);
}

static void
on_engine_event(const char *id, const char *action, json_t *ev, void *arg)
{
	struct health *h = arg;

	(void)id;
	(void)ev;
	if (strcmp(action, "start") == 0 || strcmp(action, "die") == 0 ||
	    strcmp(action, "destroy") == 0 || strcmp(action, "rename") == 0 ||
	    strcmp(action, WATCH_RESYNC) == 0)
		rescan(h, HEALTH_COALESCE_MS);
}

void
health_start(struct shipd *sd)
{
	struct health *h;

	if (sd->health != NULL || sd->stopping)
		return;
	h = xcalloc(1, sizeof *h);
	h->sd = sd;
	uv_timer_init(sd->loop, &h->tick);
	h->tick.data = h;
	sd->health = h;
	h->watch = watch_stack(sd, NULL, on_engine_event, h);
	rescan(h, 0);
}

void
health_refresh(struct shipd *sd)
{
	if (sd->health != NULL)
		rescan(sd->health, 0);
}

static void
health_closed(uv_handle_t *t)
{
	free(t->data);
}

void
health_stop(struct shipd *sd)
{
	struct health	*h = sd->health;
	struct hentry	*e;
	struct hstack	*s;
	struct health_sub *sub;

	if (h == NULL)
		return;
	sd->health = NULL;
	watch_cancel(h->watch);
	docker_cancel(h->list);
	while ((e = h->entries) != NULL) {
		h->entries = e->next;
		while ((sub = e->subs) != NULL) {
			e->subs = sub->next;
			free(sub);
		}
		entry_free(e);
	}
	while ((s = h->stacks) != NULL) {
		h->stacks = s->next;
		stack_free(s->st);
		free(s->name);
		free(s);
	}
	uv_timer_stop(&h->tick);
	uv_close((uv_handle_t *)&h->tick, health_closed);
}

const char *
health_own(struct shipd *sd, const char *id, const char **detail)
{
	struct hentry *e;

	if (sd->health == NULL || (e = entry_find(sd->health, id)) == NULL)
		return NULL;
	if (detail != NULL)
		*detail = e->detail;
	switch (e->verdict) {
	case V_HEALTHY:
		return "healthy";
	case V_UNHEALTHY:
		return "unhealthy";
	default:
		return "starting";
	}
}

struct health_sub *
health_subscribe(struct shipd *sd, const char *id, const struct unit *u,
    health_bad_cb *cb, void *arg)
{
	struct health		*h = sd->health;
	struct hentry		*e;
	struct health_sub	*s;

	if (h == NULL || !own_check(&u->health))
		return NULL;
	if ((e = entry_find(h, id)) == NULL)
		e = entry_new(h, id, &u->health);
	else if (!same_check(&e->chk, &u->health))
		entry_set_check(e, &u->health);
	s = xcalloc(1, sizeof *s);
	s->e = e;
	s->cb = cb;
	s->arg = arg;
	s->next = e->subs;
	e->subs = s;
	return s;
}

void
health_unsubscribe(struct health_sub *s)
{
	struct health_sub **pp;

	if (s == NULL)
		return;
	for (pp = &s->e->subs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	free(s);
}
