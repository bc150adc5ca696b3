#!/bin/bash
# shipd killed with SIGKILL at each step boundary of a deploy (the moment
# the journal has the step on disk, before it is taken), then started
# again: it must bring the stack to exactly one consistent state: the new
# revision if its commit was recorded, else the previous one, with the
# previous revision's containers (same IDs) running; never duplicate
# replicas, never orphans, never a lost kept container.
. "$(dirname "$0")/lib.sh"

stack_yaml </dev/null
unit db <<EOF
image: $IMAGE1
init: true
health: {test: [CMD, /bin/svc-check]}
EOF
unit api <<EOF
image: $IMAGE1
environment: {MODE: "\${MODE:-one}"}
depends_on: {db: healthy}
replicas: 2
init: true
health: {test: [CMD, /bin/svc-check]}
EOF

status_json() { sctl --json status --stack "$IT_STACK"; }
settled() {	# no lock held, no revision in progress
	status_json | grep -q '"lock":null' &&
	    ! grep -qs in_progress "$IT_STATE"/stacks/"$IT_STACK"/revisions/*.json
}
current() { status_json | sed -n 's/.*"current":\([0-9]*\).*/\1/p'; }
# The newest revision recorded: the next deploy's number is one more (a
# reset to MODE=one that changes nothing records none).
newest() { sctl --json history --stack "$IT_STACK" |
    grep -o '"revision": *[0-9]*' | grep -o '[0-9]*$' | sort -n | tail -1; }
canonical() {	# service -> "name id" lines of the canonical containers
	docker ps -a --no-trunc --filter "label=io.shipd.stack=$IT_STACK" \
	    --format '{{.Names}} {{.ID}} {{.State}}' |
	    grep -E "^$IT_STACK-$1-[0-9]+ " | sort
}
mode_of() { docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$1" |
    sed -n 's/^MODE=//p'; }

check() {	# label want-mode want-current ids-before
	local label=$1 mode=$2 rev=$3 before=$4 n name id state
	wait_until 60 settled || fail "$label: never settled: $(status_json)"
	[ "$(current)" = "$rev" ] || fail "$label: current is $(current), want $rev"
	[ "$(canonical db | wc -l)" = 1 ] || fail "$label: db replicas: $(canonical db)"
	[ "$(canonical api | wc -l)" = 2 ] || fail "$label: api replicas: $(canonical api)"
	for n in 1 2; do
		read -r name id state <<<"$(canonical api | grep -- "-api-$n ")"
		[ "$state" = running ] || fail "$label: api-$n is $state"
		[ "$(mode_of "$id")" = "$mode" ] || fail "$label: api-$n runs MODE=$(mode_of "$id")"
	done
	if [ "$mode" = one ]; then
		[ "$(canonical api | awk '{print $2}')" = "$before" ] ||
		    fail "$label: the previous api containers were not brought back"
	else
		# committed: the previous ones are kept for rollback
		[ "$(docker ps -aq --filter "label=io.shipd.stack=$IT_STACK" \
		    --filter "name=$IT_STACK-api-[12]-r" | wc -l)" = 2 ] ||
		    fail "$label: kept containers lost"
	fi
	# nothing but canonical and kept names exist
	docker ps -a --filter "label=io.shipd.stack=$IT_STACK" --format '{{.Names}}' |
	    grep -Ev "^$IT_STACK-(db|api)-[0-9]+(-r[0-9]+)?$" &&
	    fail "$label: unexpected containers"
	return 0
}

start_shipd
MODE=one sctl deploy "$IT_UNITS" >/dev/null || fail "first deploy"

for at in begin step:leave step:stop step:keep step:create step:start \
    step:gate commit end; do
	stop_shipd
	start_shipd
	MODE=one sctl deploy "$IT_UNITS" >/dev/null || fail "$at: reset to MODE=one"
	base=$(current)
	next=$(($(newest) + 1))
	before=$(canonical api | awk '{print $2}')
	stop_shipd
	SHIPD_TEST_KILL_AT=$at start_shipd
	rc=0
	MODE=two sctl deploy "$IT_UNITS" >/dev/null 2>&1 || rc=$?
	wait_until 10 shipd_gone || fail "$at: shipd did not die at $at (deploy exited $rc)"
	reap_shipd 5 || true
	start_shipd
	case $at in
	commit|end)	check "$at" two "$next" "" ;;
	*)		check "$at" one "$base" "$before" ;;
	esac
	ok "killed at $at: recovered to revision $(current)"
done
