/*
 * The audit log's records for control requests (docs/operations.md,
 * "Audit"): a mutating command when it starts and when it ends, and every
 * command refused for want of permission.
 */
#ifndef SHIPD_CTL_AUDIT_H
#define SHIPD_CTL_AUDIT_H

#include <sys/types.h>
#include <jansson.h>

#include "core/req.h"

struct shipd;

/* Before the handler runs: {"event":"start", "req":...}. */
void	ctl_audit_start(struct shipd *, struct ctl_req *);
/* With the final line msg (an ok or an error reply), or msg NULL and
 * code, message when shipd stops first. */
void	ctl_audit_end(struct shipd *, struct ctl_req *, json_t *msg,
	    const char *code, const char *message);
/* A refused request; args is not stolen (NULL: none). */
void	ctl_audit_denied(struct shipd *, uid_t, pid_t, const char *cmd,
	    json_t *args, const char *message);

#endif
