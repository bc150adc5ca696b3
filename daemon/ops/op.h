/*
 * Operations on a stack: their kinds, their lifecycle, and the per-service
 * and per-replica state the pipeline (pipeline.c), the apply engine
 * (apply.c) and the commit (commit.c) share.  docs/architecture.md tells
 * the life of an operation from request to reply.
 */
#ifndef SHIPD_OP_H
#define SHIPD_OP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "core/req.h"
#include "engine/gate.h"
#include "graph.h"
#include "unit.h"
#include "util.h"

struct shipd;
struct docker_req;
struct drain;
struct op_timer;
struct op_watch;
struct verify;

enum svc_action {
	ACT_NONE,		/* not part of this operation (scale) */
	ACT_UNCHANGED,
	ACT_CREATE,
	ACT_RECREATE,
	ACT_SCALE,
	ACT_REMOVE,
	ACT_STOP,		/* shipctl stop: stopped in place */
	ACT_START,		/* shipctl start: started, gated */
	ACT_RESTART,		/* shipctl restart: stop, start, gate */
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
	STEP_CONNECT,		/* onto the networks the create could not name */
	STEP_START,
	STEP_GATE,		/* wait for its goal */
	STEP_END,
	STEP_STOP,		/* stop it in place (stop, restart, a
				   service left stopped) */
};
#define REP_MAX_STEPS	11

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
	uint64_t		 gate_t0;	/* now_ms() its gate started */
	bool			 gated;		/* reached its goal */
	bool			 retried;	/* rename conflict handled once */
	bool			 journaled;	/* the current step is recorded */
	bool			 journaling;	/* ...and being written */
	size_t			 net;		/* network index in LEAVE/JOIN */
	bool			 connect;	/* create names one network */
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
	/* What the operation judges (plan_judge): it touched the service
	 * (changed, scaled, or started a stopped replica of it), or the
	 * service depends on one it touched; or a touched service waits on
	 * it being healthy or completed.  Nothing else is gated. */
	bool			 touched;
	bool			 judged;	/* touched, or depends on one */
	bool			 needed;	/* a touched one waits on it */
	/* shipctl stop left it stopped (svcstate.json): a deploy, rollback
	 * or recovery neither starts nor gates it, and stops a replica
	 * found running. */
	bool			 stopped;
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

/*
 * The kinds of operation.  Each kind is one row, struct op_kind, defined
 * in the file that implements it (op_kind_deploy in deploy.c, ...); its
 * flags say which stages of the pipeline it runs, its functions what it
 * does once it holds the lock and once apply has ended.
 */
enum op_kind_id {
	OP_PLAN,		/* deploy up to the plan; changes nothing */
	OP_DEPLOY,
	OP_SCALE,
	OP_ROLLBACK,		/* shipctl rollback: a committed revision again */
	OP_ROLLBACK_AUTO,	/* a failed deploy's way back */
	OP_RECOVER,		/* an interrupted operation's way back */
	OP_STOP,		/* shipctl stop: services and dependents */
	OP_START,
	OP_RESTART,
	OP_NKINDS
};

/*
 * Where an operation is (status shows it, with the time it entered).
 * The pipeline and apply set it as they go; commit once apply has ended.
 */
enum op_phase {
	PH_QUEUED,		/* waiting for the stack's lock (--wait) */
	PH_IMAGES,		/* the engine's containers and images */
	PH_PLAN,
	PH_CHECKS,		/* pre-flight checks */
	PH_BACKUP,
	PH_BEGIN,		/* journal, networks, volumes */
	PH_APPLY,
	PH_VERIFY,		/* the monitor period */
	PH_COMMIT,		/* recording the outcome */
	PH_ROLLBACK,		/* failed; its rollback is under way */
	PH_NPHASES
};

/* The kinds' names, as the journal, revisions and locks record them. */
#define OP_NAME_PLAN		"plan"
#define OP_NAME_DEPLOY		"deploy"
#define OP_NAME_SCALE		"scale"
#define OP_NAME_ROLLBACK	"rollback"
#define OP_NAME_ROLLBACK_AUTO	"rollback-auto"
#define OP_NAME_RECOVER		"recover"
#define OP_NAME_STOP		"stop"
#define OP_NAME_START		"start"
#define OP_NAME_RESTART		"restart"

/* A recorded name read back (the journal's): its kind, or -1. */
int		 op_kind_parse(const char *name);

#define OPK_LOCK	0x01	/* holds the stack lock */
#define OPK_PLAN_ONLY	0x02	/* ends with the plan as its reply */
#define OPK_CHECKS	0x04	/* pre-flight checks */
#define OPK_BACKUP	0x08	/* backs up what it is about to change */
#define OPK_REVISION	0x10	/* records a revision of its own */
#define OPK_BEGIN	0x20	/* journals a begin of its own; the others
				   run inside another operation's record */
#define OPK_OBJECTS	0x40	/* creates the stack's networks and volumes */
#define OPK_PIN		0x80	/* creates from recorded image IDs */
#define OPK_ORPHANS	0x100	/* removes services no longer in the stack
				   only when asked (op->remove_orphans) */
#define OPK_NOOP	0x200	/* nothing to change ends it at the plan,
				   with no revision */
#define OPK_POLICY	0x400	/* the policy judges what it creates
				   (policy.c); never skipped */

struct op_kind {
	enum op_kind_id	 id;
	const char	*name;		/* journal, revision, lock holder */
	unsigned	 flags;		/* OPK_* */
	/* The lock is held (or the kind takes none): number it, begin. */
	void		(*start)(struct op *);
	/* Apply has ended, op->failed says how: record, reply, end. */
	void		(*finish)(struct op *);
	/* The operation is freed: drop what the kind hangs on it. */
	void		(*cancel)(struct op *);
};

struct op {
	struct shipd		*sd;
	const struct op_kind	*kind;
	int			 refs;
	struct ctl_req		*req;		/* NULL once answered or gone */
	char			*stack_name;
	struct stack		*stack;
	struct graph		*graph;
	int			 revision;
	int			 prev_revision;
	int			 keep_rev;	/* its containers are kept */
	struct svc		*svcs;		/* one per unit, graph order */
	unsigned		*met;		/* per node, for graph_can_start */
	unsigned char		*begun;
	json_t			*containers;	/* engine's list, this stack */
	json_t			*images;	/* image ref -> ID */
	json_t			*removals;	/* containers of removed services */
	json_t			*orphans;	/* those services: {name: containers},
						   kept for the summary */
	bool			 remove_orphans;	/* deploy --remove-orphans */
	size_t			 removing;	/* their removals in flight */
	size_t			 preparing;	/* network/volume creates */
	json_t			*scale;		/* {svc: n} for a scale op */
	json_t			*bounds;	/* {svc: {min, max}}: scale's
						   new autoscale bounds */
	json_t			*targets;	/* stop/start/restart: {svc:
						   why}, named ones and the
						   dependents they take */
	json_t			*skip_checks;	/* names from --skip-check */
	json_t			*preflight_errors;
	uid_t			 uid;
	pid_t			 pid;
	uint64_t		 t0;
	time_t			 started_at;
	bool			 wait;		/* queue for the lock */
	bool			 failed;
	bool			 finishing;	/* apply ended; recording */
	bool			 ended;
	bool			 in_record;	/* a journal begin stands for it
						   (its own or its parent's):
						   it ends through finish */
	char			*error;
	enum op_phase		 phase;
	uint64_t		 phase_t;	/* now_ms() it entered it */
	struct op_timer		*deadline;	/* the phase's, while armed */
	uint64_t		 deadline_ms;	/* ...and its length */
	char			*stop_why;	/* cancelled or past a deadline
						   before apply: the pipeline
						   stops at its next stage */
	struct verify		*verify;	/* the monitor period, while on */
	bool			 verified;
	struct stack_lock	*lock;
	struct lock_waiter	*waiter;	/* queued for the lock (--wait) */
	struct op		*parent;	/* the failed deploy we roll back */
	struct op		*child;		/* its rollback */
	int			 rollback_of;	/* manual rollback: the target */
	bool			 rolled_back;	/* automatic rollback succeeded */
	unsigned		 notified;	/* webhooks sent (opnotify.c) */
	char			*refusal;	/* the first error answered */
	void			*kind_data;	/* the kind's own (recovery) */
	bool			 no_backup;	/* deploy --no-backup */
	char			*backup_id;	/* taken before this deploy */
	char			*restore_id;	/* rollback --with-data: restore */
	struct op_watch		*watchers;	/* shipctl attach: they get
						   every event and the answer */
	char			*safety_id;	/* and the safety backup it took */
	/* The supervisor's (heal.c): set on its restarts, told once the
	 * operation ends (op->failed says how). */
	bool			 healing;
	bool			 autoscaling;	/* the autoscaler's scale */
	void			(*on_end)(struct op *, void *);
	void			*on_end_arg;
	struct op		*next;		/* sd->ops */
};

/*
 * Lifecycle (op.c).  An operation lives until it ends, whatever happens
 * to the client that asked for it.  The list of operations under way
 * holds one reference; whoever else keeps a pointer past a callback (a
 * rollback its failed deploy, a deploy its rollback) holds one too.  The
 * last unref never frees at once: the free runs from the loop, after the
 * callback that dropped it has returned.
 */
struct op	*op_create(struct shipd *, const struct op_kind *,
		    struct ctl_req *, struct stack *, struct graph *);
void		 op_ref(struct op *);
void		 op_unref(struct op *);
/* Queue for the stack's lock (kinds with OPK_LOCK), then kind->start. */
void		 op_run(struct op *);
/* The one way out: off the list, lock released, reference dropped. */
void		 op_end(struct op *);
/* ops/opnotify.c: the webhooks of an operation: begin (it has the lock),
 * start (a deploy has its revision's number), failed and end. */
void		 op_notify_begin(struct op *);
void		 op_notify_start(struct op *);
void		 op_notify_failed(struct op *, bool rolling_back);
void		 op_notify_end(struct op *);
/* At shutdown, once no engine or store callback can come any more. */
void		 ops_free_all(struct shipd *);

void		 op_emit(struct op *, const char *event, json_t *fields);
/* Answer the client (when there is one); neither ends the operation. */
void		 op_reply_ok(struct op *, json_t *result);
void		 op_reply_err(struct op *, const char *code, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
/* Answer with an error and end. */
void		 op_abort(struct op *, const char *code, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* Hand the client, and those attached, from one operation to another. */
void		 op_take_req(struct op *to, struct op *from);
/* shipctl attach: r gets op's events from now on and its answer. */
void		 op_watch_add(struct op *, struct ctl_req *r);
/* Apply failed: the first reason stands. */
void		 op_fail(struct op *, const char *why);

/* Enter a phase, and tell the client (and those attached): a `phase`
 * event with the time since the operation began.  fields (stolen; may be
 * NULL) add to the event. */
void		 op_phase_enter_with(struct op *, enum op_phase, json_t *fields);
void		 op_phase_enter(struct op *, enum op_phase);
const char	*op_phase_name(enum op_phase);
/* Arm the operation's one deadline timer: fn(op) in ms (0: disarm).  It
 * is disarmed at the end and at shutdown (ops_stop). */
void		 op_deadline(struct op *, uint64_t ms, void (*fn)(struct op *));

/* svcop.c, for the supervisor: a restart of targets ({svc: why}, stolen,
 * as are st and g) with no client; on_end(op, arg) once it ends. */
void		 svcop_heal(struct shipd *, struct stack *, struct graph *,
		    json_t *targets, void (*on_end)(struct op *, void *),
		    void *arg);

/* deploy.c, for the autoscaler: a scale of st to want ({svc: n}, stolen,
 * as are st and g) with no client; on_end(op, arg) once it ends. */
void		 scale_auto(struct shipd *, struct stack *, struct graph *,
		    json_t *want, void (*on_end)(struct op *, void *),
		    void *arg);

/* svcop.c, for ordered boot (boot.c): a start of targets ({svc: why},
 * stolen, as are st and g) with no client, and a stop of targets,
 * dependents first, that leaves no mark (no shipctl stop); on_end(op,
 * arg) once each ends. */
void		 svcop_boot(struct shipd *, struct stack *, struct graph *,
		    json_t *targets, void (*on_end)(struct op *, void *),
		    void *arg);
void		 svcop_boot_stop(struct shipd *, struct stack *,
		    struct graph *, json_t *targets,
		    void (*on_end)(struct op *, void *), void *arg);

/* cancel.c: stop an operation with a reason (a cancel, a deadline):
 * queued, it is answered and ends; before apply, the pipeline fails at
 * its next stage; in apply or verify, apply fails (a deploy rolls back).
 * False when it is too late (committing, rolling back). */
bool		 op_stop(struct op *, const char *why);
/* Arm the deadline of the phase op has just entered (none: disarm). */
void		 op_phase_deadline(struct op *);

/* plan.c */
int		 plan_compute(struct op *, const json_t *scale_overrides);
const char	*plan_action_name(enum svc_action);
json_t		*plan_json(const struct op *);
/* The services op->orphans names, sorted; free the array, not the names. */
const char	**plan_orphans(const struct op *, size_t *n);

/* pipeline.c: containers, images, plan, checks, backup, begin, apply. */
void		 pipeline_run(struct op *);

/* apply.c: walk the graph; kind->finish when it has ended. */
void		 apply_run(struct op *);
/* op_fail() during apply or verify, and the end if nothing is left. */
void		 apply_stop(struct op *, const char *why);
void		 apply_free(struct op *);

/* commit.c */
void		 commit_begin(struct op *, void (*)(int, void *));
/* Record the outcome, answer, end: the end of every kind that records. */
void		 commit_end(struct op *);
/* The plan has nothing to change and the revision would be current's
 * again: whether so, and the answer that says so, then the end. */
bool		 commit_nothing(const struct op *);
void		 commit_none(struct op *);
json_t		*revision_doc(const struct op *);

/* rollback.c */
struct op	*op_snapshot(struct shipd *, const struct op_kind *,
		    struct ctl_req *, const char *stack, int rev, char *why,
		    size_t);
bool		 rollback_wanted(const struct op *);
void		 rollback_auto(struct op *);

/* prune.c: removals nobody waits for. */
void		 prune_kept(struct shipd *, const char *stack, int current,
		    int retain);
void		 prune_revision(struct shipd *, const char *stack, int rev);

#endif
