#!/bin/bash
# shipd killed while the engine is stopping a replica for it (the stop
# request sent, the service taking 5 s to exit on SIGTERM) and started
# again at once, as systemd's RestartSec would: recovery must wait for
# that stop before judging the replica, not see it "running", pass it
# and have it exit seconds later.  Afterwards the stack is at revision 1,
# its replica running and still running once the old stop would have
# ended, the journal is empty and plan finds nothing to do.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
# sh traps TERM and takes 5 s to exit (with code 0, as a clean stop).
unit api <<EOF
image: $IMAGE1
environment: {MODE: "\${MODE:-one}"}
entrypoint: ["sh", "-c", "trap 'sleep 5; exit 0' TERM; while :; do sleep 1 & wait; done"]
stop_grace: 30s
EOF

status_json() { sctl --json status --stack "$IT_STACK"; }
settled() {	# no lock held, no revision in progress
	status_json | grep -q '"lock":null' &&
	    ! grep -qs in_progress "$IT_STATE"/stacks/"$IT_STACK"/revisions/*.json
}
current() { status_json | sed -n 's/.*"current":\([0-9]*\).*/\1/p'; }
state_of() { docker inspect -f '{{.State.Status}} {{.State.StartedAt}}' "$1"; }
mode_of() { docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$1" |
    sed -n 's/^MODE=//p'; }
# The engine's kill events for api-1 (other stacks' show in the log too).
kills() { grep -c "event kill ${id1:0:12}" "$IT_LOG" || true; }
signalled() { [ "$(kills)" -gt "$1" ]; }

start_shipd
MODE=one sctl deploy "$IT_UNITS" >/dev/null || fail "deploy of revision 1"
id1=$(cid api)
[ -n "$id1" ] || fail "no api container after revision 1"

# Revision 2 stops api-1 first (stop-first); once the engine has signalled
# it, the stop is with the engine and shipd dies.
k=$(kills)
MODE=two sctl deploy "$IT_UNITS" >"$IT_DIR/deploy2.out" 2>&1 &
dp=$!
wait_until 20 signalled "$k" ||
    fail "the engine never signalled api-1 for revision 2's stop: $(cat "$IT_DIR/deploy2.out")"
t_kill=$(now_ms)
kill9_shipd
wait "$dp" 2>/dev/null || true
assert_eq "$(state_of "$id1" | cut -d' ' -f1)" running "api-1 right after the kill (its stop under way)"
start_shipd
assert_lt $(($(now_ms) - t_kill)) 4000 "restart time (the old stop must still be under way)"

wait_until 60 settled || fail "never settled: $(status_json)"
assert_eq "$(current)" 1 "current revision after recovery"
id=$(cid api)
assert_eq "$id" "$id1" "api-1 is revision 1's container, brought back"
assert_eq "$(mode_of "$id")" one "api-1's MODE"
read -r st started <<<"$(state_of "$id")"
assert_eq "$st" running "api-1 after recovery"

# The old stop would have ended 5 s after its SIGTERM: past that (and a
# margin), api-1 must still be the same running process.
until_ms=$((t_kill + 8000))
went_down() { [ "$(state_of "$id")" != "running $started" ]; }
left=$(((until_ms - $(now_ms) + 999) / 1000))
if [ "$left" -gt 0 ] && wait_until "$left" went_down; then
	fail "api-1 went down after recovery: $(state_of "$id")"
fi
assert_eq "$(state_of "$id")" "running $started" "api-1 once the old stop would have ended"
grep -q 'was being stopped when shipd stopped' "$IT_LOG" ||
    fail "recovery did not wait for the stop under way"
grep -q 'bringing back revision 1 failed' "$IT_LOG" &&
    fail "recovery logged a failure"
[ ! -s "$IT_STATE/journal" ] || fail "journal not empty: $(cat "$IT_STATE/journal")"
MODE=one sctl plan "$IT_UNITS" >"$IT_DIR/plan.out" 2>&1 ||
    fail "plan after recovery exited $?: $(cat "$IT_DIR/plan.out")"
ok "killed with a 5 s stop under way, restarted at once: revision 1 back and staying up"
