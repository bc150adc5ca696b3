/*
 * The supervisor's backoff and crash-loop rules (heal.h), apart from the
 * loop so the unit tests can drive them with a clock of their own.
 */
#include <stdint.h>
#include <string.h>

#include "ops/heal.h"
#include "util.h"

void
heal_pol_init(struct heal_pol *p)
{
	memset(p, 0, sizeof *p);
	p->backoff_min_ms = HEAL_BACKOFF_MIN_MS;
	p->backoff_max_ms = HEAL_BACKOFF_MAX_MS;
	p->loop_count = HEAL_LOOP_COUNT;
	p->loop_window_ms = HEAL_LOOP_WINDOW_MS;
}

uint64_t
heal_pol_delay(const struct heal_pol *p, uint64_t now)
{
	if (p->crash_loop)
		return UINT64_MAX;
	return p->next_ms > now ? p->next_ms - now : 0;
}

bool
heal_pol_record(struct heal_pol *p, uint64_t now)
{
	size_t	 i, n = 0;
	unsigned cap = p->loop_count;

	if (cap < 1)
		cap = 1;
	if (cap > nitems(p->times))
		cap = nitems(p->times);
	/* Keep the heals inside the window. */
	for (i = 0; i < p->ntimes; i++)
		if (now - p->times[i] < p->loop_window_ms)
			p->times[n++] = p->times[i];
	p->ntimes = n;
	if (p->ntimes >= cap) {
		p->crash_loop = true;
		return true;
	}
	p->times[p->ntimes++] = now;
	if (p->backoff_ms == 0)
		p->backoff_ms = p->backoff_min_ms;
	p->next_ms = now + p->backoff_ms;
	p->backoff_ms *= 2;
	if (p->backoff_ms > p->backoff_max_ms)
		p->backoff_ms = p->backoff_max_ms;
	return false;
}

void
heal_pol_reset(struct heal_pol *p)
{
	p->backoff_ms = 0;
	p->next_ms = 0;
	p->ntimes = 0;
	p->crash_loop = false;
}
