/*
 * Decoding one request line (request.h): pure, no socket or loop, so that
 * tests/fuzz/fuzz_proto.c can reach it.
 */
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "ctl/request.h"
#include "proto.h"

static const struct ctl_cmd *
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < ctl_ncmds; i++)
		if (strcmp(ctl_cmds[i]->name, name) == 0)
			return ctl_cmds[i];
	return NULL;
}

static const char *
type_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT:	return "an object";
	case JSON_ARRAY:	return "an array";
	case JSON_STRING:	return "a string";
	case JSON_INTEGER:	return "an integer";
	case JSON_REAL:		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:	return "a boolean";
	default:		return "null";
	}
}

/* Returns NULL when args fit the row, else a message in buf. */
static const char *
args_check(const struct ctl_cmd *cmd, json_t *args, char *buf, size_t len)
{
	const struct ctl_arg	*a;
	const char		*key;
	json_t			*v;

	json_object_foreach(args, key, v) {
		for (a = cmd->args; a != NULL && a->key != NULL; a++)
			if (strcmp(a->key, key) == 0)
				break;
		if (a == NULL || a->key == NULL) {
			snprintf(buf, len, "%s: unknown argument '%.64s'",
			    cmd->name, key);
			return buf;
		}
		if (json_typeof(v) != a->type &&
		    !(a->type == JSON_TRUE && json_is_boolean(v))) {
			snprintf(buf, len, "%s: argument '%s' must be %s, "
			    "not %s", cmd->name, key, type_name(a->type),
			    type_name(json_typeof(v)));
			return buf;
		}
	}
	for (a = cmd->args; a != NULL && a->key != NULL; a++)
		if (a->required && json_object_get(args, a->key) == NULL) {
			snprintf(buf, len, "%s: missing argument '%s'",
			    cmd->name, a->key);
			return buf;
		}
	return NULL;
}

static bool
id_acceptable(json_t *id)
{
	return id == NULL || json_is_integer(id) || json_is_string(id) ||
	    json_is_null(id);
}

const char *
ctl_request_decode(const char *line, size_t len, struct ctl_request *q,
    char *buf, size_t buflen)
{
	json_error_t	 jerr;
	json_t		*v;
	const char	*name, *why;

	memset(q, 0, sizeof *q);
	if (line == NULL) {
		snprintf(buf, buflen, "request line longer than %d bytes",
		    PROTO_MAX_LINE);
		return PROTO_E_TOO_LARGE;
	}
	q->msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (q->msg == NULL) {
		snprintf(buf, buflen, "malformed JSON at column %d: %s",
		    jerr.column, jerr.text);
		return PROTO_E_BAD_REQUEST;
	}
	if (!json_is_object(q->msg)) {
		snprintf(buf, buflen, "a request must be a JSON object");
		return PROTO_E_BAD_REQUEST;
	}
	v = json_object_get(q->msg, "id");
	if (!id_acceptable(v)) {
		snprintf(buf, buflen, "'id' must be an integer or a string");
		return PROTO_E_BAD_REQUEST;
	}
	q->id = v;
	v = json_object_get(q->msg, "v");
	if (!json_is_integer(v) || json_integer_value(v) != PROTO_VERSION) {
		snprintf(buf, buflen, "shipd speaks protocol version %d; "
		    "the request has %s", PROTO_VERSION,
		    json_is_integer(v) ? "another version" : "no 'v'");
		return PROTO_E_VERSION;
	}
	name = json_string_value(json_object_get(q->msg, "cmd"));
	if (name == NULL) {
		snprintf(buf, buflen, "'cmd' must be a string");
		return PROTO_E_BAD_REQUEST;
	}
	if ((q->cmd = cmd_find(name)) == NULL) {
		snprintf(buf, buflen, "unknown command '%.64s'", name);
		return PROTO_E_UNKNOWN_CMD;
	}
	v = json_object_get(q->msg, "args");
	if (v != NULL && !json_is_object(v)) {
		snprintf(buf, buflen, "'args' must be an object");
		return PROTO_E_BAD_ARGS;
	}
	q->args = v != NULL ? json_incref(v) : json_object();
	if ((why = args_check(q->cmd, q->args, buf, buflen)) != NULL)
		return PROTO_E_BAD_ARGS;
	return NULL;
}

void
ctl_request_clear(struct ctl_request *q)
{
	json_decref(q->args);
	json_decref(q->msg);
	memset(q, 0, sizeof *q);
}
