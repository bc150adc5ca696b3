#!/bin/bash
# SIGTERM with operations in flight (issue 8, item 3).  Against the real
# engine: a deploy waiting in its health gate and a backup waiting on its
# pre hook.  Against a stalled engine (tests/tools/stallengine.c holds every
# call but /_ping and /version): a plan, a deploy and a status, each
# waiting on the engine.  Each case runs the ASan+UBSan shipd and the plain
# one under valgrind; each must exit 0 with a clean report, remove its
# socket, and answer every client "shutting down" (or close on it) rather
# than leave it hanging.
. "$(dirname "$0")/lib.sh"

SAN_SHIPD=$ROOT/build-san/shipd
STALL=$ROOT/build/tests/stallengine
[ -x "$SAN_SHIPD" ] || fail "no $SAN_SHIPD (make SAN=1 all)"
[ -x "$STALL" ] || fail "no $STALL (make tests)"
command -v valgrind >/dev/null || fail "valgrind is not in PATH (make deps)"

# Every stack the test makes: the cleanup removes what carries their
# labels, then lib.sh's cleanup does the same for $IT_STACK.
STACKS=
STALL_PID=
CLIENTS=()

# remove_stack NAME: its containers, networks and volumes, by label.
remove_stack() {
	docker ps -aq --filter "label=io.shipd.stack=$1" |
	    xargs -r docker rm -f -v >/dev/null 2>&1 || true
	docker network ls -q --filter "label=io.shipd.stack=$1" |
	    xargs -r docker network rm >/dev/null 2>&1 || true
	docker volume ls -q --filter "label=io.shipd.stack=$1" |
	    xargs -r docker volume rm -f >/dev/null 2>&1 || true
}

inflight_cleanup() {
	local rc=$? s

	set +e
	if [ -n "$SHIPD_PID" ]; then
		kill -TERM "$SHIPD_PID" 2>/dev/null
		reap_shipd 20
	fi
	for s in $STACKS; do
		remove_stack "$s"
	done
	if [ -n "$STALL_PID" ]; then
		kill -TERM "$STALL_PID" 2>/dev/null
		wait "$STALL_PID" 2>/dev/null
	fi
	# it_cleanup takes the test's status from $?.
	(exit "$rc")
	it_cleanup
}
trap inflight_cleanup EXIT

# new_stack NAME: stack NAME, for the cleanup, and its unit directory
# $IT_DIR/units-NAME.  Not in a subshell: STACKS must keep the name.
new_stack() {
	STACKS="$STACKS $1"
	mkdir -p "$IT_DIR/units-$1"
	printf 'name: %s\n' "$1" > "$IT_DIR/units-$1/stack.yaml"
}

# launch RUN BUILD ENGINE: shipd of BUILD (asan or valgrind) on ENGINE,
# with a socket, state dir and log (its stderr) of RUN's own; returns once
# it has reached the engine.
launch() {
	IT_SOCK=$IT_DIR/$1.sock
	IT_STATE=$IT_DIR/$1.state
	IT_LOG=$IT_DIR/$1.log
	IT_ENGINE=$3
	case $2 in
	asan)
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		    "$SAN_SHIPD" -f -d -s "$IT_SOCK" --state-dir "$IT_STATE" \
		    --engine "$IT_ENGINE" >"$IT_LOG" 2>&1 &
		;;
	valgrind)
		valgrind --leak-check=full \
		    --errors-for-leak-kinds=definite,indirect \
		    --error-exitcode=99 \
		    "$SHIPD" -f -d -s "$IT_SOCK" --state-dir "$IT_STATE" \
		    --engine "$IT_ENGINE" >"$IT_LOG" 2>&1 &
		;;
	esac
	SHIPD_PID=$!
	# valgrind on two shared cores takes seconds to start
	wait_until 30 sh -c "'$SHIPCTL' -s '$IT_SOCK' version | grep -q API" ||
	    fail "$1: shipd did not reach the engine within 30 s"
}

# client NAME SHIPCTL-ARGS...: shipctl in the background, its output in
# $IT_DIR/NAME.out.
client() {
	local name=$1

	shift
	"$SHIPCTL" -s "$IT_SOCK" "$@" >"$IT_DIR/$name.out" 2>&1 &
	CLIENTS+=("$name:$!")
}

pid_gone() {	# a zombie counts as gone
	! kill -0 "$1" 2>/dev/null ||
	    grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null
}

# The sanitizers' and valgrind's own words for a problem.
report_clean() {	# log build
	! grep -Eq 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:|SUMMARY: [A-Za-z]+Sanitizer|Sanitizer has encountered' "$1" ||
	    return 1
	[ "$2" != valgrind ] || grep -Eq '== ERROR SUMMARY: 0 errors' "$1"
}

# sigterm RUN BUILD: SIGTERM shipd while every client still waits; shipd
# must exit 0 within 20 s with a clean report and its socket gone, and each
# client must end within 5 s after, failed with "shutting down" or a lost
# connection.
sigterm() {
	local run=$1 build=$2 t0 took rc=0 c name pid crc out

	for c in "${CLIENTS[@]}"; do
		pid_gone "${c##*:}" && fail "$run: shipctl ${c%%:*} ended" \
		    "before the SIGTERM: $(cat "$IT_DIR/${c%%:*}.out")"
	done
	t0=$(now_ms)
	kill -TERM "$SHIPD_PID"
	reap_shipd 20 || rc=$?
	took=$(($(now_ms) - t0))
	if [ "$rc" != 0 ] || ! report_clean "$IT_LOG" "$build"; then
		echo "--- $run: shipd's stderr" >&2
		cat "$IT_LOG" >&2
		[ "$rc" != 137 ] ||
		    fail "$run: shipd did not exit within 20 s of SIGTERM"
		[ "$rc" = 0 ] || fail "$run: shipd exited $rc on SIGTERM"
		fail "$run: $build reported a problem (above)"
	fi
	[ ! -e "$IT_SOCK" ] || fail "$run: socket left behind"
	for c in "${CLIENTS[@]}"; do
		name=${c%%:*}
		pid=${c##*:}
		wait_until 5 pid_gone "$pid" || {
			kill -KILL "$pid" 2>/dev/null
			fail "$run: shipctl $name still waits 5 s after shipd exited"
		}
		crc=0
		wait "$pid" || crc=$?
		out=$(cat "$IT_DIR/$name.out")
		[ "$crc" != 0 ] || fail "$run: shipctl $name exited 0: $out"
		assert_match "$out" 'shutting[ _]down|connection to shipd at .* lost' \
		    "$run: what shipctl $name got"
	done
	ok "$run: SIGTERM: exit 0 in $took ms, $build clean, socket removed," \
	    "${#CLIENTS[@]} clients told they ended"
	CLIENTS=()
}

# ---- real engine: a deploy in its gate, a backup in its pre hook --------

real_engine() {		# build
	local run=real-$1 bk gate out

	new_stack "$IT_STACK-bk-$1"
	bk=$IT_DIR/units-$IT_STACK-bk-$1
	cat > "$bk/db.yaml" <<EOF
image: $IMAGE1
init: true
backup:
  paths: ["/tmp"]
  pre: ["sh", "-c", "touch /tmp/pre-running; exec sleep 600"]
EOF
	new_stack "$IT_STACK-gate-$1"
	gate=$IT_DIR/units-$IT_STACK-gate-$1
	cat > "$gate/slow.yaml" <<EOF
image: $IMAGE1
init: true
environment: {SVC_NEVER_HEALTHY: "1"}
health: {test: [CMD, /bin/svc-check], interval: 1s}
update: {healthy_deadline: 10m}
EOF
	launch "$run" "$1" "$IT_ENGINE_REAL"
	out=$(sctl deploy "$bk" 2>&1) || fail "$run: deploy of the backup stack: $out"

	client "$run-deploy" --json deploy "$gate"
	# the gate follows the start
	wait_until 30 grep -q '"step":"started"' "$IT_DIR/$run-deploy.out" ||
	    fail "$run: the deploy did not reach its gate: $(cat "$IT_DIR/$run-deploy.out")"
	client "$run-backup" --json backup --stack "$IT_STACK-bk-$1"
	wait_until 30 docker exec "$IT_STACK-bk-$1-db-1" test -e /tmp/pre-running ||
	    fail "$run: the backup's pre hook did not start: $(cat "$IT_DIR/$run-backup.out")"
	grep -q '"hook"' "$IT_DIR/$run-backup.out" &&
	    fail "$run: the pre hook ended: $(cat "$IT_DIR/$run-backup.out")"
	ok "$run: deploy in its gate, backup in its pre hook"
	sigterm "$run" "$1"
	# the next run's shipd need not share the engine with these
	remove_stack "$IT_STACK-bk-$1"
	remove_stack "$IT_STACK-gate-$1"
}

# ---- stalled engine: a plan, a deploy and a status waiting on it --------

# The engine saw the stack's container listing, the first call of each.
engine_saw() {		# stack
	grep -q "containers/json.*io.shipd.stack%3D$1%22" "$IT_DIR/stall.out"
}

stalled_engine() {	# build
	local run=stall-$1 plan dep st

	new_stack "$IT_STACK-plan-$1"
	new_stack "$IT_STACK-deploy-$1"
	plan=$IT_DIR/units-$IT_STACK-plan-$1
	dep=$IT_DIR/units-$IT_STACK-deploy-$1
	st=$IT_STACK-status-$1
	STACKS="$STACKS $st"
	printf 'image: %s\n' "$IMAGE1" > "$plan/web.yaml"
	printf 'image: %s\n' "$IMAGE1" > "$dep/web.yaml"
	launch "$run" "$1" "$STALL_SOCK"
	client "$run-plan" plan "$plan"
	client "$run-deploy" --json deploy "$dep"
	client "$run-status" status --stack "$st"
	wait_until 20 engine_saw "$IT_STACK-plan-$1" ||
	    fail "$run: the plan never reached the engine"
	wait_until 20 engine_saw "$IT_STACK-deploy-$1" ||
	    fail "$run: the deploy never reached the engine"
	wait_until 20 engine_saw "$st" ||
	    fail "$run: the status never reached the engine"
	ok "$run: plan, deploy and status each wait on the engine"
	sigterm "$run" "$1"
}

IT_ENGINE_REAL=$IT_ENGINE
"$STALL" >"$IT_DIR/stall.out" 2>&1 &
STALL_PID=$!
wait_until 5 grep -q '^listening ' "$IT_DIR/stall.out" ||
    fail "stallengine did not start: $(cat "$IT_DIR/stall.out")"
STALL_SOCK=$(sed -n 's/^listening //p' "$IT_DIR/stall.out")

for build in asan valgrind; do
	stalled_engine "$build"
	real_engine "$build"
done
