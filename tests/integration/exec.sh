#!/bin/bash
# shipctl exec against the real engine: stdout and stderr apart and the
# command's exit code; -i piping stdin, and without -i no stdin; -r picks a
# replica, a missing one is not_found (exit 125); 20 MB of output through
# a slow reader arrives whole while shipd's peak RSS stays flat (the engine
# is not read while the client is behind); -it through a pseudo-terminal
# (tests/tools/ptyrun): a shell, `stty size` following a resize, Ctrl-C
# interrupting a sleep, exit 7; a client that goes closes the command's
# stdin and leaves it running; audited for root, refused and audited on
# the read-only socket.
. "$(dirname "$0")/lib.sh"

PTYRUN=$ROOT/build/tests/ptyrun
READER_UID=60211
GROUP=shipdex$$
trap 'rc=$?; set +e; groupdel "$GROUP" >/dev/null 2>&1; (exit "$rc"); it_cleanup' EXIT
groupadd "$GROUP" || fail "groupadd $GROUP"
gid=$(getent group "$GROUP" | cut -d: -f3)
chmod 0755 "$IT_DIR"

stack_yaml </dev/null
unit svc <<EOF
image: $IMAGE1
replicas: 2
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s}
EOF
start_shipd --read-group "$GROUP"
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy"
x() { sctl exec --stack "$IT_STACK" "$@"; }

# stdout and stderr apart, the exit code passed on.
rc=0
x svc -- sh -c 'echo out; echo err >&2; exit 3' >"$IT_DIR/o" 2>"$IT_DIR/e" || rc=$?
assert_eq "$rc" 3 "exit code"
assert_eq "$(cat "$IT_DIR/o")" out "stdout"
assert_eq "$(cat "$IT_DIR/e")" err "stderr"
ok "stdout and stderr come back apart, exit 3 passed on"

# stdin only with -i.
out=$(printf 'a\nb\n' | x svc -i -- wc -l) || fail "exec -i: $out"
assert_eq "$(printf %s "$out" | tr -d " ")" 2 "wc -l of two lines"
out=$(printf 'a\nb\n' | x svc -- wc -l) || fail "exec without -i: $out"
assert_eq "$(printf %s "$out" | tr -d " ")" 0 "wc -l without -i"
ok "-i forwards stdin (wc -l counts 2), without -i the command gets none"

# -r N, and a replica that does not run.
out=$(x svc -r 2 -- hostname) || fail "exec -r 2"
assert_eq "$out" "$(docker inspect -f '{{.Config.Hostname}}' "$(cid svc 2)")" \
    "replica 2's hostname"
rc=0
out=$(x svc -r 3 -- true 2>&1) || rc=$?
assert_eq "$rc" 125 "exec -r 3: exit"
assert_match "$out" "no running replica 3 of service svc" "exec -r 3: message"
rc=0
out=$(sctl --json exec --stack "$IT_STACK" nosuch -- true) || rc=$?
assert_eq "$rc" 125 "exec in no service: exit"
assert_match "$out" '"code": *"not_found"' "exec in no service: JSON error"
ok "-r 2 runs in replica 2; a replica that does not run is not_found, exit 125"

# 20 MB through a reader slower than the engine: whole, and shipd's peak
# RSS flat (without backpressure 16 MiB would queue and the client be
# dropped).
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$SHIPD_PID/status"; }
before=$(hwm)
n=$(x svc -- head -c 20000000 /dev/zero | { sleep 2; wc -c; }) || fail "20 MB exec"
assert_eq "$n" 20000000 "bytes of output"
after=$(hwm)
# ASan's quarantine keeps what was freed: RSS says nothing there.
asan=false
ldd "$SHIPD" 2>/dev/null | grep -q libasan && asan=true
$asan || assert_lt $((after - before)) 12000 "shipd's peak RSS growth in KiB"
ok "20 MB through a slow reader arrive whole; shipd's peak RSS grew $((after - before)) KiB$($asan && echo ' (not checked under ASan)')"

# And 20 MB of stdin into a command that reads it only later: shipd stops
# reading the client rather than queue it for the engine.
before=$(hwm)
n=$(head -c 20000000 /dev/zero | x svc -i -- sh -c 'sleep 2; wc -c') ||
    fail "20 MB of stdin"
assert_eq "$(printf %s "$n" | tr -d ' ')" 20000000 "bytes of stdin counted"
after=$(hwm)
$asan || assert_lt $((after - before)) 12000 "shipd's peak RSS growth in KiB (stdin)"
ok "20 MB of stdin to a late reader arrive whole; shipd's peak RSS grew $((after - before)) KiB"

# -it on a pseudo-terminal: the size at start and after a resize, Ctrl-C
# reaching the command (130 from sh -c), exit 7.
# A size reaches the terminal by an engine call of its own, which may come
# after the next command typed: sz polls for it (5 s), then prints it.
cat > "$IT_DIR/script" <<'EOF'
wait #
send sz() { i=0; until [ "$(stty size)" = "$*" ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i+1)); done; stty size; }\r
wait #
send sz 30 100\r
wait \n30 100\r
resize 40 120
send sz 40 120\r
wait \n40 120\r
send sh -c 'echo armed; sleep 100'\r
wait \narmed
send \x03
send echo back-$?\r
wait \nback-130\r
send echo hi; exit 7\r
wait \nhi\r
EOF
rc=0
out=$("$PTYRUN" 30 100 "$IT_DIR/script" "$SHIPCTL" -s "$IT_SOCK" exec \
    --stack "$IT_STACK" svc -it -- sh) || rc=$?
assert_eq "$rc" 7 "exec -it: exit (output: $out)"
ok "exec -it: a shell on a terminal of the right size, resized, Ctrl-C to the command, exit 7"

rc=0
out=$(x svc -it -- true 2>&1 </dev/null) || rc=$?
assert_eq "$rc" 125 "exec -it without a terminal: exit"
assert_match "$out" "not a TTY" "exec -it without a terminal: message"
out=$(x svc -t -- sh -c 'echo out; echo err >&2' 2>/dev/null </dev/null) ||
    fail "exec -t without -i: $out"
assert_eq "$(printf '%s\n' "$out" | tr -d '\r' | tr '\n' ' ')" "out err " \
    "exec -t: the terminal's output, stderr included, on stdout"
ok "-it without a terminal is refused; -t alone gives a terminal's output on stdout"

# The client goes: the command's stdin is closed and it runs on.
mkfifo "$IT_DIR/in"
# shipctl itself, not a subshell, is the background job.
"$SHIPCTL" -s "$IT_SOCK" exec --stack "$IT_STACK" svc -i -- \
    sh -c 'cat; echo gone > /tmp/ex-gone' <"$IT_DIR/in" &
xpid=$!
exec 9>"$IT_DIR/in"	# a writer that never writes: stdin stays open
wait_until 10 sh -c "docker top '$(cid svc 1)' | grep -q ' cat\$'" ||
    fail "the exec's cat did not start"
kill -KILL "$xpid"
wait "$xpid" 2>/dev/null || true
wait_until 10 docker exec "$(cid svc 1)" test -s /tmp/ex-gone ||
    fail "the command did not see its stdin end after the client went"
exec 9>&-
ok "a client that goes closes the command's stdin; the command runs to its end"

# Audited with its argv and uid; refused on the read-only socket.
audit() { jq -c "$1" "$IT_STATE/audit.log"; }
audit 'select(.cmd == "exec" and .event == "start" and .uid == 0 and
    .args.argv == ["wc", "-l"])' | grep -q . ||
    fail "no audit line for exec wc -l"
rc=0
out=$(setpriv --reuid=$READER_UID --regid=$READER_UID --groups="$gid" \
    "$SHIPCTL" -s "$IT_SOCK" exec --stack "$IT_STACK" svc -- true 2>&1) || rc=$?
assert_eq "$rc" 125 "reader's exec: exit"
assert_match "$out" "exec changes state: the read-only socket" "reader's exec: message"
audit "select(.event == \"denied\" and .cmd == \"exec\" and
    .uid == $READER_UID and .args.argv == [\"true\"])" | grep -q . ||
    fail "the reader's exec is not in the audit log"
ok "exec is audited with its argv; refused and audited on the read-only socket"

# shipd stops under a running exec: the client is told, exit 125, and
# shipd exits 0 having freed it (ASan's leak check in the SAN build).
x svc -- sh -c 'sleep 30; echo slept-on' >/dev/null 2>"$IT_DIR/stop.err" &
xpid=$!
wait_until 10 sh -c "docker top '$(cid svc 1)' | grep -q 'sleep 30'" ||
    fail "the exec's sleep did not start"
stop_shipd
rc=0
wait "$xpid" || rc=$?
assert_eq "$rc" 125 "exec under a shipd that stops: exit"
assert_match "$(cat "$IT_DIR/stop.err")" "shutting down" "exec under a shipd that stops: message"
ok "shipd stops cleanly under a running exec, whose client is told (exit 125)"
