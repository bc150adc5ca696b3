/*
 * The control server: a unix stream socket speaking the JSON-lines protocol
 * of proto.h.  It frames and validates requests once against the command
 * table, checks the peer's credentials for mutating commands, and runs the
 * command's handler.  A command is one file, ctl/cmd_<name>.c, defining
 * its ctl_cmd_<name> entry, and one row in ctl/commands.c.
 */
#ifndef SHIPD_CTL_H
#define SHIPD_CTL_H

#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>

#include "core/req.h"

struct shipd;
struct ctl;

typedef void ctl_handler(struct shipd *, struct ctl_req *);

/*
 * The server checks each request's args against its entry before the
 * handler runs: unknown keys, missing required keys and wrong JSON types
 * are refused there, so handlers read args without re-checking types.
 */
struct ctl_arg {
	const char	*key;
	json_type	 type;		/* JSON_TRUE accepts either boolean */
	bool		 required;
};

struct ctl_cmd {
	const char		*name;		/* PROTO_CMD_* */
	bool			 mutating;	/* needs a trusted peer; audited */
	bool			 engine;	/* waits for the engine (hold.h) */
	ctl_handler		*handler;
	const struct ctl_arg	*args;		/* terminated by a NULL key */
};

/* The command table (commands.c), sorted by name. */
extern const struct ctl_cmd *const	ctl_cmds[];
extern const size_t			ctl_ncmds;

int	ctl_open(struct shipd *, const char *path, gid_t gid, struct ctl **);
/* A second socket, 0660 and group gid, on which every command that
 * changes state is refused (shipd --read-group). */
int	ctl_open_readonly(struct ctl *, const char *path, gid_t gid);
/* Stop accepting, cancel every request, close every client; calls done()
 * once every handle is closed and everything is freed. */
void	ctl_close(struct ctl *, void (*done)(void *), void *);
/* The engine was reached: run the requests waiting for it.  NULL ok. */
void	ctl_engine_ready(struct ctl *);

#endif
