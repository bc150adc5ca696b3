/*
 * One event stream, many watchers.  Watchers may be cancelled from inside
 * a callback (a gate that passes stops watching at once), so cancelled
 * entries are only marked during a dispatch and swept after it.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/metrics.h"
#include "engine/docker.h"
#include "log.h"
#include "core/shipd.h"
#include "engine/spec.h"
#include "engine/supervise.h"
#include "util.h"
#include "engine/watch.h"

struct watch {
	struct shipd	*sd;
	char		*id;		/* container ID, or NULL */
	char		*stack;		/* stack name, or NULL */
	watch_cb	*cb;
	void		*arg;
	bool		 dead;
	struct watch	*next;
};

static void
sweep(struct shipd *sd)
{
	struct watch **wp = &sd->watches, *w;

	while ((w = *wp) != NULL) {
		if (!w->dead) {
			wp = &w->next;
			continue;
		}
		*wp = w->next;
		free(w->id);
		free(w->stack);
		free(w);
	}
}

static void
dispatch(struct shipd *sd, const char *id, const char *stack,
    const char *action, json_t *ev)
{
	struct watch *w;

	sd->watch_dispatching++;
	for (w = sd->watches; w != NULL; w = w->next) {
		if (w->dead)
			continue;
		if (ev != NULL && w->id != NULL &&
		    (id == NULL || strcmp(w->id, id) != 0))
			continue;
		if (ev != NULL && w->stack != NULL &&
		    (stack == NULL || strcmp(w->stack, stack) != 0))
			continue;
		w->cb(w->id ? w->id : id, action, ev, w->arg);
	}
	if (--sd->watch_dispatching == 0)
		sweep(sd);
}

static void
on_event(json_t *ev, void *arg)
{
	struct shipd	*sd = arg;
	json_t		*actor = json_object_get(ev, "Actor");
	json_t		*attrs = json_object_get(actor, "Attributes");
	const char	*type = json_string_value(json_object_get(ev, "Type"));
	const char	*action = json_string_value(json_object_get(ev,
	    "Action"));

	if (type == NULL || strcmp(type, "container") != 0 || action == NULL)
		return;
	log_debug("event %s %.12s", action,
	    json_string_value(json_object_get(actor, "ID")));
	dispatch(sd, json_string_value(json_object_get(actor, "ID")),
	    json_string_value(json_object_get(attrs, LABEL_STACK)), action,
	    ev);
}

void
watch_stack_removed(struct shipd *sd, const char *stack)
{
	struct timespec	 ts;
	json_t		*ev;

	clock_gettime(CLOCK_REALTIME, &ts);
	ev = json_pack("{s:s, s:s, s:{s:{s:s}}, s:I, s:I}", "Type", "stack",
	    "Action", WATCH_REMOVED, "Actor", "Attributes", "name", stack,
	    "time", (json_int_t)ts.tv_sec, "timeNano",
	    (json_int_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
	dispatch(sd, NULL, stack, WATCH_REMOVED, ev);
	json_decref(ev);
}

void
watch_stack_event(struct shipd *sd, const char *stack, const char *action,
    json_t *ev)
{
	dispatch(sd, NULL, stack, action, ev);
}

static void
on_state(int connected, void *arg)
{
	struct shipd *sd = arg;

	if (!connected) {
		sd->events_up = false;
		engine_lost(sd, "event stream lost");
		return;
	}
	if (!sd->engine_ok)
		engine_connect(sd);
	/* The first connect has nothing to catch up on. */
	if (sd->events_seen_up) {
		metrics_inc("shipd_events_reconnects_total", NULL);
		dispatch(sd, NULL, NULL, WATCH_RESYNC, NULL);
	}
	sd->events_up = sd->events_seen_up = true;
}

void
watch_start(struct shipd *sd)
{
	int rc;

	rc = docker_events_start(sd->docker, LABEL_STACK, on_event, on_state,
	    sd, &sd->events);
	if (rc < 0)
		log_err("event stream: %s", strerror(-rc));
}

/* Watches belong to their owners, who cancel them when they go. */
void
watch_stop(struct shipd *sd)
{
	if (sd->events != NULL)
		docker_events_stop(sd->events);
	sd->events = NULL;
}

static struct watch *
watch_add(struct shipd *sd, const char *id, const char *stack, watch_cb *cb,
    void *arg)
{
	struct watch *w = xcalloc(1, sizeof *w);

	w->sd = sd;
	w->id = id ? xstrdup(id) : NULL;
	w->stack = stack ? xstrdup(stack) : NULL;
	w->cb = cb;
	w->arg = arg;
	w->next = sd->watches;
	sd->watches = w;
	return w;
}

struct watch *
watch_container(struct shipd *sd, const char *id, watch_cb *cb, void *arg)
{
	return watch_add(sd, id, NULL, cb, arg);
}

struct watch *
watch_stack(struct shipd *sd, const char *stack, watch_cb *cb, void *arg)
{
	return watch_add(sd, NULL, stack, cb, arg);
}

void
watch_cancel(struct watch *w)
{
	if (w == NULL)
		return;
	w->dead = true;
	if (w->sd->watch_dispatching == 0)
		sweep(w->sd);
}
