# Sourced by every integration test: a private shipd on its own socket and
# state dir against the real engine, a stack name unique to the test, and
# a cleanup that removes exactly what carries that stack's label.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHIPD=${SHIPD:-$ROOT/build/shipd}
SHIPCTL=${SHIPCTL:-$ROOT/build/shipctl}
IMAGE1=shipd-test/svc:1
IMAGE2=shipd-test/svc:2
IT_NAME=$(basename "$0" .sh)
IT_DIR=$(mktemp -d "/tmp/shipd-it-$IT_NAME-XXXXXX")
IT_STACK=$(printf 'it%s-%s' "$$" "$IT_NAME" | tr '_' '-')
IT_SOCK=$IT_DIR/shipd.sock
IT_STATE=$IT_DIR/state
IT_UNITS=$IT_DIR/units
IT_LOG=$IT_DIR/shipd.log
SHIPD_PID=
mkdir -p "$IT_UNITS"

fail() {
	echo "FAIL: $IT_NAME: $*" >&2
	exit 1
}

ok() {
	echo "  ok: $*"
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# wait_until SECONDS COMMAND...: poll the condition with a deadline.
wait_until() {
	_deadline=$(($(now_ms) + $1 * 1000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt "$_deadline" ] || return 1
		sleep 0.05
	done
}

sctl() {
	"$SHIPCTL" -s "$IT_SOCK" "$@"
}

start_shipd() {
	"$SHIPD" -d -s "$IT_SOCK" --state-dir "$IT_STATE" "$@" >>"$IT_LOG" 2>&1 &
	SHIPD_PID=$!
	wait_until 10 sctl version || fail "shipd did not answer on $IT_SOCK"
	# the engine is connected once version says so
	wait_until 10 sh -c "'$SHIPCTL' -s '$IT_SOCK' version | grep -q 'API'" ||
	    fail "shipd did not reach the engine"
}

# SIGTERM, and shipd must exit 0 having closed everything.
stop_shipd() {
	[ -n "$SHIPD_PID" ] || return 0
	kill -TERM "$SHIPD_PID"
	_rc=0
	wait "$SHIPD_PID" || _rc=$?
	SHIPD_PID=
	[ "$_rc" = 0 ] || fail "shipd exited $_rc on SIGTERM"
}

kill9_shipd() {
	kill -KILL "$SHIPD_PID"
	wait "$SHIPD_PID" 2>/dev/null || true
	SHIPD_PID=
}

# unit NAME <<EOF ... EOF: write a unit file of the test's stack.
unit() {
	cat > "$IT_UNITS/$1.yaml"
}

stack_yaml() {
	printf 'name: %s\n' "$IT_STACK" > "$IT_UNITS/stack.yaml"
	cat >> "$IT_UNITS/stack.yaml"
}

# Container ID of replica N of SERVICE ("" if none).
cid() {
	docker ps -aq --no-trunc --filter "label=io.shipd.stack=$IT_STACK" \
	    --filter "name=^/$IT_STACK-$1-${2:-1}\$"
}

count_containers() {
	docker ps -aq --filter "label=io.shipd.stack=$IT_STACK" "$@" | wc -l
}

it_cleanup() {
	_rc=$?
	if [ -n "$SHIPD_PID" ]; then
		kill -TERM "$SHIPD_PID" 2>/dev/null || true
		wait "$SHIPD_PID" 2>/dev/null || true
	fi
	docker ps -aq --filter "label=io.shipd.stack=$IT_STACK" |
	    xargs -r docker rm -f >/dev/null 2>&1 || true
	docker network ls -q --filter "label=io.shipd.stack=$IT_STACK" |
	    xargs -r docker network rm >/dev/null 2>&1 || true
	docker volume ls -q --filter "label=io.shipd.stack=$IT_STACK" |
	    xargs -r docker volume rm >/dev/null 2>&1 || true
	if [ "$_rc" != 0 ] && [ -f "$IT_LOG" ]; then
		echo "--- last lines of shipd's log ($IT_NAME)" >&2
		tail -n 40 "$IT_LOG" >&2
	fi
	rm -rf "$IT_DIR"
	exit "$_rc"
}
trap it_cleanup EXIT
trap 'exit 130' INT TERM
