/*
 * notify: of stack.yaml (webhook targets), in its two forms: the YAML
 * decoder unitstack.c calls and the JSON form of stack_to_json() and
 * stack_from_json().  The model is struct notify_hook in unit.h.
 */
#ifndef SHIPD_UNITNOTIFY_H
#define SHIPD_UNITNOTIFY_H

#include <jansson.h>

#include "jread.h"
#include "unit.h"
#include "ytree.h"

void	 notify_yaml_load(struct yctx *, const char *path,
	    const struct ynode *, struct stack *);
/* The "notify" array; NULL when the stack has no hooks (the member is
 * left out, as before it existed). */
json_t	*notify_hooks_json(const struct stack *);
void	 notify_hooks_from_json(struct jread *, const char *path,
	    const json_t *, struct stack *);

#endif
