#!/bin/bash
# A disk that fills during a backup: the backup fails loudly, no backup is
# marked good, nothing partial stays behind, and the previous backup is
# intact.  The state dir is a 20 MiB tmpfs.
. "$(dirname "$0")/lib.sh"

MNT=$(mktemp -d /tmp/shipd-it-diskfull-XXXXXX)
mount -t tmpfs -o size=20m tmpfs "$MNT" || fail "cannot mount a tmpfs (root needed)"
unmount() {
	local rc=$?

	# Lazy: shipd may still hold files open if the test failed early.
	umount -l "$MNT" 2>/dev/null
	rmdir "$MNT" 2>/dev/null
	(exit "$rc")
	it_cleanup
}
trap unmount EXIT

stack_yaml <<EOF
volumes: [data]
EOF
unit db <<EOF
image: $IMAGE1
volumes: ["data:/data"]
init: true
backup: {paths: ["/data"]}
EOF

start_shipd --state-dir "$MNT"
# The deploy's own disk check wants far more than this tmpfs has.
sctl deploy --skip-check disk "$IT_UNITS" >/dev/null || fail "deploy"
docker exec "$IT_STACK-db-1" dd if=/dev/urandom of=/data/a bs=1M count=4 2>/dev/null ||
    fail "writing 4 MiB"
sctl backup --stack "$IT_STACK" --quiet || fail "the first backup"
good=$(sctl --json backups --stack "$IT_STACK" | grep -o '"id":"[^"]*"' | cut -d'"' -f4)
[ -n "$good" ] || fail "no backup listed"
ok "a 4 MiB backup fits"

docker exec "$IT_STACK-db-1" dd if=/dev/urandom of=/data/b bs=1M count=24 2>/dev/null ||
    fail "writing 24 MiB more"
rc=0
out=$(sctl backup --stack "$IT_STACK" --quiet 2>&1) || rc=$?
assert_eq "$rc" 1 "exit status of a backup that fills the disk"
assert_match "$out" "No space left on device" "failure message"
ids=$(sctl --json backups --stack "$IT_STACK" | grep -o '"id":"[^"]*"' | cut -d'"' -f4)
assert_eq "$ids" "$good" "backups after the failure"
ls -d "$MNT/backups/$IT_STACK/"*.partial 2>/dev/null && fail "partial backup left behind"
out=$(sctl backup --verify "$good" 2>&1) || fail "the previous backup is damaged: $out"
used=$(df --output=used -k "$MNT" | tail -1)
assert_lt "$used" 10240 "KiB used on the tmpfs after the failed backup"
ok "the failed backup left nothing behind; the previous one verifies"

# Room again: the next backup succeeds.
docker exec "$IT_STACK-db-1" rm /data/b
sctl backup --stack "$IT_STACK" --quiet || fail "backup once there is room again"
ok "a backup succeeds once there is room"
stop_shipd
