#!/bin/bash
# shipctl export kubernetes (docs/export.md): the manifests of units/ and
# of every deployable compose project of tests/compose/ pass the
# Kubernetes schemas of the pinned kubernetes-models package
# (tests/k8s/, installed by scripts/deps.sh) with zero errors, in one node
# process, strict about unknown members; and the stack of tests/k8s/shop
# (a migration one-shot, a database with a volume and an autoscaled API
# with start-first updates and an http check) becomes a Job, a
# StatefulSet, a Deployment with maxUnavailable 0, an HPA, an httpGet
# readiness probe (and liveness from on_unhealthy) and init containers in
# dependency order.  No daemon, no engine.
. "$(dirname "$0")/lib.sh"
# nothing of the engine is made here: only the scratch directory goes
trap 'rm -rf "$IT_DIR"' EXIT

K8S=$ROOT/tests/k8s
[ -d "$K8S/node_modules/kubernetes-models" ] ||
	fail "tests/k8s/node_modules missing: run scripts/deps.sh"
OUT=$IT_DIR/out
mkdir -p "$OUT"

# ---- every corpus stack, validated ----------------------------------------

"$SHIPCTL" export kubernetes -o "$OUT/units" "$ROOT/units" 2>"$IT_DIR/w" ||
	fail "export of units/: $(cat "$IT_DIR/w")"
n=1
for e in "$ROOT"/tests/compose/*/expect; do
	grep -q '^outcome deploys' "$e" || continue
	d=$(dirname "$e")
	args=$(sed -n 's/^args //p' "$e" | head -1)
	# shellcheck disable=SC2086 # args are words
	(cd "$d" && "$SHIPCTL" export kubernetes $args -o "$OUT/$(basename "$d")" \
	    . 2>"$IT_DIR/w") || fail "export of $(basename "$d"): $(cat "$IT_DIR/w")"
	n=$((n + 1))
done
files=$(find "$OUT" -name '*.yaml' | sort)
assert_eq "$(echo "$files" | wc -l)" "$n" "one manifest file per stack"
# shellcheck disable=SC2086 # one path a line, none with blanks
res=$(node "$K8S/validate.mjs" $files) || fail "schema validation: $res"
ok "$n stacks: $(echo "$res" | tail -1)"

# the validator does catch a wrong type (so the zero above means something)
sed 's/^  replicas: \([0-9]*\)$/  replicas: "\1"/' "$OUT/units/demo.yaml" \
    > "$IT_DIR/bad.yaml"
! node "$K8S/validate.mjs" "$IT_DIR/bad.yaml" >/dev/null ||
	fail "a string replicas count passed validation"
# and a member the schema does not know: strict, as kubectl apply
# --validate=strict (a misspelt key is not silently dropped)
sed 's/^\( *\)imagePullPolicy:/\1imagePullPolice:/' "$OUT/units/demo.yaml" \
    > "$IT_DIR/bad.yaml"
res=$(node "$K8S/validate.mjs" "$IT_DIR/bad.yaml") &&
	fail "an unknown member passed validation"
assert_match "$res" 'Deployment api\): unknown field data/spec/template/spec/containers/0/imagePullPolice' \
    "the unknown member is named"

# ---- what a typical stack becomes -------------------------------------------

# tests/k8s/shop: issue 14's "Done when" stack
SHOP=$K8S/shop
"$SHIPCTL" export kubernetes --namespace shop --service-type NodePort \
    --wait-image example/wait:1 "$SHOP" > "$IT_DIR/m.yaml" \
    2>"$IT_DIR/w" || fail "export: $(cat "$IT_DIR/w")"
node "$K8S/validate.mjs" "$IT_DIR/m.yaml" >/dev/null ||
	fail "invalid: $(node "$K8S/validate.mjs" "$IT_DIR/m.yaml")"
node "$K8S/tojson.mjs" "$IT_DIR/m.yaml" > "$IT_DIR/m.json"
q() {	# KIND NAME JQ: the expression on that object
	jq -c --arg k "$1" --arg n "$2" \
	    "select(.kind == \$k and .metadata.name == \$n) | $3" "$IT_DIR/m.json"
}
assert_eq "$(q Namespace shop .metadata.name)" '"shop"' "namespace"
assert_eq "$(q Job migrate '.spec.template.spec.restartPolicy')" '"Never"' \
    "migrate: a Job that is not restarted"
assert_eq "$(q StatefulSet db '.spec.volumeClaimTemplates[0].metadata.name')" \
    '"pgdata"' "db: a StatefulSet with a claim for pgdata"
assert_eq "$(q StatefulSet db '.spec.template.spec.containers[0].readinessProbe.tcpSocket.port')" \
    5432 "db: a tcpSocket readiness probe"
assert_eq "$(q Deployment api '.spec.strategy.rollingUpdate')" \
    '{"maxSurge":2,"maxUnavailable":0}' "api: start-first, parallelism 2"
assert_eq "$(q Deployment api '[.spec.replicas, .spec.minReadySeconds, .spec.progressDeadlineSeconds]')" \
    '[null,5,120]' "api: the count left to the HPA; monitor, healthy_deadline"
assert_eq "$(q Deployment api '.spec.template.spec.containers[0].readinessProbe.httpGet')" \
    '{"path":"/health","port":80}' "api: an httpGet readiness probe"
assert_eq "$(q Deployment api '.spec.template.spec.containers[0].startupProbe.httpGet.path')" \
    '"/health"' "api: a startup probe from start_period"
# on_unhealthy: restart by default, so a liveness probe from the same check
assert_eq "$(q Deployment api '.spec.template.spec.containers[0] | .livenessProbe == .readinessProbe')" \
    true "api: a liveness probe, the readiness check's"
assert_eq "$(q StatefulSet db '.spec.template.spec.containers[0] | [has("readinessProbe"), has("livenessProbe")]')" \
    '[true,false]' "db: on_unhealthy none, no liveness probe"
assert_eq "$(q Job migrate '.spec.template.spec.containers[0] | [has("readinessProbe"), has("livenessProbe")]')" \
    '[true,false]' "migrate: a one-shot is not restarted when unhealthy"
assert_eq "$(q Deployment api '.spec.template.spec.containers[0].resources | [.requests, .limits]')" \
    '[{"memory":"67108864","cpu":"500m"},{"memory":"67108864","cpu":"500m"}]' \
    "api: requests (what the HPA's utilisation is of) and limits"
# autoscale: an autoscaling/v2 HPA with the same behaviour policies
assert_eq "$(q HorizontalPodAutoscaler api '.spec | [.scaleTargetRef, .minReplicas, .maxReplicas]')" \
    '[{"apiVersion":"apps/v1","kind":"Deployment","name":"api"},3,10]' \
    "api: an HPA of 3 to 10 replicas of its Deployment"
assert_eq "$(q HorizontalPodAutoscaler api '[.spec.metrics[].resource | [.name, .target.type, .target.averageUtilization]]')" \
    '[["cpu","Utilization",70],["memory","Utilization",80]]' "api: cpu and memory targets"
assert_eq "$(q HorizontalPodAutoscaler api '.spec.behavior.scaleUp')" \
    '{"stabilizationWindowSeconds":0,"selectPolicy":"Max","policies":[{"type":"Pods","value":2,"periodSeconds":30},{"type":"Percent","value":100,"periodSeconds":30}]}' \
    "api: scale up by 2 pods or 100% per 30 s, whichever is more"
assert_eq "$(q HorizontalPodAutoscaler api '.spec.behavior.scaleDown')" \
    '{"stabilizationWindowSeconds":120,"selectPolicy":"Max","policies":[{"type":"Percent","value":50,"periodSeconds":60}]}' \
    "api: scale down by 50% per 60 s, stabilised over 2 min"
# without a CPU limit shipd's target is of one CPU: an average value
assert_eq "$(q HorizontalPodAutoscaler worker '[.spec.minReplicas, .spec.metrics[0].resource.target]')" \
    '[1,{"type":"AverageValue","averageValue":"500m"}]' "worker: 50% of one CPU"
grep -q '^shipctl: export: warning: worker: autoscale.cpu: no resources.cpus' "$IT_DIR/w" ||
	fail "no warning for worker's CPU target without a request: $(cat "$IT_DIR/w")"
assert_eq "$(q Deployment web .spec.replicas)" 1 "web: not autoscaled, its replicas"
assert_eq "$(q Deployment api '[.spec.template.spec.initContainers[] | [.name, .image]]')" \
    '[["wait-db","example/wait:1"],["wait-migrate","bitnami/kubectl:1.30"]]' \
    "api: init containers wait for db, then for the migration Job"
assert_match "$(q Deployment api '.spec.template.spec.initContainers[0].command[2]')" \
    'nc -z -w 2 db 5432' "api: waits for db's Service"
assert_eq "$(q Deployment api '.spec.template.spec.serviceAccountName')" \
    '"shipd-wait"' "api: may read Jobs to wait for one"
assert_eq "$(q RoleBinding shipd-wait .roleRef.name)" '"shipd-wait"' "the waiter's RBAC"
assert_eq "$(q Job migrate '.spec.template.spec.initContainers[0].name')" \
    '"wait-db"' "migrate waits for db"
assert_eq "$(q Service web '[.spec.type, .spec.ports[0].port, .spec.ports[0].targetPort]')" \
    '["NodePort",8080,80]' "web: a host port as a NodePort Service"
assert_eq "$(q Service api '.spec.type')" '"ClusterIP"' "api: no host port"
assert_eq "$(q Service migrate .spec.clusterIP)" '"None"' \
    "a service without ports: headless"
# environment goes to a ConfigMap, never into the pod template
assert_eq "$(q ConfigMap db-env .data.PGPASSWORD)" '"hunter2"' "db's ConfigMap"
! grep -q hunter2 <(q StatefulSet db .) || fail "an env value inline in db"
assert_eq "$(q StatefulSet db '.spec.template.spec.containers[0].envFrom[0].configMapRef.name')" \
    '"db-env"' "db reads its ConfigMap"
grep -q '^shipctl: export: warning: api: update.on_failure: rollback' "$IT_DIR/w" ||
	fail "no warning for the stack-wide rollback: $(cat "$IT_DIR/w")"
grep -q '^shipctl: export: warning: web: ports: 8080: outside the NodePort range' \
    "$IT_DIR/w" || fail "no warning for the NodePort range: $(cat "$IT_DIR/w")"
# deterministic: the same stack exports to the same bytes
"$SHIPCTL" export kubernetes --namespace shop --service-type NodePort \
    --wait-image example/wait:1 "$SHOP" 2>/dev/null | cmp -s - "$IT_DIR/m.yaml" ||
	fail "a second export differs"
ok "Job, StatefulSet, Deployment (maxUnavailable 0), HPA, httpGet probe, ordered init containers"

# ---- the command line ---------------------------------------------------------

cp -r "$SHOP"/. "$IT_UNITS"

mkdir -p "$IT_DIR/c"
# shellcheck disable=SC2016 # ${TAG} is for the compose loader
printf 'services:\n  web:\n    image: "nginx:${TAG}"\n' > "$IT_DIR/c/compose.yaml"
printf 'TAG=1.25\n' > "$IT_DIR/c/prod.env"
(cd "$IT_DIR/c" && "$SHIPCTL" export kubernetes --env-file prod.env -o out .) \
    2>/dev/null || fail "export of a compose project with --env-file"
grep -q '^        image: "nginx:1.25"$' "$IT_DIR/c/out/c.yaml" ||
	fail "--env-file: \${TAG} not from prod.env: $(cat "$IT_DIR/c/out/c.yaml")"
# -e ENV: a unit directory's environment, as deploy reads it
cp -r "$IT_UNITS" "$IT_DIR/e"
# shellcheck disable=SC2016 # ${TAG} is for the unit loader
sed -i 's/^image: shipd-test\/svc:1$/image: shipd-test\/svc:${TAG:-1}/' \
    "$IT_DIR/e/web.yaml"
printf 'TAG=2\n' > "$IT_DIR/e/prod.env"
"$SHIPCTL" export kubernetes -e prod "$IT_DIR/e" 2>/dev/null |
    grep -q '^        image: "shipd-test/svc:2"$' ||
	fail "-e prod: web's image not from prod.env"
rc=0
"$SHIPCTL" export nomad "$IT_UNITS" 2>/dev/null || rc=$?
assert_eq "$rc" 2 "an unknown target is a usage error"
rc=0
"$SHIPCTL" export kubernetes --service-type Foo "$IT_UNITS" 2>/dev/null || rc=$?
assert_eq "$rc" 2 "a bad --service-type is a usage error"
ok "--env-file, -e, -o, unknown targets and service types"

# completion: the target, then a directory
assert_eq "$("$SHIPCTL" __complete 2 shipctl export k)" kubernetes "completion of the target"
assert_eq "$("$SHIPCTL" __complete 3 shipctl export kubernetes '')" @dirs \
    "completion after the target"
ok "completion"
