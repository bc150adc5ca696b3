/*
 * Deferred frees: an object whose last reference goes inside one of its
 * own callbacks is freed from an idle handle on the next turn of the loop,
 * once every callback on the stack has returned.
 */
#include <stdlib.h>

#include "core/shipd.h"
#include "util.h"

static void
run_all(struct shipd *sd)
{
	struct deferred *d;

	/* A free may defer more; they run in this same pass. */
	while ((d = sd->deferred) != NULL) {
		sd->deferred = d->next;
		d->fn(d->arg);
		free(d);
	}
}

static void
on_idle(uv_idle_t *h)
{
	struct shipd *sd = h->data;

	run_all(sd);
	uv_idle_stop(h);
}

void
defer_init(struct shipd *sd)
{
	uv_idle_init(sd->loop, &sd->reaper);
	sd->reaper.data = sd;
}

void
defer_free(struct shipd *sd, void (*fn)(void *), void *arg)
{
	struct deferred *d = xmalloc(sizeof *d);

	d->fn = fn;
	d->arg = arg;
	d->next = sd->deferred;
	sd->deferred = d;
	if (sd->reaper.loop != NULL && !uv_is_closing((uv_handle_t *)
	    &sd->reaper))
		uv_idle_start(&sd->reaper, on_idle);
}

void
defer_flush(struct shipd *sd)
{
	run_all(sd);
}

static void
on_closed(uv_handle_t *h)
{
	(void)h;
}

void
defer_close(struct shipd *sd)
{
	run_all(sd);
	uv_close((uv_handle_t *)&sd->reaper, on_closed);
}
