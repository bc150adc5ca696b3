#!/bin/bash
# Run the libFuzzer harnesses of tests/fuzz/ (built by `make fuzz-build`
# into build-fuzz/), each for a set time, on a copy of its seeds.
#
#   scripts/fuzz.sh [-t SECONDS] [NAME...]     (default 300 s; every harness)
#
# NAME is a harness without its fuzz_ prefix (unitdir, env, ...).  The
# working corpus is build-fuzz/corpus/NAME/, seeded from
# tests/fuzz/corpus/NAME/ and kept between runs; crashes, leaks and
# timeouts are written to build-fuzz/artifacts/.  Prints one line per
# harness (executions, time, corpus size, findings) and exits 1 if any
# harness found something, 2 if one could not run.
set -u
cd "$(dirname "$0")/.." || exit 2

B=build-fuzz
secs=300
while getopts t: o; do
	case $o in
	t)	secs=$OPTARG ;;
	*)	echo "usage: fuzz.sh [-t SECONDS] [NAME...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		n=${f##*/fuzz_}
		set -- "$@" "${n%.c}"
	done
fi

# The dictionary of each harness, if it has one.
dict_of() {
	case $1 in
	unitdir|unityaml)	echo tests/fuzz/unit.dict ;;
	unitjson)		echo tests/fuzz/json.dict ;;
	proto)			echo tests/fuzz/proto.dict ;;
	esac
}

status=0
mkdir -p "$B/artifacts" "$B/logs"
for n in "$@"; do
	bin=$B/fuzz_$n
	if [ ! -x "$bin" ]; then
		echo "fuzz $n: $bin is not built (make fuzz-build)" >&2
		status=2
		continue
	fi
	corpus=$B/corpus/$n
	log=$B/logs/$n.log
	mkdir -p "$corpus"
	cp -n tests/fuzz/corpus/"$n"/* "$corpus"/ 2>/dev/null
	dict=$(dict_of "$n")
	# -timeout: one input running this long is a hang, a finding.
	# Several jobs' worth of stderr would bury the finding: keep it in
	# a log and show its tail when something was found.
	# The harness's scratch files, in memory when it can: removed here,
	# since a crashing harness cannot.
	tmp=$(mktemp -d /dev/shm/shipd-fuzz-run.XXXXXX 2>/dev/null ||
	    mktemp -d /tmp/shipd-fuzz-run.XXXXXX) || exit 2
	TMPDIR=$tmp "$bin" -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$B/artifacts/$n-" \
	    ${dict:+-dict="$dict"} "$corpus" >"$log" 2>&1
	rc=$?
	rm -rf "$tmp"
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	t=$(sed -n 's/^stat::.*//; s/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log")
	size=$(find "$corpus" -type f | wc -l)
	if [ "$rc" = 0 ]; then
		echo "fuzz $n: ${execs:-?} executions in ${t:-$secs} s," \
		    "corpus $size inputs, 0 findings"
	else
		echo "fuzz $n: FOUND something (exit $rc) after ${execs:-?}" \
		    "executions; log $log, artifacts:"
		find "$B/artifacts" -name "$n-*" | sed 's/^/  /'
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" |
		    head -5 | sed 's/^/  /'
		status=1
	fi
done
exit $status
