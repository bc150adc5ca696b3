#!/bin/bash
# shipctl and compose projects, offline: which directories are compose
# projects, the compose options, warnings on stderr before the output,
# and the stack name a compose directory gives the commands that need one.
. "$(dirname "$0")/lib.sh"

P=$IT_DIR/proj
mkdir -p "$P"
cat > "$P/compose.yaml" <<EOF
name: cmcli
services:
  web:
    image: $IMAGE1
    container_name: web
  db:
    image: $IMAGE1
EOF
cat > "$P/compose.prod.yaml" <<EOF
services:
  web:
    deploy: {replicas: 3}
EOF

rc=0
out=$("$SHIPCTL" validate "$P" 2>"$IT_DIR/err") || rc=$?
assert_eq "$rc" 0 "validate of a compose directory"
assert_match "$out" "^stack cmcli: 2 services" "the stack is the project"
assert_eq "$(grep -c '(warning)$' "$IT_DIR/err")" 1 "one warning on stderr"
assert_match "$(cat "$IT_DIR/err")" \
    "^$P/compose.yaml:5:21: services.web.container_name: .* \(warning\)$" \
    "the warning names file:line:col"
! printf '%s\n' "$out" | grep -q warning || fail "a warning on stdout"
ok "a directory with compose.yaml is a compose project; warnings go to stderr"

out=$("$SHIPCTL" --json validate "$P" 2>/dev/null)
printf '%s\n' "$out" | python3 -c 'import json,sys; json.load(sys.stdin)' ||
    fail "--json output is not one JSON document: $out"
ok "--json keeps stdout JSON"

out=$(cd "$IT_DIR" && "$SHIPCTL" validate -f proj/compose.yaml \
    -f proj/compose.prod.yaml -p cmcli-prod 2>/dev/null)
assert_match "$out" "^stack cmcli-prod: " "-p names the stack"
assert_match "$out" "web +x3" "a later -f file merges over the first"
ok "-f twice merges; -p names the stack"

rc=0
"$SHIPCTL" validate --strict "$P" >/dev/null 2>"$IT_DIR/err" || rc=$?
assert_eq "$rc" 2 "--strict makes the warning an error"
assert_match "$(cat "$IT_DIR/err")" "container_name" "--strict names it"
ok "--strict: exit 2"

# A unit directory takes no compose options, and both at once is refused.
unit api <<EOF
image: $IMAGE1
EOF
rc=0
"$SHIPCTL" validate --profile x "$IT_UNITS" >/dev/null 2>"$IT_DIR/err" || rc=$?
assert_eq "$rc" 2 "--profile on a unit directory"
assert_match "$(cat "$IT_DIR/err")" "are for compose projects" "says why"
cp "$P/compose.yaml" "$IT_UNITS/compose.yaml"
stack_yaml </dev/null
rc=0
"$SHIPCTL" validate "$IT_UNITS" >/dev/null 2>"$IT_DIR/err" || rc=$?
assert_eq "$rc" 2 "compose.yaml beside stack.yaml"
assert_match "$(cat "$IT_DIR/err")" "holds both compose.yaml and stack.yaml" \
    "says which"
ok "unit directories: no compose options; both kinds at once refused"

# Commands that need a stack name take it from a compose directory.
rc=0
out=$("$SHIPCTL" -s "$IT_DIR/none.sock" history "$P" 2>&1) || rc=$?
! printf '%s\n' "$out" | grep -q "which stack" ||
    fail "history could not name the stack of a compose directory: $out"
assert_eq "$rc" 3 "history without a shipd: it got as far as connecting"
ok "a compose directory names the stack for history, down, ..."

# Completion knows the compose options, and that -f takes a value.
complete_words() {
	bash -c '
		. "$1"; shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="${COMP_WORDS[*]}"
		_shipctl
		[ "${#COMPREPLY[@]}" = 0 ] || printf "%s\n" "${COMPREPLY[@]}"
	' complete "$ROOT/cli/shipctl.bash" "$SHIPCTL" -s "$IT_DIR/none.sock" "$@"
}
assert_eq "$(complete_words deploy --prof)" --profile "deploy --prof"
assert_eq "$(complete_words validate --str)" --strict "validate --str"
out=$(complete_words plan -f compose.yaml --env-)
assert_eq "$out" --env-file "an option after -f FILE"
assert_eq "$(complete_words down --prof)" "" "down takes no compose options"
ok "completion: --profile, --strict, --env-file after -f FILE"
