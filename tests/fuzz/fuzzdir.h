/*
 * A scratch directory for the harnesses that must hand the loader files:
 * made once under $TMPDIR (default /dev/shm, else /tmp), emptied before
 * each input, removed at exit.
 */
#ifndef SHIPD_FUZZDIR_H
#define SHIPD_FUZZDIR_H

#include <stddef.h>

/* The directory "<tmp>/shipd-fuzz.XXXXXX/<leaf>", made on first call. */
const char	*fuzzdir(const char *leaf);
/* Remove every entry of the directory (not recursive: none is made). */
void		 fuzzdir_clean(void);
/* Append data to file name in it; -1 if the name cannot be made. */
int		 fuzzdir_write(const char *name, const void *, size_t);

#endif
