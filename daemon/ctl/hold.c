/*
 * Requests held until the engine is reached (hold.h).  One timer for all
 * of them: they share one bound, so the oldest always expires first.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ctl/hold.h"
#include "log.h"
#include "proto.h"
#include "core/shipd.h"
#include "util.h"

struct held {
	struct ctl_hold	*h;
	struct ctl_req	*r;
	ctl_handler	*fn;
	uint64_t	 deadline;	/* uv_now() */
	struct held	*next, *prev;
};

struct ctl_hold {
	struct shipd	*sd;
	uv_timer_t	 timer;
	uint64_t	 wait_ms;
	bool		 gave_up;	/* one waited the bound in vain */
	struct held	*head, *tail;
	void		(*closed)(void *);
	void		*closed_arg;
};

static void	on_timer(uv_timer_t *);

/* Testing: SHIPD_TEST_ENGINE_WAIT_MS=N sets the bound to N ms. */
static uint64_t
wait_bound(void)
{
	const char	*v = getenv("SHIPD_TEST_ENGINE_WAIT_MS");
	char		*end;
	unsigned long	 ms;

	if (v == NULL || *v == '\0')
		return CTL_ENGINE_WAIT_MS;
	ms = strtoul(v, &end, 10);
	if (*end != '\0' || ms == 0) {
		log_warn("control: SHIPD_TEST_ENGINE_WAIT_MS=%s ignored", v);
		return CTL_ENGINE_WAIT_MS;
	}
	return ms;
}

struct ctl_hold *
ctl_hold_new(struct shipd *sd)
{
	struct ctl_hold *h = xcalloc(1, sizeof *h);

	h->sd = sd;
	h->wait_ms = wait_bound();
	uv_timer_init(sd->loop, &h->timer);
	h->timer.data = h;
	return h;
}

bool
ctl_hold_open(const struct ctl_hold *h)
{
	return !h->gave_up;
}

/* Off the list; the request's hooks are the handler's again. */
static void
unhold(struct held *e)
{
	struct ctl_hold *h = e->h;

	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		h->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		h->tail = e->prev;
	ctl_req_on_gone(e->r, NULL, NULL);
	ctl_req_on_cancel(e->r, NULL, NULL);
	free(e);
	if (h->head == NULL)
		uv_timer_stop(&h->timer);
}

static void
arm(struct ctl_hold *h)
{
	uint64_t now = uv_now(h->sd->loop);

	if (h->head == NULL)
		return;
	uv_timer_start(&h->timer, on_timer, h->head->deadline > now ?
	    h->head->deadline - now : 0, 0);
}

/* Shutdown: ctl_close answered it; it is freed after this. */
static void
on_cancel(struct ctl_req *r, void *arg)
{
	(void)r;
	unhold(arg);
}

/* The client went: nothing ran for it, so nothing is left to do. */
static void
on_gone(struct ctl_req *r, void *arg)
{
	unhold(arg);
	log_debug("control: %s dropped: its client went away while it "
	    "waited for the engine", r->cmd);
	ctl_req_err(r, PROTO_E_UNAVAILABLE, "the client went away while "
	    "waiting for the engine");
}

void
ctl_hold_add(struct ctl_hold *h, ctl_handler *fn, struct ctl_req *r)
{
	struct held *e = xcalloc(1, sizeof *e);

	e->h = h;
	e->r = r;
	e->fn = fn;
	e->deadline = uv_now(h->sd->loop) + h->wait_ms;
	e->prev = h->tail;
	if (h->tail != NULL)
		h->tail->next = e;
	else
		h->head = e;
	h->tail = e;
	ctl_req_on_gone(r, on_gone, e);
	ctl_req_on_cancel(r, on_cancel, e);
	log_debug("control: %s waits up to %llu ms for the engine", r->cmd,
	    (unsigned long long)h->wait_ms);
	if (!uv_is_active((uv_handle_t *)&h->timer))
		arm(h);
}

static void
on_timer(uv_timer_t *t)
{
	struct ctl_hold	*h = t->data;
	struct shipd	*sd = h->sd;
	struct ctl_req	*r;
	uint64_t	 now = uv_now(sd->loop);

	while (h->head != NULL && h->head->deadline <= now) {
		r = h->head->r;
		unhold(h->head);
		h->gave_up = true;
		ctl_req_err(r, PROTO_E_UNAVAILABLE, "engine %s: %s (waited "
		    "%llu ms for it)", sd->cfg.engine_path, sd->engine_error ?
		    sd->engine_error : "not connected yet",
		    (unsigned long long)h->wait_ms);
	}
	arm(h);
}

void
ctl_hold_wake(struct ctl_hold *h)
{
	struct ctl_req	*r;
	ctl_handler	*fn;

	h->gave_up = false;
	/* A handler may hold nothing new: the engine is there now. */
	while (h->head != NULL) {
		r = h->head->r;
		fn = h->head->fn;
		unhold(h->head);
		fn(h->sd, r);
	}
}

static void
on_closed(uv_handle_t *t)
{
	struct ctl_hold	*h = t->data;
	void		(*closed)(void *) = h->closed;
	void		*arg = h->closed_arg;

	free(h);
	if (closed != NULL)
		closed(arg);
}

void
ctl_hold_close(struct ctl_hold *h, void (*closed)(void *), void *arg)
{
	while (h->head != NULL)
		unhold(h->head);
	h->closed = closed;
	h->closed_arg = arg;
	uv_close((uv_handle_t *)&h->timer, on_closed);
}
