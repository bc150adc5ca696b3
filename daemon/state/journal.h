/*
 * The deploy journal (journal.c): fsync'd records of every engine-changing
 * step, and recovery from them at start.
 */
#ifndef SHIPD_JOURNAL_H
#define SHIPD_JOURNAL_H

#include "state/store.h"

struct op;
struct replica;
struct shipd;

void	journal_op(struct op *, const char *event, store_cb *, void *);
void	journal_step(struct replica *, const char *step, store_cb *, void *);
/* Once, when the engine is first reached: finish or roll back whatever
 * the journal says was under way. */
void	journal_recover(struct shipd *);
/* A recovery operation finished (deploy_finish calls it). */
void	journal_recovered(struct op *);
void	journal_remove_revision(struct shipd *, const char *stack, int rev);

#endif
