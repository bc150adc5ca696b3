/*
 * The daemon's one context object: the loop, the engine client, the control
 * server and the configuration.  Every module reaches the rest through it.
 */
#ifndef SHIPD_SHIPD_H
#define SHIPD_SHIPD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include <uv.h>

#include "core/config.h"

struct ctl;
struct docker;
struct docker_events;
struct health;
struct heal;
struct autoscale;
struct stats;
struct metrics_http;
struct store;
struct watch;
struct op;
struct stack_lock;
struct lock_waiter;
struct webhooks;

/*
 * Work that may still hold engine calls when shipd shuts down.  Engine
 * callbacks stop once the engine client is closed; whatever is still
 * registered then is freed through its free function.
 */
struct task {
	void		*obj;
	void		(*free)(void *);
	struct task	*next;
};

/* A free deferred past the callback that asked for it (core/defer.c). */
struct deferred {
	void		(*fn)(void *);
	void		*arg;
	struct deferred	*next;
};

struct shipd_config {
	const char	*socket_path;
	const char	*state_dir;
	const char	*engine_path;
	const char	*config_path;	/* -c; SHIPD_DEFAULT_CONFIG */
	bool		 config_given;	/* named with -c: must exist */
	bool		 check_config;	/* --check-config: read it, exit */
	gid_t		 gid;		/* socket group, or (gid_t)-1 */
	gid_t		 read_gid;	/* read-only socket's group, or -1 */
	char		*ro_path;	/* "<socket_path>.ro" with read_gid */
	bool		 debug;
	const char	*metrics_listen;	/* --metrics-listen */
};

struct shipd {
	uv_loop_t		*loop;
	struct shipd_config	 cfg;
	struct shipd_conf	 conf;		/* the file's: the policy */
	struct docker		*docker;
	struct ctl		*ctl;
	struct metrics_http	*metrics_http;	/* --metrics-listen */
	uv_signal_t		 sig_term;
	uv_signal_t		 sig_int;
	uv_timer_t		 engine_retry;
	uint64_t		 engine_backoff_ms;
	bool			 engine_ok;	/* API negotiated and reachable */
	bool			 engine_connecting;
	/* Each time the engine is reached and its API negotiated (main.c
	 * starts recovery from it). */
	void			(*engine_ready)(struct shipd *);
	char			*engine_error;	/* last reason it is not */
	json_t			*engine_version;	/* GET /version */
	struct docker_events	*events;
	bool			 events_up;
	bool			 events_seen_up;
	struct watch		*watches;
	int			 watch_dispatching;
	struct store		*store;
	struct op		*ops;		/* operations under way */
	struct health		*health;	/* ops/health.c */
	struct heal		*heal;		/* ops/heal.c */
	struct autoscale	*autoscale;	/* ops/autoscale.c */
	/* Set by the supervisor (ops/heal.c) so that the modules it builds
	 * on can tell it without calling up: shipd's own check left a
	 * replica unhealthy; a user's operation gave the stack a fresh
	 * start (its backoff and crash loops are forgotten). */
	void			(*heal_unhealthy)(struct shipd *,
				    const char *stack, const char *service,
				    const char *id, const char *why);
	void			(*heal_reset)(struct shipd *, const char *);
	struct webhooks		*webhooks;	/* core/webhook.c, once used */
	struct stats		*stats;		/* engine/stats.c */
	/* Whether a stack's containers are followed by the stats streams
	 * (set by ops/opsmetrics.c: the stacks shipd has deployed). */
	bool			(*stats_want)(struct shipd *, const char *);
	struct task		*tasks;
	uv_idle_t		 reaper;	/* runs the deferred frees */
	struct deferred		*deferred;
	struct stack_lock	*locks;
	struct lock_waiter	*lock_waiters;
	bool			 recovery_started;
	bool			 recovered;	/* the journal was replayed */
	/* Stacks whose recovery failed: name -> why.  Their records stay
	 * in the journal (state/journal.c) for the next try. */
	json_t			*journal_held;
	bool			 stopping;
	int			 exit_code;
};

/*
 * core/defer.c.  defer_free() runs fn(arg) from the loop, after the
 * callback that called it has returned: nothing frees the object whose
 * callback is running.  defer_init() before the loop runs; defer_flush()
 * runs what is queued at once, at shutdown; defer_close() closes the
 * handle.
 */
void	defer_init(struct shipd *);
void	defer_free(struct shipd *, void (*fn)(void *), void *arg);
void	defer_flush(struct shipd *);
void	defer_close(struct shipd *);

/* core/task.c */
void	task_add(struct shipd *, struct task *, void *, void (*)(void *));
void	task_del(struct shipd *, struct task *);
void	tasks_free_all(struct shipd *);

#endif
