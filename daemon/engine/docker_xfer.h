/*
 * One engine request as a curl transfer, shared by the client (docker.c,
 * which schedules transfers on the loop) and docker_xfer.c (which builds
 * them, takes their bytes in, and turns their outcome into a result).
 */
#ifndef SHIPD_DOCKER_XFER_H
#define SHIPD_DOCKER_XFER_H

#include <sys/queue.h>

#include <curl/curl.h>

#include "engine/docker.h"
#include "util.h"

enum req_state { REQ_NEW, REQ_ADDED, REQ_OFF };

struct docker_req {
	struct docker		*d;
	TAILQ_ENTRY(docker_req)	 entry;
	enum req_state		 state;
	CURL			*easy;
	struct curl_slist	*hdrs;
	const char		*sock_path;	/* the client's, for messages */
	char			*url;
	char			*call;		/* "POST /containers/x/stop" */
	char			*payload;
	unsigned		 flags;
	docker_line_cb		*line;
	docker_data_cb		*data;
	docker_read_cb		*read;
	uint64_t		 read_size;
	const char		*content_type;	/* static, with read */
	void			(*headers)(long, void *);
	docker_cb		*done;
	void			*arg;
	void			(*free_arg)(void *);
	int			 canceled;
	int			 json;		/* Content-Type says JSON */
	int			 in_head;	/* inside a header block */
	int			 pause_want;	/* refuse the next chunk */
	int			 paused;	/* curl holds the transfer */
	int			 resume;	/* unpause once out of curl */
	long			 status;	/* final status, once known */
	char			*api_version;	/* Api-Version header */
	struct buf		 body;		/* whole reply or error reply */
	struct buf		 part;		/* a stream's unfinished line */
	int			 err;		/* decided before completion */
	/* Deadlines (docker.c), in the loop's clock: limit_ms from started
	 * for the whole reply (a stream: its headers), idle_ms from the last
	 * byte either way, not counting time paused by us; 0 = none. */
	uv_loop_t		*loop;
	uint64_t		 started;
	uint64_t		 limit_ms;
	uint64_t		 idle_ms;
	uint64_t		 last_io;
	int			 expired;	/* a deadline passed */
	char			*errmsg;
	char			 errbuf[CURL_ERROR_SIZE];
};

/* Set r->easy's options and callbacks for method on r->url. */
void	xfer_setup(struct docker_req *, const char *method);
/* Decide the outcome before completion; the first reason wins. */
void	xfer_fail(struct docker_req *, int err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Build the result from the transfer's outcome and call done().  Called
 * only out of curl's callbacks; done() may cancel, submit or close. */
void	xfer_finish(struct docker_req *, CURLcode);

#endif
