#!/bin/bash
# shipctl export swarm, checked by swarm itself: the demo stack (units/)
# exported, each deploy wave holding what the waves say, the warnings
# naming service and key; then, on a single-node swarm this test starts on
# the engine (skipped, and said so, when the engine is already in a
# swarm), `docker stack deploy` of each wave in turn, each waited for
# until every service has converged and every task is healthy (the
# one-shot completed), and everything removed again: the stack, its
# networks and volume, the swarm (docker_gwbridge too, if the init made
# it).  --resolve-image never: there is no registry, and the image is on
# the one node already; "always" would ask a registry for its digest.
# shipd-test: exclusive (swarm init and leave change the whole engine)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

it_port WEB_PORT
export WEB_PORT
DEMO=$ROOT/units
SW=$IT_STACK
NS=com.docker.stack.namespace=$SW

exp() {		# export swarm ARGS...: stdout in $out, stderr in $err
	local rc=0

	out=$("$SHIPCTL" export swarm "$@" 2>"$IT_DIR/err") || rc=$?
	err=$(cat "$IT_DIR/err")
	[ "$rc" = 0 ] || { echo "$err"; fail "export swarm $*: exit $rc"; }
}

# ---- the file, without swarm ------------------------------------------------
exp "$DEMO"
printf '%s\n' "$err" | grep -q '^shipctl: export: warning: api: health.http: left out' ||
    fail "no warning for api's http check without --probe-tool"
printf '%s\n' "$err" | grep -q '^shipctl: export: warning: web: depends_on: ' ||
    fail "no warning that swarm ignores web's depends_on"
printf '%s\n' "$err" | grep -q '^shipctl: export: warning: db: backup: ' ||
    fail "no warning that db's backup is not exported"
ok "warnings name service and key"

exp --probe-tool wget -o "$IT_DIR/all.yaml" "$DEMO"
[ -z "$out" ] || fail "-o: something on stdout"
grep -q 'test: \[CMD, wget, "-q", "-O", /dev/null, "http://127.0.0.1:8080/health"\]' \
    "$IT_DIR/all.yaml" || fail "api's http check is no wget command check"
grep -q '^#   wave 4: web worker$' "$IT_DIR/all.yaml" ||
    fail "the header does not list wave 4"
nwaves=$(grep -c '^#   wave [0-9]*:' "$IT_DIR/all.yaml")
assert_eq "$nwaves" 4 "waves of the demo stack"
# docker's own loader: the file is a stack file it accepts.
docker stack config -c "$IT_DIR/all.yaml" >"$IT_DIR/config.out" 2>&1 ||
    { cat "$IT_DIR/config.out"; fail "docker stack config refused it"; }
ok "the stack file loads in docker stack config"

for w in 1 2 3 4; do
	exp --probe-tool wget --wave $w "$DEMO"
	printf '%s\n' "$out" >"$IT_DIR/wave-$w.yaml"
done
svcs() {	# FILE: the service names, sorted
	awk '/^services:/ { s = 1; next } /^[^ ]/ { s = 0 }
	    s && /^  [a-z]/ { sub(":", ""); print $1 }' "$1" | sort | tr '\n' ' '
}
assert_eq "$(svcs "$IT_DIR/wave-1.yaml")" "cache db queue " "wave 1"
assert_eq "$(svcs "$IT_DIR/wave-2.yaml")" "migrate " "wave 2"
assert_eq "$(svcs "$IT_DIR/wave-3.yaml")" "api " "wave 3"
assert_eq "$(svcs "$IT_DIR/wave-4.yaml")" "web worker " "wave 4"
assert_eq "$(svcs "$IT_DIR/all.yaml")" \
    "api cache db migrate queue web worker " "without --wave"
rc=0
"$SHIPCTL" export swarm --wave 5 "$DEMO" >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "--wave past the last wave"
ok "each wave holds its own services, the whole file all of them"

# ---- the other keys, loaded by docker's own loader ---------------------------
stack_yaml <<'EOF2'
networks: [back]
volumes: [cache]
EOF2
mkdir -p "$IT_DIR/bind"
unit tcpsvc <<EOF2
image: shipd-test/svc:1
command: ["/bin/svc", "--price", "\$\$5"]
health: {tcp: 9000}
restart: on-failure:3
resources: {cpus: 0.25, memory: 32M}
volumes: ["$IT_DIR/bind:/in:ro", "cache:/cache"]
tmpfs: ["/run:size=1m"]
ulimits: {nofile: "1024:2048", nproc: "64"}
networks: [back]
user: "1000"
working_dir: /srv
autoscale: {max: 3, cpu: 50%}
EOF2
exp --probe-tool nc -o "$IT_DIR/keys.yaml" "$IT_UNITS"
docker stack config -c "$IT_DIR/keys.yaml" >"$IT_DIR/config.out" 2>&1 ||
    { cat "$IT_DIR/keys.yaml" "$IT_DIR/config.out"; fail "docker stack config refused the keys stack"; }
# shellcheck disable=SC2016 # literal $$ in the expected text
for want in 'test: [CMD, nc, "-w", "1", "127.0.0.1", "9000"]' \
    'restart_policy: {condition: on-failure, max_attempts: 3}' \
    'cpus: "0.25"' 'memory: "33554432"' \
    "{type: bind, source: $IT_DIR/bind, target: /in, read_only: true}" \
    '{type: tmpfs, target: /run}' 'nofile: {soft: 1024, hard: 2048}' \
    'networks: [back]' 'back: {driver: overlay}' 'cache: {}' \
    '"$$5"'; do
	grep -qF -- "$want" "$IT_DIR/keys.yaml" ||
	    { cat "$IT_DIR/keys.yaml"; fail "keys stack: no '$want'"; }
done
printf '%s\n' "$err" | grep -q '^shipctl: export: warning: tcpsvc: tmpfs: /run:size=1m' ||
    fail "no warning for the tmpfs options"
printf '%s\n' "$err" | grep -q '^shipctl: export: warning: tcpsvc: autoscale: swarm has no autoscaler' ||
    fail "no warning that swarm does not autoscale"
# The unit's $$5 is a literal $5; docker's loader must end with that too.
# shellcheck disable=SC2016
grep -qx -- ' *- \$5' "$IT_DIR/config.out" ||
    { cat "$IT_DIR/config.out"; fail "docker did not read the literal \$5"; }
ok "the other keys map, and docker's loader takes them"

# ---- every compose project of the corpus that loads -------------------------
n=0
for d in "$ROOT"/tests/compose/*/; do
	"$SHIPCTL" export swarm --probe-tool wget --probe-tool nc "$d" \
	    >"$IT_DIR/c.yaml" 2>/dev/null || continue
	n=$((n + 1))
	docker stack config -c "$IT_DIR/c.yaml" >/dev/null 2>"$IT_DIR/c.err" ||
	    { cat "$IT_DIR/c.err"; fail "$d: docker stack config refused it"; }
done
assert_ge "$n" 30 "compose projects exported"
ok "$n compose projects exported, each loads in docker stack config"

# ---- for real, on a single-node swarm ---------------------------------------
state=$(docker info --format '{{.Swarm.LocalNodeState}}')
if [ "$state" != inactive ]; then
	echo "  skip: the engine is in a swarm already ($state): not deploying" \
	    "to a swarm this test did not start"
	exit 0
fi
gwbridge=$(docker network ls -q --filter name='^docker_gwbridge$')
did_init=

swarm_cleanup() {
	local rc=$?

	trap - EXIT
	if docker stack ls --format '{{.Name}}' 2>/dev/null | grep -qx "$SW"; then
		docker stack rm "$SW" >/dev/null 2>&1 || true
	fi
	wait_until 60 no_stack_left || {
		echo "  stack $SW not gone in 60 s:" >&2
		docker ps -a --filter "label=$NS" >&2
		docker network ls --filter "label=$NS" >&2
	}
	docker ps -aq --filter "label=$NS" | xargs -r docker rm -f -v \
	    >/dev/null 2>&1 || true
	docker volume ls -q --filter "label=$NS" | xargs -r docker volume rm -f \
	    >/dev/null 2>&1 || true
	if [ -n "$did_init" ]; then
		docker swarm leave --force >/dev/null 2>&1 || true
		[ -n "$gwbridge" ] || docker network rm docker_gwbridge \
		    >/dev/null 2>&1 || true
	fi
	(exit "$rc")
	it_cleanup
}

# The one-shot's exited containers outlive its service: only running
# ones count, and the exited ones (this stack's) are removed after.
no_stack_left() {
	[ -z "$(docker ps -q --filter "label=$NS")" ] &&
	    [ -z "$(docker network ls -q --filter "label=$NS")" ]
}

trap swarm_cleanup EXIT
docker swarm init --advertise-addr 127.0.0.1 >"$IT_DIR/init.out" 2>&1 ||
    { cat "$IT_DIR/init.out"; fail "docker swarm init"; }
did_init=1
ok "swarm started on the engine"

# converged N: the stack's services, each at its replica count (the job
# completed), and every running task's container healthy; N services.
converged() {
	local n=0 name mode reps want healthy

	while IFS='|' read -r name mode reps; do
		n=$((n + 1))
		case $mode in
		"replicated job")
			[[ $reps == *"(1/1 completed)"* ]] || return 1 ;;
		*)	want=${reps#*/}
			[ "$reps" = "$want/$want" ] || return 1
			healthy=$(docker ps -q --filter "label=$NS" \
			    --filter "label=com.docker.swarm.service.name=$name" \
			    --filter health=healthy | wc -l)
			[ "$healthy" = "$want" ] || return 1
			[ -z "$(docker ps -q --filter "label=com.docker.swarm.service.name=$name" \
			    --filter health=starting)" ] || return 1 ;;
		esac
	done < <(docker service ls --filter "label=$NS" \
	    --format '{{.Name}}|{{.Mode}}|{{.Replicas}}')
	[ "$n" = "$1" ]
}

n=0
for w in 1 2 3 4; do
	docker stack deploy --resolve-image never -c "$IT_DIR/wave-$w.yaml" \
	    "$SW" >"$IT_DIR/deploy.out" 2>&1 ||
	    { cat "$IT_DIR/deploy.out"; fail "wave $w: docker stack deploy"; }
	n=$((n + $(svcs "$IT_DIR/wave-$w.yaml" | wc -w)))
	wait_until 90 converged "$n" || {
		docker service ls --filter "label=$NS"
		for s in $(docker service ls -q --filter "label=$NS"); do
			docker service ps --no-trunc --format \
			    '{{.Name}} {{.CurrentState}} {{.Error}}' "$s" |
			    head -n 5
		done
		fail "wave $w: not converged and healthy in 90 s"
	}
	ok "wave $w: $n services converged, tasks healthy"
done

# The published port answers on the node, as on shipd's host (mode host).
docker run --rm --network host --entrypoint wget "$IMAGE1" -q -O /dev/null \
    "http://127.0.0.1:$WEB_PORT/health" || fail "web on :$WEB_PORT"
jobs=$(docker ps -aq --filter "label=com.docker.swarm.service.name=$SW"_migrate | wc -l)
assert_eq "$jobs" 1 "migrate's runs (one task, never restarted)"
ok "web answers on the published port $WEB_PORT"

docker stack rm "$SW" >/dev/null
wait_until 60 no_stack_left || {
	docker ps -a --filter "label=$NS"
	docker network ls --filter "label=$NS"
	fail "the stack's tasks and networks not gone in 60 s"
}
ok "stack removed, its networks gone"
