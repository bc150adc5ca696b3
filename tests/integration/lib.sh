# Sourced by every integration test (bash): a private shipd on its own
# socket and state dir against the real engine, a stack name unique to the
# test, and a cleanup that removes exactly what carries that stack's label.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHIPD=${SHIPD:-$ROOT/build/shipd}
SHIPCTL=${SHIPCTL:-$ROOT/build/shipctl}
IT_ENGINE=${SHIPD_ENGINE:-/var/run/docker.sock}
# shellcheck disable=SC2034 # for the tests that source this
IMAGE1=shipd-test/svc:1
# shellcheck disable=SC2034
IMAGE2=shipd-test/svc:2
IT_NAME=$(basename "$0" .sh)
IT_DIR=$(mktemp -d "/tmp/shipd-it-$IT_NAME-XXXXXX")
# Stack names are [a-z0-9][a-z0-9_-]*, at most 63 characters.
IT_STACK=$(printf 'shipd-it-%s-%s' "$$" "$IT_NAME" |
    tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9_\n-' '-' | cut -c1-63)
IT_LABEL=io.shipd.stack=$IT_STACK
IT_SOCK=$IT_DIR/shipd.sock
IT_STATE=$IT_DIR/state
IT_UNITS=$IT_DIR/units
IT_LOG=$IT_DIR/shipd.log
SHIPD_PID=
mkdir -p "$IT_UNITS"

# ---- assertions -----------------------------------------------------------

fail() {
	echo "FAIL: $IT_NAME: $*" >&2
	exit 1
}

ok() {
	echo "  ok: $*"
}

assert_eq() {		# got want what
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

assert_match() {	# text extended-regex what
	printf '%s\n' "$1" | grep -Eq -- "$2" ||
	    fail "$3: '$1' does not match /$2/"
}

assert_lt() {		# a b what (integers)
	[ "$1" -lt "$2" ] || fail "$3: $1 is not below $2"
}

assert_ge() {		# a b what (integers)
	[ "$1" -ge "$2" ] || fail "$3: $1 is below $2"
}

# ---- time -----------------------------------------------------------------

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# wait_until SECONDS COMMAND...: poll until COMMAND succeeds; 1 when the
# deadline (which may be fractional) passes first.
wait_until() {
	local deadline
	deadline=$(($(now_ms) + $(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }')))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# ---- host ports -----------------------------------------------------------

# port_listened PORT: something listens on TCP PORT (v4 or v6).
port_listened() {
	awk -v p="$(printf ':%04X' "$1")" \
	    '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
	    END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# it_port VAR: a host TCP port for the test to publish or listen on, into
# VAR.  Nothing listens on it, and it is the test's until it ends: a lock
# on a file of IT_PORTS that this shell (and what it starts) holds open,
# so that tests running side by side (scripts/run-tests.sh) never take
# the same one, and one that dies lets go.  From 20000-27999: below the
# ephemeral range (32768-60999, where the engine picks random host ports)
# and apart from 28000-28999, the compose corpus's fixed ports.
IT_PORTS=${IT_PORTS:-/tmp/shipd-it-ports}
it_port() {
	local p n fd

	mkdir -p "$IT_PORTS"
	p=$((($$ * 7 + RANDOM) % 8000))
	for ((n = 0; n < 8000; n++, p = (p + 1) % 8000)); do
		exec {fd}>>"$IT_PORTS/$((20000 + p))"
		if flock -n "$fd" && ! port_listened $((20000 + p)); then
			printf -v "$1" %d $((20000 + p))
			return 0
		fi
		exec {fd}>&-
	done
	fail "no free host port in 20000-27999"
}

# ---- shipd ----------------------------------------------------------------

sctl() {
	"$SHIPCTL" -s "$IT_SOCK" "$@"
}

# start_shipd [EXTRA-ARGS...]: shipd in the foreground in the background,
# debug log in $IT_LOG; returns once it answers and has reached the engine.
# An empty configuration unless the test passes its own -c: the host's
# /etc/shipd/shipd.yaml (a policy, say) is no part of any test.
start_shipd() {
	: > "$IT_DIR/shipd.yaml"
	"$SHIPD" -f -d -c "$IT_DIR/shipd.yaml" -s "$IT_SOCK" \
	    --state-dir "$IT_STATE" --engine "$IT_ENGINE" "$@" \
	    >>"$IT_LOG" 2>&1 &
	SHIPD_PID=$!
	wait_until 10 sctl version ||
	    fail "shipd did not answer on $IT_SOCK within 10 s"
	wait_until 10 sh -c "'$SHIPCTL' -s '$IT_SOCK' version | grep -q API" ||
	    fail "shipd did not reach the engine within 10 s"
}

shipd_gone() {
	! kill -0 "$SHIPD_PID" 2>/dev/null ||
	    grep -q '^[0-9]* ([^)]*) Z' "/proc/$SHIPD_PID/stat" 2>/dev/null
}

# Wait for shipd with a deadline: its exit status, or 137 when it had to
# be killed.
reap_shipd() {		# seconds
	local rc=0

	if ! wait_until "$1" shipd_gone; then
		kill -KILL "$SHIPD_PID" 2>/dev/null || true
		wait "$SHIPD_PID" 2>/dev/null || true
		SHIPD_PID=
		return 137
	fi
	wait "$SHIPD_PID" || rc=$?
	SHIPD_PID=
	return "$rc"
}

# SIGTERM, and shipd must exit 0 within 20 s having closed everything.
stop_shipd() {
	local rc=0

	[ -n "$SHIPD_PID" ] || return 0
	kill -TERM "$SHIPD_PID"
	reap_shipd 20 || rc=$?
	[ "$rc" != 137 ] || fail "shipd did not exit within 20 s of SIGTERM"
	[ "$rc" = 0 ] || fail "shipd exited $rc on SIGTERM"
}

kill9_shipd() {
	[ -n "$SHIPD_PID" ] || return 0
	kill -KILL "$SHIPD_PID"
	reap_shipd 10 || true
}

# ---- the test's stack -----------------------------------------------------

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
	docker ps -aq --no-trunc --filter "label=$IT_LABEL" \
	    --filter "name=^/$IT_STACK-$1-${2:-1}\$"
}

count_containers() {
	docker ps -aq --filter "label=$IT_LABEL" "$@" | wc -l
}

# it_run NAME DOCKER-RUN-ARGS...: a detached container outside shipd that
# the cleanup still finds by the stack label; prints its ID.
it_run() {
	local n=$1

	shift
	docker run -d --label "$IT_LABEL" --name "$IT_STACK-$n" "$@"
}

# Every container, network and volume labelled with this test's stack, and
# nothing else (-v takes only the containers' anonymous volumes along).
# IT_KEEP=1 keeps $IT_DIR (outputs, state, shipd's log) for a look after.
# it_remove_labelled LABEL: every container, network, volume and image
# (build: labels images with the stack) carrying LABEL (k=v), and nothing
# else.
it_remove_labelled() {
	docker ps -aq --filter "label=$1" 2>/dev/null |
	    xargs -r docker rm -f -v >/dev/null 2>&1 || true
	docker network ls -q --filter "label=$1" 2>/dev/null |
	    xargs -r docker network rm >/dev/null 2>&1 || true
	docker volume ls -q --filter "label=$1" 2>/dev/null |
	    xargs -r docker volume rm -f >/dev/null 2>&1 || true
	docker image ls -q --filter "label=$1" 2>/dev/null |
	    sort -u | xargs -r docker rmi -f >/dev/null 2>&1 || true
}

# it_at_exit 'COMMANDS': run COMMANDS (with set +e) when the test ends,
# before the labelled objects are removed.  A test that traps EXIT itself
# must run its commands and then it_cleanup with $? still the test's
# status; it_at_exit keeps that right.
IT_AT_EXIT=
it_at_exit() {
	IT_AT_EXIT="$IT_AT_EXIT
$1"
}

it_cleanup() {
	local rc=$?

	trap - EXIT
	if [ -n "$IT_AT_EXIT" ]; then
		set +e
		eval "$IT_AT_EXIT"
	fi
	if [ -n "$SHIPD_PID" ]; then
		kill -TERM "$SHIPD_PID" 2>/dev/null || true
		reap_shipd 20 || true
	fi
	it_remove_labelled "$IT_LABEL"
	if [ "$rc" != 0 ] && [ -s "$IT_LOG" ]; then
		echo "--- last lines of shipd's log ($IT_NAME)" >&2
		tail -n 40 "$IT_LOG" >&2
	fi
	[ -n "${IT_KEEP:-}" ] || rm -rf "$IT_DIR"
	exit "$rc"
}
trap it_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Cheap when the images are current; tests need them either way.
"$ROOT/tests/images/build.sh" >&2 || fail "cannot build the test images"
