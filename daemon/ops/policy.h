/*
 * The deploy policy of shipd's configuration applied to units
 * (policy.c): which host paths a unit may bind-mount, and whether it may
 * be privileged, use the host's network or pid namespace, devices or
 * added capabilities.  Pre-flight's "policy" check; docs/operations.md.
 */
#ifndef SHIPD_POLICY_H
#define SHIPD_POLICY_H

#include <stdbool.h>
#include <jansson.h>

#include "core/config.h"
#include "unit.h"

/* Whether path (absolute, tidy) is root or beneath it. */
bool	policy_path_under(const char *path, const char *root);

/*
 * Append to out (an array of strings) one message for each thing in u
 * the policy refuses, naming the service, the key and the rule.  real[i]
 * is the host's resolution of bind mount i's source (its symlinks
 * followed), or NULL when it could not be resolved (real_err[i] says
 * why); both may be NULL to judge the sources as written.  conf_path
 * names the file in the messages.
 */
void	policy_judge(const struct shipd_policy *, const char *conf_path,
	    const struct unit *, char *const *real, const int *real_err,
	    json_t *out);

struct op;
/* The check on the services op creates containers for: each refusal
 * into out. */
void	policy_check_op(const struct op *, json_t *out);

#endif
