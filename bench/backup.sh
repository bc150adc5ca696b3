#!/bin/bash
# A backup of a 1 GiB volume through shipd beside `docker cp` and `tar` of
# the same data: wall time, throughput, and shipd's peak RSS (VmHWM) before
# and after, to show that shipd streams rather than buffers.  Then the
# restore of that backup (verify, safety backup, upload, restart).
#
#   bench/backup.sh              # 1 GiB
#   BENCH_BACKUP_MIB=256 bench/backup.sh
#
# Needs build/shipd, build/shipctl, the test image and root (for tar of the
# volume's host path).  Takes about a minute; not part of the test suite.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MIB=${BENCH_BACKUP_MIB:-1024}
DIR=$(mktemp -d /tmp/shipd-bench-backup-XXXXXX)
STACK=shipd-bench-backup-$$
SOCK=$DIR/shipd.sock
SHIPCTL="$ROOT/build/shipctl -s $SOCK"
PID=

cleanup() {
	$SHIPCTL down --stack "$STACK" --volumes >/dev/null 2>&1 || true
	[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	docker ps -aq --filter "label=io.shipd.stack=$STACK" | xargs -r docker rm -f >/dev/null 2>&1
	docker volume ls -q --filter "label=io.shipd.stack=$STACK" | xargs -r docker volume rm -f >/dev/null 2>&1
	rm -rf "$DIR"
}
trap cleanup EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v s="$1" -v m="$MIB" 'BEGIN { printf "%.0f", m / s }'; }
hwm() { awk '/VmHWM/ { print $2 }' "/proc/$PID/status"; }
rss() { awk '/VmRSS/ { print $2 }' "/proc/$PID/status"; }

"$ROOT/tests/images/build.sh" >/dev/null
mkdir -p "$DIR/units"
printf 'name: %s\nvolumes: [data]\n' "$STACK" > "$DIR/units/stack.yaml"
cat > "$DIR/units/db.yaml" <<EOF
image: shipd-test/svc:1
volumes: ["data:/data"]
init: true
backup: {paths: ["/data"]}
EOF
"$ROOT/build/shipd" -s "$SOCK" --state-dir "$DIR/state" >"$DIR/shipd.log" 2>&1 &
PID=$!
for _ in $(seq 100); do $SHIPCTL version 2>/dev/null | grep -q API && break; sleep 0.1; done
$SHIPCTL deploy "$DIR/units" >/dev/null
ctr=$STACK-db-1
echo "writing $MIB MiB of random data into $ctr:/data ..."
docker exec "$ctr" dd if=/dev/urandom of=/data/big bs=1M count="$MIB" 2>/dev/null
sync
mnt=$(docker volume inspect -f '{{.Mountpoint}}' "${STACK}_data")

# References: the engine's own copy, and tar of the volume on the host;
# each written to the same disk as the backup and synced, as shipd does.
docker cp "$ctr:/data" - > /dev/null	# warm the page cache for all three
t0=$(now); docker cp "$ctr:/data" - > "$DIR/cp.tar"; sync; t1=$(now)
cp_s=$(secs "$t0" "$t1"); rm -f "$DIR/cp.tar"
t0=$(now); tar -C "$(dirname "$mnt")" -cf "$DIR/tar.tar" "$(basename "$mnt")"; sync; t1=$(now)
tar_s=$(secs "$t0" "$t1"); rm -f "$DIR/tar.tar"

hwm0=$(hwm); rss0=$(rss)
t0=$(now); $SHIPCTL backup --stack "$STACK" --quiet; t1=$(now)
bk_s=$(secs "$t0" "$t1"); hwm1=$(hwm)
id=$($SHIPCTL --json backups --stack "$STACK" | grep -o '"id":"[^"]*"' | cut -d'"' -f4 | tail -1)
size=$(stat -c %s "$DIR/state/backups/$STACK/$id/db-0.tar")
t0=$(now); $SHIPCTL backup --verify "$id" --quiet; t1=$(now)
vf_s=$(secs "$t0" "$t1")
t0=$(now); $SHIPCTL restore --stack "$STACK" --quiet "$id"; t1=$(now)
rs_s=$(secs "$t0" "$t1"); hwm2=$(hwm)

printf '\n%s MiB volume (archive %s bytes)\n\n' "$MIB" "$size"
printf '%-40s %8s %10s\n' "" "seconds" "MiB/s"
printf '%-40s %8s %10s\n' "docker cp CONTAINER:/data - > file; sync" "$cp_s" "$(rate "$cp_s")"
printf '%-40s %8s %10s\n' "tar -cf file <volume dir>; sync" "$tar_s" "$(rate "$tar_s")"
printf '%-40s %8s %10s\n' "shipctl backup (stream, sha256, fsync)" "$bk_s" "$(rate "$bk_s")"
printf '%-40s %8s %10s\n' "shipctl backup --verify (re-hash)" "$vf_s" "$(rate "$vf_s")"
printf '%-40s %8s %10s\n' "shipctl restore (verify+safety+put)" "$rs_s" "-"
printf '\nshipd RSS before: %s KiB; peak (VmHWM) before %s KiB, after backup %s KiB, after restore %s KiB\n' \
    "$rss0" "$hwm0" "$hwm1" "$hwm2"
