/*
 * The end of every operation at shutdown.  Before the engine client
 * closes, every gate, drain, monitor and deadline timer, and the health watcher, is
 * let go of (ops_stop), so none fires into a closed client; once the
 * client and the store are closed no callback can reach an operation any
 * more, and what is still listed is freed (ops_free_all).
 */
#include "core/shipd.h"
#include "ops/autoscale.h"
#include "ops/health.h"
#include "ops/heal.h"
#include "ops/op.h"
#include "ops/ops.h"

void
ops_stop(struct shipd *sd)
{
	struct op *op;

	heal_stop(sd);
	autoscale_stop(sd);
	for (op = sd->ops; op != NULL; op = op->next) {
		apply_free(op);
		op_deadline(op, 0, NULL);
	}
	/* After the monitors, which subscribe to it. */
	health_stop(sd);
}

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
