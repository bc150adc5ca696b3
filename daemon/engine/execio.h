/*
 * An interactive exec: the engine's exec API with the start call's
 * connection taken over (hijacked) for the process's stdin, stdout and
 * stderr, as `docker exec -i` does.  For shipctl exec; health probes and
 * hooks use exec.h, which needs no stdin.
 */
#ifndef SHIPD_EXECIO_H
#define SHIPD_EXECIO_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct shipd;
struct execio;

/* Above this much stdin not yet written to the engine, execio_write()
 * says stop; writable() says when it has fallen under EXECIO_LOW. */
#define EXECIO_HIGH	(1024u * 1024)
#define EXECIO_LOW	(256u * 1024)

struct execio_ops {
	/* The process runs: resizes go through from now on. */
	void	(*started)(void *arg);
	/* chan: 1 stdout, 2 stderr (a terminal's output is all stdout). */
	void	(*output)(int chan, const char *data, size_t len, void *arg);
	void	(*writable)(void *arg);
	/* Once, at the end: err 0 with the exit code, or -errno (docker.h's
	 * error space) and a message.  The execio is gone once it returns. */
	void	(*done)(int err, const char *msg, int exit_code, void *arg);
};

struct execio_opts {
	const char	*container;
	json_t		*argv;		/* array of strings, borrowed */
	bool		 in;		/* attach stdin */
	bool		 tty;
	int		 h, w;		/* tty: the first size; 0: none */
};

/* Callbacks come from the loop, never from inside this call. */
struct execio	*execio_start(struct shipd *, const struct execio_opts *,
		    const struct execio_ops *, void *);
/* The engine's exec ID once created, else NULL. */
const char	*execio_id(const struct execio *);
/* Bytes for stdin (copied); false when EXECIO_HIGH is passed. */
bool		 execio_write(struct execio *, const void *, size_t);
/* End of stdin, once what was written has gone. */
void		 execio_close_stdin(struct execio *);
/* Stop and resume reading the process's output. */
void		 execio_pause(struct execio *, bool);
void		 execio_resize(struct execio *, int h, int w);
/* No callback follows; the connection is closed, which closes the
 * process's stdin.  The engine does not kill the process.  NULL ok. */
void		 execio_cancel(struct execio *);

/*
 * The engine's answer to the upgrade: 0 with the status and the head's
 * length (up to and with the blank line), 1 while it is incomplete,
 * -EPROTO when it cannot be an HTTP/1.x response head.
 */
int		 execio_parse_head(const char *, size_t, long *status,
		    size_t *head_len);

#endif
