/*
 * Verify: for update.monitor after apply, a container of a service the
 * operation touched, or of one depending on such a service, that dies or
 * turns unhealthy fails it, by the engine's health_status events or by
 * shipd's own http/tcp checks (health.h).
 */
#ifndef SHIPD_VERIFY_H
#define SHIPD_VERIFY_H

#include <stdbool.h>

struct op;
struct replica;

typedef void verify_bad_cb(struct replica *, const char *why);
typedef void verify_done_cb(struct op *);

/*
 * Start the monitor period when a service the operation changed asks for
 * one: true, and later bad() (at most once per failure; the caller
 * cancels) or done().  False when there is nothing to watch.  Neither
 * callback runs from inside this call.
 */
bool	verify_start(struct op *, verify_bad_cb *, verify_done_cb *);
/* No callback after this; NULL-safe on op->verify. */
void	verify_cancel(struct op *);

#endif
