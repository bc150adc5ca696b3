#!/bin/bash
# shipctl's bash completion (cli/shipctl.bash): a command, an option of a
# command, a stack and a service name asked from a running shipd, and
# nothing, quickly and silently, when shipd is down.
. "$(dirname "$0")/lib.sh"

COMP=$ROOT/cli/shipctl.bash

# complete WORD...: COMPREPLY, one a line, for the last word as typed.
complete_words() {
	bash -c '
		. "$1"; shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="${COMP_WORDS[*]}"
		_shipctl
		[ "${#COMPREPLY[@]}" = 0 ] || printf "%s\n" "${COMPREPLY[@]}"
	' complete "$COMP" "$SHIPCTL" -s "$IT_SOCK" "$@"
}

stack_yaml </dev/null
unit web <<EOF
image: $IMAGE1
init: true
EOF
unit cache <<EOF
image: $IMAGE1
init: true
EOF

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"

out=$(complete_words stat)
assert_eq "$out" status "command 'stat'"
out=$(complete_words sto)
assert_eq "$out" stop "command 'sto'"
out=$(complete_words '')
assert_eq "$(echo "$out" | wc -l)" "$("$SHIPCTL" help |
    grep -cE '^  [a-z]+ ')" "every command of shipctl help"
ok "commands: 'stat' gives status, 'sto' stop; '' gives every command help lists"

out=$(complete_words logs --f)
assert_eq "$out" --follow "option of logs"
out=$(complete_words deploy --no)
assert_eq "$(echo $out)" "--no-backup --no-build" "options of deploy"
out=$(complete_words status -)
echo "$out" | grep -qx -- --stack || fail "status options lack --stack: $out"
echo "$out" | grep -qx -- --json || fail "status options lack --json: $out"
ok "options: logs --f gives --follow, deploy --no gives --no-backup and --no-build"

out=$(complete_words import co)
assert_eq "$out" compose "import's first operand"
out=$(complete_words import compose --fo)
assert_eq "$out" --force "option of import"
ok "import: 'co' gives compose, --fo gives --force"

out=$(complete_words status --stack "${IT_STACK%-*}")
echo "$out" | grep -qxF -- "$IT_STACK" ||
    fail "stack $IT_STACK not offered: '$out'"
# bash splits --stack=NAME into "--stack" "=" "NAME".
out=$(complete_words history --stack = "${IT_STACK%-*}")
echo "$out" | grep -qxF -- "$IT_STACK" ||
    fail "--stack=PREFIX: $IT_STACK not offered: '$out'"
out=$(complete_words history --stack =)
echo "$out" | grep -qxF -- "=$IT_STACK" ||
    fail "--stack=: =$IT_STACK not offered: '$out'"
ok "stacks: --stack offers $IT_STACK, asked from shipd; so does --stack="

out=$(complete_words logs --stack "$IT_STACK" '')
assert_eq "$(echo "$out" | sort | tr '\n' ' ')" "cache web " "services of logs"
out=$(complete_words scale --stack "$IT_STACK" w)
assert_eq "$out" "web=" "service of scale"
for c in stop start restart; do
	out=$(complete_words $c --stack "$IT_STACK" w)
	assert_eq "$out" "web" "service of $c"
done
ok "services: logs offers cache and web; scale offers web=; stop, start, restart web"

out=$(complete_words exec --stack "$IT_STACK" -r 2 w)
assert_eq "$out" "web" "service of exec"
out=$(complete_words exec --stack "$IT_STACK" web '')
assert_eq "$out" "" "exec after SERVICE (the container's command line)"
out=$(complete_words exec --stack "$IT_STACK" web -- -)
assert_eq "$out" "" "exec after --"
ok "exec offers services for SERVICE only, nothing for its CMD"

stop_shipd
t0=$(now_ms)
out=$(complete_words status --stack '' 2>&1)
dt=$(($(now_ms) - t0))
assert_eq "$out" "" "completion output with shipd down"
assert_lt "$dt" 2000 "milliseconds to complete with shipd down"
out=$(complete_words stat 2>&1)
assert_eq "$out" status "commands with shipd down"
ok "shipd down: no stack, no message, ${dt} ms; commands still complete"

# -e's values: the environments of the DIR before it (NAME.env, env/NAME/),
# no daemon needed.
mkdir -p "$IT_UNITS/env/qa"
: > "$IT_UNITS/staging.env"
out=$(complete_words deploy "$IT_UNITS" -e '')
assert_eq "$out" "qa
staging" "environments of DIR for -e"
out=$(complete_words plan "$IT_UNITS" --env s)
assert_eq "$out" staging "environments for --env s"
ok "-e completes the directory's environments"
