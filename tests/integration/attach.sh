#!/bin/bash
# Issue 11, parts 1 and 3 against the real engine: `config` prints the
# resolved stack offline, and its YAML loads back to the same stack; a
# deploy shows its numbered phases; Ctrl-C (SIGINT) to shipctl in the
# middle of a gate detaches, the deploy goes on and commits, and `attach`
# (run after the detach) shows its end with its exit status; a failing
# deploy followed by attach ends as it does (through its rollback); attach
# with nothing under way is an error.
. "$(dirname "$0")/lib.sh"

api() {		# extra environment, healthy_deadline
	unit api <<EOF
image: \${API_IMAGE:-$IMAGE1}
environment: {SVC_NAME: api$1}
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s, start_period: 30s, start_interval: 100ms}
update: {healthy_deadline: ${2:-60s}}
stop_grace: 1s
EOF
}

# ---- config, offline ----------------------------------------------------

stack_yaml <<EOF
volumes: [data]
EOF
api ', SVC_HEALTHY_AFTER: "0.2", COST: "$$5"'
out=$(API_IMAGE=$IMAGE2 "$SHIPCTL" -s "$IT_DIR/nobody.sock" config "$IT_UNITS") ||
    fail "config failed (it must not need shipd)"
assert_match "$out" "image: shipd-test/svc:2" "config expands variables"
assert_match "$out" 'COST: "\$\$5"' "config writes a literal \$ as \$\$"
assert_match "$out" "restart: unless-stopped" "config writes defaults out"
assert_match "$out" "# api.yaml" "config names each document's file"
# Each document as its file: it must load back to the same stack.
mkdir "$IT_DIR/back"
echo "$out" | awk -v d="$IT_DIR/back" '
	/^# [a-z0-9._-]+\.yaml$/ { f = d "/" substr($0, 3); next }
	/^---$/ { next }
	{ print > f }'
want=$(API_IMAGE=$IMAGE2 "$SHIPCTL" --json config "$IT_UNITS" |
    jq -cS '.stack | del(.dir) | del(.units[].file)')
got=$("$SHIPCTL" --json config "$IT_DIR/back" |
    jq -cS '.stack | del(.dir) | del(.units[].file)')
assert_eq "$got" "$want" "config's YAML loaded back"
ok "config prints the resolved stack, and it loads back the same"

# ---- phases ---------------------------------------------------------------

start_shipd
out=$(sctl deploy "$IT_UNITS") || { echo "$out"; fail "the first deploy failed"; }
assert_match "$out" '\[1/6\] plan \.+ ok \([0-9.]+s\)' "plan's line"
assert_match "$out" '\[2/6\] pre-flight \.+ ok \([0-9.]+s\)' "pre-flight's line"
assert_match "$out" '\[3/6\] backup \.+ skipped' "backup's line"
assert_match "$out" '\[4/6\] apply \.+ ok \([0-9.]+s\)' "apply's line"
assert_match "$out" '\[6/6\] commit \.+ ok \([0-9.]+s\)' "commit's line"
order=$(echo "$out" | grep -o '^\[[0-9]/6\]' | tr -d '\n')
assert_eq "$order" "[1/6][2/6][3/6][4/6][5/6][6/6]" "the phases, in order"
api ', SVC_HEALTHY_AFTER: "0.3"'
sctl --json deploy "$IT_UNITS" | jq -se '[.[] | select(.event == "phase") | .phase] |
    index("images") != null and index("plan") != null and index("commit") != null' \
    >/dev/null || fail "the phase events of --json"
ok "deploy shows each phase with its result and time"

# ---- nothing to attach to -------------------------------------------------

rc=0
out=$(sctl attach --stack "$IT_STACK" 2>&1) || rc=$?
assert_eq "$rc" 1 "attach with nothing under way: exit"
assert_match "$out" "no operation under way on stack $IT_STACK" \
    "attach with nothing under way: message"
rc=0
out=$(sctl attach --stack cf-no-such-stack 2>&1) || rc=$?
assert_eq "$rc" 1 "attach to an unknown stack: exit"
ok "attach with nothing under way is an error"

# ---- Ctrl-C mid-gate detaches; attach sees the end ------------------------

# Job control, so that the background shipctl gets SIGINT as one in a
# terminal does (a script's background jobs ignore it, and so does
# shipctl then).
set -m

api ', SVC_HEALTHY_AFTER: "6"'
"$SHIPCTL" -s "$IT_SOCK" deploy "$IT_UNITS" >"$IT_DIR/deploy.out" \
    2>"$IT_DIR/deploy.err" &
deploy_pid=$!
in_gate() {
	sctl --json status --stack "$IT_STACK" | jq -e '.operations[0] |
	    .kind == "deploy" and .phase == "apply"'
}
wait_until 30 in_gate || fail "the deploy never reached its gate"
# A deploy queued behind it (--wait) is dropped by Ctrl-C, not left to run.
"$SHIPCTL" -s "$IT_SOCK" deploy --wait "$IT_UNITS" >/dev/null \
    2>"$IT_DIR/queued.err" &
queued_pid=$!
nops() {
	sctl --json status --stack "$IT_STACK" | jq '.operations | length'
}
wait_until 10 eval '[ "$(nops)" = 2 ]' || fail "the second deploy was not queued"
kill -INT "$queued_pid"
rc=0
wait "$queued_pid" || rc=$?
assert_eq "$rc" 130 "a queued deploy's exit after Ctrl-C"
assert_match "$(cat "$IT_DIR/queued.err")" "still queued for the lock and is dropped" \
    "what Ctrl-C says of a queued deploy"
wait_until 10 eval '[ "$(nops)" = 1 ]' || fail "the queued deploy stayed queued"
kill -INT "$deploy_pid"
rc=0
wait "$deploy_pid" || rc=$?
assert_eq "$rc" 130 "shipctl deploy's exit after Ctrl-C"
err=$(cat "$IT_DIR/deploy.err")
assert_match "$err" "detached; the deploy of $IT_STACK goes on in shipd" \
    "what Ctrl-C says"
assert_match "$err" "shipctl attach --stack $IT_STACK" "how to re-attach"
assert_match "$err" "shipctl cancel --stack $IT_STACK" "how to cancel"
in_gate >/dev/null || fail "the deploy did not go on after the detach"
# One that attaches and is killed: only it stops following.
"$SHIPCTL" -s "$IT_SOCK" attach --stack "$IT_STACK" >"$IT_DIR/gone.out" 2>&1 &
gone_pid=$!
wait_until 10 grep -q '^attached to deploy' "$IT_DIR/gone.out" ||
    fail "the first attach did not join: $(cat "$IT_DIR/gone.out")"
kill -KILL "$gone_pid"
wait "$gone_pid" 2>/dev/null || true
rc=0
out=$(sctl attach --stack "$IT_STACK" 2>&1) || rc=$?
[ "$rc" = 0 ] || echo "$out"
assert_eq "$rc" 0 "attach's exit for a deploy that commits"
assert_match "$out" "attached to deploy of $IT_STACK \\(revision 3\\)" \
    "attach names what it joined"
assert_match "$out" '\[6/6\] commit \.+ ok' "attach shows the commit"
assert_match "$out" "done: $IT_STACK revision 3" "attach's last line"
cur=$(sctl --json history --stack "$IT_STACK" |
    jq -r '.revisions[] | select(.is_current) | "\(.revision) \(.result)"')
assert_eq "$cur" "3 committed" "the current revision after the detached deploy"
ok "Ctrl-C detached, the deploy committed, attach showed its end"
set +m

# ---- a failing deploy, followed to its rollback ---------------------------

api ', SVC_NEVER_HEALTHY: "1"' 3s
"$SHIPCTL" -s "$IT_SOCK" deploy "$IT_UNITS" >"$IT_DIR/fail.out" 2>&1 &
deploy_pid=$!
wait_until 30 in_gate || fail "the failing deploy never reached its gate"
rc=0
out=$(sctl attach --stack "$IT_STACK" 2>&1) || rc=$?
drc=0
wait "$deploy_pid" || drc=$?
assert_eq "$drc" 1 "the failing deploy's own exit"
assert_eq "$rc" 1 "attach's exit for a deploy that fails"
assert_match "$out" "rolling back to revision 3" "attach follows the rollback"
assert_match "$out" '\[4/6\] apply \.+ FAILED' "attach shows where it failed"
ok "attach ends as the operation does, through its rollback"

stop_shipd
