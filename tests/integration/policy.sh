#!/bin/bash
# The deploy policy of shipd's configuration (docs/operations.md, "Who
# may do what"): a bind of / and a privileged service are refused at
# pre-flight, naming service, key and rule, with nothing created, and
# plan shows the same; a bind under an allowed root deploys, and a
# symlink under it that leads out is refused; --skip-check policy is
# refused; what the policy allows reaches the engine's HostConfig.  A
# bad configuration file stops shipd from starting, at file:line:col.
. "$(dirname "$0")/lib.sh"

allowed=$IT_DIR/srv
mkdir -p "$allowed/data" "$IT_DIR/outside"
ln -s "$IT_DIR/outside" "$allowed/link"
conf=$IT_DIR/policy.yaml
cat > "$conf" <<EOF
policy:
  bind_roots: [$allowed]
  privileged: false
  host_network: false
  host_pid: false
  devices: false
  cap_add: [NET_ADMIN]
EOF
chmod 0644 "$conf"

# --check-config: a good file, then a bad one at its line and column.
out=$("$SHIPD" -c "$conf" --check-config) ||
    fail "--check-config refused a good file: $out"
assert_match "$out" "bind_roots: $allowed; privileged: false" "--check-config"
cat > "$IT_DIR/bad.yaml" <<EOF
policy:
  bind_roots: [relative/path]
  privileged: maybe
  host_netwrk: true
EOF
rc=0
out=$("$SHIPD" -c "$IT_DIR/bad.yaml" --check-config 2>&1) || rc=$?
assert_eq "$rc" 2 "--check-config exit on a bad file"
assert_match "$out" "bad.yaml:2:16: policy.bind_roots\[0\]: 'relative/path' must be an absolute path" "bad root"
assert_match "$out" "bad.yaml:3:15: policy.privileged" "bad bool"
assert_match "$out" "bad.yaml:4:3: unknown key .host_netwrk. in policy; did you mean .host_network.?" "unknown key"
rc=0
"$SHIPD" -c "$IT_DIR/bad.yaml" -s "$IT_DIR/bad.sock" --state-dir "$IT_DIR/bad-state" \
    --engine "$IT_ENGINE" >"$IT_DIR/bad.log" 2>&1 || rc=$?
assert_eq "$rc" 2 "shipd's exit on a bad configuration"
[ ! -e "$IT_DIR/bad.sock" ] || fail "shipd opened its socket with a bad configuration"
grep -q "not starting" "$IT_DIR/bad.log" || fail "no 'not starting' line: $(cat "$IT_DIR/bad.log")"
rc=0
"$SHIPD" -c "$IT_DIR/none.yaml" --check-config >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "a file named with -c that does not exist"
chmod 0666 "$conf"
rc=0
out=$("$SHIPD" -c "$conf" --check-config 2>&1) || rc=$?
assert_eq "$rc" 2 "a configuration others may write"
assert_match "$out" "may be changed by others" "world-writable file"
chmod 0644 "$conf"
cp "$conf" "$IT_DIR/strict.yaml"
ok "--check-config, bad files refused at file:line:col, shipd does not start on one"

start_shipd -c "$conf"
grep -q "policy from $conf" "$IT_LOG" || fail "shipd did not log its policy"

# A bind of / and a privileged service: both refused, nothing created.
stack_yaml </dev/null
unit api <<EOF
image: $IMAGE1
init: true
volumes: ["/:/host:ro"]
EOF
unit priv <<EOF
image: $IMAGE1
init: true
privileged: true
EOF
rc=0
out=$(sctl deploy "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" = 1 ] || { echo "$out"; fail "deploy exited $rc, want 1"; }
assert_match "$out" "policy: api: volumes: bind source / \(mounted at /host\) is outside the allowed roots $allowed \(policy in $conf\)" "bind refusal"
assert_match "$out" "policy: priv: privileged: true is not allowed" "privileged refusal"
[ "$(count_containers)" = 0 ] || fail "a refused deploy created containers"
[ -z "$(docker network ls -q --filter "label=$IT_LABEL")" ] ||
    fail "a refused deploy created a network"
rc=0
out=$(sctl plan "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" != 0 ] || { echo "$out"; fail "plan passed what the policy refuses"; }
assert_match "$out" "policy: api: volumes: bind source /" "plan shows the refusal"
rc=0
out=$(sctl deploy --skip-check policy "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "--skip-check policy deployed"
assert_match "$out" "cannot be skipped" "--skip-check policy"
[ "$(count_containers)" = 0 ] || fail "--skip-check policy created containers"
grep -q '"event":"end",.*"cmd":"deploy",.*"result":"preflight_failed","message":"policy: api: volumes: bind source /' "$IT_STATE/audit.log" ||
    fail "the audit log lacks the refusal: $(cat "$IT_STATE/audit.log")"
ok "a bind of / and privileged refused naming service, key and rule; plan shows it; not skippable; nothing created"

# A symlink under the allowed root that leads out of it.
rm "$IT_UNITS/priv.yaml"
unit api <<EOF
image: $IMAGE1
init: true
volumes: ["$allowed/link:/data"]
EOF
rc=0
out=$(sctl deploy "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" = 1 ] || { echo "$out"; fail "deploy through a symlink exited $rc"; }
assert_match "$out" "bind source $allowed/link \(mounted at /data\) resolves to $IT_DIR/outside on this host, outside the allowed roots" "symlink refusal"
[ "$(count_containers)" = 0 ] || fail "the symlink deploy created containers"
ok "a symlink out of an allowed root is refused as what it resolves to"

# Allowed: a bind under the root, an allowed capability, a dropped one.
unit api <<EOF
image: $IMAGE1
init: true
volumes: ["$allowed/data:/data"]
cap_add: [net_admin]
cap_drop: [CAP_MKNOD]
EOF
out=$(sctl deploy "$IT_UNITS" 2>&1) || { echo "$out"; fail "an allowed deploy failed"; }
id=$(cid api)
[ -n "$id" ] || fail "no api container"
hc=$(docker inspect -f '{{json .HostConfig.CapAdd}} {{json .HostConfig.CapDrop}} {{.HostConfig.Privileged}}' "$id")
assert_eq "$hc" '["NET_ADMIN"] ["MKNOD"] false' "HostConfig of the allowed service"
ok "a bind under an allowed root and an allowed cap_add deploy; HostConfig matches"
stop_shipd

# What the policy allows reaches the engine: pid: host, devices,
# network_mode: host; and privileged (which this engine may be unable to
# start when it runs without the capabilities: on_failure: pause keeps the
# container that failed, to read its HostConfig).
cat > "$conf" <<EOF
policy:
  bind_roots: [/]
  privileged: true
  host_network: true
  host_pid: true
  devices: true
EOF
start_shipd -c "$conf"
unit api <<EOF
image: $IMAGE1
init: true
pid: host
network_mode: host
environment: {PORT: "$((20000 + ($$ * 11) % 20000))"}
devices: ["/dev/null:/dev/shipd-null:r"]
EOF
out=$(sctl deploy "$IT_UNITS" 2>&1) || { echo "$out"; fail "an allowed host-pid deploy failed"; }
id=$(cid api)
hc=$(docker inspect -f '{{.HostConfig.PidMode}} {{.HostConfig.NetworkMode}} {{range .HostConfig.Devices}}{{.PathOnHost}}:{{.PathInContainer}}:{{.CgroupPermissions}}{{end}}' "$id")
assert_eq "$hc" "host host /dev/null:/dev/shipd-null:r" "HostConfig of the host-pid service"
ok "pid: host, network_mode: host and devices deploy when the policy allows them; HostConfig matches"

# The policy tightened under a running stack: what exists stays, but a
# scale that creates more of it is refused, and a rollback to what the
# policy allows goes ahead.
cp "$conf" "$IT_DIR/open.yaml"
cp "$IT_DIR/strict.yaml" "$conf"
stop_shipd
start_shipd -c "$conf"
rc=0
out=$(sctl scale api=2 --stack "$IT_STACK" 2>&1) || rc=$?
[ "$rc" != 0 ] || { echo "$out"; fail "scale of a host-pid service passed the strict policy"; }
assert_match "$out" "api: pid: host is not allowed: policy.host_pid is false \(policy in $conf\)" "scale refusal"
assert_eq "$(count_containers --filter label=io.shipd.service=api --filter status=running)" 1 "running api containers after the refused scale"
out=$(sctl rollback --stack "$IT_STACK" --to 1 2>&1) || { echo "$out"; fail "a rollback to an allowed revision failed"; }
hc=$(docker inspect -f '{{.HostConfig.PidMode}}' "$(cid api)")
assert_eq "$hc" "" "PidMode after the rollback"
ok "a tightened policy refuses a scale that creates more; a rollback to what it allows deploys"
stop_shipd
cp "$IT_DIR/open.yaml" "$conf"
start_shipd -c "$conf"

unit api <<EOF
image: $IMAGE1
init: true
privileged: true
update: {on_failure: pause}
EOF
rc=0
out=$(sctl deploy "$IT_UNITS" 2>&1) || rc=$?
! echo "$out" | grep -q "policy:.*not allowed" || { echo "$out"; fail "an allowed privileged service was refused"; }
[ "$rc" = 0 ] || echo "$out" | grep -q "start: " ||
    { echo "$out"; fail "privileged deploy failed other than at the engine's start"; }
id=$(docker ps -aq --no-trunc --filter "label=$IT_LABEL" --filter "label=io.shipd.service=api" --filter "label=io.shipd.revision=4")
[ -n "$id" ] || fail "no container of revision 4"
assert_eq "$(docker inspect -f '{{.HostConfig.Privileged}}' "$id")" true "HostConfig.Privileged"
ok "privileged passes the policy that allows it; HostConfig.Privileged is true (deploy exit $rc)"
