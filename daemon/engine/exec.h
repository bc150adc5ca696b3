/*
 * One command run in a container through the engine's exec API (create,
 * start attached, inspect for the exit code), for health-test probes and
 * backup hooks alike.
 */
#ifndef SHIPD_EXEC_H
#define SHIPD_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct shipd;
struct exec;

#define EXEC_OUTPUT_MAX	4096	/* tail of the output kept */

struct exec_result {
	int		 err;		/* 0: it ran and exit_code is its
					   status; else -errno (docker.h's, or
					   -ETIMEDOUT, -EBUSY, -EPROTO) */
	const char	*message;	/* why, when err; "" otherwise */
	int		 exit_code;
	const char	*output;	/* the tail of stdout and stderr in
					   arrival order, not NUL-terminated */
	size_t		 len;
};

/* Borrowed for the callback's duration.  The exec is gone once it has
 * reported: drop the handle in here and do not cancel it after. */
typedef void exec_cb(const struct exec_result *, void *arg);

/*
 * argv: a JSON array of strings (borrowed).  timeout_ms: 0 for none; on
 * expiry the result is -ETIMEDOUT, though the engine cannot stop the
 * command, which runs on.  The callback comes later from the loop, never
 * from inside this call; none comes once the engine client has closed.
 */
struct exec	*exec_run(struct shipd *, const char *container, json_t *argv,
		    uint64_t timeout_ms, exec_cb *, void *);
/* No callback follows.  NULL is ignored.  Safe from inside any callback,
 * and after the engine client has closed. */
void		 exec_cancel(struct exec *);

#endif
