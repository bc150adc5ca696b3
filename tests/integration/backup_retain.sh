#!/bin/bash
# Retention never loses the wrong backup (issue 10, item 6).  With keep: 2:
# back up B0, restore it twice (two safety backups), then deploy a change
# (the deploy's backup): B0 is still listed and restores.  Each class is
# counted apart: two newer manual backups are what push B0 out; backups
# that kept revisions name stay past their class's count.
. "$(dirname "$0")/lib.sh"

stack_yaml <<EOF
volumes: [data]
EOF
unit db <<EOF
image: $IMAGE1
volumes: ["data:/data"]
environment: {MODE: "\${MODE:-one}"}
init: true
health: {test: [CMD, /bin/svc-check]}
backup: {paths: ["/data"], keep: 2}
EOF

bk_json() { sctl --json backups --stack "$IT_STACK"; }
# ids of one class, oldest first
bk_class() { bk_json | jq -r --arg c "$1" '.backups[] | select(.class == $c) | .id'; }
has_backup() { bk_json | jq -e --arg i "$1" 'any(.backups[]; .id == $i)' >/dev/null; }
data() { docker exec "$IT_STACK-db-1" cat /data/f; }

start_shipd
MODE=one sctl deploy "$IT_UNITS" >/dev/null || fail "deploy one"
docker exec "$IT_STACK-db-1" sh -c 'echo b0 > /data/f' || fail "writing data"
out=$(sctl backup --stack "$IT_STACK" 2>&1) || fail "backup B0: $out"
b0=$(bk_json | jq -r '.backups[-1].id')
case $b0 in ""|null) fail "no backup listed: $(bk_json)" ;; esac

for i in 1 2; do
	docker exec "$IT_STACK-db-1" sh -c "echo later$i > /data/f" ||
	    fail "changing data"
	out=$(sctl restore "$b0" 2>&1) || fail "restore $i of $b0: $out"
	assert_eq "$(data)" b0 "data after restore $i"
done

out=$(MODE=two sctl deploy "$IT_UNITS" 2>&1) || fail "deploy two: $out"
has_backup "$b0" ||
    fail "B0 ($b0) was pruned by the safety and deploy backups: $(bk_json)"
assert_eq "$(bk_class manual)" "$b0" "the manual backups"
assert_eq "$(bk_class safety | wc -l)" 2 "safety backups after two restores"
assert_eq "$(bk_class deploy | wc -l)" 1 "the deploy's backups"
assert_match "$(sctl backups --stack "$IT_STACK")" "$b0 .* manual " \
    "shipctl backups shows B0's class"
docker exec "$IT_STACK-db-1" sh -c 'echo later3 > /data/f' ||
    fail "changing data"
out=$(sctl restore "$b0" 2>&1) || fail "restore $b0 after the deploy: $out"
assert_eq "$(data)" b0 "data after restoring B0 past the deploy"
ok "keep 2: B0 survived two restores and a deploy, and still restores"

# The third restore's safety backup pushed out only the oldest safety one.
[ "$(bk_class safety | wc -l)" = 2 ] || fail "safety backups kept (keep 2): $(bk_json)"
d1=$(bk_class deploy)
for i in 1 2; do
	out=$(sctl backup --stack "$IT_STACK" 2>&1) || fail "backup $i: $out"
done
assert_eq "$(bk_class manual | wc -l)" 2 "manual backups kept (keep 2)"
! has_backup "$b0" || fail "B0 stayed past two newer manual backups"
has_backup "$d1" || fail "the deploy backup the current revision names went"
ok "each class keeps its own 2 newest"

# keep 1: a backup that a kept revision names (the current one and the
# `retain` (2) committed before it) stays past its class's count.
sed -i 's/keep: 2/keep: 1/' "$IT_UNITS/db.yaml"
for mode in three four; do
	out=$(MODE=$mode sctl deploy "$IT_UNITS" 2>&1) || fail "deploy $mode: $out"
done
assert_eq "$(bk_class deploy | wc -l)" 3 "deploy backups with keep 1 (revisions 2-4 name them)"
has_backup "$d1" || fail "revision 2's backup went while revision 2 is kept"
assert_eq "$(bk_class manual | wc -l)" 1 "manual backups with keep 1"
ok "backups that kept revisions name outlive their class's keep"
stop_shipd
