/*
 * Audit records of control requests.  A mutating command is written when
 * it starts, so a shipd killed in the middle still leaves who asked for
 * what, and again when it ends; the two carry the same "req".  The store
 * stamps each line with its time and appends it (fsync'd, off the loop).
 */
#include <stdio.h>
#include <unistd.h>

#include "ctl/audit.h"
#include "proto.h"
#include "core/shipd.h"
#include "state/store.h"
#include "util.h"

/* The arguments as recorded: a sent stack by its name, not whole. */
static json_t *
record_args(json_t *args)
{
	json_t *a, *stack;

	a = json_is_object(args) ? json_deep_copy(args) : json_object();
	if (json_is_object(stack = json_object_get(a, "stack")))
		json_object_set(a, "stack", json_object_get(stack, "name"));
	return a;
}

static json_t *
record_new(const char *event, const char *req, uid_t uid, pid_t pid,
    const char *cmd, json_t *args)
{
	json_t *rec = json_pack("{s:s}", "event", event);

	if (req != NULL)
		json_object_set_new(rec, "req", json_string(req));
	json_object_set_new(rec, "uid", json_integer((json_int_t)uid));
	json_object_set_new(rec, "pid", json_integer((json_int_t)pid));
	json_object_set_new(rec, "cmd", json_string(cmd));
	json_object_set_new(rec, "args", record_args(args));
	return rec;
}

/* shipd's pid and a count: unique in the log unless the pid comes back. */
static void
req_name(const struct ctl_req *r, char *buf, size_t len)
{
	snprintf(buf, len, "%ld-%lu", (long)getpid(), r->audit_seq);
}

void
ctl_audit_start(struct shipd *sd, struct ctl_req *r)
{
	static unsigned long	 seq;
	json_t			*rec;
	char			 name[48];

	if (!r->mutating || sd->store == NULL)
		return;
	r->audit_seq = ++seq;
	req_name(r, name, sizeof name);
	rec = record_new("start", name, r->uid, r->pid, r->cmd, r->args);
	store_audit(sd->store, rec);
	json_decref(rec);
}

void
ctl_audit_end(struct shipd *sd, struct ctl_req *r, json_t *msg,
    const char *code, const char *message)
{
	json_t	*rec, *err = NULL;
	char	 name[48];

	if (!r->mutating || r->audit_seq == 0 || sd->store == NULL)
		return;
	req_name(r, name, sizeof name);
	rec = record_new("end", name, r->uid, r->pid, r->cmd, r->args);
	if (msg != NULL && (err = json_object_get(msg, "error")) != NULL) {
		code = json_string_value(json_object_get(err, "code"));
		message = json_string_value(json_object_get(err, "message"));
	} else if (msg != NULL)
		code = "ok";
	json_object_set_new(rec, "result", json_string(code ? code :
	    PROTO_E_FAILED));
	if (message != NULL)
		json_object_set_new(rec, "message", json_string(message));
	store_audit(sd->store, rec);
	json_decref(rec);
}

void
ctl_audit_denied(struct shipd *sd, uid_t uid, pid_t pid, const char *cmd,
    json_t *args, const char *message)
{
	json_t *rec;

	if (sd->store == NULL)
		return;
	rec = record_new("denied", NULL, uid, pid, cmd, args);
	json_object_set_new(rec, "result", json_string(PROTO_E_DENIED));
	json_object_set_new(rec, "message", json_string(message));
	store_audit(sd->store, rec);
	json_decref(rec);
}
