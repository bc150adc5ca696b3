#!/bin/bash
# Run the test suites: unit (cmocka binaries, plain and ASan+UBSan, then the
# plain ones again under valgrind, with the layering check and
# systemd-analyze verify of the units), fuzz (each libFuzzer harness of
# build-fuzz/ for FUZZ_SHORT seconds, default 12: about a minute in all) and
# integration (the real-engine cmocka binary and tests/integration/*.sh).
# Ends with one line "N passed, N failed", counting binaries, harnesses and
# scripts, and exits non-zero on any failure.
#
#   scripts/run-tests.sh [unit|fuzz|integration|all]      (default all)
#
# ONLY=GLOB limits both phases to tests whose file name matches, e.g.
# ONLY='images*' scripts/run-tests.sh integration.
set -u
cd "$(dirname "$0")/.." || exit 2

what=${1:-all}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-120}
VALGRIND_TIMEOUT=${VALGRIND_TIMEOUT:-600}
IT_TIMEOUT=${IT_TIMEOUT:-300}
# crashkill.sh alone gets more: its short mode is 24 operations (8
# scenarios, each once unkilled and killed twice), each on a fresh stack,
# which on a loaded 2-CPU machine takes up to about 10 minutes.
CRASH_TIMEOUT=${CRASH_TIMEOUT:-900}
FUZZ_SHORT=${FUZZ_SHORT:-12}
ONLY=${ONLY:-*}
passed=0
failed=0
failures=

case "$what" in
unit|fuzz|integration|all) ;;
*)	echo "usage: run-tests.sh [unit|fuzz|integration|all]" >&2; exit 2 ;;
esac

# now in tenths of a second
tenths() {
	echo $(($(date +%s%N) / 100000000))
}

# run NAME TIMEOUT COMMAND...: one counted test, its output shown as it
# comes, then a PASS/FAIL line with its time.
run() {
	local name=$1 limit=$2 t0 rc dt
	shift 2
	t0=$(tenths)
	timeout --kill-after=10 "$limit" "$@"
	rc=$?
	dt=$(($(tenths) - t0))
	if [ "$rc" = 0 ]; then
		passed=$((passed + 1))
		printf 'PASS  %-44s %5d.%ds\n' "$name" $((dt / 10)) $((dt % 10))
	else
		failed=$((failed + 1))
		failures="$failures $name"
		[ "$rc" = 124 ] && rc="timeout after ${limit}s"
		printf 'FAIL  %-44s %5d.%ds  (exit %s)\n' "$name" \
		    $((dt / 10)) $((dt % 10)) "$rc"
	fi
}

# Test binaries of one build directory; none is not an error.
binaries() {
	local t
	for t in "$1"/tests/test_*; do
		# shellcheck disable=SC2254
		case "${t##*/}" in $ONLY) ;; *) continue ;; esac
		[ -f "$t" ] && [ -x "$t" ] && echo "$t"
	done
}

unit_tests() {
	local t
	echo "== unit tests"
	# The layering check first: who calls whom, read from build/'s objects.
	# shellcheck disable=SC2194,SC2254
	case check-layers in $ONLY)
		echo "-- scripts/check-layers.sh build"
		run check-layers 60 scripts/check-layers.sh build
		echo "-- tests/layers/selftest.sh"
		run check-layers-selftest 60 tests/layers/selftest.sh
		;;
	esac
	# The systemd units, as installed (skips only without the tool).
	# shellcheck disable=SC2194,SC2254
	case systemd-verify in $ONLY)
		echo "-- tests/systemd/verify.sh"
		run systemd-verify 120 tests/systemd/verify.sh
		;;
	esac
	for t in $(binaries build) $(binaries build-san); do
		echo "-- $t"
		run "$t" "$UNIT_TIMEOUT" env -u SHIPD_TEST_ENGINE "$t"
	done
	if ! command -v valgrind >/dev/null 2>&1; then
		echo "== valgrind is not installed: skipping the valgrind runs"
		return
	fi
	echo "== unit tests under valgrind"
	for t in $(binaries build); do
		echo "-- valgrind $t"
		run "valgrind $t" "$VALGRIND_TIMEOUT" env -u SHIPD_TEST_ENGINE \
		    valgrind -q --leak-check=full \
		    --errors-for-leak-kinds=definite,indirect \
		    --error-exitcode=1 "$t"
	done
}

# One test per harness: a finding (crash, leak, sanitizer report, hang)
# fails it; scripts/fuzz.sh says where the input is.
fuzz_tests() {
	local t n
	echo "== fuzz harnesses (${FUZZ_SHORT}s each)"
	if ! ls build-fuzz/fuzz_* >/dev/null 2>&1; then
		echo "== build-fuzz/ has no harness (make fuzz-build): skipping"
		return
	fi
	for t in build-fuzz/fuzz_*; do
		# shellcheck disable=SC2254
		case "${t##*/}" in $ONLY) ;; *) continue ;; esac
		if [ ! -f "$t" ] || [ ! -x "$t" ]; then
			continue
		fi
		n=${t##*/fuzz_}
		echo "-- $t"
		run "$t" $((FUZZ_SHORT + 60)) scripts/fuzz.sh -t "$FUZZ_SHORT" "$n"
	done
}

integration_tests() {
	local t limit
	echo "== integration tests (real engine)"
	export SHIPD_TEST_ENGINE=1 SHIPD="$PWD/build/shipd" \
	    SHIPCTL="$PWD/build/shipctl"
	# shellcheck disable=SC2053
	if [ -f build/tests/engine_real ] &&
	    [[ engine_real == $ONLY ]]; then
		echo "-- build/tests/engine_real"
		run build/tests/engine_real "$IT_TIMEOUT" \
		    build/tests/engine_real
	fi
	for t in tests/integration/*.sh; do
		[ "$t" = tests/integration/lib.sh ] && continue
		# shellcheck disable=SC2254
		case "${t##*/}" in $ONLY) ;; *) continue ;; esac
		if [ ! -x "$t" ]; then
			# A test that never runs must not pass for one.
			failed=$((failed + 1))
			failures="$failures $t"
			echo "FAIL  $t is not executable (chmod +x it)"
			continue
		fi
		limit=$IT_TIMEOUT
		[ "${t##*/}" != crashkill.sh ] || limit=$CRASH_TIMEOUT
		echo "-- $t"
		run "$t" "$limit" "$t"
	done
}

case "$what" in
unit)		unit_tests ;;
fuzz)		fuzz_tests ;;
integration)	integration_tests ;;
all)		unit_tests; fuzz_tests; integration_tests ;;
esac

echo
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
