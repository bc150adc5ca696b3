/*
 * Engine object specs made from units: the body of POST /containers/create
 * for one replica, and the labels every shipd object carries.
 */
#ifndef SHIPD_SPEC_H
#define SHIPD_SPEC_H

#include <stdbool.h>
#include <jansson.h>

#include "proto.h"
#include "unit.h"


/* "<stack>_<net>": "<stack>_default" is every stack's own network. */
char	*spec_network_name(const char *stack, const char *net);
char	*spec_volume_name(const char *stack, const char *vol);
/* "<stack>-<service>-<n>" */
char	*spec_container_name(const char *stack, const char *service, int n);

/*
 * The networks a replica of u is on, by the name units use ("default",
 * "backend"): the unit's own, or the stack's default and every extra one.
 * The first is the one a create names.
 */
size_t	 spec_nets(const struct stack *, const struct unit *);
const char *spec_net(const struct stack *, const struct unit *, size_t i);

/* aliased: answer to the service name on the stack's networks at once;
 * a start-first successor joins under the name only once healthy.
 * all_nets: the create puts it on every network (API 1.44 and newer);
 * else on the first only, and the others are connected before start. */
json_t	*spec_container(const struct stack *, const struct unit *,
	    int replica, int revision, bool aliased, bool all_nets);
/* "<stack>-<service>-<n>-r<rev>", a container kept for rollback: rev;
 * any other name: 0. */
int	 spec_kept_revision(const char *name);
json_t	*spec_network(const char *stack, const char *name);
/* Whether a network as GET /networks lists it is the one spec (from
 * spec_network) asks for: its name, its labels, its driver and options. */
bool	 spec_network_matches(const json_t *spec, const json_t *have);
json_t	*spec_volume(const char *stack, const char *name);

/* The exec argv of a CMD/CMD-SHELL health test, for startup probing. */
json_t	*spec_health_argv(char *const *test);

#endif
