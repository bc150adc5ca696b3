/*
 * logs: the replicas' log streams from the engine relayed to a client as
 * event lines, demultiplexed from the engine's stdout/stderr framing, cut
 * into lines and stamped with the engine's time.  Without follow the
 * lines of every replica are merged in time order (each stream's queue is
 * bounded: a stream ahead of the others is paused); with follow they go
 * as they come, and a replica that starts later (a redeploy, a restart)
 * is picked up from the engine's events.  A follow ends when the client
 * goes or a down removes the stack.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "ctl/known.h"
#include "engine/docker.h"
#include "log.h"
#include "proto.h"
#include "core/shipd.h"
#include "engine/spec.h"
#include "util.h"
#include "engine/watch.h"

#define LOG_LINE_MAX	(64 * 1024)	/* longer lines are cut */
#define LOG_QUEUE_MAX	1024		/* lines a stream may be ahead */

struct logs;

struct logs_line {
	struct logs_line	*next;
	long long		 sec;
	long			 nsec;
	int			 stream;
	char			*time;		/* as the engine wrote it */
	char			*text;
	size_t			 len;
};

struct logs_stream {
	struct logs		*l;
	struct logs_stream	*next;
	char			*service;
	int			 replica;
	char			*id;
	struct docker_req	*dreq;		/* NULL once it ended */
	bool			 paused;
	struct docker_demux	 dm;
	struct buf		 part[3];	/* unfinished line per stream */
	long long		 sec;		/* of its last line */
	long			 nsec;
	struct logs_line	*head, **tailp;	/* not sent yet (no follow) */
	size_t			 queued;
};

struct logs {
	struct shipd		*sd;
	struct ctl_req		*req;
	struct task		 task;
	struct docker_req	*list;		/* container list, pending */
	struct watch		*watch;		/* follow: the stack's events */
	bool			 listed;	/* the first list came */
	bool			 ended;
	char			*stack;
	char			*service;	/* NULL: every service */
	bool			 follow;
	json_int_t		 tail;
	json_int_t		 since;
	json_int_t		 until;
	struct logs_stream	*streams;
	size_t			 nstreams;
	size_t			 open;
};

static void	merge(struct logs *);
static void	stream_free(struct logs_stream *);

static void
line_free(struct logs_line *ln)
{
	free(ln->time);
	free(ln->text);
	free(ln);
}

static void
logs_free(void *arg)
{
	struct logs		*l = arg;
	struct logs_stream	*s;

	task_del(l->sd, &l->task);
	watch_cancel(l->watch);
	while ((s = l->streams) != NULL) {
		l->streams = s->next;
		stream_free(s);
	}
	free(l->stack);
	free(l->service);
	free(l);
}

/*
 * The end, by whichever comes first: the last stream (no follow), a
 * failure, the stack's removal, the client's hang-up or shutdown.
 * Nothing l waits for may call back after this (the container list may
 * still be pending), and l goes only once the callback on the stack has
 * returned: a hang-up is found while a stream's data is being sent, which
 * then goes on with its stream.
 */
static void
logs_end(struct logs *l)
{
	struct logs_stream *s;

	if (l->ended)
		return;
	l->ended = true;
	l->req = NULL;
	docker_cancel(l->list);
	l->list = NULL;
	watch_cancel(l->watch);
	l->watch = NULL;
	for (s = l->streams; s != NULL; s = s->next) {
		docker_cancel(s->dreq);
		s->dreq = NULL;
	}
	/* Out of the task list now, so that shutdown does not free it too. */
	task_del(l->sd, &l->task);
	defer_free(l->sd, logs_free, l);
}

static void
logs_finish(struct logs *l, const char *err, const char *why)
{
	json_t *res;

	if (l->req != NULL) {
		if (err != NULL)
			ctl_req_err(l->req, PROTO_E_ENGINE, "%s", err);
		else {
			res = json_pack("{s:s, s:s?, s:I}", "stack", l->stack,
			    "service", l->service, "replicas",
			    (json_int_t)l->nstreams);
			if (why != NULL)
				json_object_set_new(res, "ended",
				    json_string(why));
			ctl_req_ok(l->req, res);
		}
	}
	logs_end(l);
}

static void
send_line(struct logs_stream *s, int stream, const char *time,
    const char *p, size_t n)
{
	json_t *f;

	if (s->l->req == NULL)
		return;
	f = json_pack("{s:s, s:i, s:s, s:s%}", "service", s->service,
	    "replica", s->replica, "stream", stream == 2 ? "stderr" :
	    "stdout", "line", p, n);
	if (f == NULL)		/* not UTF-8 */
		f = json_pack("{s:s, s:i, s:s, s:s}", "service", s->service,
		    "replica", s->replica, "stream", stream == 2 ? "stderr" :
		    "stdout", "line", "(line is not valid UTF-8)");
	if (time != NULL)
		json_object_set_new(f, "time", json_string(time));
	ctl_req_event(s->l->req, PROTO_EV_LOG, f);
}

/* One whole line as the engine sent it: "<RFC 3339 time> <text>". */
static void
on_line(struct logs_stream *s, int stream, const char *p, size_t n)
{
	struct logs_line	*ln;
	char			 stamp[48];
	const char		*time = NULL;
	size_t			 k = 0;

	if (n > 20) {
		size_t m = n < sizeof stamp ? n : sizeof stamp - 1;

		memcpy(stamp, p, m);
		stamp[m] = '\0';
		k = parse_rfc3339(stamp, &s->sec, &s->nsec);
		if (k > 0 && k < n && p[k] == ' ') {
			stamp[k] = '\0';
			time = stamp;
			p += k + 1;
			n -= k + 1;
		}
	}
	/* A line without a time (a long line's rest) keeps its stream's. */
	if (s->l->follow) {
		send_line(s, stream, time, p, n);
		return;
	}
	ln = xcalloc(1, sizeof *ln);
	ln->sec = s->sec;
	ln->nsec = s->nsec;
	ln->stream = stream;
	ln->time = time ? xstrdup(time) : NULL;
	ln->text = xmalloc(n + 1);
	memcpy(ln->text, p, n);
	ln->text[n] = '\0';
	ln->len = n;
	*s->tailp = ln;
	s->tailp = &ln->next;
	s->queued++;
}

static void
on_frame(int stream, const char *data, size_t len, void *arg)
{
	struct logs_stream	*s = arg;
	struct buf		*part = &s->part[stream == 2 ? 2 : 1];
	const char		*nl;

	while (len > 0 && !s->l->ended) {
		nl = memchr(data, '\n', len);
		if (nl == NULL) {
			buf_append(part, data, len);
			if (part->len >= LOG_LINE_MAX) {
				on_line(s, stream, part->data, part->len);
				buf_reset(part);
			}
			return;
		}
		buf_append(part, data, (size_t)(nl - data));
		on_line(s, stream, part->data, part->len);
		buf_reset(part);
		len -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
}

static void
on_data(const char *data, size_t len, void *arg)
{
	struct logs_stream	*s = arg;
	struct logs		*l = s->l;

	docker_demux_feed(&s->dm, data, len);
	if (l->follow || l->ended)
		return;
	if (s->queued >= LOG_QUEUE_MAX && !s->paused) {
		s->paused = true;
		docker_stream_pause(s->dreq, 1);
	}
	merge(l);
}

static bool
before(const struct logs_line *a, const struct logs_line *b)
{
	return a->sec < b->sec || (a->sec == b->sec && a->nsec < b->nsec);
}

/*
 * Send what is sure to be next: the earliest head while every stream
 * still running has a line queued (a running one without could yet send
 * an earlier line).  When every stream has ended and all is sent, the
 * reply.
 */
static void
merge(struct logs *l)
{
	struct logs_stream	*s, *min;
	struct logs_line	*ln;

	while (!l->ended) {
		min = NULL;
		for (s = l->streams; s != NULL; s = s->next) {
			if (s->head == NULL) {
				if (s->dreq != NULL)
					return;
				continue;
			}
			if (min == NULL || before(s->head, min->head))
				min = s;
		}
		if (min == NULL)
			break;
		ln = min->head;
		if ((min->head = ln->next) == NULL)
			min->tailp = &min->head;
		min->queued--;
		send_line(min, ln->stream, ln->time, ln->text, ln->len);
		line_free(ln);
		if (min->paused && min->queued < LOG_QUEUE_MAX / 2 &&
		    min->dreq != NULL) {
			min->paused = false;
			docker_stream_pause(min->dreq, 0);
		}
	}
	if (!l->ended && l->listed && l->open == 0)
		logs_finish(l, NULL, NULL);
}

static void
on_stream_done(const struct docker_result *res, void *arg)
{
	struct logs_stream	*s = arg;
	struct logs		*l = s->l;
	size_t			 k;

	s->dreq = NULL;
	for (k = 1; k < 3; k++)
		if (s->part[k].len > 0) {
			on_line(s, (int)k, s->part[k].data, s->part[k].len);
			buf_reset(&s->part[k]);
		}
	if (res->err != 0 && res->err != DOCKER_E_NOT_FOUND)
		log_warn("logs %s-%s-%d: %s", l->stack, s->service,
		    s->replica, res->message);
	l->open--;
	/* A follow waits for the next replica, or for the stack to go. */
	if (!l->follow)
		merge(l);
}

static struct logs_stream *
stream_find(struct logs *l, const char *id)
{
	struct logs_stream *s;

	for (s = l->streams; s != NULL; s = s->next)
		if (strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

/* since: the engine's form, "1700000000" or "1700000000.000000001". */
static void
stream_start(struct logs_stream *s, const char *since, bool all, bool new)
{
	struct logs	*l = s->l;
	char		*path, tail[24], until[32];
	size_t		 k;

	docker_demux_free(&s->dm);
	docker_demux_init(&s->dm, on_frame, s);
	for (k = 0; k < 3; k++)
		buf_reset(&s->part[k]);
	if (all || l->tail < 0)
		snprintf(tail, sizeof tail, "all");
	else
		snprintf(tail, sizeof tail, "%lld", (long long)l->tail);
	until[0] = '\0';
	if (l->until > 0)
		snprintf(until, sizeof until, "&until=%lld",
		    (long long)l->until);
	xasprintf(&path, "/containers/%s/logs?stdout=1&stderr=1"
	    "&timestamps=1&follow=%d&tail=%s&since=%s%s", s->id, l->follow,
	    tail, since, until);
	l->open++;
	s->paused = false;
	s->dreq = docker_stream(l->sd->docker, "GET", path, NULL, NULL,
	    on_data, on_stream_done, s);
	free(path);
	if (l->req != NULL)
		ctl_req_event(l->req, PROTO_EV_FOLLOW, json_pack(
		    "{s:s, s:i, s:s%, s:b}", "service", s->service, "replica",
		    s->replica, "container", s->id, strlen(s->id) < 12 ?
		    strlen(s->id) : 12, "new", new));
}

static struct logs_stream *
stream_new(struct logs *l, const char *id, const char *service, int replica)
{
	struct logs_stream *s, **sp;

	s = xcalloc(1, sizeof *s);
	s->l = l;
	s->id = xstrdup(id);
	s->service = xstrdup(service);
	s->replica = replica;
	s->tailp = &s->head;
	docker_demux_init(&s->dm, on_frame, s);
	/* In the order of service and replica, for the output's sake. */
	for (sp = &l->streams; *sp != NULL; sp = &(*sp)->next)
		if (strcmp((*sp)->service, service) > 0 ||
		    (strcmp((*sp)->service, service) == 0 &&
		    (*sp)->replica > replica))
			break;
	s->next = *sp;
	*sp = s;
	l->nstreams++;
	return s;
}

/*
 * Whether a container (its name without the slash, its labels) is a
 * current replica of what l shows: kept containers of old revisions carry
 * a suffix after the replica number.  Its service and replica if so.
 */
static bool
wanted(struct logs *l, const char *name, const char *svc, const char *rep,
    int *replica)
{
	char	*want;
	bool	 ok;

	if (name == NULL || svc == NULL || rep == NULL)
		return false;
	if (*name == '/')
		name++;
	if (l->service != NULL && strcmp(svc, l->service) != 0)
		return false;
	xasprintf(&want, "%s-%s-%s", l->stack, svc, rep);
	ok = strcmp(name, want) == 0;
	free(want);
	*replica = atoi(rep);
	return ok;
}

/*
 * A container followed before started again: everything after the last
 * line sent (its stream read all until the stop).  Not the start event's
 * time: the engine stamps it after the process has begun to write.
 */
static void
stream_resume(struct logs_stream *s)
{
	char since[40];

	if (s->nsec == 999999999)
		snprintf(since, sizeof since, "%lld", s->sec + 1);
	else
		snprintf(since, sizeof since, "%lld.%09ld", s->sec,
		    s->nsec + 1);
	stream_start(s, since, true, true);
}

static void
stream_free(struct logs_stream *s)
{
	struct logs_line	*ln;
	size_t			 k;

	docker_demux_free(&s->dm);
	for (k = 0; k < 3; k++)
		buf_free(&s->part[k]);
	while ((ln = s->head) != NULL) {
		s->head = ln->next;
		line_free(ln);
	}
	free(s->service);
	free(s->id);
	free(s);
}

/* A long follow across many deploys keeps only what may come back. */
static void
stream_drop(struct logs *l, const char *id)
{
	struct logs_stream **sp, *s;

	for (sp = &l->streams; (s = *sp) != NULL; sp = &s->next)
		if (strcmp(s->id, id) == 0)
			break;
	if (s == NULL || s->dreq != NULL || s->head != NULL)
		return;		/* still read: it ends by itself */
	*sp = s->next;
	stream_free(s);
}

static void
on_listed(const struct docker_result *res, void *arg)
{
	struct logs		*l = arg;
	struct logs_stream	*s;
	json_t			*c;
	size_t			 i;
	bool			 first = !l->listed;
	char			 since[24];

	l->list = NULL;
	/* A replica found on a later list (a resync) is new: all of it. */
	snprintf(since, sizeof since, "%lld", first ? (long long)l->since : 0);
	if (res->err != 0) {
		if (first)
			logs_finish(l, res->message, NULL);
		else
			log_warn("logs %s: %s", l->stack, res->message);
		return;
	}
	json_array_foreach(res->body, i, c) {
		json_t *labels = json_object_get(c, "Labels");
		const char *id = json_string_value(json_object_get(c, "Id"));
		int replica = 0;

		if (id == NULL || !wanted(l, json_string_value(json_array_get(
		    json_object_get(c, "Names"), 0)), json_string_value(
		    json_object_get(labels, LABEL_SERVICE)), json_string_value(
		    json_object_get(labels, LABEL_REPLICA)), &replica))
			continue;
		if ((s = stream_find(l, id)) != NULL) {
			const char *st = json_string_value(json_object_get(c,
			    "State"));

			/* Restarted while the engine's events were lost. */
			if (!first && s->dreq == NULL && l->follow &&
			    st != NULL && strcmp(st, "running") == 0)
				stream_resume(s);
			continue;	/* else its start event came first */
		}
		s = stream_new(l, id, json_string_value(json_object_get(
		    labels, LABEL_SERVICE)), replica);
		stream_start(s, since, !first, !first);
	}
	if (first && l->nstreams == 0) {
		if (l->req != NULL) {
			if (l->service != NULL)
				ctl_req_err(l->req, PROTO_E_NOT_FOUND, "stack "
				    "%s has no containers of service %s",
				    l->stack, l->service);
			else
				ctl_req_err(l->req, PROTO_E_NOT_FOUND, "stack "
				    "%s has no containers", l->stack);
		}
		logs_end(l);
		return;
	}
	l->listed = true;
	if (!l->follow)
		merge(l);
}

static void
list(struct logs *l)
{
	char *filter;

	if (l->list != NULL)
		return;
	xasprintf(&filter, LABEL_STACK "=%s", l->stack);
	l->list = docker_containers_list(l->sd->docker, filter, 1, on_listed,
	    l);
	free(filter);
}

/*
 * Follow: a replica that starts (or is renamed to a replica's name) is
 * followed from then on; a resync lists again; a down ends it all.
 */
static void
on_engine_event(const char *id, const char *action, json_t *ev, void *arg)
{
	struct logs		*l = arg;
	struct logs_stream	*s;
	json_t			*attrs;
	int			 replica = 0;

	if (l->ended)
		return;
	if (strcmp(action, WATCH_REMOVED) == 0) {
		logs_finish(l, NULL, "stack removed");
		return;
	}
	if (strcmp(action, WATCH_RESYNC) == 0) {
		if (l->listed)
			list(l);
		return;
	}
	if (id != NULL && strcmp(action, "destroy") == 0) {
		stream_drop(l, id);
		return;
	}
	if (id == NULL || (strcmp(action, "start") != 0 &&
	    strcmp(action, "rename") != 0))
		return;
	attrs = json_object_get(json_object_get(ev, "Actor"), "Attributes");
	if (!wanted(l, json_string_value(json_object_get(attrs, "name")),
	    json_string_value(json_object_get(attrs, LABEL_SERVICE)),
	    json_string_value(json_object_get(attrs, LABEL_REPLICA)),
	    &replica))
		return;
	if ((s = stream_find(l, id)) == NULL) {
		s = stream_new(l, id, json_string_value(json_object_get(attrs,
		    LABEL_SERVICE)), replica);
		stream_start(s, "0", true, true);
		return;
	}
	if (s->dreq != NULL)
		return;		/* followed already */
	stream_resume(s);
}

/* The client went away: a follow never ends by itself. */
static void
logs_gone(struct ctl_req *r, void *arg)
{
	struct logs *l = arg;

	(void)r;
	logs_finish(l, NULL, NULL);
}

static void
logs_cancel(struct ctl_req *r, void *arg)
{
	(void)r;
	logs_end(arg);	/* the request is freed for us */
}

static void
logs_run(struct shipd *sd, struct ctl_req *r)
{
	struct logs *l;

	l = xcalloc(1, sizeof *l);
	l->sd = sd;
	l->req = r;
	l->stack = xstrdup(ctl_str(r, "stack"));
	if (ctl_str(r, "service") != NULL)
		l->service = xstrdup(ctl_str(r, "service"));
	l->follow = ctl_bool(r, "follow", false);
	l->tail = ctl_int(r, "tail", -1);
	l->since = ctl_int(r, "since", 0);
	l->until = ctl_int(r, "until", 0);
	task_add(sd, &l->task, l, logs_free);
	ctl_req_on_gone(r, logs_gone, l);
	ctl_req_on_cancel(r, logs_cancel, l);
	/* Watching before listing: no replica starts unseen in between. */
	if (l->follow)
		l->watch = watch_stack(sd, l->stack, on_engine_event, l);
	list(l);
}

/* An unknown stack is not_found, not an empty answer. */
static void
cmd_logs(struct shipd *sd, struct ctl_req *r)
{
	ctl_known_stack(sd, r, logs_run);
}

static const struct ctl_arg args[] = {
	{ "stack", JSON_STRING, true },
	{ "service", JSON_STRING, false },
	{ "follow", JSON_TRUE, false },
	{ "tail", JSON_INTEGER, false },
	{ "since", JSON_INTEGER, false },
	{ "until", JSON_INTEGER, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_logs = {
	PROTO_CMD_LOGS, false, true, cmd_logs, args
};
