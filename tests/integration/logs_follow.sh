#!/bin/bash
# logs -f lives across a redeploy that replaces the replicas (it picks up
# the new containers from the engine's events) and ends, exit 0 with a
# last line saying why, when down removes the stack; logs without SERVICE
# merges every service's lines in time order with aligned prefixes; -t;
# --since/--until errors; events hide exec_* unless --all and filter.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
unit talk <<EOF
image: \${TALK_IMAGE:-$IMAGE1}
environment: {SVC_LOG_EVERY: "0.2"}
health: {test: [CMD, /bin/svc-check], interval: 1s}
init: true
EOF
unit chatterbox <<EOF
image: $IMAGE1
environment: {SVC_LOG_EVERY: "0.3"}
init: true
EOF

start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"

# ---- merged order, prefixes, -t -------------------------------------------
for s in talk chatterbox; do
	wait_until 15 sh -c "'$SHIPCTL' -s '$IT_SOCK' logs --stack '$IT_STACK' $s | grep -q 'tick 8$'" ||
	    fail "$s logs no ticks"
done
sctl logs --stack "$IT_STACK" -t > "$IT_DIR/all" || fail "logs of every service"
grep -q '^talk-1       | [0-9-]*T[0-9:.]*Z tick' "$IT_DIR/all" ||
    { cat "$IT_DIR/all"; fail "talk's lines are not prefixed and aligned with -t"; }
grep -q '^chatterbox-1 | [0-9-]*T[0-9:.]*Z tick' "$IT_DIR/all" ||
    { cat "$IT_DIR/all"; fail "chatterbox's lines missing"; }
# Both services interleave, and the times never go back.
sed -n 's/^[a-z]*-1 *| \([^ ]*\) .*/\1/p' "$IT_DIR/all" > "$IT_DIR/times"
python3 - "$IT_DIR/times" <<'PY' || { cat "$IT_DIR/all"; fail "lines not in time order"; }
import sys, datetime
def t(s):
    d, f = s.rstrip("Z").split(".") if "." in s else (s.rstrip("Z"), "0")
    return (datetime.datetime.fromisoformat(d), int(f.ljust(9, "0")))
ts = [t(l.strip()) for l in open(sys.argv[1]) if l.strip()]
assert len(ts) > 10, len(ts)
assert ts == sorted(ts), "out of order"
PY
runs=$(awk -F' *[|] ' '{print $1}' "$IT_DIR/all" | uniq | wc -l)
[ "$runs" -gt 4 ] || fail "services not interleaved: $runs runs"
sctl logs --stack "$IT_STACK" talk | grep -q '^talk-1 | tick' ||
    fail "logs talk without -t"
! sctl logs --stack "$IT_STACK" talk | grep -q 'T[0-9:.]*Z tick' ||
    fail "time shown without -t"
ok "logs merges every service in time order, prefixes aligned, -t shows times"

# ---- --since / --until ---------------------------------------------------
until_out=$(sctl logs --stack "$IT_STACK" --until 2000-01-01T00:00:00Z talk) || fail "--until"
[ -z "$until_out" ] || fail "--until in 2000 shows lines: $until_out"
[ "$(sctl logs --stack "$IT_STACK" --since 1h talk | grep -c tick)" -gt 3 ] || fail "--since 1h"
[ "$(sctl logs --stack "$IT_STACK" --since 2099-01-01T00:00:00+01:00 talk | wc -l)" = 0 ] || fail "--since future"
for bad in "--since yesterday" "--until 2026-13-01T00:00:00Z" "--since 10x" \
    "--since 1h --until 2h" "-f --until 1m"; do
	rc=0
	# shellcheck disable=SC2086
	err=$(sctl logs --stack "$IT_STACK" $bad talk 2>&1) || rc=$?
	[ "$rc" = 2 ] || fail "logs $bad: exit $rc, want 2 ($err)"
	echo "$err" | grep -Eq 'not a duration|later than|do not go together' ||
	    fail "logs $bad: unclear error: $err"
done
ok "--since/--until take durations and RFC 3339; bad ones are usage errors"

# ---- events: no exec noise, --all, --filter ------------------------------
sctl events --stack "$IT_STACK" > "$IT_DIR/ev" 2>"$IT_DIR/ev.err" &
e1=$!
sctl events --stack "$IT_STACK" --all > "$IT_DIR/evall" 2>"$IT_DIR/evall.err" &
e2=$!
sctl events --stack "$IT_STACK" --filter service=chatterbox,type=container > "$IT_DIR/evf" 2>"$IT_DIR/evf.err" &
e3=$!
for f in ev evall evf; do
	wait_until 10 grep -q "watching stack" "$IT_DIR/$f.err" || fail "events $f did not subscribe"
done
wait_until 15 grep -q "$IT_STACK-talk-1 *exec_die" "$IT_DIR/evall" ||
    fail "--all shows no health check exec: $(cat "$IT_DIR/evall")"
docker restart -t 1 "$IT_STACK-chatterbox-1" >/dev/null
docker restart -t 1 "$IT_STACK-talk-1" >/dev/null
wait_until 10 grep -q "$IT_STACK-talk-1 *start" "$IT_DIR/ev" || fail "events: no start of talk"
wait_until 10 grep -q "$IT_STACK-chatterbox-1 *start" "$IT_DIR/evf" || fail "filtered events: no chatterbox start"
wait_until 10 grep -q "$IT_STACK-talk-1 *start" "$IT_DIR/evall" || fail "--all: no start of talk"
! grep -q exec_ "$IT_DIR/ev" || fail "exec_ events shown without --all: $(grep exec_ "$IT_DIR/ev" | head -3)"
! grep -q talk "$IT_DIR/evf" || fail "service=chatterbox shows talk: $(grep talk "$IT_DIR/evf" | head -3)"
kill "$e1" "$e2" "$e3"
wait "$e1" "$e2" "$e3" 2>/dev/null || true
rc=0; err=$(sctl events --stack "$IT_STACK" --filter colour=red 2>&1) || rc=$?
{ [ "$rc" = 2 ] && echo "$err" | grep -q "keys are service and type"; } || fail "bad filter key: $rc $err"
rc=0; err=$(sctl events --stack "$IT_STACK" --filter type=network 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "type=network: $rc $err"
ok "events hide exec_* unless --all; --filter service=,type= keeps only those"

# ---- logs -f across a redeploy, ended by down ----------------------------
old=$(cid talk)
sctl logs --stack "$IT_STACK" -f --tail 0 talk > "$IT_DIR/follow" 2>"$IT_DIR/follow.err" &
fpid=$!
wait_until 10 grep -q '^talk-1 | tick' "$IT_DIR/follow" || fail "logs -f shows no line"
TALK_IMAGE=$IMAGE2 sctl deploy "$IT_UNITS" >/dev/null || fail "redeploy with svc:2"
new=$(cid talk)
{ [ -n "$new" ] && [ "$new" != "$old" ]; } || fail "the redeploy did not replace talk-1"
wait_until 20 grep -q '^talk-1 | svc\[.* 2\]' "$IT_DIR/follow" ||
    { cat "$IT_DIR/follow" "$IT_DIR/follow.err"; fail "logs -f shows nothing of the new replica"; }
kill -0 "$fpid" 2>/dev/null || fail "logs -f ended at the redeploy"
grep -q "following talk-1, container ${new:0:12}" "$IT_DIR/follow.err" ||
    fail "no notice of the new replica: $(cat "$IT_DIR/follow.err")"
# A restart of the same container: followed again from its start.
wait_until 10 grep -q '^talk-1 | svc\[.* 2\]: listening' "$IT_DIR/follow" ||
    fail "the new replica's start line is missing"
docker restart -t 1 "$IT_STACK-talk-1" >/dev/null
wait_until 20 sh -c "[ \$(grep -c '^talk-1 | svc\[.* 2\]: listening' '$IT_DIR/follow') = 2 ]" ||
    { grep -v tick "$IT_DIR/follow"; cat "$IT_DIR/follow.err"; fail "logs -f lost the replica after its restart"; }
sctl events --stack "$IT_STACK" --filter type=stack > "$IT_DIR/evs" 2>"$IT_DIR/evs.err" &
e4=$!
wait_until 10 grep -q "watching stack" "$IT_DIR/evs.err" || fail "events type=stack did not subscribe"
sctl down --stack "$IT_STACK" >/dev/null || fail "down"
wait_until 10 grep -Eq " $IT_STACK +stack removed$" "$IT_DIR/evs" ||
    fail "events type=stack: no stack removed: $(cat "$IT_DIR/evs")"
kill "$e4"
wait "$e4" 2>/dev/null || true
[ "$(wc -l < "$IT_DIR/evs")" = 1 ] || fail "type=stack shows container events: $(cat "$IT_DIR/evs")"
wait_until 15 sh -c "! kill -0 $fpid 2>/dev/null" || fail "logs -f goes on after down"
rc=0; wait "$fpid" || rc=$?
[ "$rc" = 0 ] || fail "logs -f exited $rc after down"
tail -n 1 "$IT_DIR/follow.err" | grep -q "following ended: shipctl down removed stack $IT_STACK" ||
    fail "no last line saying why: $(cat "$IT_DIR/follow.err")"
ok "logs -f follows the new replica after a redeploy and ends with exit 0 on down"

# Under the sanitizer build a leak or a bad access shows here.
stop_shipd
! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$IT_LOG" ||
    fail "sanitizer report in shipd's log"
ok "shipd exits 0 on SIGTERM, its log clean"
