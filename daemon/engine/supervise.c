/*
 * Engine supervision: negotiate the API version, fetch the engine's
 * version, and keep retrying with backoff while the engine is away, so
 * shipd starts before dockerd and outlives its restarts.
 */
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "engine/docker.h"
#include "log.h"
#include "core/notify.h"
#include "core/shipd.h"
#include "engine/supervise.h"
#include "util.h"

#define ENGINE_BACKOFF_MIN	250
#define ENGINE_BACKOFF_MAX	5000

static void	on_retry(uv_timer_t *);

static void
set_error(struct shipd *sd, const char *why)
{
	free(sd->engine_error);
	sd->engine_error = why ? xstrdup(why) : NULL;
}

static void
schedule_retry(struct shipd *sd)
{
	if (sd->stopping)
		return;
	if (sd->engine_backoff_ms == 0)
		sd->engine_backoff_ms = ENGINE_BACKOFF_MIN;
	uv_timer_start(&sd->engine_retry, on_retry, sd->engine_backoff_ms, 0);
	sd->engine_backoff_ms *= 2;
	if (sd->engine_backoff_ms > ENGINE_BACKOFF_MAX)
		sd->engine_backoff_ms = ENGINE_BACKOFF_MAX;
}

static void
on_version(const struct docker_result *res, void *arg)
{
	struct shipd *sd = arg;

	sd->engine_connecting = false;
	if (res->err != 0) {
		engine_lost(sd, res->message);
		return;
	}
	json_decref(sd->engine_version);
	sd->engine_version = json_incref(res->body);
	sd->engine_ok = true;
	metrics_set("shipd_engine_reachable", 1, NULL);
	sd->engine_backoff_ms = 0;
	set_error(sd, NULL);
	log_info("engine %s, API %s",
	    json_string_value(json_object_get(res->body, "Version")),
	    docker_api_version(sd->docker));
	notify_status("engine %s, API %s",
	    json_string_value(json_object_get(res->body, "Version")),
	    docker_api_version(sd->docker));
	if (sd->engine_ready != NULL)
		sd->engine_ready(sd);
}

static void
on_negotiated(const struct docker_result *res, void *arg)
{
	struct shipd *sd = arg;

	if (res->err != 0) {
		sd->engine_connecting = false;
		engine_lost(sd, res->message);
		return;
	}
	docker_version(sd->docker, on_version, sd);
}

/* One attempt at a time: the retry timer and the event stream's
 * reconnection may both ask. */
void
engine_connect(struct shipd *sd)
{
	if (sd->stopping || sd->engine_connecting)
		return;
	sd->engine_connecting = true;
	uv_timer_stop(&sd->engine_retry);
	docker_negotiate(sd->docker, on_negotiated, sd);
}

static void
on_retry(uv_timer_t *t)
{
	engine_connect(t->data);
}

void
engine_lost(struct shipd *sd, const char *why)
{
	bool was_ok = sd->engine_ok;

	sd->engine_ok = false;
	metrics_set("shipd_engine_reachable", 0, NULL);
	if (why != NULL && (sd->engine_error == NULL ||
	    strcmp(why, sd->engine_error) != 0)) {
		log_warn("engine %s: %s", sd->cfg.engine_path, why);
		notify_status("engine unavailable: %s", why);
	}
	set_error(sd, why);
	if (was_ok)
		sd->engine_backoff_ms = 0;
	if (!uv_is_active((uv_handle_t *)&sd->engine_retry))
		schedule_retry(sd);
}
