/*
 * events: the engine's events for one stack, relayed until the client
 * goes.  The health checks' exec_create/exec_start/exec_die are left out
 * unless asked for ("all"); "services" and "types" keep only the events
 * of those services and object types.
 */
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "ctl/ctl.h"
#include "ctl/known.h"
#include "engine/watch.h"
#include "proto.h"
#include "util.h"

struct events_sub {
	struct shipd	*sd;
	struct ctl_req	*req;
	struct watch	*watch;
	bool		 all;
	json_t		*services;	/* array, or NULL: every service */
	json_t		*types;		/* array, or NULL: every type */
};

static bool
listed(json_t *a, const char *v)
{
	size_t	 i;
	json_t	*e;

	if (a == NULL || json_array_size(a) == 0)
		return true;
	if (v == NULL)
		return false;
	json_array_foreach(a, i, e)
		if (json_is_string(e) && strcmp(json_string_value(e), v) == 0)
			return true;
	return false;
}

static void
sub_free(void *arg)
{
	struct events_sub *es = arg;

	json_decref(es->services);
	json_decref(es->types);
	free(es);
}

static void
on_engine_event(const char *id, const char *action, json_t *ev, void *arg)
{
	struct events_sub	*es = arg;
	json_t			*attrs;

	if (ev == NULL) {
		ctl_req_event(es->req, PROTO_EV_RESYNC, json_object());
		return;
	}
	attrs = json_object_get(json_object_get(ev, "Actor"), "Attributes");
	if (!es->all && strncmp(action, "exec_", 5) == 0)
		return;
	if (!listed(es->types, json_string_value(json_object_get(ev, "Type"))))
		return;
	if (strcmp(action, WATCH_REMOVED) != 0 && !listed(es->services,
	    json_string_value(json_object_get(attrs, LABEL_SERVICE))))
		return;
	/* The supervisor's own (ops/heal.c). */
	if (strcmp(json_string_value(json_object_get(ev, "Type")) ?: "",
	    "heal") == 0) {
		const char *cid = json_string_value(json_object_get(
		    json_object_get(ev, "Actor"), "ID"));

		ctl_req_event(es->req, PROTO_EV_HEAL, json_pack(
		    "{s:s, s:s%, s:O, s:O, s:O, s:O, s:o}",
		    "action", action,
		    "container", cid ? cid : "", cid ? 12 : 0,
		    "service", json_object_get(attrs, LABEL_SERVICE),
		    "restarts", json_object_get(ev, "restarts"),
		    "reason", json_object_get(ev, "reason"),
		    "crash_loop", json_object_get(ev, "crash_loop"),
		    "time", ctl_json_time(json_object_get(ev, "time"))));
		return;
	}
	/* The autoscaler's (ops/autoscale.c). */
	if (strcmp(json_string_value(json_object_get(ev, "Type")) ?: "",
	    "autoscale") == 0) {
		ctl_req_event(es->req, PROTO_EV_AUTOSCALE, json_pack(
		    "{s:s, s:O, s:O, s:O, s:O, s:o}",
		    "action", action,
		    "service", json_object_get(attrs, LABEL_SERVICE),
		    "from", json_object_get(ev, "from"),
		    "to", json_object_get(ev, "to"),
		    "reason", json_object_get(ev, "reason"),
		    "time", ctl_json_time(json_object_get(ev, "time"))));
		return;
	}
	/* The engine's attributes are strings, its time Unix seconds:
	 * numbers and an RFC 3339 time here, as everywhere else. */
	ctl_req_event(es->req, PROTO_EV_ENGINE, json_pack(
	    "{s:s, s:O, s:s%, s:O, s:O, s:o, s:o, s:o}",
	    "action", action, "type", json_object_get(ev, "Type") ?
		json_object_get(ev, "Type") : json_null(),
	    "container", id ? id : "", id ? 12 : 0,
	    "name", json_object_get(attrs, "name") ?
		json_object_get(attrs, "name") : json_null(),
	    "service", json_object_get(attrs, LABEL_SERVICE) ?
		json_object_get(attrs, LABEL_SERVICE) : json_null(),
	    "replica", ctl_json_num(json_string_value(json_object_get(attrs,
		LABEL_REPLICA))),
	    "exit_code", ctl_json_num(json_string_value(json_object_get(attrs,
		"exitCode"))),
	    "time", ctl_json_time(json_object_get(ev, "time"))));
}

static void
events_end(struct ctl_req *r, void *arg, bool reply)
{
	struct events_sub *es = arg;

	watch_cancel(es->watch);
	/* The hang-up may be found sending one of its events. */
	defer_free(es->sd, sub_free, es);
	if (reply)
		ctl_req_ok(r, NULL);
}

static void
events_gone(struct ctl_req *r, void *arg)
{
	events_end(r, arg, true);
}

static void
events_cancel(struct ctl_req *r, void *arg)
{
	events_end(r, arg, false);
}

static void
events_run(struct shipd *sd, struct ctl_req *r)
{
	struct events_sub *es = xcalloc(1, sizeof *es);

	es->sd = sd;
	es->req = r;
	es->all = ctl_bool(r, "all", false);
	es->services = json_incref(json_object_get(r->args, "services"));
	es->types = json_incref(json_object_get(r->args, "types"));
	es->watch = watch_stack(sd, ctl_str(r, "stack"), on_engine_event, es);
	ctl_req_on_gone(r, events_gone, es);
	ctl_req_on_cancel(r, events_cancel, es);
	/* Tell the client it is subscribed, so a test (or a script) can
	 * act knowing nothing will be missed from here on. */
	ctl_req_event(r, PROTO_EV_SUBSCRIBED, json_pack("{s:s}", "stack",
	    ctl_str(r, "stack")));
}

/* An unknown stack is not_found, not an empty answer. */
static void
cmd_events(struct shipd *sd, struct ctl_req *r)
{
	ctl_known_stack(sd, r, events_run);
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, true },
	{ "all", JSON_TRUE, false },
	{ "services", JSON_ARRAY, false },
	{ "types", JSON_ARRAY, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_events = {
	PROTO_CMD_EVENTS, false, false, cmd_events, args
};
