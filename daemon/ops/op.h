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

#include "engine/gate.h"
#include "graph.h"
#include "unit.h"

struct shipd;
struct ctl_req;
struct docker_req;
struct drain;
struct verify;

enum svc_action {
	ACT_NONE,		/* not part of this operation (scale) */
	ACT_UNCHANGED,
	ACT_CREATE,
	ACT_RECREATE,
	ACT_SCALE,
	ACT_REMOVE,
};

enum svc_state { SVC_PENDING, SVC_ACTIVE, SVC_DONE, SVC_FAILED, SVC_SKIPPED };

/* The steps a replica goes through, planned once (deploy.c). */
enum rep_step {
	STEP_OLD_LEAVE,		/* take the occupant out of the stack's DNS */
	STEP_OLD_STOP,		/* stop the occupant, gracefully */
	STEP_OLD_RENAME,	/* rename it <name>-r<rev> */
	STEP_OLD_REMOVE,
	STEP_RESTORE,		/* rename a kept container back */
	STEP_JOIN,		/* put it back on the stack's networks */
	STEP_NEW_LEAVE,		/* a healthy successor leaves, unnamed... */
	STEP_NEW_JOIN,		/* ...and joins under the service name */
	STEP_CREATE,
	STEP_START,
	STEP_GATE,		/* wait for its goal */
	STEP_END,
};
#define REP_MAX_STEPS	10

enum rep_state { REP_IDLE, REP_BUSY, REP_DONE, REP_FAILED };

/*
 * One replica's work.  The container named <stack>-<service>-<n> now
 * (old_id) is either what we want (reuse), or is replaced: by a container
 * kept from an earlier revision (restore_id, renamed back: a rollback
 * without create), or by a new one.  A replaced container of the committed
 * revision is kept, stopped and renamed <name>-r<rev>, for fast rollback;
 * one of an uncommitted revision is removed.
 */
struct replica {
	struct svc		*svc;
	int			 n;
	char			*id;		/* container being brought up */
	char			*old_id;	/* occupant it replaces */
	int			 old_rev;	/* its io.shipd.revision */
	bool			 old_keep;	/* keep it (renamed) */
	bool			 old_running;
	char			*restore_id;	/* kept container to bring back */
	bool			 reuse;		/* the occupant is what we want */
	bool			 remove;	/* beyond the count: only remove */
	bool			 queued;	/* waiting for a parallelism slot */
	bool			 slot;		/* holds a parallelism slot */
	bool			 gated;		/* reached its goal */
	bool			 retried;	/* rename conflict handled once */
	bool			 journaled;	/* the current step is recorded */
	size_t			 net;		/* network index in LEAVE/JOIN */
	bool			 drain;		/* others serve: drain first */
	bool			 unaliased;	/* created without the name */
	struct drain		*drainer;	/* the drain timer, while on */
	enum rep_step		 steps[REP_MAX_STEPS];
	int			 nsteps;
	int			 step;		/* index of the current step */
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
	size_t			 active;	/* replacements under way */
	size_t			 started;	/* replicas whose start succeeded */
	size_t			 gated;		/* replicas that reached the goal */
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
	int			 keep_rev;	/* its containers are kept */
	bool			 pin_images;	/* create from image IDs */
	struct svc		*svcs;		/* one per unit, graph order */
	unsigned		*met;		/* per node, for graph_can_start */
	unsigned char		*begun;
	json_t			*containers;	/* engine's list, this stack */
	json_t			*images;	/* image ref -> ID */
	json_t			*removals;	/* containers of removed services */
	json_t			*scale;		/* {svc: n} for a scale op */
	json_t			*skip_checks;	/* names from --skip-check */
	json_t			*preflight_errors;
	uid_t			 uid;
	pid_t			 pid;
	uint64_t		 t0;
	time_t			 started_at;
	int			 inflight;	/* engine calls and gates */
	bool			 failed;
	bool			 finishing;
	char			*error;
	struct verify		*verify;	/* the monitor period, while on */
	bool			 verified;
	struct stack_lock	*lock;
	struct lock_waiter	*waiter;	/* queued for the lock (--wait) */
	void			(*start)(struct op *);	/* once locked */
	struct op		*parent;	/* the failed deploy we roll back */
	struct op		*child;		/* its rollback, freed with it */
	int			 rollback_of;	/* manual rollback: the target */
	bool			 rolled_back;	/* automatic rollback succeeded */
	void			*recover;	/* journal recovery context */
	bool			 no_backup;	/* deploy --no-backup */
	char			*backup_id;	/* taken before this deploy */
	char			*restore_id;	/* rollback --with-data: restore */
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
struct op	*op_create(struct shipd *, struct ctl_req *, const char *kind,
		    struct stack *, struct graph *);
void		 op_begin(struct op *);
/* commit.c */
void		 commit_begin(struct op *, void (*)(int, void *));
void		 op_take_req(struct op *to, struct op *from);
void		 reply_result(struct op *);
void		 record_revision(struct op *);
json_t		*revision_doc(const struct op *);

/* deploy.c */
void		 rep_cancel_drain(struct replica *);
void		 op_verify_cancel(struct op *);

/* rollback.c */
struct op	*op_snapshot(struct shipd *, struct ctl_req *, const char *kind,
		    const char *stack, int rev, char *why, size_t);
bool		 rollback_wanted(const struct op *);
void		 rollback_auto(struct op *);
void		 rollback_auto_done(struct op *);
void		 rollback_prune(struct shipd *, const char *stack, int current,
		    int retain);

#endif
