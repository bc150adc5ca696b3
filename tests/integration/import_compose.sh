#!/bin/bash
# shipctl import compose (docs/compose.md, "Importing"): the report's
# three classes and exit codes, an OUTDIR that is not empty, --json, and
# the written units deployed for real: a project with build:, a bind, a
# secret and an env_file, then one with networks, a volume, replicas and
# a health-gated dependency.  After each deploy of the units, plan of the
# compose project itself finds nothing to change: the same spec hashes.
. "$(dirname "$0")/lib.sh"

A=$IT_DIR/app/compose
mkdir -p "$A/api" "$A/conf" "$A/secrets"
printf 'FROM %s\nCOPY motd /motd\n' "$IMAGE1" > "$A/api/Dockerfile"
echo hello > "$A/api/motd"
echo 'listen: 8080' > "$A/conf/app.yaml"
echo s3cret > "$A/secrets/db.txt"
echo 'FROM_FILE=yes' > "$A/api.env"
cat > "$A/compose.yaml" <<EOF
services:
  api:
    build: ./api
    env_file: api.env
    environment: {SVC_NAME: api}
    volumes: ["./conf:/etc/app:ro"]
    secrets: [db]
    depends_on: [db]
  db:
    image: $IMAGE1
    healthcheck: {test: [CMD, /bin/svc-check], interval: 1s, retries: 30}
secrets:
  db: {file: ./secrets/db.txt}
EOF

rc=0
out=$("$SHIPCTL" import compose -p "$IT_STACK" "$A" -o "$IT_DIR/app/units") ||
    rc=$?
assert_eq "$rc" 0 "a lossless import exits 0 ($out)"
assert_match "$out" "^lossless: stack $IT_STACK, 2 services written" "report"
for f in stack api db; do
	[ -f "$IT_DIR/app/units/$f.yaml" ] || fail "$f.yaml not written"
done
u=$(cat "$IT_DIR/app/units/api.yaml")
assert_match "$u" "\.\./compose/conf:/etc/app:ro" "the bind is relative to OUTDIR"
assert_match "$u" "\.\./compose/secrets/db.txt:/run/secrets/db:ro" \
    "the secret is a relative read-only bind"
assert_match "$u" "context: \"?\.\./compose/api" "the build context is relative"
assert_match "$u" "FROM_FILE: \"?yes" "env_file is written as environment"
assert_match "$u" 'restart: "no"' "compose's default restart is written out"
assert_match "$(cat "$IT_DIR/app/units/db.yaml")" "interval: 1s" "health"
ok "lossless: units beside the project, paths relative, defaults written"

rc=0
"$SHIPCTL" import compose "$A" -o "$IT_DIR/app/units" >/dev/null \
    2>"$IT_DIR/err" || rc=$?
assert_eq "$rc" 2 "a non-empty OUTDIR is refused"
assert_match "$(cat "$IT_DIR/err")" "is not empty" "and says so"
echo 'image: x' > "$IT_DIR/app/units/stale.yaml"
echo keep > "$IT_DIR/app/units/notes.txt"
"$SHIPCTL" import compose -p "$IT_STACK" --force "$A" \
    -o "$IT_DIR/app/units" >/dev/null || fail "--force"
[ ! -e "$IT_DIR/app/units/stale.yaml" ] || fail "--force left a stale unit"
[ -e "$IT_DIR/app/units/notes.txt" ] || fail "--force removed a non-unit file"
rc=0
"$SHIPCTL" import compose --force "$A" -o "$A" >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "the project's own directory is refused, even with --force"
[ -f "$A/compose.yaml" ] || fail "the compose file is gone"
ok "non-empty OUTDIR: refused; --force replaces only the unit files"

L=$IT_DIR/lossy
mkdir -p "$L"
printf 'services:\n  web:\n    image: %s\n    container_name: web\n' \
    "$IMAGE1" > "$L/compose.yaml"
rc=0
out=$("$SHIPCTL" import compose "$L" -o "$IT_DIR/lossy.units") || rc=$?
assert_eq "$rc" 1 "a lossy import exits 1"
assert_match "$out" "$L/compose.yaml:4:21: services.web.container_name" \
    "each loss at file:line:col"
assert_match "$out" "lossy: " "the class"
[ -f "$IT_DIR/lossy.units/web.yaml" ] || fail "lossy: units not written"
rc=0
out=$("$SHIPCTL" --json import compose --strict "$L" \
    -o "$IT_DIR/strict.units") || rc=$?
assert_eq "$rc" 2 "--strict: blocked"
printf '%s' "$out" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["ok"] is False and o["class"] == "blocked", o
e = o["errors"][0]
assert e["line"] == 4 and e["col"] == 21 and "container_name" in e["message"], e
assert o["files"] == [] and o["error"]["code"] == "invalid_stack", o
' || fail "--json blocked report: $out"
[ ! -e "$IT_DIR/strict.units" ] || fail "blocked: OUTDIR was made"
out=$("$SHIPCTL" --json import compose --force "$L" \
    -o "$IT_DIR/lossy.units" || true)
printf '%s' "$out" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["ok"] is True and o["class"] == "lossy", o
assert len(o["losses"]) == 1 and o["losses"][0]["col"] == 21, o
assert len(o["files"]) == 2, o
' || fail "--json lossy report: $out"
ok "lossy exits 1 with file:line:col; blocked exits 2, writes nothing; --json"

start_shipd
out=$(sctl deploy "$IT_DIR/app/units" 2>&1) || fail "deploy of the units: $out"
assert_match "$out" "api: built" "the imported build: is built"
assert_eq "$(docker exec "$(cid api)" cat /motd)" hello "the built image runs"
assert_eq "$(docker exec "$(cid api)" cat /run/secrets/db)" s3cret "the secret"
assert_eq "$(docker exec "$(cid api)" cat /etc/app/app.yaml)" "listen: 8080" \
    "the bind"
rc=0
out=$(sctl plan -p "$IT_STACK" "$A" 2>&1) || rc=$?
assert_eq "$rc" 0 "plan of the compose project after deploying its units: $out"
ok "imported units with build: deploy; the compose project plans no change"

B=$IT_DIR/web
mkdir -p "$B"
cat > "$B/compose.yaml" <<EOF
services:
  cache:
    image: $IMAGE1
    environment: {SVC_NAME: cache}
    volumes: [data:/data]
    networks: [back]
    healthcheck: {test: [CMD, /bin/svc-check], interval: 1s, retries: 30}
  web:
    image: $IMAGE1
    environment: {SVC_NAME: web}
    deploy: {replicas: 2}
    networks: [front, back]
    depends_on: {cache: {condition: service_healthy}}
volumes: {data: {}}
networks: {front: {}, back: {}}
EOF
"$SHIPCTL" import compose -p "$IT_STACK" "$B" -o "$IT_DIR/web.units" \
    >/dev/null || fail "import of the second project"
out=$(sctl deploy --remove-orphans "$IT_DIR/web.units" 2>&1) ||
    fail "deploy of the second units: $out"
assert_eq "$(count_containers --filter status=running)" 3 "cache + 2 web"
docker network inspect "${IT_STACK}_front" >/dev/null || fail "network front"
docker volume inspect "${IT_STACK}_data" >/dev/null || fail "volume data"
rc=0
out=$(sctl plan -p "$IT_STACK" "$B" 2>&1) || rc=$?
assert_eq "$rc" 0 "plan of the second compose project: $out"
ok "networks, a volume, replicas, a health-gated dependency: no change either"
