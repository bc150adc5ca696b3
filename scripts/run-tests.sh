#!/bin/bash
# Run the test suites: unit (cmocka binaries, plain, ASan+UBSan, and the
# plain ones again under valgrind), then integration (scripts against the
# real engine).  Ends with one line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."

what=${1:-all}
passed=0
failed=0
failures=

result() {	# name rc seconds
	if [ "$2" = 0 ]; then
		passed=$((passed + 1))
		printf 'PASS  %-40s %6ss\n' "$1" "$3"
	else
		failed=$((failed + 1))
		failures="$failures $1"
		printf 'FAIL  %-40s %6ss (exit %s)\n' "$1" "$3" "$2"
	fi
}

run() {		# name timeout command...
	local name=$1 limit=$2 t0 rc
	shift 2
	t0=$(date +%s%N)
	timeout --kill-after=10 "$limit" "$@"
	rc=$?
	t0=$((($(date +%s%N) - t0) / 100000000))
	result "$name" "$rc" "$((t0 / 10)).$((t0 % 10))"
}

unit_tests() {
	local t
	echo "== unit tests"
	for t in build/tests/test_* build-san/tests/test_*; do
		[ -x "$t" ] || continue
		case "$t" in *.d|*.o) continue ;; esac
		run "$t" 300 "$t"
	done
	if command -v valgrind >/dev/null; then
		echo "== unit tests under valgrind"
		for t in build/tests/test_*; do
			[ -x "$t" ] || continue
			run "valgrind $t" 600 valgrind -q --leak-check=full \
			    --errors-for-leak-kinds=definite,indirect \
			    --error-exitcode=1 "$t"
		done
	fi
}

integration_tests() {
	local t
	echo "== integration tests (real engine)"
	export SHIPD_TEST_ENGINE=1 SHIPD="$PWD/build/shipd" \
	    SHIPCTL="$PWD/build/shipctl"
	for t in build/tests/test_engine_real; do
		[ -x "$t" ] && run "$t" 300 "$t"
	done
	for t in tests/integration/*.sh; do
		[ -x "$t" ] || continue
		echo "-- $t"
		run "$t" 300 "$t"
	done
}

case "$what" in
unit)		unit_tests ;;
integration)	integration_tests ;;
all)		unit_tests; integration_tests ;;
*)		echo "usage: run-tests.sh [unit|integration|all]" >&2; exit 2 ;;
esac

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
