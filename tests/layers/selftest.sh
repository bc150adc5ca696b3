#!/bin/bash
# Self-test of scripts/check-layers.sh: compiles tiny modules into scratch
# source and build trees and shows that the check passes on a clean tree and
# fails, naming the fault, on each kind of violation introduced by hand.
#
#   tests/layers/selftest.sh        (CC=cc by default)
set -u
cd "$(dirname "$0")/../.." || exit 2

CHECK=$PWD/scripts/check-layers.sh
CC=${CC:-cc}
TMP=$(mktemp -d /tmp/check-layers-selftest-XXXXXX) || exit 2
trap 'rm -rf "$TMP"' EXIT
failed=0
t=			# the tree being built: $t/src and $t/build
out=			# stdout of the last check
rc=			# its exit status

ok() {
	echo "  ok: $*"
}

not_ok() {
	echo "  FAIL: $*"
	echo "  --- output (exit $rc):"
	while IFS= read -r line; do
		echo "  | $line"
	done <<<"$out"
	sed 's/^/  | stderr: /' "$t/stderr"
	failed=$((failed + 1))
}

# tree NAME [BASE]: start a scratch tree, empty or a copy of tree BASE.
tree() {
	t=$TMP/$1
	if [ -n "${2:-}" ]; then
		cp -a "$TMP/$2" "$t"
	else
		mkdir -p "$t/src" "$t/build"
	fi
	echo "-- $1"
}

# mod PATH LINE...: the module PATH (e.g. daemon/ops/a.c) holds the lines
# given, compiled to $t/build/PATH.o as the Makefile would.
mod() {
	local p=$1
	shift
	mkdir -p "$t/src/${p%/*}" "$t/build/${p%/*}"
	printf '%s\n' "$@" >"$t/src/$p"
	"$CC" -std=c11 -c -o "$t/build/${p%.c}.o" "$t/src/$p" || exit 2
}

# long PATH N: a module of exactly N lines.
long() {
	local body=("int lines_${1//[^a-z]/_}(void) { return 0; }") i
	for ((i = 1; i < $2; i++)); do
		body+=("/* $i */")
	done
	mod "$1" "${body[@]}"
}

# check [ARG...]: run the script on the tree.
check() {
	out=$(CHECK_LAYERS_SRC=$t/src "$CHECK" "$@" "$t/build" 2>"$t/stderr")
	rc=$?
}

expect_rc() {
	if [ "$rc" = "$1" ]; then ok "exits $1"; else not_ok "exit $rc, want $1"; fi
}

# expect_line LINE: the output holds LINE, whole.
expect_line() {
	if grep -qxF -- "$1" <<<"$out"; then
		ok "$1"
	else
		not_ok "no line: $1"
	fi
}

# expect_no PATTERN: no output line matches the extended regex.
expect_no() {
	if grep -qE -- "$1" <<<"$out"; then
		not_ok "a line matches: $1"
	else
		ok "no line matches: $1"
	fi
}

expect_stderr() {
	if grep -qF -- "$1" "$t/stderr"; then
		ok "stderr: $1"
	else
		not_ok "stderr lacks: $1"
	fi
}

# ---- a clean tree ---------------------------------------------------------
# Every arrow points down or sideways; shipd and shipctl each define main
# and say(); libc calls are not arrows; an 800-line file is within bounds.
tree clean
mod common/util.c 'int util_fn(void) { return 1; }'
mod daemon/core/low.c 'int util_fn(void);' \
    'int low_fn(void) { return util_fn(); }'
mod daemon/ops/a.c 'int low_fn(void); int b_fn(void);' \
    'extern const int b_table[];' \
    'int a_fn(void) { return low_fn() + b_fn() + b_table[0]; }'
mod daemon/ops/b.c 'const int b_table[] = { 1, 2 };' \
    'int b_fn(void) { return 2; }'
mod daemon/ctl/say.c '#include <stdio.h>' \
    'void say(void) { puts("shipd"); }'
mod daemon/main.c 'int a_fn(void); void say(void);' \
    'int main(void) { say(); return a_fn(); }'
mod cli/say.c '#include <stdio.h>' 'void say(void) { puts("shipctl"); }'
mod cli/tool.c 'int util_fn(void); void say(void);' \
    'int main(void) { say(); return util_fn(); }'
long daemon/state/edge.c 800
long cli/long.c 900
check
expect_rc 0
# low->util, a->low, a->b, main->a, main->say(ctl), tool->util, tool->say(cli)
expect_line 'layers: 10 modules, 7 arrows, 0 violations'
expect_no '^(layer|cycle|size):'
check --map
expect_line '| daemon/ops/a.c | ops | 3 | daemon/core/low.c, daemon/ops/b.c |'
expect_line '| daemon/main.c | main | 2 | daemon/ctl/say.c, daemon/ops/a.c |'
expect_line '| cli/tool.c | cli | 2 | cli/say.c, common/util.c |'
check --dot
expect_line $'\t"daemon/ops/a.c" -> "daemon/ops/b.c";'

# ---- a cycle inside a layer -----------------------------------------------
tree cycle clean
mod daemon/ops/b.c 'const int b_table[] = { 1, 2 };' 'int a_fn(void);' \
    'int b_fn(void) { return a_fn(); }'
check
expect_rc 1
expect_line 'cycle: daemon/ops/a.c -> daemon/ops/b.c -> daemon/ops/a.c (via b_fn, a_fn)'
expect_line 'layers: 10 modules, 8 arrows, 1 violation'
check --dot
expect_line $'\t"daemon/ops/a.c" -> "daemon/ops/b.c" [color=red];'

# ---- a longer cycle, through a table, across three modules -----------------
tree cycle3 clean
mod daemon/ops/c.c 'int a_fn(void);' 'int c_fn(void) { return a_fn(); }'
mod daemon/ops/b.c 'int c_fn(void);' 'const int b_table[] = { 1, 2 };' \
    'int b_fn(void) { return c_fn(); }'
check
expect_rc 1
expect_line 'cycle: daemon/ops/a.c -> daemon/ops/b.c -> daemon/ops/c.c -> daemon/ops/a.c (via b_fn, c_fn, a_fn)'
expect_line 'layers: 11 modules, 9 arrows, 1 violation'

# ---- a lower layer calling a higher one -----------------------------------
# A function and a data symbol; the call back down also closes a cycle.
tree upward clean
mod daemon/ctl/high.c 'int low_fn(void);' 'int high_var;' \
    'int high_fn(void) { return low_fn(); }'
mod daemon/core/low.c 'int util_fn(void); int high_fn(void);' \
    'extern int high_var;' \
    'int low_fn(void) { return util_fn() + high_fn() + high_var; }'
mod daemon/ops/b.c 'const int b_table[] = { 1, 2 };' 'void say(void);' \
    'int b_fn(void) { say(); return 2; }'
mod daemon/engine/e.c 'int a_fn(void);' 'int e_fn(void) { return a_fn(); }'
check
expect_rc 1
expect_line 'layer: daemon/core/low.c (core) -> daemon/ctl/high.c (ctl) via high_fn, high_var: core is below ctl'
expect_line 'layer: daemon/engine/e.c (engine) -> daemon/ops/a.c (ops) via a_fn: engine is below ops'
expect_line 'layer: daemon/ops/b.c (ops) -> daemon/ctl/say.c (ctl) via say: ops is below ctl'
expect_line 'cycle: daemon/core/low.c -> daemon/ctl/high.c -> daemon/core/low.c (via high_fn, low_fn)'
expect_line 'layers: 12 modules, 11 arrows, 4 violations'

# ---- common and the two programs ------------------------------------------
tree programs clean
mod daemon/core/only.c 'int only_fn(void) { return 3; }'
mod common/up.c 'int only_fn(void);' 'int up_fn(void) { return only_fn(); }'
mod cli/reach.c 'int low_fn(void);' 'int reach_fn(void) { return low_fn(); }'
mod daemon/ctl/grab.c 'int reach_fn(void);' \
    'int grab_fn(void) { return reach_fn(); }'
mod daemon/ops/top.c 'int main(void);' 'int top_fn(void) { return main(); }'
mod daemon/main.c 'int a_fn(void); int top_fn(void); void say(void);' \
    'int main(void) { say(); return a_fn() + top_fn(); }'
check
expect_rc 1
expect_line 'layer: common/up.c (common) -> daemon/core/only.c (core) via only_fn: common may use only common'
expect_line 'layer: cli/reach.c (cli) -> daemon/core/low.c (core) via low_fn: cli may use only cli and common'
expect_line 'layer: daemon/ctl/grab.c (ctl) -> cli/reach.c (cli) via reach_fn: the daemon may not use cli'
expect_line 'layer: daemon/ops/top.c (ops) -> daemon/main.c (main) via main: ops is below main'
expect_line 'cycle: daemon/main.c -> daemon/ops/top.c -> daemon/main.c (via top_fn, main)'
expect_no '^cycle: cli/'

# ---- files over 800 lines, modules outside the layers, stale objects -------
tree size clean
long common/big.c 801
long daemon/engine/huge.c 1200
mod daemon/misc/odd.c 'int odd_fn(void) { return 0; }'
mod daemon/stray.c 'int stray_fn(void) { return 0; }'
mod daemon/ops/gone.c 'int high_fn(void);' 'int gone_fn(void) { return high_fn(); }'
rm "$t/src/daemon/ops/gone.c"	# left from a move: not a module any more
rm "$t/build/daemon/core/low.o"	# a source not built
check
expect_rc 1
expect_line 'size: common/big.c: 801 lines (limit 800)'
expect_line 'size: daemon/engine/huge.c: 1200 lines (limit 800)'
expect_no '^size: (daemon/state/edge|cli/long)'
expect_line 'layer: daemon/misc/odd.c: not in a layer folder (daemon/{core,engine,state,backup,ops,ctl}/*.c or daemon/main.c)'
expect_line 'layer: daemon/stray.c: not in a layer folder (daemon/{core,engine,state,backup,ops,ctl}/*.c or daemon/main.c)'
expect_no 'gone'
expect_stderr "skipping $t/build/daemon/ops/gone.o: no daemon/ops/gone.c"
expect_stderr "no $t/build/daemon/core/low.o for daemon/core/low.c"
expect_line 'layers: 13 modules, 5 arrows, 4 violations'

# ---- nothing to read ------------------------------------------------------
tree empty
check
expect_rc 2
expect_stderr 'no objects under'

echo
if [ "$failed" = 0 ]; then
	echo "check-layers self-test: all passed"
else
	echo "check-layers self-test: $failed failed"
	exit 1
fi
