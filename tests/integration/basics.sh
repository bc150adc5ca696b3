#!/bin/bash
# Foundation: version and API negotiation through a running shipd,
# validate (good and bad unit directories), status by label, 10,000
# malformed requests with flat memory, and an orderly SIGTERM.
. "$(dirname "$0")/lib.sh"

start_shipd
out=$(sctl version)
echo "$out" | grep -q 'negotiated 1.41' || fail "version: $out"
ok "version shows the negotiated API (1.41)"

out=$("$SHIPCTL" validate "$ROOT/units") || fail "validate units/: $out"
echo "$out" | grep -q 'start order' || fail "validate printed: $out"
ok "validate units/ prints the start order"

# One bad directory per error kind: each must name file:line:col.
bad=$IT_DIR/bad
check_bad() {	# expected-pattern
	local out rc=0
	out=$("$SHIPCTL" validate "$bad" 2>&1) || rc=$?
	[ "$rc" = 2 ] || fail "validate $bad exited $rc, not 2: $out"
	echo "$out" | grep -Eq "$1" || fail "validate said: $out (want $1)"
	rm -rf "$bad"
}
mkdir -p "$bad"
printf 'image: x\ndepends_on: {b: started}\n' > "$bad/a.yaml"
printf 'image: x\ndepends_on: {a: healthy}\n' > "$bad/b.yaml"
check_bad 'dependency cycle: a -> b -> a|dependency cycle: b -> a -> b'
mkdir -p "$bad"
printf 'image: x\nimagee: y\n' > "$bad/a.yaml"
check_bad "a.yaml:2:1: .*imagee"
mkdir -p "$bad"
printf 'image: x\nstop_grace: 5x\n' > "$bad/a.yaml"
check_bad "a.yaml:2:13: .*stop_grace"
ok "validate names file:line:col for a cycle, an unknown key, a bad duration"

# Containers created outside shipd but with the stack's labels show up.
for n in 1 2; do
	docker create --network none --name "$IT_STACK-web-$n" --label "io.shipd.stack=$IT_STACK" \
	    --label io.shipd.service=web --label "io.shipd.replica=$n" \
	    "$IMAGE1" >/dev/null
done
docker start "$IT_STACK-web-1" >/dev/null
out=$(sctl status --stack "$IT_STACK")
[ "$(echo "$out" | grep -c " web ")" = 2 ] || fail "status: $out"
echo "$out" | grep -E " web +1 +[^ ]+ +running" >/dev/null || fail "status: $out"
echo "$out" | grep -E " web +2 +[^ ]+ +created" >/dev/null || fail "status: $out"
sctl --json status --stack "$IT_STACK" | grep -q '"replica":2,' ||
    fail "status --json"
ok "status lists the stack's containers by label"

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$SHIPD_PID/status"; }
"$ROOT/build/tests/ctlflood" "$IT_SOCK" 1000 >/dev/null || fail "warm-up flood"
# A leak grows with every flood; the allocator's arenas settle after one
# or two.  So: up to three floods of 10,000, and one must leave RSS flat.
flat=
for round in 1 2 3; do
	before=$(rss)
	out=$("$ROOT/build/tests/ctlflood" "$IT_SOCK" 10000) ||
	    fail "flood: $out"
	# The refused deploys are audited, fsync'd one by one after the
	# replies: RSS counts that backlog until it drains.  The store writes
	# in order, so once a marker's line is in the audit log all are.
	sctl cancel --stack "flood-mark-$round" >/dev/null 2>&1 || true
	wait_until 120 grep -q "flood-mark-$round" "$IT_STATE/audit.log" ||
	    fail "flood $round: the audit log did not catch up"
	after=$(rss)
	echo "  flood $round: $out; VmRSS ${before} kB -> ${after} kB"
	if [ $((after - before)) -lt 1024 ]; then
		flat=1
		break
	fi
done
[ -n "$flat" ] || fail "RSS grew by 1 MiB or more in each of 3 floods"
ok "10,000 malformed requests: all answered, shipd up, RSS flat"

stop_shipd
[ ! -e "$IT_SOCK" ] || fail "socket left behind after SIGTERM"
ok "SIGTERM: exit 0, socket removed"
