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


/* "<stack>_default": every service joins it, aliased by its name. */
char	*spec_network_name(const char *stack, const char *net);
char	*spec_volume_name(const char *stack, const char *vol);
/* "<stack>-<service>-<n>" */
char	*spec_container_name(const char *stack, const char *service, int n);

/* aliased: answer to the service name on the stack's networks at once;
 * a start-first successor joins under the name only once healthy. */
json_t	*spec_container(const struct stack *, const struct unit *,
	    int replica, int revision, bool aliased);
/* "<stack>-<service>-<n>-r<rev>", a container kept for rollback: rev;
 * any other name: 0. */
int	 spec_kept_revision(const char *name);
json_t	*spec_network(const char *stack, const char *name);
json_t	*spec_volume(const char *stack, const char *name);

/* The exec argv of a CMD/CMD-SHELL health test, for startup probing. */
json_t	*spec_health_argv(char *const *test);

#endif
