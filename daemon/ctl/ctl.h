/*
 * The control server: a unix stream socket speaking the JSON-lines protocol
 * of proto.h.  It frames and validates requests once, checks the peer's
 * credentials for mutating commands, and dispatches to ctl_handle_<cmd>().
 */
#ifndef SHIPD_CTL_H
#define SHIPD_CTL_H

#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>
#include <uv.h>

struct shipd;
struct ctl;
struct ctl_client;

/*
 * One request.  A handler must finish it exactly once with ctl_req_ok() or
 * ctl_req_err() (which free it), possibly much later and after sending
 * events.  If the daemon shuts down first, the cancel hook runs instead so
 * the handler can drop what it holds; the request is then freed for it.
 */
struct ctl_req {
	struct ctl		*ctl;
	struct ctl_client	*client;	/* NULL once the peer has gone */
	json_t			*id;
	const char		*cmd;
	bool			 mutating;
	json_t			*args;		/* always an object */
	uid_t			 uid;
	pid_t			 pid;
	void			(*cancel)(struct ctl_req *, void *);
	void			*cancel_arg;
	void			(*gone)(struct ctl_req *, void *);
	void			*gone_arg;
	struct ctl_req		*next, *prev;
};

typedef void ctl_handler(struct shipd *, struct ctl_req *);

int	ctl_open(struct shipd *, const char *path, gid_t gid, struct ctl **);
/* Stop accepting, cancel every request, close every client; calls done()
 * once every handle is closed and everything is freed. */
void	ctl_close(struct ctl *, void (*done)(void *), void *);

void	ctl_req_ok(struct ctl_req *, json_t *result);	/* steals result */
void	ctl_req_err(struct ctl_req *, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Send a streamed event line; the request stays open.  Returns false when
 * the peer has gone (the request is still the caller's to finish). */
bool	ctl_req_event(struct ctl_req *, const char *event, json_t *fields);
void	ctl_req_on_cancel(struct ctl_req *, void (*)(struct ctl_req *, void *),
	    void *);
/* Called once if the peer disconnects while the request is open. */
void	ctl_req_on_gone(struct ctl_req *, void (*)(struct ctl_req *, void *),
	    void *);

/*
 * The command table (commands.c).  The server checks each request's args
 * against the row before the handler runs: unknown keys, missing required
 * keys and wrong JSON types are refused there, so handlers read args
 * without re-checking types.
 */
struct ctl_arg {
	const char	*key;
	json_type	 type;		/* JSON_INTEGER also accepts nothing else */
	bool		 required;
};

struct ctl_cmd {
	const char		*name;
	bool			 mutating;	/* needs a trusted peer; audited */
	bool			 engine;	/* refused while the engine is away */
	ctl_handler		*handler;
	const struct ctl_arg	*args;		/* terminated by a NULL key */
};

extern const struct ctl_cmd	ctl_cmds[];
extern const size_t		ctl_ncmds;

const char *ctl_str(const struct ctl_req *, const char *key); /* or NULL */
json_int_t ctl_int(const struct ctl_req *, const char *key, json_int_t dflt);
bool	ctl_bool(const struct ctl_req *, const char *key, bool dflt);

#endif
