#!/bin/bash
# shipd killed with SIGKILL at a random instant of an operation (not only at
# journal boundaries: crash.sh does those), then started again; once its
# recovery has settled the stack must be in one consistent state, which the
# checker derives from shipd's own files and the engine:
#
#   - `current` names a committed revision; no revision is in progress;
#   - the journal is empty;
#   - each service of that revision has exactly its replica count of
#     canonical containers <stack>-<svc>-<n>, all running, whose
#     io.shipd.* labels name the service and replica, a spec hash equal
#     to the hash of the revision's spec, a revision whose spec for the
#     service is the same, and whose image ID is the one the revision
#     recorded;
#   - every other container of the stack is a kept <stack>-<svc>-<n>-r<rev>,
#     stopped, its labels matching its name (no orphans);
#   - every container that existed before the operation still exists (kept
#     containers intact), except the replicas a scale-down removes and
#     what an interrupted deploy had created;
#   - no backup is left .partial;
#   - `shipctl plan` of the revision's units exits 0.
#
# Scenarios: deploy (stop-first recreate), startfirst (start-first update
# to a new image), scale_up (1 to 3), scale_down (3 to 1), rollback (the
# new revision fails its gate and is rolled back), recover (a deploy
# killed at a journal step, then the restarted shipd killed during its
# recovery), backup (stop: true), restore, and restart (shipctl restart
# of db: db, then web, stopped and started in place, no revision; a
# restart killed half way is finished by recovery).
#
# Each scenario is first run once unkilled: that must end consistent too,
# and measures its duration D; each round then kills shipd after a delay
# drawn uniformly in [0, 1.1 D], so the commit and the end of the
# operation (the last tenth) are covered too.  Every round logs the seed
# and the delay; an
# inconsistent round prints what was wrong, the journal as the killed shipd
# left it, and shipd's log.
#
#   ROUNDS=N          kills per scenario (default 2; CRASH_ROUNDS too)
#   SEED=N            seeds the draws (default: from the clock; logged)
#   CRASH_DELAY_MS=N  kill after exactly N ms in every round (replay)
#   CRASH_SCENARIOS="deploy scale_up ..."   run only these (default: all 9)
#   CRASH_LOGDIR=DIR  where an inconsistent round's shipd log is kept
#                     (default /tmp)
#   CRASH_TABLE=1     end with a table: scenario, kills, consistent,
#                     inconsistent (make crash-soak sets it)
#
# Exits 1 if any round (or an unkilled run) ends inconsistent.
. "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-${CRASH_ROUNDS:-2}}
SEED=${SEED:-$(($(date +%s%N) / 1000 % 1000000))}
if [ -z "${CRASH_SCENARIOS:-}" ]; then
	CRASH_SCENARIOS="deploy startfirst scale_up scale_down rollback recover backup restore restart"
fi
RANDOM=$SEED
SDIR=$IT_STATE/stacks/$IT_STACK
echo "crashkill: seed $SEED, $ROUNDS rounds of: $CRASH_SCENARIOS"

# ---- units ----------------------------------------------------------------

# Every variant is in the environment (MODE, VER, BAD), so the checker can
# read it back from the revision and plan the same units again.
# write_units ORDER REPLICAS WITH-BACKUP
# web's healthy_deadline is 6 s: with 3 s, a restart's gate timed out
# under load (health still "starting"), failing an unkilled backup.
write_units() {
	stack_yaml <<EOF
retain: 5
volumes: [data]
EOF
	unit db <<EOF
image: $IMAGE1
volumes: ["data:/data"]
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s}
stop_grace: 2s
EOF
	if [ "$3" = 1 ]; then
		printf 'backup: {paths: ["/data"], stop: true}\n' >> "$IT_UNITS/db.yaml"
	fi
	unit web <<EOF
image: "shipd-test/svc:\${VER:-1}"
environment: {MODE: "\${MODE:-one}", SVC_NEVER_HEALTHY: "\${BAD:-0}"}
depends_on: {db: healthy}
replicas: $2
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s}
update: {order: $1, healthy_deadline: 6s}
stop_grace: 2s
EOF
}

deploy_ok() { sctl deploy "$IT_UNITS" >/dev/null 2>&1 || fail "setup deploy: $(sctl deploy "$IT_UNITS" 2>&1)"; }

# ---- scenarios: NAME_setup (unkilled) and NAME_act (the one killed) -------
# ACT_RC is the exit status the action has when not killed; MAYGO lists
# the container IDs the action may remove.

deploy_setup()		{ write_units stop-first 2 0; MODE=one deploy_ok; }
deploy_act()		{ MODE=two sctl deploy "$IT_UNITS"; }
startfirst_setup()	{ write_units start-first 2 0; deploy_ok; }
startfirst_act()	{ VER=2 sctl deploy "$IT_UNITS"; }
scale_up_setup()	{ write_units stop-first 1 0; deploy_ok; }
scale_up_act()		{ sctl scale --stack "$IT_STACK" web=3; }
scale_down_setup() {
	write_units stop-first 1 0
	deploy_ok
	sctl scale --stack "$IT_STACK" web=3 >/dev/null || fail "setup scale"
	MAYGO="$(cid web 2) $(cid web 3)"
}
scale_down_act()	{ sctl scale --stack "$IT_STACK" web=1; }
rollback_setup()	{ write_units stop-first 2 0; deploy_ok; ACT_RC=1; }
rollback_act()		{ MODE=two BAD=1 sctl deploy "$IT_UNITS"; }
backup_setup() {
	write_units stop-first 2 1
	deploy_ok
	docker exec "$IT_STACK-db-1" sh -c 'echo precious > /data/file' ||
	    fail "writing data"
}
backup_act()		{ sctl backup --stack "$IT_STACK"; }
restore_setup() {
	backup_setup
	sctl backup --stack "$IT_STACK" >/dev/null || fail "setup backup"
	BACKUP_ID=$(sctl --json backups --stack "$IT_STACK" |
	    grep -o '"id":"[^"]*"' | cut -d'"' -f4 | tail -1)
	[ -n "$BACKUP_ID" ] || fail "setup: no backup listed"
}
restore_act()		{ sctl restore --stack "$IT_STACK" "$BACKUP_ID"; }
restart_setup()		{ write_units stop-first 2 0; deploy_ok; }
restart_act()		{ sctl restart --stack "$IT_STACK" db; }

# recover: a deploy killed at a journal step (drawn from the seed), then
# the restarted shipd killed at a random instant of its recovery.
recover_setup() {
	local points=(step:stop step:start step:gate) old id
	deploy_setup
	old=" $(ids_now) "
	KILL_AT=${points[$((RANDOM % 3))]}
	NOTE=", first killed at $KILL_AT"
	stop_shipd
	SHIPD_TEST_KILL_AT=$KILL_AT start_shipd
	MODE=two sctl deploy "$IT_UNITS" >/dev/null 2>&1 || true
	wait_until 10 shipd_gone || fail "recover setup: shipd did not die at $KILL_AT"
	{ reap_shipd 5 || true; } 2>/dev/null
	[ -s "$IT_STATE/journal" ] || fail "recover setup: the journal is empty"
	for id in $(ids_now); do	# what the killed deploy created
		case $old in *" $id "*) ;; *) MAYGO="$MAYGO $id" ;; esac
	done
}
recover_launch() {	# shipd without waiting for it: recovery is the act
	"$SHIPD" -f -d -s "$IT_SOCK" --state-dir "$IT_STATE" \
	    --engine "$IT_ENGINE" >>"$IT_LOG" 2>&1 &
	SHIPD_PID=$!
}
recover_act()		{ wait_until 60 settled; }

# ---- one clean stack per round ----------------------------------------------

reset_world() {
	if [ -n "$SHIPD_PID" ]; then
		kill -KILL "$SHIPD_PID" 2>/dev/null || true
		reap_shipd 10 || true
	fi
	docker ps -aq --filter "label=$IT_LABEL" |
	    xargs -r docker rm -f -v >/dev/null || true
	docker network ls -q --filter "label=$IT_LABEL" |
	    xargs -r docker network rm >/dev/null || true
	docker volume ls -q --filter "label=$IT_LABEL" |
	    xargs -r docker volume rm -f >/dev/null || true
	[ "$(count_containers)" = 0 ] ||
	    fail "containers of the stack left after the reset: $(count_containers)"
	rm -rf "$IT_STATE" "$IT_UNITS"
	mkdir -p "$IT_UNITS"
	: > "$IT_LOG"
	MAYGO=
	ACT_RC=0
	NOTE=
}

# ---- settling and the checker -------------------------------------------

settled() {
	sctl --json status --stack "$IT_STACK" | grep -q '"lock":null' || return 1
	[ ! -s "$IT_STATE/journal" ] || return 1
	! grep -qs '"in_progress"' "$SDIR"/revisions/*.json
}

PROBLEMS=
bad() { PROBLEMS="$PROBLEMS
    - $*"; }

# revjq REV FILTER: jq on a revision document.
revjq() { jq -r "$2" "$SDIR/revisions/$1.json"; }
spec_of() { jq -cS ".specs[\"$2\"]" "$SDIR/revisions/$1.json"; }

# want_replicas REV SERVICE: a count `shipctl scale` recorded (scale.json)
# while the unit's own count is the one it was recorded against, else the
# revision's.
want_replicas() {
	local u sc
	u=$(revjq "$1" ".stack.units[] | select(.name == \"$2\") | .replicas")
	if [ -f "$SDIR/scale.json" ]; then
		sc=$(jq -r ".[\"$2\"] | select(.unit_replicas == $u) | .replicas" \
		    "$SDIR/scale.json")
		[ -z "$sc" ] || { echo "$sc"; return; }
	fi
	revjq "$1" ".replicas[\"$2\"]"
}

# check_state IDS-BEFORE: sets PROBLEMS (empty when consistent).
check_state() {
	local before=$1 n f r svc want image imgid spec hash i id name state
	local cimg csvc crep crev chash seen=" " left kept
	PROBLEMS=
	OUTCOME=
	n=$(cat "$SDIR/current" 2>/dev/null) || { bad "no current revision"; return; }
	[ -f "$SDIR/revisions/$n.json" ] || { bad "current $n has no revision file"; return; }
	r=$(revjq "$n" .result)
	[ "$r" = committed ] || bad "current revision $n is $r"
	for f in "$SDIR"/revisions/*.json; do
		r=$(jq -r .result "$f")
		[ "$r" != in_progress ] || bad "revision $(basename "$f" .json) still in progress"
	done
	[ ! -s "$IT_STATE/journal" ] ||
	    bad "journal not empty: $(tr '\n' '|' < "$IT_STATE/journal")"
	if [ -d "$IT_STATE/backups/$IT_STACK" ]; then
		left=$(find "$IT_STATE/backups/$IT_STACK" -maxdepth 1 -name '*.partial')
		[ -z "$left" ] || bad "backups left partial: $left"
	fi

	# One line per container of the stack, as the engine has it.
	docker ps -aq --no-trunc --filter "label=$IT_LABEL" |
	    xargs -r docker inspect -f '{{.Id}} {{slice .Name 1}} {{.State.Status}} {{.Image}} {{index .Config.Labels "io.shipd.service"}} {{index .Config.Labels "io.shipd.replica"}} {{index .Config.Labels "io.shipd.revision"}} {{index .Config.Labels "io.shipd.spec-hash"}}' \
	    > "$IT_DIR/engine.txt"

	for svc in $(revjq "$n" '.specs | keys[]'); do
		want=$(want_replicas "$n" "$svc")
		OUTCOME="$OUTCOME $svc=$want"
		image=$(revjq "$n" ".specs[\"$svc\"].image")
		imgid=$(revjq "$n" ".images[\"$image\"]")
		spec=$(spec_of "$n" "$svc")
		hash=$(printf '%s' "$spec" | sha256sum | cut -d' ' -f1)
		for i in $(seq 1 "$want"); do
			name=$IT_STACK-$svc-$i
			if ! read -r id _ state cimg csvc crep crev chash \
			    < <(awk -v n="$name" '$2 == n' "$IT_DIR/engine.txt"); then
				bad "$name missing"
				continue
			fi
			seen="$seen$id "
			[ "$state" = running ] || bad "$name is $state"
			[ "$csvc/$crep" = "$svc/$i" ] || bad "$name labelled $csvc/$crep"
			[ "$cimg" = "$imgid" ] || bad "$name runs image $cimg, revision $n has $imgid"
			[ "$chash" = "$hash" ] || bad "$name spec hash ${chash:0:12}, revision $n's is ${hash:0:12}"
			if [ ! -f "$SDIR/revisions/$crev.json" ]; then
				bad "$name labelled revision $crev, which has no file"
			elif [ "$(spec_of "$crev" "$svc")" != "$spec" ]; then
				bad "$name labelled revision $crev, whose $svc spec is not revision $n's"
			fi
		done
	done

	# Everything else must be a stopped kept container of a known service.
	while read -r id name state cimg csvc crep crev chash; do
		case $seen in *" $id "*) continue ;; esac
		kept=$(printf '%s\n' "$name" |
		    sed -n "s/^$IT_STACK-\([a-z0-9_-]*\)-\([0-9]*\)-r\([0-9]*\)\$/\1 \2 \3/p")
		if [ -z "$kept" ]; then
			bad "orphan container $name ($state)"
			continue
		fi
		[ "$kept" = "$csvc $crep $crev" ] ||
		    bad "kept $name labelled $csvc/$crep revision $crev"
		case $state in
		running|restarting) bad "kept $name is $state" ;;
		esac
	done < "$IT_DIR/engine.txt"

	for id in $before; do
		grep -q "^$id " "$IT_DIR/engine.txt" && continue
		case " $MAYGO " in *" $id "*) continue ;; esac
		bad "container ${id:0:12} that existed before is gone"
	done

	# The revision's own units planned again: nothing to change.
	local mode ver badv out rc=0
	mode=$(revjq "$n" '.specs.web.environment.MODE')
	badv=$(revjq "$n" '.specs.web.environment.SVC_NEVER_HEALTHY')
	ver=$(revjq "$n" '.specs.web.image' | sed 's/.*://')
	out=$(MODE=$mode BAD=$badv VER=$ver sctl plan "$IT_UNITS" 2>&1) || rc=$?
	[ "$rc" = 0 ] || bad "plan exits $rc: $(printf '%s' "$out" | tr '\n' '|')"
}

ids_now() {
	docker ps -aq --no-trunc --filter "label=$IT_LABEL" | tr '\n' ' '
}

# ---- rounds ---------------------------------------------------------------

declare -A DUR NKILL NGOOD NBAD
total_bad=0

# after_kill SCENARIO LABEL IDS-BEFORE: restart, settle, check, count.
after_kill() {
	local sc=$1 label=$2 before=$3 journal st
	journal=$(tr '\n' '|' < "$IT_STATE/journal" 2>/dev/null || true)
	start_shipd
	if ! wait_until 60 settled; then
		st=$(sctl --json status --stack "$IT_STACK" 2>&1 | head -c 400)
		check_state "$before"
		PROBLEMS="
    - never settled within 60 s: $st$PROBLEMS"
	else
		check_state "$before"
	fi
	if [ -z "$PROBLEMS" ]; then
		NGOOD[$sc]=$((NGOOD[$sc] + 1))
		ok "$label: consistent at revision $(cat "$SDIR/current"):$OUTCOME"
		return
	fi
	NBAD[$sc]=$((NBAD[$sc] + 1))
	total_bad=$((total_bad + 1))
	echo "INCONSISTENT: $label$PROBLEMS" >&2
	echo "    journal at the kill: ${journal:-(empty)}" >&2
	echo "    revisions: $(for f in "$SDIR"/revisions/*.json; do
	    printf '%s=%s ' "$(basename "$f" .json)" "$(jq -r .result "$f")"; done)" >&2
	echo "    engine:" >&2
	awk '{ printf "      %s %s %.19s rev=%s\n", $2, $3, $4, $7 }' "$IT_DIR/engine.txt" >&2
	echo "    --- shipd's log (killed run and restart):" >&2
	grep -v ': event ' "$IT_LOG" | tail -n 30 | sed 's/^/      /' >&2
	mkdir -p "${CRASH_LOGDIR:-/tmp}"; cp "$IT_LOG" "${CRASH_LOGDIR:-/tmp}/crashkill-$sc-seed$SEED-$(date +%s%N).log" 2>/dev/null || true
}

calibrate() {	# scenario: one unkilled run, its duration in DUR
	local sc=$1 before t0 rc=0
	reset_world
	start_shipd
	"${sc}_setup"
	before=$(ids_now)
	t0=$(now_ms)
	! declare -F "${sc}_launch" >/dev/null || "${sc}_launch"
	"${sc}_act" > "$IT_DIR/act.out" 2>&1 || rc=$?
	DUR[$sc]=$(($(now_ms) - t0))
	[ "$rc" = "$ACT_RC" ] ||
	    fail "$sc unkilled exits $rc, want $ACT_RC: $(cat "$IT_DIR/act.out")"
	wait_until 30 settled || fail "$sc unkilled never settled"
	check_state "$before"
	[ -z "$PROBLEMS" ] || fail "$sc unkilled is inconsistent:$PROBLEMS"
	ok "$sc unkilled: consistent in ${DUR[$sc]} ms$NOTE"
}

# The checker must be able to fail: a stopped replica and a stray
# container of the stack, on a consistent stack, are both reported.
checker_selftest() {
	docker stop -t 1 "$IT_STACK-web-1" >/dev/null || fail "selftest: stop"
	it_run stray "$IMAGE1" >/dev/null || fail "selftest: run"
	check_state "$(ids_now)"
	assert_match "$PROBLEMS" "web-1 is exited" "checker on a stopped replica"
	assert_match "$PROBLEMS" "orphan container $IT_STACK-stray" \
	    "checker on a stray container"
	ok "the checker reports a stopped replica and a stray container"
}

round() {	# scenario round
	local sc=$1 k=$2 before delay r apid label
	reset_world
	start_shipd
	"${sc}_setup"
	before=$(ids_now)
	r=$(((RANDOM << 15) | RANDOM))
	delay=${CRASH_DELAY_MS:-$((DUR[$sc] * 11 * r / 10737418240))}
	label="$sc round $k/$ROUNDS (seed $SEED, kill at $delay ms of ${DUR[$sc]}$NOTE)"
	! declare -F "${sc}_launch" >/dev/null || "${sc}_launch"
	"${sc}_act" > "$IT_DIR/act.out" 2>&1 &
	apid=$!
	sleep "$(awk -v ms="$delay" 'BEGIN { printf "%.3f", ms / 1000 }')"
	kill -KILL "$SHIPD_PID"
	{ reap_shipd 10 || true; } 2>/dev/null
	wait "$apid" 2>/dev/null || true
	NKILL[$sc]=$((NKILL[$sc] + 1))
	after_kill "$sc" "$label" "$before"
}

for sc in $CRASH_SCENARIOS; do
	declare -F "${sc}_act" >/dev/null || fail "no scenario $sc"
	NKILL[$sc]=0 NGOOD[$sc]=0 NBAD[$sc]=0
	calibrate "$sc"
	[ -n "${selftested:-}" ] || { checker_selftest; selftested=1; }
	for k in $(seq 1 "$ROUNDS"); do
		round "$sc" "$k"
	done
done
reset_world

if [ "${CRASH_TABLE:-0}" = 1 ]; then
	printf '\n%-12s %6s %11s %13s\n' scenario kills consistent inconsistent
	for sc in $CRASH_SCENARIOS; do
		printf '%-12s %6d %11d %13d\n' "$sc" "${NKILL[$sc]}" \
		    "${NGOOD[$sc]}" "${NBAD[$sc]}"
	done
	echo "(seed $SEED)"
fi
[ "$total_bad" = 0 ] || fail "$total_bad inconsistent rounds (seed $SEED)"
ok "every kill recovered to one consistent state (seed $SEED)"
