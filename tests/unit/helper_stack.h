/*
 * Stacks from text for the unit tests: a scratch directory holding unit
 * files, loaded as shipctl loads one, then removed.
 */
#ifndef SHIPD_HELPER_STACK_H
#define SHIPD_HELPER_STACK_H

#include <stdbool.h>

#include "diag.h"
#include "unit.h"

/*
 * Write files (pairs of a name, "web.yaml", and its text, ending with a
 * NULL name) into a directory called stack, load it and remove it.
 * errs is initialised here.  Returns what stack_load_dir() returned.
 */
int	 hs_load(const char *stack, const char *const *files,
	    struct stack **, struct diag_list *errs);
/* Whether a message of errs holds want; if not, print them all. */
bool	 hs_has_diag(const struct diag_list *errs, const char *want);

#endif
