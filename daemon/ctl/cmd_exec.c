/*
 * exec: a command in a running replica, its stdin, stdout and stderr as
 * binary frames of the request (docs/protocol.md, "exec"), its exit code in
 * the final reply.  exec_resize changes the terminal size of a running
 * exec, from a connection of its own.  Both flow-controlled both ways:
 * the engine is not read while the client's backlog is high, the client
 * is not read while the engine cannot take its stdin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/shipd.h"
#include "ctl/ctl.h"
#include "engine/docker.h"
#include "engine/execio.h"
#include "log.h"
#include "proto.h"
#include "util.h"

/* Past this much output unread by the client, the engine is not read. */
#define EXEC_BACKLOG_HIGH	(1024u * 1024)

struct xsess {
	struct shipd		*sd;
	struct ctl_req		*req;
	struct task		 task;
	struct docker_req	*list;
	struct execio		*io;
	char			*stack;
	char			*service;
	json_int_t		 replica;
	bool			 in, tty;
	int			 h, w;
	bool			 ended;
	struct buf		 early;		/* stdin before the exec */
	bool			 early_end;
	struct xsess		*next;		/* the open ones, for resize */
};

static struct xsess	*sessions;

static void
sess_unlink(struct xsess *s)
{
	struct xsess **sp;

	for (sp = &sessions; *sp != NULL; sp = &(*sp)->next)
		if (*sp == s) {
			*sp = s->next;
			break;
		}
}

static void
sess_free(void *arg)
{
	struct xsess *s = arg;

	task_del(s->sd, &s->task);
	sess_unlink(s);
	execio_cancel(s->io);
	buf_free(&s->early);
	free(s->stack);
	free(s->service);
	free(s);
}

/* Nothing calls back after this; s goes once the callback on the stack
 * has returned. */
static void
sess_end(struct xsess *s)
{
	if (s->ended)
		return;
	s->ended = true;
	s->req = NULL;
	sess_unlink(s);
	docker_cancel(s->list);
	s->list = NULL;
	execio_cancel(s->io);
	s->io = NULL;
	task_del(s->sd, &s->task);
	defer_free(s->sd, sess_free, s);
}

static void
on_drained(struct ctl_req *r, void *arg)
{
	struct xsess *s = arg;

	(void)r;
	if (s->io != NULL)
		execio_pause(s->io, false);
}

static void
on_output(int chan, const char *data, size_t len, void *arg)
{
	struct xsess *s = arg;

	if (s->req == NULL)
		return;
	ctl_req_frame(s->req, PROTO_FRAME_DATA, chan == 2 ? PROTO_CHAN_ERR :
	    PROTO_CHAN_OUT, data, len);
	if (s->req != NULL && ctl_req_backlog(s->req) > EXEC_BACKLOG_HIGH &&
	    ctl_req_on_drain(s->req, on_drained, s))
		execio_pause(s->io, true);
}

static void
on_writable(void *arg)
{
	struct xsess *s = arg;

	if (s->req != NULL)
		ctl_req_pause_input(s->req, false);
}

static void
on_started(void *arg)
{
	struct xsess *s = arg;

	if (s->req != NULL)
		ctl_req_event(s->req, PROTO_EV_EXEC, json_pack("{s:s}", "exec",
		    execio_id(s->io)));
}

static void
on_done(int err, const char *msg, int code, void *arg)
{
	struct xsess	*s = arg;
	struct ctl_req	*r = s->req;

	s->io = NULL;		/* gone once this returns */
	if (r != NULL) {
		if (err == 0) {
			ctl_req_frame(r, PROTO_FRAME_END, PROTO_CHAN_OUT, NULL,
			    0);
			ctl_req_frame(r, PROTO_FRAME_END, PROTO_CHAN_ERR, NULL,
			    0);
			ctl_req_ok(r, json_pack("{s:i}", "exit_code", code));
		} else if (err == DOCKER_E_NOT_FOUND ||
		    err == DOCKER_E_CONFLICT)
			ctl_req_err(r, PROTO_E_NOT_FOUND, "%s replica %lld of "
			    "stack %s: %s", s->service, (long long)s->replica,
			    s->stack, msg);
		else
			ctl_req_err(r, PROTO_E_ENGINE, "exec in %s replica %lld "
			    "of stack %s: %s", s->service,
			    (long long)s->replica, s->stack, msg);
	}
	s->req = NULL;
	sess_end(s);
}

static const struct execio_ops ops = {
	on_started, on_output, on_writable, on_done
};

/* stdin from the client: to the engine as it can take it. */
static void
on_frame(struct ctl_req *r, const struct proto_frame *f, void *arg)
{
	struct xsess *s = arg;

	if (f->chan != PROTO_CHAN_IN || s->ended)
		return;
	if (s->io == NULL) {
		/* Before the replica is found: kept, up to a point. */
		if (f->type != PROTO_FRAME_DATA)
			s->early_end = true;
		else if (!s->early_end)
			buf_append(&s->early, f->data, f->len);
		if (s->early.len > EXECIO_HIGH)
			ctl_req_pause_input(r, true);
		return;
	}
	if (f->type != PROTO_FRAME_DATA)
		execio_close_stdin(s->io);
	else if (!execio_write(s->io, f->data, f->len))
		ctl_req_pause_input(r, true);
}

/* A replica by its name: stack-service-N, running. */
static const char *
find_replica(struct xsess *s, json_t *list)
{
	json_t		*c, *labels;
	const char	*name, *svc, *rep;
	char		*want;
	size_t		 i;

	xasprintf(&want, "%s-%s-%lld", s->stack, s->service,
	    (long long)s->replica);
	json_array_foreach(list, i, c) {
		labels = json_object_get(c, "Labels");
		name = json_string_value(json_array_get(json_object_get(c,
		    "Names"), 0));
		svc = json_string_value(json_object_get(labels, LABEL_SERVICE));
		rep = json_string_value(json_object_get(labels, LABEL_REPLICA));
		if (name == NULL || svc == NULL || rep == NULL)
			continue;
		if (*name == '/')
			name++;
		if (strcmp(name, want) == 0 && strcmp(svc, s->service) == 0) {
			free(want);
			return json_string_value(json_object_get(c, "Id"));
		}
	}
	free(want);
	return NULL;
}

static void
on_listed(const struct docker_result *res, void *arg)
{
	struct xsess		*s = arg;
	struct execio_opts	 o;
	const char		*id;

	s->list = NULL;
	if (res->err != 0) {
		ctl_req_err(s->req, PROTO_E_ENGINE, "%s", res->message);
		s->req = NULL;
		sess_end(s);
		return;
	}
	if ((id = find_replica(s, res->body)) == NULL) {
		ctl_req_err(s->req, PROTO_E_NOT_FOUND, "stack %s has no running "
		    "replica %lld of service %s", s->stack,
		    (long long)s->replica, s->service);
		s->req = NULL;
		sess_end(s);
		return;
	}
	memset(&o, 0, sizeof o);
	o.container = id;
	o.argv = json_object_get(s->req->args, "argv");
	o.in = s->in;
	o.tty = s->tty;
	o.h = s->h;
	o.w = s->w;
	s->io = execio_start(s->sd, &o, &ops, s);
	if (s->early.len > 0 && !execio_write(s->io, s->early.data,
	    s->early.len))
		ctl_req_pause_input(s->req, true);
	else
		ctl_req_pause_input(s->req, false);
	buf_free(&s->early);
	if (!s->in || s->early_end)
		execio_close_stdin(s->io);
}

static void
sess_gone(struct ctl_req *r, void *arg)
{
	struct xsess *s = arg;

	(void)r;
	/* Closing the connection closes the process's stdin; the engine
	 * has no way to stop the process, which runs on. */
	if (s->io != NULL)
		log_info("exec %s: client gone, stream dropped",
		    execio_id(s->io) ? execio_id(s->io) : "(starting)");
	if (s->req != NULL)
		ctl_req_err(s->req, PROTO_E_FAILED, "client gone");
	s->req = NULL;
	sess_end(s);
}

static void
sess_cancel(struct ctl_req *r, void *arg)
{
	struct xsess *s = arg;

	(void)r;
	s->req = NULL;		/* freed for us */
	sess_end(s);
}

static bool
argv_ok(json_t *argv)
{
	json_t	*v;
	size_t	 i;

	if (json_array_size(argv) == 0)
		return false;
	json_array_foreach(argv, i, v)
		if (!json_is_string(v))
			return false;
	return *json_string_value(json_array_get(argv, 0)) != '\0';
}

static void
cmd_exec(struct shipd *sd, struct ctl_req *r)
{
	struct xsess	*s;
	json_int_t	 h = ctl_int(r, "h", 0), w = ctl_int(r, "w", 0);
	char		*filter;

	if (!argv_ok(json_object_get(r->args, "argv"))) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "argv: a command and its "
		    "arguments, as strings");
		return;
	}
	if (ctl_int(r, "replica", 1) < 1 || h < 0 || w < 0 || h > 65535 ||
	    w > 65535) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "replica must be 1 or more, "
		    "h and w from 0 to 65535");
		return;
	}
	s = xcalloc(1, sizeof *s);
	if (ctl_req_take_frames(r, on_frame, s) != 0) {
		free(s);
		ctl_req_err(r, PROTO_E_BAD_ARGS, "exec streams frames: its id "
		    "must be an integer from 1 to 2^32-1");
		return;
	}
	s->sd = sd;
	s->req = r;
	buf_init(&s->early);
	s->stack = xstrdup(ctl_str(r, "stack"));
	s->service = xstrdup(ctl_str(r, "service"));
	s->replica = ctl_int(r, "replica", 1);
	s->in = ctl_bool(r, "stdin", false);
	s->tty = ctl_bool(r, "tty", false);
	s->h = (int)h;
	s->w = (int)w;
	task_add(sd, &s->task, s, sess_free);
	s->next = sessions;
	sessions = s;
	ctl_req_on_gone(r, sess_gone, s);
	ctl_req_on_cancel(r, sess_cancel, s);
	xasprintf(&filter, LABEL_STACK "=%s", s->stack);
	s->list = docker_containers_list(sd->docker, filter, 0, on_listed, s);
	free(filter);
}

static const struct ctl_arg exec_args[] = {
	{ "stack", JSON_STRING, true },
	{ "service", JSON_STRING, true },
	{ "replica", JSON_INTEGER, false },
	{ "argv", JSON_ARRAY, true },
	{ "stdin", JSON_TRUE, false },
	{ "tty", JSON_TRUE, false },
	{ "h", JSON_INTEGER, false },
	{ "w", JSON_INTEGER, false },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_exec = {
	PROTO_CMD_EXEC, true, true, cmd_exec, exec_args
};

/* ---- exec_resize ------------------------------------------------------- */

static void
cmd_exec_resize(struct shipd *sd, struct ctl_req *r)
{
	struct xsess	*s;
	const char	*id = ctl_str(r, "exec");
	json_int_t	 h = ctl_int(r, "h", 0), w = ctl_int(r, "w", 0);

	(void)sd;
	if (h < 1 || w < 1 || h > 65535 || w > 65535) {
		ctl_req_err(r, PROTO_E_BAD_ARGS, "h and w from 1 to 65535");
		return;
	}
	/* Only whoever started it (or root) resizes an exec. */
	for (s = sessions; s != NULL; s = s->next)
		if (s->io != NULL && s->req != NULL &&
		    execio_id(s->io) != NULL &&
		    strcmp(execio_id(s->io), id) == 0 &&
		    (r->uid == 0 || r->uid == s->req->uid))
			break;
	if (s == NULL) {
		ctl_req_err(r, PROTO_E_NOT_FOUND, "no exec %s of yours is "
		    "running", id);
		return;
	}
	execio_resize(s->io, (int)h, (int)w);
	ctl_req_ok(r, json_object());
}

static const struct ctl_arg resize_args[] = {
	{ "exec", JSON_STRING, true },
	{ "h", JSON_INTEGER, true },
	{ "w", JSON_INTEGER, true },
	{ NULL, 0, false }
};

const struct ctl_cmd ctl_cmd_exec_resize = {
	PROTO_CMD_EXEC_RESIZE, true, true, cmd_exec_resize, resize_args
};
