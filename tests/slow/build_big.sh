#!/bin/bash
# A build context of BUILD_BIG_MB (default 500) MiB of random bytes goes
# through shipctl and shipd to the engine with both processes' memory
# flat: shipctl's peak RSS (GNU time) and shipd's growth in peak RSS
# (VmHWM) over the build stay under BUILD_BIG_RSS_MB (default 40) MiB.
# Slow (the engine reads every byte): `make test-build-big`, kept out of
# tests/integration/ so the suite does not run it.
. "$(dirname "$0")/../integration/lib.sh"

mb=${BUILD_BIG_MB:-500}
limit=${BUILD_BIG_RSS_MB:-40}
stack_yaml </dev/null
mkdir -p "$IT_UNITS/big"
# The context is sent whole whatever the Dockerfile copies; copying only
# the small file keeps the image small.
printf 'FROM %s\nCOPY small.txt /small.txt\n' "$IMAGE1" > "$IT_UNITS/big/Dockerfile"
echo small > "$IT_UNITS/big/small.txt"
head -c "$((mb * 1024 * 1024))" /dev/urandom > "$IT_UNITS/big/blob"
unit big <<'EOF'
build: ./big
EOF

hwm_kb() {	# pid
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

start_shipd
before=$(hwm_kb "$SHIPD_PID")
t0=$(now_ms)
/usr/bin/time -f '%M' -o "$IT_DIR/cli.rss" \
    "$SHIPCTL" -s "$IT_SOCK" --json build "$IT_UNITS" > "$IT_DIR/out" 2>&1 ||
    fail "build of a $mb MiB context: $(tail -5 "$IT_DIR/out")"
t1=$(now_ms)
after=$(hwm_kb "$SHIPD_PID")
cli=$(tail -1 "$IT_DIR/cli.rss")
sent=$(jq -r 'select(.context_bytes) | .context_bytes' "$IT_DIR/out")
assert_ge "$sent" "$((mb * 1024 * 1024))" "context bytes the engine got"
grow=$(((after - before) / 1024))
echo "  context $((sent / 1048576)) MiB in $(((t1 - t0) / 1000)) s;" \
    "shipctl peak RSS $((cli / 1024)) MiB; shipd peak RSS" \
    "$((before / 1024)) -> $((after / 1024)) MiB"
assert_lt "$((cli / 1024))" "$limit" "shipctl's peak RSS (MiB)"
assert_lt "$grow" "$limit" "shipd's peak RSS growth (MiB)"
ok "a $mb MiB context streams with flat memory"
stop_shipd
