/*
 * Apply's progress events (progress.c): every step, service and phase
 * line a client sees carries the time since the operation began.
 */
#ifndef SHIPD_PROGRESS_H
#define SHIPD_PROGRESS_H

#include "ops/op.h"

void	progress_emit(struct op *, const char *event, json_t *fields);
void	progress_step(struct replica *, const char *step, const char *msg);
void	progress_service(struct svc *, const char *status);

#endif
