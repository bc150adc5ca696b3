/*
 * Operations on a stack (deploy, scale, down): the per-service and
 * per-replica state they share, the planner that diffs the desired stack
 * against the labelled containers that exist, and the one-operation-per-
 * stack lock.
 */
#ifndef SHIPD_OP_H
#define SHIPD_OP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "gate.h"
#include "graph.h"
#include "unit.h"

struct shipd;
struct ctl_req;
struct docker_req;

enum svc_action {
	ACT_NONE,		/* not part of this operation (scale) */
	ACT_UNCHANGED,
	ACT_CREATE,
	ACT_RECREATE,
	ACT_SCALE,
	ACT_REMOVE,
};

enum svc_state { SVC_PENDING, SVC_ACTIVE, SVC_DONE, SVC_FAILED, SVC_SKIPPED };

enum rep_state {
	REP_IDLE, REP_STOPPING, REP_CREATING, REP_STARTING, REP_GATING,
	REP_DONE, REP_FAILED,
};

struct replica {
	struct svc		*svc;
	int			 n;
	char			*id;		/* container being brought up */
	char			*old_id;	/* container it replaces */
	bool			 reuse;		/* existing container, kept */
	bool			 remove;	/* scale-down: only remove */
	enum rep_state		 state;
	struct docker_req	*dreq;
	struct gate		*gate;
};

struct svc {
	struct op		*op;
	const struct unit	*unit;
	size_t			 idx;		/* graph node */
	enum svc_action		 action;
	char			*reason;
	char			 hash[65];
	const char		*image_id;	/* borrowed from op->images */
	int			 want;		/* replicas wanted */
	enum svc_state		 state;
	enum gate_goal		 goal;
	unsigned		 met;		/* dep_cond bits reached */
	struct replica		*reps;
	size_t			 nreps;
	size_t			 pending;	/* replicas not yet settled */
	size_t			 started;	/* replicas whose start succeeded */
	uint64_t		 t_start;
	uint64_t		 t_done;
	char			*error;
};

struct op {
	struct shipd		*sd;
	struct ctl_req		*req;
	const char		*kind;		/* "deploy", "scale", "down" */
	char			*stack_name;
	struct stack		*stack;
	struct graph		*graph;
	int			 revision;
	int			 prev_revision;
	struct svc		*svcs;		/* one per unit, graph order */
	unsigned		*met;		/* per node, for graph_can_start */
	unsigned char		*begun;
	json_t			*containers;	/* engine's list, this stack */
	json_t			*images;	/* image ref -> ID */
	json_t			*removals;	/* containers of removed services */
	json_t			*scale;		/* {svc: n} for a scale op */
	uid_t			 uid;
	pid_t			 pid;
	uint64_t		 t0;
	time_t			 started_at;
	int			 inflight;	/* engine calls and gates */
	bool			 failed;
	bool			 finishing;
	char			*error;
	struct stack_lock	*lock;
	struct op		*next;
};

/* plan.c */
int		 plan_compute(struct op *, const json_t *scale_overrides);
const char	*plan_action_name(enum svc_action);
json_t		*plan_json(const struct op *);

/*
 * stackops.c.  An operation lives until it finishes, whatever happens to
 * the client that asked for it.  At shutdown the control server lets go of
 * the requests first; once the engine client is closed (so no engine
 * callback can reach an operation any more) ops_free_all() drops the rest.
 */
void		 op_free(struct op *);
void		 ops_free_all(struct shipd *);

#endif
