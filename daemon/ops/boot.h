/*
 * Ordered boot (boot.c, docs/operations.md): services found down that
 * nothing meant so are started again in dependency order, gated.
 */
#ifndef SHIPD_BOOT_H
#define SHIPD_BOOT_H

#include <stdbool.h>
#include <jansson.h>

struct boot;
struct shipd;
struct stack;

/* Look soon (coalesced), once recovery is done; *bp is made on first use. */
void	boot_scan(struct shipd *, struct boot **bp);
void	boot_stop(struct boot **bp);

/* shipd's own http/tcp verdict of container id ("healthy", "unhealthy",
 * "starting", or NULL: it has none), detail the last probe's ("" before
 * the first); health_own() in shipd. */
typedef const char *boot_own_fn(const char *id, const char **detail,
	    void *arg);

/*
 * bootplan.c: what boot does to stack st, whose current revision's
 * replicas the engine lists as rows (its container list's objects).
 * after ({svc: ...} or NULL) names what boot itself stopped, to be
 * started whatever its exit.  On true, *stop ({svc: why}) is what runs
 * ahead of a dependency that is not ready, *start ({svc: why}) what to
 * start in order (those, what is down) and the running services they
 * wait on, to gate; both empty when the stack is as a deploy leaves it.
 * False (patient) when one of shipd's own verdicts it needs is not known
 * yet: ask again later.
 */
bool	boot_plan(const struct stack *st, json_t *rows, const json_t *after,
	    bool patient, boot_own_fn *own, void *arg, json_t **stop,
	    json_t **start);

#endif
