/*
 * One path of one container, copied into one file: the archive API's tar
 * streamed to disk through a sink, with the container's state compared
 * before and after so a copy the container died or restarted under is
 * never taken for a good one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup_int.h"
#include "engine/docker.h"
#include "engine/spec.h"
#include "engine/watch.h"
#include "core/shipd.h"
#include "proto.h"
#include "util.h"

struct bcopy {
	struct shipd		*sd;
	char			*cid;
	char			*path;		/* in the container */
	char			*file;		/* on disk */
	bool			 absent_ok;
	struct docker_req	*dreq;
	struct bfs_sink		*sink;
	struct watch		*watch;
	char			*started_at;	/* before the copy */
	bool			 was_running;
	bool			 reported;
	bcopy_cb		*cb;
	void			*arg;
};

/* Replica 1 of a service, from the engine's list of the stack's containers:
 * the one backups copy from and restores put back into. */
json_t *
backup_containers_find(json_t *list, const char *stack, const char *service)
{
	json_t	*c;
	char	*want = spec_container_name(stack, service, 1);
	size_t	 i;

	json_array_foreach(list, i, c) {
		const char *name = json_string_value(json_array_get(
		    json_object_get(c, "Names"), 0));
		const char *svc = json_string_value(json_object_get(
		    json_object_get(c, "Labels"), LABEL_SERVICE));

		if (name != NULL && svc != NULL && strcmp(svc, service) == 0 &&
		    strcmp(name + (name[0] == '/'), want) == 0) {
			free(want);
			return c;
		}
	}
	free(want);
	return NULL;
}

/* The test hook that slows a backup's disk writes. */
static uint64_t
rate_hook(void)
{
	const char	*v = getenv("SHIPD_TEST_BACKUP_BPS");
	uint64_t	 rate = 0;

	if (v == NULL || parse_size(v, &rate) != 0)
		return 0;
	return rate;
}

static void
drop_req(struct bcopy *c)
{
	/* Once the engine client is closed its requests are gone too. */
	if (c->sd->docker != NULL)
		docker_cancel(c->dreq);
	c->dreq = NULL;
}

static void
copy_free(struct bcopy *c)
{
	drop_req(c);
	bfs_sink_free(c->sink);
	watch_cancel(c->watch);
	free(c->started_at);
	free(c->file);
	free(c->path);
	free(c->cid);
	free(c);
}

/* The one end of a copy: its callback, then it goes. */
static void
report(struct bcopy *c, const char *err, bool absent)
{
	struct bcopy_result	 res;

	memset(&res, 0, sizeof res);
	res.err = err;
	res.absent = absent;
	if (err == NULL && !absent) {
		res.size = bfs_sink_size(c->sink);
		res.sha256 = bfs_sink_sha256(c->sink);
	}
	c->reported = true;
	drop_req(c);
	c->cb(&res, c->arg);
	copy_free(c);
}

void
bcopy_cancel(struct bcopy *c)
{
	/* From inside its own callback it is about to go anyway. */
	if (c != NULL && !c->reported)
		copy_free(c);
}

/* After the stream: the container must be the one that was running when
 * it began, or the copy may hold a half-written state. */
static void
on_after_inspect(const struct docker_result *res, void *arg)
{
	struct bcopy	*c = arg;
	json_t		*state = json_object_get(res->body, "State");
	const char	*at = json_string_value(json_object_get(state,
	    "StartedAt"));

	c->dreq = NULL;
	/* The engine ends the stream normally when the files go away under
	 * it, so a short archive looks complete: the state decides. */
	if (c->was_running && (res->err != 0 || !json_is_true(
	    json_object_get(state, "Running"))))
		report(c, "the container died while it was copied; the copy "
		    "is incomplete", false);
	else if (c->was_running && (at == NULL || strcmp(at,
	    c->started_at) != 0))
		report(c, "the container restarted while it was copied; the "
		    "copy may be incomplete", false);
	else
		report(c, NULL, false);
}

static void
on_sink(int what, void *arg)
{
	struct bcopy	*c = arg;
	char		 why[128];

	switch (what) {
	case SINK_DRAINED:
		docker_stream_pause(c->dreq, 0);
		break;
	case SINK_FAILED:
		snprintf(why, sizeof why, "writing the archive: %s",
		    strerror(-bfs_sink_err(c->sink)));
		report(c, why, false);
		break;
	case SINK_DONE:
		c->dreq = docker_container_inspect(c->sd->docker, c->cid,
		    on_after_inspect, c);
		break;
	}
}

static void
on_data(const char *data, size_t len, void *arg)
{
	struct bcopy *c = arg;

	if (!bfs_sink_write(c->sink, data, len))
		docker_stream_pause(c->dreq, 1);
}

static void
on_stream_done(const struct docker_result *res, void *arg)
{
	struct bcopy *c = arg;

	c->dreq = NULL;
	/* Nothing there to save: restore will have nothing to put. */
	if (res->err == DOCKER_E_NOT_FOUND && c->absent_ok)
		report(c, NULL, true);
	else if (res->err != 0)
		report(c, res->message, false);
	else
		bfs_sink_finish(c->sink);
}

static void
on_ctr_event(const char *id, const char *action, json_t *ev, void *arg)
{
	struct bcopy *c = arg;

	(void)id;
	(void)ev;
	if (c->dreq == NULL || !c->was_running)
		return;
	if (strcmp(action, "die") == 0 || strcmp(action, "destroy") == 0)
		report(c, "the container died while it was copied; the copy "
		    "is incomplete", false);
}

static void
on_before_inspect(const struct docker_result *res, void *arg)
{
	struct bcopy	*c = arg;
	json_t		*state = json_object_get(res->body, "State");

	c->dreq = NULL;
	if (res->err != 0) {
		report(c, res->message, false);
		return;
	}
	c->was_running = json_is_true(json_object_get(state, "Running"));
	c->started_at = xstrdup(json_string_value(json_object_get(state,
	    "StartedAt")) ?: "");
	c->sink = bfs_sink_new(c->sd->loop, c->file, rate_hook(), on_sink, c);
	if (c->was_running)
		c->watch = watch_container(c->sd, c->cid, on_ctr_event, c);
	c->dreq = docker_archive_get(c->sd->docker, c->cid, c->path, on_data,
	    on_stream_done, c);
}

struct bcopy *
bcopy_start(struct shipd *sd, const char *cid, const char *path,
    const char *file, bool absent_ok, bcopy_cb *cb, void *arg)
{
	struct bcopy *c = xcalloc(1, sizeof *c);

	c->sd = sd;
	c->cid = xstrdup(cid);
	c->path = xstrdup(path);
	c->file = xstrdup(file);
	c->absent_ok = absent_ok;
	c->cb = cb;
	c->arg = arg;
	c->dreq = docker_container_inspect(sd->docker, cid, on_before_inspect,
	    c);
	return c;
}
