/*
 * What the engine client's core (docker.c) offers the files built on it
 * (docker_api.c, events.c) and nobody else: its loop, handle accounting
 * for docker_close(), children that close with it, version negotiation.
 */
#ifndef SHIPD_DOCKER_INT_H
#define SHIPD_DOCKER_INT_H

#include <sys/queue.h>

#include "engine/docker.h"

uv_loop_t	*docker_loop(struct docker *);
/* The engine's socket, for a connection of its own (execio.c). */
const char	*docker_sock_path(const struct docker *);
int		 docker_closing(const struct docker *);
/* Every uv handle of the client is counted, so closed() can be called
 * when the last one is gone. */
void		 docker_handle_opened(struct docker *);
void		 docker_handle_closed(struct docker *);
uint64_t	 docker_timeout(const struct docker *);
/* ms as this client's deadlines apply it (the test hook's divisor). */
uint64_t	 docker_deadline(const struct docker *, uint64_t ms);

/*
 * Something built on the client that is not a request (an event stream),
 * reached through these hooks so that the core calls nothing above it.
 * docker_close() calls teardown() as it closes its own handles (the child
 * closes its handles then, counted as above), and release() once closed()
 * has returned; a child that goes earlier leaves with docker_child_del().
 */
struct docker_child {
	void			(*teardown)(void *);
	void			(*release)(void *);
	void			*arg;
	int			 linked;
	LIST_ENTRY(docker_child) entry;
};
void		 docker_child_add(struct docker *, struct docker_child *);
void		 docker_child_del(struct docker_child *);

/* Version negotiation: what the reply said, and what we settle on. */
const char	*docker_req_api_version(const struct docker_req *);
void		 docker_set_api_version(struct docker *, const char *);

/* docker_api.c: percent-encode all but unreserved characters and those
 * in keep; a "filters=" value selecting a label, or NULL for none. */
char		*docker_escape(const char *, const char *keep);
char		*docker_label_filter(const char *label);

#endif
