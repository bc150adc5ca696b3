/*
 * A small shipd for the operations layer's tests: the daemon's context
 * (loop, store on a temporary state dir, engine client, event watch,
 * deferred frees) wired as main.c wires it, against the dockerd model of
 * helper_fakedocker.h, and requests whose every line is captured.  The
 * loop runs until a condition holds, never for a fixed time; a deadline
 * fails the test instead of hanging it.
 */
#ifndef SHIPD_HELPER_OPSRIG_H
#define SHIPD_HELPER_OPSRIG_H

#include <stdbool.h>
#include <jansson.h>
#include <uv.h>

#include "core/req.h"
#include "core/shipd.h"
#include "helper_fakedocker.h"
#include "ops/ops.h"

#define RIG_WAIT_MS	60000

struct graph;
struct stack;
struct rig;

/* One request and every line that came back for it. */
struct cap {
	struct rig	*g;
	struct ctl_req	*req;		/* NULL once answered */
	json_t		*lines;
	bool		 done;
	uint64_t	 done_at;	/* now_ms() of the final line */
	struct cap	*next;		/* the rig's list */
};

struct rig {
	struct shipd		 sd;
	uv_loop_t		 loop;
	uv_timer_t		 deadline;
	uv_timer_t		 poke;
	bool			 expired;
	bool			 up;
	int			 closed;
	bool			 recover;	/* ops_recover when the engine is
						   first reached, as main.c */
	char			 dir[64];
	char			*state;
	struct fakedocker	*fd;
	struct cap		*caps;
	int			 nstacks;
};

/* A fake engine, a state dir, a daemon context on them. */
void	 rig_open(struct rig *);
void	 rig_close(struct rig *);
/* Shut the daemon down as main.c does (open requests are cancelled as
 * the control server would); the engine and the state dir stay. */
void	 rig_down(struct rig *);
void	 rig_up(struct rig *);

typedef bool rig_cond(struct rig *, void *);
void	 rig_until(struct rig *, rig_cond *, void *, const char *what);
/* Until the request has its final line. */
void	 rig_wait(struct rig *, struct cap *);
/* Until no operation, task or deferred free is left. */
void	 rig_settle(struct rig *);

/*
 * Load a stack from unit files: pairs of file name and text, then NULL.
 * A stack.yaml naming the stack "demo" is added unless one is given.
 */
void	 rig_stack(struct rig *, const char *const *files, struct stack **,
	    struct graph **);
/* Deploy those files (opts may be NULL); wait for the reply if asked. */
struct cap *rig_deploy(struct rig *, const char *const *files,
	    const struct deploy_opts *, bool wait);
/* A deploy that must succeed, and the engine settled after it. */
void	 rig_deploy_ok(struct rig *, const char *const *files);
/* The store's record of a revision's result, "" when none. */
const char *rig_result(struct rig *, const char *stack, int rev);
/* Every record of <state>/journal as it is on disk now. */
json_t	*rig_journal(struct rig *);
void	 rig_store_wait(struct rig *, int *flag);
void	 rig_store_cb(int err, void *arg);	/* arg: int *, set to 1 */

struct cap *cap_new(struct rig *, const char *cmd);
void	 cap_free(struct cap *);
/* The final line; NULL before. */
json_t	*cap_final(const struct cap *);
/* Error code and message of the final line, NULL when ok. */
const char *cap_code(const struct cap *);
const char *cap_message(const struct cap *);
json_t	*cap_result(const struct cap *);
/* The event lines named event, a new array. */
json_t	*cap_events(const struct cap *, const char *event);
/* Fail the test unless the reply is ok. */
void	 cap_assert_ok(const struct cap *);

#endif
