/*
 * Webhooks: the events of stack.yaml's notify: POSTed as JSON to each
 * target that asked for them (docs/operations.md, "Webhooks").  Delivery
 * runs on its own curl multi on the loop and never holds up the caller:
 * webhook_emit() queues and returns.
 */
#ifndef SHIPD_WEBHOOK_H
#define SHIPD_WEBHOOK_H

#include <jansson.h>

#include "unit.h"

struct shipd;

#define WEBHOOK_QUEUE_MAX	256	/* waiting deliveries; oldest dropped */
#define WEBHOOK_INFLIGHT	8	/* POSTs at once */
#define WEBHOOK_BACKOFF_MS	250	/* first retry; doubles, capped */
#define WEBHOOK_BACKOFF_MAX_MS	10000

struct webhook_event {
	enum notify_event	 event;
	const char		*stack;
	int			 revision;	/* 0: none (null in the body) */
	json_t			*services;	/* array of names, or NULL */
	const char		*reason;	/* or NULL */
	json_t			*detail;	/* the event's own, or NULL */
};

/*
 * Queue ev for every hook of hooks[] that lists its event.  Borrows ev
 * (copies what it keeps).  The body, and its id, is the same for every
 * target and every attempt.
 */
void	webhook_emit(struct shipd *, const struct notify_hook *hooks,
	    size_t nhooks, const struct webhook_event *ev);
/* Shutdown: what is not delivered is dropped (logged); handles close. */
void	webhook_close(struct shipd *);
/* Deliveries not finished (queued, in flight, waiting to retry). */
size_t	webhook_pending(const struct shipd *);

#endif
