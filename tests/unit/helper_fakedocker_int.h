/*
 * The dockerd model's insides (helper_fakedocker.c), shared with its HTTP
 * side (helper_fakedocker_http.c).  Everything here runs with fd->mu
 * held unless it says otherwise.
 */
#ifndef SHIPD_HELPER_FAKEDOCKER_INT_H
#define SHIPD_HELPER_FAKEDOCKER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "helper_fakedocker.h"

#define LABEL_STACK_KEY	"io.shipd.stack"
#define LABEL_REV_KEY	"io.shipd.revision"

struct fake_conn;
struct fake_request;

struct fimage {
	char			*ref;
	char			 id[72];
	struct fake_image	 k;
	struct fimage		*next;
};

struct fcont {
	char			 id[72];
	char			*name;
	char			*ref;
	char			 image_id[72];
	struct fake_image	 k;
	json_t			*labels;
	json_t			*hc;		/* Healthcheck of the spec, or NULL */
	json_t			*nets;		/* network -> [aliases] */
	char			 state[16];	/* created, running, exited */
	int			 exit_code;
	char			 health[16];	/* "", starting, healthy,
						   unhealthy */
	uint64_t		 started;
	int			 ip;
	struct fcont		*next;
};

struct fcall {
	uint64_t	 at;
	char		*raw;
	char		*text;
};

struct fakedocker {
	struct fake_engine	*fe;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	pthread_t		 ticker;
	bool			 stopping;
	struct fimage		*images;
	struct fcont		*conts;
	bool			 loopback;	/* new containers at 127.0.0.1 */
	bool			 no_create;	/* POST create answers 500 */
	json_t			*nets;		/* name -> {Id, Labels} */
	json_t			*vols;		/* name -> {Labels} */
	json_t			*execs;		/* id -> {cid, code} */
	json_t			*events;	/* every event, in order */
	struct fcall		*calls;
	int			 ncalls;
	int			 unknown;
	unsigned		 serial;
	int64_t			 last_ns;
	char			 api[16];	/* the API it speaks, "1.41" */
	char			 api_hdr[48];	/* its Api-Version header */
};

void		 fdm_id(struct fakedocker *, unsigned tag, char *out);
/* One line of the call log; raw NULL for the engine's own changes. */
void		 fdm_log(struct fakedocker *, const char *raw, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
struct fimage	*fdm_image(struct fakedocker *, const char *ref_or_id);
/* By ID, name, or unique ID prefix. */
struct fcont	*fdm_cont(struct fakedocker *, const char *key);
void		 fdm_cont_free(struct fcont *);
void		 fdm_emit(struct fakedocker *, struct fcont *,
		    const char *action, const char *exit_code);
/* Running, and its health check would pass now. */
bool		 fdm_ready(const struct fcont *, uint64_t now);
void		 fdm_exited(struct fakedocker *, struct fcont *, int code);
void		 fdm_refresh_all(struct fakedocker *);
/* POST /containers/create's work: NULL with *status and msg set. */
struct fcont	*fdm_create(struct fakedocker *, const char *name,
		    json_t *spec, bool check_net, int *status, char *msg,
		    size_t len);
void		 fdm_start(struct fakedocker *, struct fcont *);
json_t		*fdm_inspect(const struct fcont *);
/* The fake engine's handler: takes the lock itself. */
void		 fdm_handle(struct fake_conn *, const struct fake_request *,
		    void *);

#endif
