#!/bin/bash
# Run the test suites: unit (cmocka binaries, plain and ASan+UBSan, then the
# plain ones again under valgrind, with the layering check and
# systemd-analyze verify of the units), fuzz (each libFuzzer harness of
# build-fuzz/ for FUZZ_SHORT seconds, default 12: about a minute in all) and
# integration (the real-engine cmocka binary and tests/integration/*.sh,
# IT_JOBS of them at a time, default 2).
# Ends with one line "N passed, N failed", counting binaries, harnesses and
# scripts, and exits non-zero on any failure.
#
#   scripts/run-tests.sh [unit|fuzz|integration|all]      (default all)
#
# ONLY=GLOBS limits every phase to tests whose file name matches one of
# the space-separated globs, e.g. ONLY='images* build.sh' scripts/run-tests.sh
# integration; SKIP=GLOBS leaves out those that match (SKIP='engine_restart*'
# on an engine others share).
#
# Integration tests run IT_JOBS (2) at a time, each one's output kept in a
# file and printed whole, with its PASS/FAIL line, when it ends.  A script
# with a line "# shipd-test: exclusive" runs alone (docs/testing.md); those
# go first, one by one, then the rest, the longest first (IT_LONG).
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
# compose_corpus.sh deploys 37 stacks, four at a time: 3 minutes at a
# load average of 17, 5 at 24 (measured on the shared 2-CPU machine).
COMPOSE_TIMEOUT=${COMPOSE_TIMEOUT:-600}
FUZZ_SHORT=${FUZZ_SHORT:-12}
ONLY=${ONLY:-*}
SKIP=${SKIP:-}
IT_JOBS=${IT_JOBS:-2}
# Integration tests that take longest (over 12 s in CI on 2026-12-01),
# longest first: started first, so that the tail of the run is short ones.
# The others follow in name order.
IT_LONG="crashkill.sh compose_corpus.sh restore_crash.sh
    backup_recover_stop.sh backup_crash.sh svcop_crash.sh attach.sh heal.sh
    early_fail.sh svcop.sh images.sh crash.sh json_types.sh monitor.sh
    backup_hook_timeout.sh gate_queued.sh build.sh engine_socket.sh
    health_scope.sh"
passed=0
failed=0
failures=

case "$what" in
unit|fuzz|integration|all) ;;
*)	echo "usage: run-tests.sh [unit|fuzz|integration|all]" >&2; exit 2 ;;
esac
# wait -n -p (which of the running tests ended) is bash 5.1's.
if [ "${BASH_VERSINFO[0]}" -lt 5 ] ||
    { [ "${BASH_VERSINFO[0]}" = 5 ] && [ "${BASH_VERSINFO[1]}" -lt 1 ]; }; then
	echo "run-tests.sh: needs bash 5.1 or later" >&2
	exit 2
fi
case "$IT_JOBS" in
''|*[!0-9]*|0)	echo "run-tests.sh: IT_JOBS must be a positive integer" >&2
		exit 2 ;;
esac

# matches NAME GLOBS: NAME matches one of the space-separated GLOBS.
matches() {
	local g globs

	read -ra globs <<<"$2"
	for g in "${globs[@]}"; do
		# shellcheck disable=SC2254
		case "$1" in $g) return 0 ;; esac
	done
	return 1
}

# wanted NAME: NAME matches ONLY and not SKIP.
wanted() {
	matches "$1" "$ONLY" && ! matches "$1" "$SKIP"
}

# now in tenths of a second
tenths() {
	echo $(($(date +%s%N) / 100000000))
}

# verdict NAME TIMEOUT STATUS TENTHS: count one test, print its PASS/FAIL
# line.
verdict() {
	local name=$1 limit=$2 rc=$3 dt=$4

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

# run NAME TIMEOUT COMMAND...: one counted test, its output shown as it
# comes, then a PASS/FAIL line with its time.
run() {
	local name=$1 limit=$2 t0 rc
	shift 2
	t0=$(tenths)
	timeout --kill-after=10 "$limit" "$@"
	rc=$?
	verdict "$name" "$limit" "$rc" $(($(tenths) - t0))
}

# Test binaries of one build directory; none is not an error.
binaries() {
	local t
	for t in "$1"/tests/test_*; do
		wanted "${t##*/}" || continue
		[ -f "$t" ] && [ -x "$t" ] && echo "$t"
	done
}

unit_tests() {
	local t
	echo "== unit tests"
	# The layering check first: who calls whom, read from build/'s objects.
	if wanted check-layers; then
		echo "-- scripts/check-layers.sh build"
		run check-layers 60 scripts/check-layers.sh build
		echo "-- tests/layers/selftest.sh"
		run check-layers-selftest 60 tests/layers/selftest.sh
	fi
	# The systemd units, as installed (skips only without the tool).
	if wanted systemd-verify; then
		echo "-- tests/systemd/verify.sh"
		run systemd-verify 120 tests/systemd/verify.sh
	fi
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
		wanted "${t##*/}" || continue
		if [ ! -f "$t" ] || [ ! -x "$t" ]; then
			continue
		fi
		n=${t##*/fuzz_}
		echo "-- $t"
		run "$t" $((FUZZ_SHORT + 60)) scripts/fuzz.sh -t "$FUZZ_SHORT" "$n"
	done
}

# ---- integration: IT_JOBS at a time ------------------------------------------

# Running tests, by the PID of their timeout: name, limit, start, log file.
declare -A it_name=() it_limit=() it_t0=() it_log=()
it_tmp=

# it_start NAME TIMEOUT COMMAND...: in the background, output to a file.
it_start() {
	local name=$1 limit=$2 log
	shift 2
	log=$it_tmp/$(printf '%s' "$name" | tr -c 'A-Za-z0-9_.\n-' _).log
	timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1 </dev/null &
	it_name[$!]=$name
	it_limit[$!]=$limit
	it_t0[$!]=$(tenths)
	it_log[$!]=$log
}

# it_reap: wait for one running test to end; print its output whole, then
# its PASS/FAIL line.
it_reap() {
	local pid rc=0 dt

	wait -n -p pid || rc=$?
	[ -n "${pid:-}" ] || return 1
	dt=$(($(tenths) - it_t0[$pid]))
	echo "-- ${it_name[$pid]}"
	cat "${it_log[$pid]}"
	verdict "${it_name[$pid]}" "${it_limit[$pid]}" "$rc" "$dt"
	rm -f "${it_log[$pid]}"
	unset "it_name[$pid]" "it_limit[$pid]" "it_t0[$pid]" "it_log[$pid]"
}

it_reap_all() {
	while [ "${#it_name[@]}" -gt 0 ]; do
		it_reap || break
	done
}

# Interrupted: stop what runs (timeout passes the signal on) and show
# what each of those had printed.
it_abort() {
	local pid

	for pid in "${!it_name[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	wait
	for pid in "${!it_name[@]}"; do
		echo "-- ${it_name[$pid]} (interrupted)"
		cat "${it_log[$pid]}"
	done
	echo "interrupted while running:$(printf ' %s' "${it_name[@]}")"
	rm -rf "$it_tmp"
	exit 130
}

# A script that must have the engine to itself carries this line.
it_exclusive() {
	grep -q '^# shipd-test: exclusive' "$1"
}

it_limit_of() {
	case "${1##*/}" in
	crashkill.sh)		echo "$CRASH_TIMEOUT" ;;
	compose_corpus.sh)	echo "$COMPOSE_TIMEOUT" ;;
	*)			echo "$IT_TIMEOUT" ;;
	esac
}

integration_tests() {
	local t n alone=() rest=() long=()
	echo "== integration tests (real engine, $IT_JOBS at a time)"
	export SHIPD_TEST_ENGINE=1 SHIPD="$PWD/build/shipd" \
	    SHIPCTL="$PWD/build/shipctl"
	[ -f build/tests/engine_real ] && wanted engine_real &&
	    rest+=(build/tests/engine_real)
	for t in tests/integration/*.sh; do
		[ "$t" = tests/integration/lib.sh ] && continue
		wanted "${t##*/}" || continue
		if [ ! -x "$t" ]; then
			# A test that never runs must not pass for one.
			failed=$((failed + 1))
			failures="$failures $t"
			echo "FAIL  $t is not executable (chmod +x it)"
		elif it_exclusive "$t"; then
			alone+=("$t")
		else
			rest+=("$t")
		fi
	done
	# The known long ones first, longest first; the rest as they came.
	for n in $IT_LONG; do
		for t in "${!rest[@]}"; do
			[ "${rest[$t]##*/}" = "$n" ] || continue
			long+=("${rest[$t]}")
			unset "rest[$t]"
		done
	done
	rest=("${long[@]}" "${rest[@]}")

	# Each test checks the test images first; built here once, two tests
	# starting together never both build them.
	[ "${#alone[@]}" = 0 ] && [ "${#rest[@]}" = 0 ] ||
	    tests/images/build.sh >&2 ||
	    echo "== the test images are not built: the tests say why" >&2
	it_tmp=$(mktemp -d /tmp/shipd-run-tests.XXXXXX)
	# shellcheck disable=SC2064
	trap "rm -rf '$it_tmp'" EXIT
	trap it_abort INT TERM
	[ "${#alone[@]}" = 0 ] ||
	    echo "== alone, one after the other:$(printf ' %s' "${alone[@]}")"
	for t in "${alone[@]}"; do
		it_start "$t" "$(it_limit_of "$t")" "$t"
		it_reap_all
	done
	[ "${#alone[@]}" = 0 ] || echo "== the others, $IT_JOBS at a time"
	for t in "${rest[@]}"; do
		while [ "${#it_name[@]}" -ge "$IT_JOBS" ]; do
			it_reap || break
		done
		it_start "$t" "$(it_limit_of "$t")" "$t"
	done
	it_reap_all
	trap - INT TERM EXIT
	rm -rf "$it_tmp"
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
