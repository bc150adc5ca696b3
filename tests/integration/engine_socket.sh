#!/bin/bash
# dockerd restarting under shipd makes its socket anew (a fresh inode):
# shipd must reach the new one.  The shared dockerd is never restarted: a
# forwarding socket (tests/tools/fwdengine.c) stands in for it, killed,
# removed and started again on the same path.
. "$(dirname "$0")/lib.sh"

FWD=${FWDENGINE:-$ROOT/build/tests/fwdengine}
[ -x "$FWD" ] || fail "$FWD is not built (make tests)"
REAL_ENGINE=$IT_ENGINE
IT_ENGINE=$IT_DIR/engine.sock
FWD_PID=

start_fwd() {
	"$FWD" "$IT_ENGINE" "$REAL_ENGINE" > "$IT_DIR/fwd.out" 2>&1 &
	FWD_PID=$!
	wait_until 10 grep -q listening "$IT_DIR/fwd.out" ||
	    fail "fwdengine did not start: $(cat "$IT_DIR/fwd.out")"
}

# The forwarder and every connection it passes on (its process group).
stop_fwd() {
	[ -n "$FWD_PID" ] || return 0
	kill -TERM -- "-$FWD_PID" 2>/dev/null || true
	wait "$FWD_PID" 2>/dev/null || true
	FWD_PID=
}
it_at_exit stop_fwd

stack_yaml </dev/null
unit web <<EOF
image: $IMAGE1
init: true
EOF

start_fwd
start_shipd
sctl deploy "$IT_UNITS" >/dev/null || fail "first deploy"
ok "deploy through the forwarding engine socket"

ino1=$(stat -c %i "$IT_ENGINE")
stop_fwd
rm -f "$IT_ENGINE"
# The engine is gone: shipd says so, and does not die.
wait_until 15 sh -c "! '$SHIPCTL' -s '$IT_SOCK' status --stack '$IT_STACK'" ||
    fail "status still answered with the engine gone"
sctl version >/dev/null || fail "shipd died with the engine"
# A file now may take the socket's old inode number; the next one differs.
: > "$IT_DIR/placeholder"
start_fwd
ino2=$(stat -c %i "$IT_ENGINE")
[ "$ino1" != "$ino2" ] || fail "the new engine socket has the old inode $ino1"
ok "engine socket made anew (inode $ino1, then $ino2)"

wait_until 20 sh -c "'$SHIPCTL' -s '$IT_SOCK' status --stack '$IT_STACK' | grep -q '$IT_STACK-web-1'" ||
    fail "status through the new engine socket: $(sctl status --stack "$IT_STACK" 2>&1)"
ok "status reaches the engine through the new socket"

unit web <<EOF
image: $IMAGE2
init: true
EOF
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy after the engine came back"
out=$(sctl status --stack "$IT_STACK")
echo "$out" | grep -q 'svc:2' || fail "web is not on image 2: $out"
ok "a deploy after the re-creation replaces web"
stop_shipd
