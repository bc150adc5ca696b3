/*
 * Shared between the engine client's own files (docker.c, events.c) and
 * nobody else: handle accounting for docker_close() and the list of event
 * streams it has to shut down.
 */
#ifndef SHIPD_DOCKER_INT_H
#define SHIPD_DOCKER_INT_H

#include "engine/docker.h"

uv_loop_t	*docker_loop(struct docker *);
int		 docker_closing(const struct docker *);
/* Every uv handle of the client is counted, so closed() can be called
 * when the last one is gone. */
void		 docker_handle_opened(struct docker *);
void		 docker_handle_closed(struct docker *);
struct docker_events **docker_events_head(struct docker *);
uint64_t	 docker_timeout(const struct docker *);
/* Version negotiation: what the reply said, and what we settle on. */
const char	*docker_req_api_version(const struct docker_req *);
void		 docker_set_api_version(struct docker *, const char *);
/* Percent-encode all but unreserved characters and those in keep. */
char		*docker_escape(const char *, const char *keep);
/* "filters=..." query value selecting a label, or NULL for none. */
char		*docker_label_filter(const char *label);

/* events.c: docker_close() stops every stream, and frees them after its
 * closed() callback has returned. */
void		 events_teardown(struct docker *);
void		 events_free_all(struct docker *);

#endif
