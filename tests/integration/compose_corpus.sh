#!/bin/bash
# The compose corpus (tests/compose/*/): every project validated offline
# against its expect file (deploys, deploys with exactly these warnings,
# or fails with these errors), then every deployable one deployed to the
# real engine, a few stacks at a time, and checked there: containers,
# networks, volumes, ports, health, files, settings, and the dependency
# order as the engine's own events saw it.  tests/compose/README.md
# describes the expect files.
#
#   ONLY_CASES=GLOB   limit to the cases whose directory matches
#   GROUP=N           stacks deployed at once (default 4)
#   VALIDATE_ONLY=1   stop after the offline part
. "$(dirname "$0")/lib.sh"

CORPUS=$ROOT/tests/compose
GROUP=${GROUP:-4}
ONLY_CASES=${ONLY_CASES:-*}
PREFIX=cm-$$-
EV=$IT_DIR/events
stacks=

# Stack name of a case: the prefix and its number.
stack_of() {
	echo "$PREFIX${1%%-*}"
}

# Every container, network, volume and built image of our stacks, on any
# exit.
corpus_cleanup() {
	local s
	for s in $stacks; do
		it_remove_labelled "io.shipd.stack=$s"
	done
	[ -z "${evpid:-}" ] || kill "$evpid" 2>/dev/null
}
it_at_exit corpus_cleanup

field() {	# KEY FILE: the rest of the first line "KEY ..."
	sed -n "s/^$1 //p" "$2" | head -1
}

# ---- offline: validate ------------------------------------------------

# validate CASE-DIR: the outcome and the messages its expect file lists.
validate_case() {
	local d=$1 name out rc args outcome want got line loc text n
	name=$(basename "$d")
	args=$(field args "$d/expect")
	outcome=$(field outcome "$d/expect")
	rc=0
	# shellcheck disable=SC2086 # args are words
	out=$(cd "$d" && "$SHIPCTL" validate $args . 2>&1) || rc=$?
	# messages name files under the project directory: make them relative
	out=$(printf '%s\n' "$out" | sed "s|$d/||g")
	case $outcome in
	deploys)
		[ "$rc" = 0 ] || fail "$name: validate exited $rc: $out"
		! printf '%s\n' "$out" | grep -q '(warning)$' ||
		    fail "$name: unexpected warnings: $out" ;;
	warns)
		[ "$rc" = 0 ] || fail "$name: validate exited $rc: $out" ;;
	fails)
		[ "$rc" = 2 ] || fail "$name: validate exited $rc, want 2: $out" ;;
	*)	fail "$name: expect has no outcome" ;;
	esac
	for kind in warn error; do
		while read -r loc text; do
			if [[ $loc == *:*:* ]]; then
				line=$(printf '%s\n' "$out" | grep -F -- "$loc: " |
				    grep -F -- "$text" | head -1)
			else
				line=$(printf '%s\n' "$out" | grep -F -- "$loc $text" |
				    head -1)
			fi
			[ -n "$line" ] ||
			    fail "$name: no $kind '$loc $text' in: $out"
			case $kind in
			warn) [[ $line == *"(warning)" ]] ||
			    fail "$name: '$line' is not a warning" ;;
			error) [[ $line != *"(warning)" ]] ||
			    fail "$name: '$line' is a warning, not an error" ;;
			esac
		done < <(sed -n "s/^$kind //p" "$d/expect")
	done
	want=$(grep -c '^warn ' "$d/expect" || true)
	got=$(printf '%s\n' "$out" | grep -c '(warning)$' || true)
	[ "$want" = "$got" ] || fail "$name: $got warnings, want $want: $out"
	n=$(field stackname "$d/expect")
	[ -z "$n" ] || assert_match "$out" "^stack $n:" "$name: stack name"
}

ncases=0
for d in "$CORPUS"/*/; do
	d=${d%/}
	# shellcheck disable=SC2254
	case $(basename "$d") in $ONLY_CASES) ;; *) continue ;; esac
	validate_case "$d"
	ncases=$((ncases + 1))
done
ok "$ncases compose projects validated as their expect files say"
[ "$ncases" -ge 40 ] || [ "$ONLY_CASES" != '*' ] ||
    fail "the corpus has $ncases projects, fewer than 40"

[ "${VALIDATE_ONLY:-0}" = 0 ] || exit 0

# ---- against the engine -----------------------------------------------

containers() {	# STACK SERVICE [docker ps args]: IDs
	local st=$1 svc=$2
	shift 2
	docker ps -q --no-trunc --filter "label=io.shipd.stack=$st" \
	    --filter "label=io.shipd.service=$svc" "$@"
}

all_healthy() {	# STACK SERVICE
	local c n=0
	for c in $(containers "$1" "$2"); do
		[ "$(docker inspect -f '{{.State.Health.Status}}' "$c")" = healthy ] ||
		    return 1
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

ev_first() {	# REGEX: the first matching event's time
	grep -E "^[0-9]+ $1$" "$EV" | head -1 | cut -d' ' -f1
}

# Events: "TIME ACTION STACK SERVICE EXITCODE"; an action may hold spaces
# ("health_status: healthy"), so the stack and service are matched last.
started() { ev_first "start $1 $2 *"; }
healthy() { ev_first "(exec_die $1 $2 0|health_status: healthy $1 $2 *)"; }
completed() { ev_first "die $1 $2 0"; }

before() {	# T1 T2 WHAT
	if [ -z "$1" ] || [ -z "$2" ]; then
		cat "$EV" >&2
		fail "$3: no event"
	fi
	[ "$1" -le "$2" ] || fail "$3 ($1 > $2)"
}

check_line() {	# NAME STACK DIR KEY ARGS...
	local name=$1 st=$2 d=$3 key=$4 c v
	shift 4
	case $key in
	running)
		v=$(containers "$st" "$1" --filter status=running | wc -l)
		assert_eq "$v" "$2" "$name: running $1" ;;
	exited)
		wait_until 20 sh -c "docker ps -q --filter label=io.shipd.stack=$st \
		    --filter label=io.shipd.service=$1 --filter status=exited |
		    grep -q ." || fail "$name: $1 did not exit"
		c=$(containers "$st" "$1" -a --filter status=exited | head -1)
		assert_eq "$(docker inspect -f '{{.State.ExitCode}}' "$c")" "$2" \
		    "$name: exit code of $1" ;;
	healthy)
		wait_until 60 all_healthy "$st" "$1" ||
		    fail "$name: $1 not healthy" ;;
	port)
		wait_until 20 curl -fsS -o /dev/null "http://127.0.0.1:$1/" ||
		    fail "$name: nothing answers on port $1" ;;
	published)
		c=$(containers "$st" "$1" | head -1)
		assert_match "$(docker port "$c" "$2")" ":$3\$" \
		    "$name: $1 publishes $2" ;;
	volume)
		docker volume inspect "${st}_$1" >/dev/null 2>&1 ||
		    fail "$name: no volume ${st}_$1" ;;
	network)
		docker network inspect "${st}_$1" >/dev/null 2>&1 ||
		    fail "$name: no network ${st}_$1" ;;
	netof)
		c=$(containers "$st" "$1" | head -1)
		assert_match "$(docker inspect -f \
		    '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$c")" \
		    "(^| )${st}_$2( |\$)" "$name: networks of $1" ;;
	env)
		c=$(containers "$st" "$1" | head -1)
		docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$c" |
		    grep -qxF -- "$2" || fail "$name: $1 has no $2 in its environment" ;;
	file)
		c=$(containers "$st" "$1" | head -1)
		docker exec "$c" test -f "$2" ||
		    fail "$name: $1 has no file $2" ;;
	memory)
		c=$(containers "$st" "$1" | head -1)
		assert_eq "$(docker inspect -f '{{.HostConfig.Memory}}' "$c")" "$2" \
		    "$name: memory of $1" ;;
	cpus)
		c=$(containers "$st" "$1" | head -1)
		assert_eq "$(docker inspect -f '{{.HostConfig.NanoCpus}}' "$c")" "$2" \
		    "$name: cpus of $1" ;;
	restart)
		c=$(containers "$st" "$1" -a | head -1)
		v=$(docker inspect -f '{{.HostConfig.RestartPolicy.Name}}' "$c")
		# the engine reports "no" as ""
		assert_eq "${v:-no} $(docker inspect -f \
		    '{{.HostConfig.RestartPolicy.MaximumRetryCount}}' "$c")" \
		    "$2 $3" "$name: restart policy of $1" ;;
	argv)	# SERVICE ENTRYPOINT-JSON CMD-JSON, as written (RAW)
		c=$(containers "$st" "$1" | head -1)
		assert_eq "$(docker inspect -f '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' \
		    "$c")" "${RAW#* }" "$name: entrypoint and command of $1" ;;
	inspect)	# SERVICE TEMPLATE... VALUE
		c=$(containers "$st" "$1" | head -1)
		v=${RAW#* }
		assert_eq "$(docker inspect -f "{{${v% *}}}" "$c")" "${v##* }" \
		    "$name: ${v% *} of $1" ;;
	order)
		wait_until 10 test -n "$(started "$st" "$2")" || true
		before "$(started "$st" "$1")" "$(started "$st" "$2")" \
		    "$name: $2 started before $1" ;;
	order-healthy)
		wait_until 10 test -n "$(started "$st" "$2")" || true
		before "$(healthy "$st" "$1")" "$(started "$st" "$2")" \
		    "$name: $2 started before $1 was healthy" ;;
	order-completed)
		wait_until 10 test -n "$(started "$st" "$2")" || true
		before "$(completed "$st" "$1")" "$(started "$st" "$2")" \
		    "$name: $2 started before $1 completed" ;;
	outcome|args|warn|error|stackname) ;;
	*)	fail "$name: unknown check '$key'" ;;
	esac
}

deployable=()
for d in "$CORPUS"/*/; do
	d=${d%/}
	# shellcheck disable=SC2254
	case $(basename "$d") in $ONLY_CASES) ;; *) continue ;; esac
	case $(field outcome "$d/expect") in
	deploys|warns) deployable+=("$d") ;;
	esac
done

start_shipd
docker events --filter type=container --format \
    '{{.TimeNano}} {{.Action}} {{index .Actor.Attributes "io.shipd.stack"}} {{index .Actor.Attributes "io.shipd.service"}} {{index .Actor.Attributes "exitCode"}}' \
    > "$EV" &
evpid=$!
# the recorder is live once it has seen something of ours
probe=$(docker create --label "$IT_LABEL" "$IMAGE1")
docker rm "$probe" >/dev/null
wait_until 10 grep -q " destroy " "$EV" || fail "docker events records nothing"

deploy_one() {	# DIR: deploys into $IT_DIR/NAME.out, exit status in .rc
	local d=$1 name st args rc=0
	name=$(basename "$d")
	st=$(stack_of "$name")
	args=$(field args "$d/expect")
	# shellcheck disable=SC2086
	(cd "$d" && "$SHIPCTL" -s "$IT_SOCK" deploy --no-backup $args \
	    -p "$st" .) \
	    > "$IT_DIR/$name.out" 2>&1 || rc=$?
	echo "$rc" > "$IT_DIR/$name.rc"
}

i=0
ndeployed=0
while [ "$i" -lt "${#deployable[@]}" ]; do
	group=("${deployable[@]:i:GROUP}")
	i=$((i + GROUP))
	t0=$(now_ms)
	pids=
	for d in "${group[@]}"; do
		stacks="$stacks $(stack_of "$(basename "$d")")"
		deploy_one "$d" &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids
	for d in "${group[@]}"; do
		name=$(basename "$d")
		st=$(stack_of "$name")
		[ "$(cat "$IT_DIR/$name.rc")" = 0 ] || {
			cat "$IT_DIR/$name.out" >&2
			fail "$name: deploy failed"
		}
		while read -r key rest; do
			[ -n "$key" ] || continue
			RAW=$rest
			set -f
			# shellcheck disable=SC2086 # the check's words
			check_line "$name" "$st" "$d" "$key" $rest
			set +f
		done < "$d/expect"
		ndeployed=$((ndeployed + 1))
	done
	for d in "${group[@]}"; do
		sctl down --stack "$(stack_of "$(basename "$d")")" --volumes \
		    >/dev/null || fail "$(basename "$d"): down failed"
	done
	ok "deployed, checked, removed in $(( ($(now_ms) - t0) / 1000 )) s: $(
	    for d in "${group[@]}"; do basename "$d"; done | tr '\n' ' ')"
done
ok "$ndeployed compose projects deployed and checked against the engine"
