/*
 * Pre-flight checks (preflight.c): run before a deploy changes anything;
 * failures collect in op->preflight_errors.
 */
#ifndef SHIPD_PREFLIGHT_H
#define SHIPD_PREFLIGHT_H

#include <stdbool.h>

struct op;

typedef void preflight_cb(struct op *);

#define PREFLIGHT_CHECKS	"images, pull, ports, disk, dependencies, networks, volumes"

bool	preflight_check_known(const char *);
/* Resolve (and pull when missing) every image into op->images. */
void	preflight_images(struct op *, preflight_cb *);
/* Host ports, disk, what changed services wait on, network and volume
 * names; after plan_compute. */
void	preflight_checks(struct op *, preflight_cb *);
/* Report one check's result as an event, and a failure for the end
 * (unless --skip-check named it; "policy" cannot be named). */
void	preflight_report(struct op *, const char *check, bool ok,
	    const char *msg);
/* The failures as one message, or NULL; caller frees. */
char	*preflight_failures(const struct op *);

#endif
