/*
 * The supervisor (heal.h).  It listens to every stack's engine events for
 * "health_status: unhealthy" and to shipd's own checks (health.c calls
 * heal_unhealthy()), and restarts the service of a replica that stays
 * unhealthy through an operation of kind restart: under the stack's lock,
 * journaled, gated, with the dependents whose depends_on says restart:
 * true after it, in dependency order.  It never takes the lock from a
 * deploy or rollback: while one holds it, the heal waits and tries again
 * once a second (it is after the deploy that the service is judged).
 * Each heal, wait, failure and crash loop is an event of type "heal" on
 * the stack's event fan-out (shipctl events, notify, metrics).  The
 * counts, the last reason and the crash loop are kept in the stack's
 * heal.json, rewritten on each change and read back when shipd starts,
 * so status and shipd_restarts_total go on from where they were.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/metrics.h"
#include "core/shipd.h"
#include "engine/docker.h"
#include "engine/spec.h"
#include "engine/watch.h"
#include "graph.h"
#include "log.h"
#include "ops/boot.h"
#include "ops/heal.h"
#include "ops/health.h"
#include "ops/op.h"
#include "ops/ops.h"
#include "state/lock.h"
#include "state/revision.h"
#include "state/store.h"
#include "util.h"

#define HEAL_LOCK_RETRY_MS	1000
#define HEAL_UNHEALTHY		"health_status: unhealthy"

struct hsvc {
	struct heal	*hl;
	char		*stack;
	char		*svc;
	struct heal_pol	 pol;
	int		 restarts;
	json_t		*reasons;	/* {reason: restarts}, for metrics */
	char		 reason[160];
	char		*id;		/* the replica it is for */
	time_t		 last;		/* last heal started */
	uv_timer_t	 timer;
	bool		 pending;	/* timer armed */
	bool		 running;	/* its restart is under way */
	struct docker_req *dreq;	/* is it still unhealthy? */
	struct hsvc	*next;
};

struct heal {
	struct shipd		*sd;
	struct watch		*watch;
	struct hsvc		*svcs;
	struct heal_stats	 stats;
	struct boot		*boot;
	bool			 loaded;	/* heal.json read back */
	bool			 stopped;
};

static void	on_timer(uv_timer_t *);
static void	schedule(struct hsvc *, uint64_t);

static uint64_t
env_ms(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? strtoull(v, NULL, 10) : dflt;
}

static struct heal *
heal_get(struct shipd *sd)
{
	struct heal *hl;

	if ((hl = sd->heal) == NULL) {
		hl = sd->heal = xcalloc(1, sizeof *hl);
		hl->sd = sd;
	}
	return hl;
}

static struct hsvc *
hsvc_get(struct heal *hl, const char *stack, const char *svc, bool make)
{
	struct hsvc *h;

	for (h = hl->svcs; h != NULL; h = h->next)
		if (strcmp(h->stack, stack) == 0 && strcmp(h->svc, svc) == 0)
			return h;
	if (!make)
		return NULL;
	h = xcalloc(1, sizeof *h);
	h->hl = hl;
	h->stack = xstrdup(stack);
	h->svc = xstrdup(svc);
	heal_pol_init(&h->pol);
	/* Test knobs: shorter waits and windows than an operator's. */
	h->pol.backoff_min_ms = env_ms("SHIPD_TEST_HEAL_BACKOFF_MS",
	    HEAL_BACKOFF_MIN_MS);
	h->pol.backoff_max_ms = env_ms("SHIPD_TEST_HEAL_BACKOFF_MAX_MS",
	    HEAL_BACKOFF_MAX_MS);
	h->pol.loop_count = (unsigned)env_ms("SHIPD_TEST_HEAL_LOOP_COUNT",
	    HEAL_LOOP_COUNT);
	h->reasons = json_object();
	uv_timer_init(hl->sd->loop, &h->timer);
	h->timer.data = h;
	h->next = hl->svcs;
	hl->svcs = h;
	return h;
}

/* Rewrite stack's heal.json from what is in memory (the writes land in
 * order, so the last one stands). */
static void
persist(struct heal *hl, const char *stack)
{
	struct hsvc	*h;
	json_t		*doc;
	char		 t[32];

	if (hl->sd->store == NULL)
		return;
	doc = json_object();
	for (h = hl->svcs; h != NULL; h = h->next) {
		if (strcmp(h->stack, stack) != 0 || (h->restarts == 0 &&
		    !h->pol.crash_loop))
			continue;
		fmt_time_utc(t, sizeof t, (long long)h->last);
		json_object_set_new(doc, h->svc, json_pack("{s:i, s:O, s:s, "
		    "s:s, s:b}", "restarts", h->restarts, "reasons",
		    h->reasons, "last_reason", h->reason, "last_time", t,
		    "crash_loop", h->pol.crash_loop));
	}
	store_heal_set(hl->sd->store, stack, doc, NULL, NULL);
	json_decref(doc);
}

/* What an earlier shipd recorded: the counts go on (and so do the
 * counters, which Prometheus then sees rise, not reset), a crash loop
 * stays one until a deploy, restart or start. */
static void
load_stack(struct heal *hl, const char *stack)
{
	const json_t	*doc = store_heal_get(hl->sd->store, stack);
	json_t		*v, *n;
	struct hsvc	*h;
	const char	*svc, *why, *reason;
	long long	 sec;
	long		 nsec;

	json_object_foreach((json_t *)doc, svc, v) {
		if (!json_is_object(v))
			continue;
		h = hsvc_get(hl, stack, svc, true);
		h->restarts = (int)json_integer_value(json_object_get(v,
		    "restarts"));
		if ((why = json_string_value(json_object_get(v,
		    "last_reason"))) != NULL)
			snprintf(h->reason, sizeof h->reason, "%s", why);
		if (parse_rfc3339(json_string_value(json_object_get(v,
		    "last_time")) ?: "", &sec, &nsec) > 0)
			h->last = (time_t)sec;
		h->pol.crash_loop = json_is_true(json_object_get(v,
		    "crash_loop"));
		json_object_foreach(json_object_get(v, "reasons"), reason, n) {
			if (json_integer_value(n) <= 0)
				continue;
			json_object_set(h->reasons, reason, n);
			metrics_add("shipd_restarts_total",
			    (double)json_integer_value(n), "stack", stack,
			    "service", svc, "reason", reason, NULL);
		}
	}
}

static void
load(struct heal *hl)
{
	const char	*names[1024];
	size_t		 i, n;

	if (hl->loaded || hl->sd->store == NULL)
		return;
	hl->loaded = true;
	n = store_stacks(hl->sd->store, names, nitems(names));
	for (i = 0; i < n; i++)
		load_stack(hl, names[i]);
}

/* A "heal" event on the stack's fan-out. */
static void
emit(struct hsvc *h, const char *action)
{
	struct timespec	 ts;
	json_t		*ev;

	clock_gettime(CLOCK_REALTIME, &ts);
	ev = json_pack("{s:s, s:s, s:{s:s%, s:{s:s, s:s, s:s}}, s:I, s:I, "
	    "s:i, s:s, s:b}",
	    "Type", "heal", "Action", action,
	    "Actor", "ID", h->id ? h->id : "", h->id ? strlen(h->id) : 0,
	    "Attributes", LABEL_STACK, h->stack, LABEL_SERVICE, h->svc,
	    "name", h->svc,
	    "time", (json_int_t)ts.tv_sec, "timeNano",
	    (json_int_t)ts.tv_sec * 1000000000 + ts.tv_nsec,
	    "restarts", h->restarts, "reason", h->reason,
	    "crash_loop", h->pol.crash_loop);
	watch_stack_event(h->hl->sd, h->stack, action, ev);
	json_decref(ev);
}

/* Default restart, but for a one-shot: a service another waits on to
 * complete. */
static bool
wants_heal(const struct stack *st, const struct unit *u)
{
	size_t i, j;

	if (u->on_unhealthy != HEAL_DEFAULT)
		return u->on_unhealthy == HEAL_RESTART;
	for (i = 0; i < st->nunits; i++)
		for (j = 0; j < st->units[i]->ndeps; j++)
			if (strcmp(st->units[i]->deps[j].name, u->name) == 0 &&
			    st->units[i]->deps[j].cond == DEP_COMPLETED)
				return false;
	return true;
}

/* The service, and the dependents restart: true ties to it, each with
 * why. */
static json_t *
heal_targets(const struct stack *st, const char *svc, const char *why)
{
	json_t	*t = json_object();
	char	*w;
	bool	 more = true;
	size_t	 i, j;

	json_object_set_new(t, svc, json_string(why));
	while (more) {
		more = false;
		for (i = 0; i < st->nunits; i++) {
			const struct unit *u = st->units[i];

			if (json_object_get(t, u->name) != NULL)
				continue;
			for (j = 0; j < u->ndeps; j++) {
				if (!u->deps[j].restart || json_object_get(t,
				    u->deps[j].name) == NULL)
					continue;
				xasprintf(&w, "depends on %s (restart: true)",
				    u->deps[j].name);
				json_object_set_new(t, u->name,
				    json_string(w));
				free(w);
				more = true;
				break;
			}
		}
	}
	return t;
}

static void
on_healed(struct op *op, void *arg)
{
	struct hsvc *h = arg;

	h->running = false;
	if (!op->failed) {
		emit(h, "done");
		return;
	}
	h->hl->stats.heals_failed++;
	emit(h, "failed");
	/* The restart did not bring it back healthy.  The engine says
	 * "unhealthy" once, and that may have come while the restart ran:
	 * look again after the backoff, as for a new report (the next heal
	 * is the one a crash loop stops). */
	if (!h->pending && !h->pol.crash_loop && !h->hl->stopped)
		schedule(h, heal_pol_delay(&h->pol, now_ms()));
}

static void
schedule(struct hsvc *h, uint64_t ms)
{
	if (h->hl->stopped)
		return;
	h->pending = true;
	uv_timer_start(&h->timer, on_timer, ms, 0);
}

/* Still unhealthy, and the lock is free: restart it now. */
static void
heal_now(struct hsvc *h)
{
	struct shipd	*sd = h->hl->sd;
	struct stack	*st;
	struct graph	*g;
	const struct unit *u;
	char		 why[256];

	if (lock_holder(sd, h->stack) != NULL) {
		h->hl->stats.deferred++;
		schedule(h, HEAL_LOCK_RETRY_MS);
		return;
	}
	if (revision_load(sd->store, h->stack, 0, &st, &g, NULL, why,
	    sizeof why) < 0) {
		log_warn("heal %s/%s: %s", h->stack, h->svc, why);
		return;
	}
	if ((u = stack_unit(st, h->svc)) == NULL || !wants_heal(st, u)) {
		graph_free(g);
		stack_free(st);
		return;
	}
	if (heal_pol_record(&h->pol, now_ms())) {
		h->hl->stats.crash_loops++;
		log_warn("heal %s/%s: crash loop (%d restarts), giving up",
		    h->stack, h->svc, h->restarts);
		persist(h->hl, h->stack);
		emit(h, "crash_loop");
		ops_notify(sd, h->stack, NOTIFY_CRASH_LOOP, json_pack("[s]",
		    h->svc), "crash loop", json_pack("{s:i}", "restarts",
		    h->restarts));
		graph_free(g);
		stack_free(st);
		return;
	}
	h->restarts++;
	json_object_set_new(h->reasons, "unhealthy", json_integer(
	    json_integer_value(json_object_get(h->reasons, "unhealthy")) + 1));
	h->last = time(NULL);
	h->running = true;
	h->hl->stats.heals++;
	metrics_restart(h->stack, h->svc, "unhealthy");
	persist(h->hl, h->stack);
	log_info("heal %s/%s: restarting (%s)", h->stack, h->svc, h->reason);
	emit(h, "restart");
	svcop_heal(sd, st, g, heal_targets(st, h->svc, h->reason), on_healed,
	    h);
}

static void
on_verified(const struct docker_result *res, void *arg)
{
	struct hsvc	*h = arg;
	const char	*hs;

	h->dreq = NULL;
	hs = json_string_value(json_object_get(json_object_get(
	    json_object_get(res->body, "State"), "Health"), "Status"));
	/* Gone, or well again: nothing to heal. */
	if (res->err != 0 || hs == NULL || strcmp(hs, "unhealthy") != 0)
		return;
	heal_now(h);
}

static void
on_timer(uv_timer_t *t)
{
	struct hsvc	*h = t->data;
	struct shipd	*sd = h->hl->sd;
	const char	*own;

	h->pending = false;
	if (h->hl->stopped || sd->stopping)
		return;
	/* Never in the middle of a deploy, rollback or another operation:
	 * wait for it. */
	if (lock_holder(sd, h->stack) != NULL || !sd->recovered) {
		h->hl->stats.deferred++;
		schedule(h, HEAL_LOCK_RETRY_MS);
		return;
	}
	/* It waited (backoff, the lock): is it still unhealthy? */
	if (h->id == NULL)
		return;
	if ((own = health_own(sd, h->id, NULL)) != NULL) {
		if (strcmp(own, "unhealthy") == 0)
			heal_now(h);
		return;
	}
	h->dreq = docker_container_inspect(sd->docker, h->id, on_verified, h);
}

void
heal_unhealthy(struct shipd *sd, const char *stack, const char *service,
    const char *id, const char *why)
{
	struct heal	*hl = heal_get(sd);
	struct hsvc	*h;
	uint64_t	 delay;

	if (hl->stopped || stack == NULL || service == NULL)
		return;
	hl->stats.unhealthy++;
	h = hsvc_get(hl, stack, service, true);
	if (h->pending || h->running || h->dreq != NULL ||
	    h->pol.crash_loop)
		return;
	/* One that the current operation is itself restarting, or one a
	 * deploy is replacing, is that operation's to judge. */
	snprintf(h->reason, sizeof h->reason, "unhealthy: %s", why ? why :
	    "engine health check");
	free(h->id);
	h->id = id ? xstrdup(id) : NULL;
	delay = heal_pol_delay(&h->pol, now_ms());
	schedule(h, delay);
}

static void
on_event(const char *id, const char *action, json_t *ev, void *arg)
{
	struct heal	*hl = arg;
	json_t		*attrs;
	const char	*name;

	/* The stream came back (dockerd restarted): bring back in order
	 * what is down. */
	if (ev == NULL) {
		boot_scan(hl->sd, &hl->boot);
		return;
	}
	if (strcmp(action, HEAL_UNHEALTHY) != 0)
		return;
	attrs = json_object_get(json_object_get(ev, "Actor"), "Attributes");
	name = json_string_value(json_object_get(attrs, "name"));
	/* A kept container of an older revision is not the service. */
	if (name == NULL || spec_kept_revision(name) > 0)
		return;
	heal_unhealthy(hl->sd, json_string_value(json_object_get(attrs,
	    LABEL_STACK)), json_string_value(json_object_get(attrs,
	    LABEL_SERVICE)), id, "the engine's health check");
}

void
heal_start(struct shipd *sd)
{
	struct heal *hl = heal_get(sd);

	if (hl->stopped)
		return;
	sd->heal_unhealthy = heal_unhealthy;
	sd->heal_reset = heal_reset;
	load(hl);
	if (hl->watch == NULL)
		hl->watch = watch_stack(sd, NULL, on_event, hl);
	/* shipd starts, or the engine is back. */
	boot_scan(sd, &hl->boot);
}

static void
hsvc_closed(uv_handle_t *t)
{
	struct hsvc *h = t->data;

	free(h->stack);
	free(h->svc);
	free(h->id);
	json_decref(h->reasons);
	free(h);
}

void
heal_stop(struct shipd *sd)
{
	struct heal	*hl = sd->heal;
	struct hsvc	*h, *next;
	struct op	*op;

	if (hl == NULL)
		return;
	hl->stopped = true;
	for (op = sd->ops; op != NULL; op = op->next)
		if (op->healing)
			op->on_end = NULL;
	watch_cancel(hl->watch);
	hl->watch = NULL;
	boot_stop(&hl->boot);
	for (h = hl->svcs; h != NULL; h = next) {
		next = h->next;
		docker_cancel(h->dreq);
		uv_timer_stop(&h->timer);
		uv_close((uv_handle_t *)&h->timer, hsvc_closed);
	}
	hl->svcs = NULL;
	sd->heal = NULL;
	sd->heal_unhealthy = NULL;
	sd->heal_reset = NULL;
	free(hl);
}

void
heal_reset(struct shipd *sd, const char *stack)
{
	struct hsvc	*h;
	bool		 looped = false;

	if (sd->heal == NULL)
		return;
	for (h = sd->heal->svcs; h != NULL; h = h->next) {
		if (strcmp(h->stack, stack) != 0)
			continue;
		looped |= h->pol.crash_loop;
		heal_pol_reset(&h->pol);
		if (h->pending) {
			uv_timer_stop(&h->timer);
			h->pending = false;
		}
	}
	/* The loop's end is recorded: a shipd started later tries again. */
	if (looped)
		persist(sd->heal, stack);
}

/* A down removed the stack's containers: what was counted of them goes
 * too (heal.json is down's to rewrite).  Nothing is freed, since a
 * timer's or an inspect's callback may still be on its way; each is
 * stopped, so none fires. */
void
heal_forget(struct shipd *sd, const char *stack)
{
	struct hsvc *h;

	if (sd->heal == NULL)
		return;
	for (h = sd->heal->svcs; h != NULL; h = h->next) {
		if (strcmp(h->stack, stack) != 0)
			continue;
		heal_pol_reset(&h->pol);
		if (h->pending) {
			uv_timer_stop(&h->timer);
			h->pending = false;
		}
		docker_cancel(h->dreq);
		h->dreq = NULL;
		free(h->id);
		h->id = NULL;
		h->restarts = 0;
		json_object_clear(h->reasons);
		h->reason[0] = '\0';
		h->last = 0;
	}
}

json_t *
heal_status(struct shipd *sd, const char *stack)
{
	struct hsvc	*h;
	json_t		*o = NULL;
	char		 t[32];

	if (sd->heal == NULL)
		return NULL;
	for (h = sd->heal->svcs; h != NULL; h = h->next) {
		if (strcmp(h->stack, stack) != 0 || h->restarts == 0)
			continue;
		if (o == NULL)
			o = json_object();
		fmt_time_utc(t, sizeof t, (long long)h->last);
		json_object_set_new(o, h->svc, json_pack(
		    "{s:i, s:s, s:s, s:b}", "restarts", h->restarts,
		    "last_reason", h->reason, "last_time", t,
		    "crash_loop", h->pol.crash_loop));
	}
	return o;
}

const struct heal_stats *
heal_stats(struct shipd *sd)
{
	return &heal_get(sd)->stats;
}
