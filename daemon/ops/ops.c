/*
 * The end of every operation at shutdown: once the engine client and the
 * store are closed no callback can reach one any more, so what is still
 * listed lets go of its gates and timers and is freed.
 */
#include "core/shipd.h"
#include "ops/op.h"
#include "ops/ops.h"

void
ops_free_all(struct shipd *sd)
{
	struct op *op;

	while ((op = sd->ops) != NULL) {
		apply_free(op);
		op->req = NULL;
		op_end(op);
	}
	defer_flush(sd);
}
