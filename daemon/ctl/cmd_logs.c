/*
 * logs: every replica's log stream from the engine relayed to a client as
 * event lines until they end or the client goes, demultiplexed from the
 * engine's stdout/stderr framing and cut into lines per replica.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "engine/docker.h"
#include "log.h"
#include "proto.h"
#include "core/shipd.h"
#include "engine/spec.h"
#include "util.h"
#include "engine/watch.h"

#define LOG_LINE_MAX	(64 * 1024)	/* longer lines are cut */

struct logs;

struct logs_stream {
	struct logs		*l;
	int			 replica;
	char			*id;
	struct docker_req	*dreq;
	struct docker_demux	 dm;
	struct buf		 part[3];	/* unfinished line per stream */
};

struct logs {
	struct shipd		*sd;
	struct ctl_req		*req;
	struct task		 task;
	struct docker_req	*list;		/* the container list, pending */
	char			*stack;
	char			*service;
	bool			 follow;
	json_int_t		 tail;
	json_int_t		 since;
	struct logs_stream	*streams;
	size_t			 nstreams;
	size_t			 open;
};

static void
logs_free(void *arg)
{
	struct logs	*l = arg;
	size_t		 i, k;

	task_del(l->sd, &l->task);
	for (i = 0; i < l->nstreams; i++) {
		struct logs_stream *s = &l->streams[i];

		docker_demux_free(&s->dm);
		for (k = 0; k < 3; k++)
			buf_free(&s->part[k]);
		free(s->id);
	}
	free(l->streams);
	free(l->stack);
	free(l->service);
	free(l);
}

/*
 * The end, by whichever comes first: the last stream, a failure, the
 * client's hang-up or shutdown.  Nothing l waits for may call back after
 * this (the container list may still be pending), and l goes only once
 * the callback on the stack has returned: a hang-up is found while a
 * stream's data is being sent, which then goes on with its stream.
 */
static void
logs_end(struct logs *l)
{
	size_t i;

	l->req = NULL;
	docker_cancel(l->list);
	l->list = NULL;
	for (i = 0; i < l->nstreams; i++) {
		docker_cancel(l->streams[i].dreq);
		l->streams[i].dreq = NULL;
	}
	/* Out of the task list now, so that shutdown does not free it too. */
	task_del(l->sd, &l->task);
	defer_free(l->sd, logs_free, l);
}

static void
send_line(struct logs_stream *s, int stream, const char *p, size_t n)
{
	json_t *f;

	if (s->l->req == NULL)
		return;
	f = json_pack("{s:s, s:i, s:s, s:s%}", "service", s->l->service,
	    "replica", s->replica, "stream", stream == 2 ? "stderr" :
	    "stdout", "line", p, n);
	if (f == NULL)		/* not UTF-8: send it escaped as Latin-1 */
		f = json_pack("{s:s, s:i, s:s, s:s}", "service",
		    s->l->service, "replica", s->replica, "stream",
		    stream == 2 ? "stderr" : "stdout", "line",
		    "(line is not valid UTF-8)");
	ctl_req_event(s->l->req, PROTO_EV_LOG, f);
}

static void
on_frame(int stream, const char *data, size_t len, void *arg)
{
	struct logs_stream	*s = arg;
	struct buf		*part = &s->part[stream == 2 ? 2 : 1];
	const char		*nl;

	while (len > 0) {
		nl = memchr(data, '\n', len);
		if (nl == NULL) {
			buf_append(part, data, len);
			if (part->len >= LOG_LINE_MAX) {
				send_line(s, stream, part->data, part->len);
				buf_reset(part);
			}
			return;
		}
		buf_append(part, data, (size_t)(nl - data));
		send_line(s, stream, part->data, part->len);
		buf_reset(part);
		len -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
}

static void
on_data(const char *data, size_t len, void *arg)
{
	struct logs_stream *s = arg;

	docker_demux_feed(&s->dm, data, len);
}

static void
logs_finish(struct logs *l, const char *err)
{
	if (l->req != NULL) {
		if (err != NULL)
			ctl_req_err(l->req, PROTO_E_ENGINE, "%s", err);
		else
			ctl_req_ok(l->req, json_pack("{s:s, s:I}", "service",
			    l->service, "replicas", (json_int_t)l->nstreams));
	}
	logs_end(l);
}

static void
on_stream_done(const struct docker_result *res, void *arg)
{
	struct logs_stream	*s = arg;
	struct logs		*l = s->l;
	size_t			 k;

	s->dreq = NULL;
	for (k = 1; k < 3; k++)
		if (s->part[k].len > 0)
			send_line(s, (int)k, s->part[k].data, s->part[k].len);
	if (res->err != 0 && res->err != DOCKER_E_NOT_FOUND)
		log_warn("logs %s-%s-%d: %s", l->stack, l->service,
		    s->replica, res->message);
	if (--l->open == 0)
		logs_finish(l, NULL);
}

static int
by_replica(const void *a, const void *b)
{
	return ((const struct logs_stream *)a)->replica -
	    ((const struct logs_stream *)b)->replica;
}

static void
on_listed(const struct docker_result *res, void *arg)
{
	struct logs	*l = arg;
	json_t		*c;
	size_t		 i;
	char		*path, *prefix, tail[24];

	l->list = NULL;
	if (res->err != 0) {
		logs_finish(l, res->message);
		return;
	}
	l->streams = xcalloc(json_array_size(res->body) + 1,
	    sizeof *l->streams);
	xasprintf(&prefix, "/%s-%s-", l->stack, l->service);
	json_array_foreach(res->body, i, c) {
		json_t *labels = json_object_get(c, "Labels");
		const char *svc = json_string_value(json_object_get(labels,
		    LABEL_SERVICE));
		const char *rep = json_string_value(json_object_get(labels,
		    LABEL_REPLICA));
		const char *name = json_string_value(json_array_get(
		    json_object_get(c, "Names"), 0));
		struct logs_stream *s;

		/* Kept containers of old revisions carry a suffix. */
		if (svc == NULL || strcmp(svc, l->service) != 0 ||
		    rep == NULL || name == NULL ||
		    strncmp(name, prefix, strlen(prefix)) != 0 ||
		    strcmp(name + strlen(prefix), rep) != 0)
			continue;
		s = &l->streams[l->nstreams++];
		s->l = l;
		s->replica = atoi(rep);
		s->id = xstrdup(json_string_value(json_object_get(c, "Id")));
	}
	free(prefix);
	if (l->nstreams == 0) {
		char msg[256];

		snprintf(msg, sizeof msg, "stack %s has no containers of "
		    "service %s", l->stack, l->service);
		if (l->req != NULL)
			ctl_req_err(l->req, PROTO_E_NOT_FOUND, "%s", msg);
		logs_end(l);
		return;
	}
	qsort(l->streams, l->nstreams, sizeof *l->streams, by_replica);
	if (l->tail < 0)
		snprintf(tail, sizeof tail, "all");
	else
		snprintf(tail, sizeof tail, "%lld", (long long)l->tail);
	for (i = 0; i < l->nstreams; i++) {
		struct logs_stream *s = &l->streams[i];

		docker_demux_init(&s->dm, on_frame, s);
		xasprintf(&path, "/containers/%s/logs?stdout=1&stderr=1"
		    "&follow=%d&tail=%s&since=%lld", s->id, l->follow, tail,
		    (long long)l->since);
		l->open++;
		s->dreq = docker_stream(l->sd->docker, "GET", path, NULL, NULL,
		    on_data, on_stream_done, s);
		free(path);
	}
}

/* The client went away: a follow never ends by itself. */
static void
logs_gone(struct ctl_req *r, void *arg)
{
	struct logs *l = arg;

	(void)r;
	logs_finish(l, NULL);
}

static void
logs_cancel(struct ctl_req *r, void *arg)
{
	(void)r;
	logs_end(arg);	/* the request is freed for us */
}

static void
cmd_logs(struct shipd *sd, struct ctl_req *r)
{
	struct logs	*l;
	char		*filter;

	l = xcalloc(1, sizeof *l);
	l->sd = sd;
	l->req = r;
	l->stack = xstrdup(ctl_str(r, "stack"));
	l->service = xstrdup(ctl_str(r, "service"));
	l->follow = ctl_bool(r, "follow", false);
	l->tail = ctl_int(r, "tail", -1);
	l->since = ctl_int(r, "since", 0);
	task_add(sd, &l->task, l, logs_free);
	ctl_req_on_gone(r, logs_gone, l);
	ctl_req_on_cancel(r, logs_cancel, l);
	xasprintf(&filter, LABEL_STACK "=%s", l->stack);
	l->list = docker_containers_list(sd->docker, filter, 1, on_listed, l);
	free(filter);
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, true },
	{ "service", JSON_STRING, true },
	{ "follow", JSON_TRUE, false },
	{ "tail", JSON_INTEGER, false },
	{ "since", JSON_INTEGER, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_logs = {
	PROTO_CMD_LOGS, false, true, cmd_logs, args
};
