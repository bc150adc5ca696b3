#!/bin/bash
# Commands sent while shipd is still reaching the engine wait for it
# (issue 10, item 9).  shipd starts against an engine socket path that does
# not exist yet: a `status` sent at once is held, and answers once the path
# appears (a symlink to the real engine).  Without an engine, a client that
# hangs up while held is dropped, a status fails after the bound naming the
# engine, and the next fails at once; one held at shutdown is told so.  Commands that need no engine answer at once throughout.
. "$(dirname "$0")/lib.sh"

late=$IT_DIR/late.sock
bound_ms=3000

# shipd against $late, which need not exist; returns once it answers.
start_late() {
	SHIPD_TEST_ENGINE_WAIT_MS=$bound_ms "$SHIPD" -f -d -s "$IT_SOCK" \
	    --state-dir "$IT_STATE" --engine "$late" >>"$IT_LOG" 2>&1 &
	SHIPD_PID=$!
	wait_until 10 sctl version || fail "shipd did not answer on $IT_SOCK"
}
# How many requests shipd has held so far (its debug log says so).
held() { grep -c 'waits up to [0-9]* ms for the engine' "$IT_LOG" || true; }
held_ge() { [ "$(held)" -ge "$1" ]; }
running() { kill -0 "$1" 2>/dev/null; }

# ---- the engine comes up late ----------------------------------------------
start_late
n0=$(held)
sctl status >"$IT_DIR/status.out" 2>&1 &
st=$!
wait_until 10 held_ge $((n0 + 1)) ||
    fail "status was not held for the engine: $(cat "$IT_DIR/status.out")"
running "$st" || fail "status ended before the engine was there: $(cat "$IT_DIR/status.out")"
# Commands that need no engine answer meanwhile.
t0=$(now_ms)
sctl history --stack "$IT_STACK" >/dev/null 2>&1 || true
sctl version >/dev/null || fail "version while status waits"
assert_lt $(($(now_ms) - t0)) 2000 "version and history took (ms)"
ln -s "$IT_ENGINE" "$late"
rc=0
wait "$st" || rc=$?
assert_eq "$rc" 0 "status exit once the engine came up ($(cat "$IT_DIR/status.out"))"
ok "a status sent before the engine was reached waited and answered"

stop_shipd

# ---- the engine never comes ------------------------------------------------
rm -f "$late"
start_late
# A client that hangs up while held is dropped; shipd carries on.
n0=$(held)
"$SHIPCTL" -s "$IT_SOCK" status >/dev/null 2>&1 &
st=$!
wait_until 10 held_ge $((n0 + 1)) || fail "status was not held"
kill -TERM "$st"
wait "$st" 2>/dev/null || true
wait_until 5 grep -q 'status dropped: its client went away' "$IT_LOG" ||
    fail "the held request of a client that went was not dropped"
sctl version >/dev/null || fail "version after a held client went"
ok "a client that hung up while held was dropped"

t0=$(now_ms)
rc=0
out=$(sctl status 2>&1) || rc=$?
dt=$(($(now_ms) - t0))
[ "$rc" != 0 ] || fail "status succeeded without an engine: $out"
assert_ge "$dt" "$bound_ms" "ms before status failed"
assert_lt "$dt" $((bound_ms + 3000)) "ms before status failed"
assert_match "$out" "engine $late: .*waited $bound_ms ms" "the error"
# Once a wait has run out, the next request is refused at once.
t0=$(now_ms)
out=$(sctl status 2>&1) && fail "second status succeeded: $out"
assert_lt $(($(now_ms) - t0)) 2000 "ms before the second status failed"
assert_match "$out" "engine $late" "the second error"
ok "without an engine, status failed after the bound, then at once"
stop_shipd

# ---- held at shutdown -------------------------------------------------------
start_late
n0=$(held)
sctl status >"$IT_DIR/status.out" 2>&1 &
st=$!
wait_until 10 held_ge $((n0 + 1)) || fail "status was not held at shutdown"
stop_shipd
rc=0
wait "$st" || rc=$?
[ "$rc" != 0 ] || fail "status held at shutdown succeeded"
assert_match "$(cat "$IT_DIR/status.out")" "shutting down" "status held at shutdown"
ok "a request held at shutdown was told shipd is shutting down"
