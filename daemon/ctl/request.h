/*
 * One request line decoded and checked against the command table: JSON,
 * an object, 'id', 'v', 'cmd' and 'args' by the rules of docs/protocol.md.
 * What needs the connection (credentials, shutdown, the engine, limits) is
 * the server's.
 */
#ifndef SHIPD_REQUEST_H
#define SHIPD_REQUEST_H

#include <stddef.h>
#include <jansson.h>

struct ctl_cmd;

struct ctl_request {
	json_t			*msg;	/* the decoded line, or NULL */
	json_t			*id;	/* borrowed from msg; NULL: none */
	const struct ctl_cmd	*cmd;
	json_t			*args;	/* a reference: {} when absent */
};

/*
 * Decode line (NULL: a line over PROTO_MAX_LINE).  NULL when the request
 * may go to its handler, else the PROTO_E_* code to answer with, the
 * message in buf and q->id set if it was read.  Either way the caller
 * ends with ctl_request_clear().
 */
const char	*ctl_request_decode(const char *line, size_t len,
		    struct ctl_request *q, char *buf, size_t buflen);
void		 ctl_request_clear(struct ctl_request *);

#endif
