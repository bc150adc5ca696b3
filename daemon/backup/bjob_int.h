/*
 * Inside one backup job, shared by its two halves and nobody else:
 * backupjob.c holds its life, its report and its commit or discard;
 * bjobrun.c its run, from bjob_start() through the hooks, the copies and
 * the stop and restart around them.
 */
#ifndef SHIPD_BJOB_INT_H
#define SHIPD_BJOB_INT_H

#include <time.h>

#include "backup/backup_int.h"
#include "core/shipd.h"
#include "util.h"

struct bsvc {
	char			*name;
	const struct unit	*unit;
	json_t			*paths;		/* strings */
	json_t			*files;		/* manifest entries */
	char			*cid;
	char			*cname;
	char			*image;
	char			*image_id;
	bool			 stop;		/* copied while stopped */
	bool			 running;	/* when the job began */
	bool			 skip;		/* no container to save */
	bool			 pre_ok;	/* post may run */
};

enum { STAGE_LIVE, STAGE_STOPPED };

struct bjob {
	struct shipd		*sd;
	int			 refs;
	bool			 stopped;	/* no callback follows */
	struct task		 task;
	bool			 tasked;
	struct stack		*st;
	struct graph		*g;
	char			*id;
	int			 revision;
	char			*reason;
	unsigned		 flags;
	json_t			*pins;		/* ids never pruned */
	struct bsvc		*svcs;
	size_t			 nsvcs;
	json_t			*containers;
	struct quiesce		*q;
	struct bjrec		*jr;		/* NULL: not journaled */
	bool			 ok_id;		/* reporting the backup */

	/* the step under way */
	int			 stage;
	size_t			 si, pi;
	struct docker_req	*dreq;
	struct bfs_op		*fsop;
	struct bcopy		*copy;
	bool			 hook_post;
	struct hook		*hook;
	uv_timer_t		 timer;		/* the first step, at 0 ms */

	bool			 prepared;
	bool			 failed;
	struct buf		 errors;	/* the backup is no good */
	struct buf		 later;		/* good backup, bad restart */
	uint64_t		 t0;
	time_t			 started;
	uint64_t		 bytes;
	bjob_event_cb		*ev;
	bjob_cb			*cb;
	void			(*free_arg)(void *);
	void			*arg;
};

/* Drop everything under way; no callback follows.  Idempotent.  Takes
 * the job as a task's stop function does. */
void	bjob_stop(void *);
/* The end: the journal's record first when the job has one, then the
 * caller's callback with id (NULL: no backup). */
void	bjob_report(struct bjob *, const char *id);
/* Note what makes the backup no good; the run goes on to clean up. */
void	bjob_error(struct bjob *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Send one event to the caller; fields are stolen. */
void	bjob_emit(struct bjob *, const char *event, json_t *fields);
/* After the post hooks: commit the manifest and prune, or discard. */
void	bjob_finish(struct bjob *);

#endif
