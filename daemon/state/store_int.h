/*
 * The state store's insides, shared by its four files and no one else:
 * the cache (store_cache.c), loading at open (store_load.c), the write
 * queue on the thread pool (store_queue.c) and the API (store.c).
 */
#ifndef SHIPD_STORE_INT_H
#define SHIPD_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <uv.h>

#include "state/store.h"

#define STORE_FILE_MODE	0600	/* revisions hold the services' environment */
#define STORE_DIR_MODE	0700
#define STORE_LOCK_FILE	"shipd.lock"	/* flock'd by the one daemon; its pid */

struct rev {
	int		 n;
	json_t		*doc;
};

struct stk {
	char		*name;
	char		*dir;		/* <state>/stacks/<name>; immutable */
	struct rev	*revs;		/* ascending by n */
	size_t		 nrevs;
	size_t		 caprevs;
	int		 current;
	int		 next;		/* lowest number not yet handed out */
	json_t		*scale;
	json_t		*svcstate;	/* svcstate.json */
	json_t		*heal;		/* heal.json */
};

enum wkind { W_NOP, W_REPLACE, W_APPEND };
enum wapply { A_NONE, A_REVISION, A_CURRENT, A_SCALE, A_SVCSTATE, A_HEAL,
	    A_TRUNCATE };

/* One queued write.  The worker sees only path, data, len, err and
 * stk->dir: JSON values never cross to the thread pool. */
struct wreq {
	uv_work_t	 work;
	struct store	*st;
	struct wreq	*next;
	enum wkind	 kind;
	enum wapply	 apply;
	char		*path;
	char		*data;
	size_t		 len;
	int		 err;
	struct stk	*stk;		/* its directories are made first */
	int		 rev;
	json_t		*doc;		/* cached once the write lands */
	store_cb	*cb;
	void		*arg;
};

struct store {
	uv_loop_t	*loop;
	char		*dir;
	int		 lock_fd;	/* held until store_free */
	char		*journal_path;
	char		*audit_path;
	struct stk	**stks;		/* sorted by name */
	size_t		 nstks;
	json_t		*journal;	/* records read at open */
	int		 journal_holds;	/* jobs whose records must stay */
	struct wreq	*head;		/* head is in flight when busy */
	struct wreq	*tail;
	bool		 busy;
	bool		 closing;
	void		(*done)(void *);
	void		*done_arg;
};

/* store_cache.c: the in-memory copy of the state directory. */
bool		 store_name_valid(const char *);
struct stk	*store_stk_get(struct store *, const char *);	/* creates */
struct stk	*store_stk_lookup(struct store *, const char *);
struct rev	*store_rev_find(struct stk *, int);
void		 store_rev_set(struct stk *, int, json_t *);	/* takes doc */
void		 store_free(struct store *);

/* store_load.c: read the state directory into the cache.  0 or -errno. */
int		 store_load(struct store *);

/* store_queue.c: writes, one at a time in FIFO order, on the thread pool. */
struct wreq	*store_wreq_new(enum wkind, enum wapply, store_cb *, void *);
void		 store_wreq_free(struct wreq *);
int		 store_wreq_dump(struct wreq *, const json_t *, size_t flags);
void		 store_submit(struct store *, struct wreq *);
void		 store_reject(struct store *, int err, store_cb *, void *);

#endif
