/*
 * events: the engine's events for one stack, relayed until the client
 * goes.
 */
#include <stdlib.h>

#include "core/shipd.h"
#include "ctl/ctl.h"
#include "engine/watch.h"
#include "proto.h"
#include "util.h"

struct events_sub {
	struct shipd	*sd;
	struct ctl_req	*req;
	struct watch	*watch;
};

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
	ctl_req_event(es->req, PROTO_EV_ENGINE, json_pack(
	    "{s:s, s:s%, s:O, s:O, s:O, s:O, s:O}",
	    "action", action, "container", id ? id : "", id ? 12 : 0,
	    "name", json_object_get(attrs, "name") ?
		json_object_get(attrs, "name") : json_null(),
	    "service", json_object_get(attrs, LABEL_SERVICE) ?
		json_object_get(attrs, LABEL_SERVICE) : json_null(),
	    "replica", json_object_get(attrs, LABEL_REPLICA) ?
		json_object_get(attrs, LABEL_REPLICA) : json_null(),
	    "exit_code", json_object_get(attrs, "exitCode") ?
		json_object_get(attrs, "exitCode") : json_null(),
	    "time", json_object_get(ev, "time") ?
		json_object_get(ev, "time") : json_null()));
}

static void
events_end(struct ctl_req *r, void *arg, bool reply)
{
	struct events_sub *es = arg;

	watch_cancel(es->watch);
	/* The hang-up may be found sending one of its events. */
	defer_free(es->sd, free, es);
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
cmd_events(struct shipd *sd, struct ctl_req *r)
{
	struct events_sub *es = xcalloc(1, sizeof *es);

	es->sd = sd;
	es->req = r;
	es->watch = watch_stack(sd, ctl_str(r, "stack"), on_engine_event, es);
	ctl_req_on_gone(r, events_gone, es);
	ctl_req_on_cancel(r, events_cancel, es);
	/* Tell the client it is subscribed, so a test (or a script) can
	 * act knowing nothing will be missed from here on. */
	ctl_req_event(r, PROTO_EV_SUBSCRIBED, json_pack("{s:s}", "stack",
	    ctl_str(r, "stack")));
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, true },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_events = {
	PROTO_CMD_EVENTS, false, false, cmd_events, args
};
