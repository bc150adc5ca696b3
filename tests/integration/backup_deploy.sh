#!/bin/bash
# The deploy pipeline's two entry points, backup_for_deploy() and
# restore_for_rollback(), in a small daemon context against the real
# engine (tests/unit/test_backup_engine.c): a backup tagged with the
# revision holds only the services that declare backup:, and the restore
# brings the backed-up bytes back into the current containers.
. "$(dirname "$0")/lib.sh"

bin=$ROOT/build/tests/test_backup_engine
[ -x "$bin" ] || fail "$bin is not built (make tests)"
out=$(SHIPD_TEST_ENGINE=1 SHIPD_TEST_STACK=$IT_STACK "$bin" 2>&1) ||
    fail "$(printf '%s\n' "$out" | tail -20)"
printf '%s\n' "$out" | grep -q 'PASSED  \] 1 test' || fail "the test did not run: $out"
ok "backup_for_deploy and restore_for_rollback against the engine"
