#!/bin/bash
# shipctl validate refuses, at file:line:col, what deploy would have had
# refused later: an image tag that expands to nothing, a bind source that
# does not exist, bytes that are not UTF-8 (placed where they are), and a
# stack too big for one request (deploy refuses it too, before sending).
# A missing image in pre-flight names the service and its unit file.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

refused() {	# what DIR: validate exits 2; its output in $out
	local rc=0

	out=$(sctl validate "$2" 2>&1) || rc=$?
	[ "$rc" = 2 ] || { echo "$out"; fail "$1: validate exited $rc, want 2"; }
}

has() {		# what fixed-text
	printf '%s\n' "$out" | grep -qF -- "$2" ||
	    { echo "$out"; fail "$1: no '$2'"; }
}

stack_yaml </dev/null

# ---- an empty tag -----------------------------------------------------------
unit web <<'EOF'
image: "shipd-test/svc:${IT_TAG}"
init: true
EOF
echo "IT_TAG=" > "$IT_UNITS/.env"
refused "empty tag" "$IT_UNITS"
has "empty tag" "$IT_UNITS/web.yaml:1:8: image: invalid reference 'shipd-test/svc:': the tag after ':' is empty"
echo "IT_TAG=1" > "$IT_UNITS/.env"
sctl validate "$IT_UNITS" >/dev/null || fail "validate refused shipd-test/svc:1"
ok "an image tag that expands to nothing is refused at its line"

# ---- a bind source that does not exist --------------------------------------
unit web <<EOF
image: $IMAGE1
init: true
volumes:
  - "./conf:/conf:ro"
EOF
refused "bind source" "$IT_UNITS"
has "bind source" "$IT_UNITS/web.yaml:4:5: volumes[0]: bind source '$IT_UNITS/conf' does not exist"
mkdir "$IT_UNITS/conf"
sctl validate "$IT_UNITS" >/dev/null || fail "validate refused an existing bind source"
ok "a missing bind source is refused at its entry"

# ---- bad bytes ----------------------------------------------------------------
mkdir "$IT_DIR/bytes"
printf 'image: x\nuser: "\xc3\xa9t\xff"\n' > "$IT_DIR/bytes/api.yaml"
refused "bad UTF-8" "$IT_DIR/bytes"
has "bad UTF-8" "$IT_DIR/bytes/api.yaml:2:10: YAML syntax error: invalid leading UTF-8 octet"
printf 'image: x\n\nuser: "ab\0"\n' > "$IT_DIR/bytes/api.yaml"
refused "NUL" "$IT_DIR/bytes"
has "NUL" "$IT_DIR/bytes/api.yaml:3:10: YAML syntax error: control characters are not allowed"
ok "bad UTF-8 and a NUL byte are placed at their line:col"

# ---- a stack too big for a request --------------------------------------------
big=$IT_DIR/big
mkdir "$big"
printf 'name: %s\n' "$IT_STACK" > "$big/stack.yaml"
awk 'BEGIN { v = sprintf("%1000s", ""); gsub(/ /, "x", v);
    for (i = 0; i < 700; i++) printf "V%d=%s\n", i, v }' > "$big/big.env"
printf 'image: %s\nenv_file: big.env\n' "$IMAGE1" > "$big/a.yaml"
printf 'image: %s\nenv_file: big.env\n' "$IMAGE1" > "$big/b.yaml"
printf 'image: %s\n' "$IMAGE1" > "$big/c.yaml"
refused "too big" "$big"
has "too big" "a request to shipd may hold (its control socket reads lines of at most 1048576 bytes)"
has "too big" "$big/a.yaml: service 'a' is "
has "too big" "$big: the other 2 services and the stack's own fields are"

start_shipd
rc=0
out=$(sctl deploy "$big" 2>&1) || rc=$?
[ "$rc" = 2 ] || { echo "$out"; fail "deploy of a stack too big exited $rc, want 2"; }
has "too big deploy" "$big/a.yaml: service 'a' is "
! grep -q '"cmd":"deploy"' "$IT_STATE/audit.log" 2>/dev/null ||
    fail "the stack too big was sent: $(cat "$IT_STATE/audit.log")"
ok "a stack too big for a request is refused before sending, naming its biggest unit and the limit"

# ---- a missing image, named with its service and file -------------------------
rm "$IT_UNITS/.env"
unit worker <<EOF
image: shipd-test/no-such-image-$$:9
init: true
EOF
rc=0
out=$(sctl deploy --skip-check pull "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" = 1 ] || { echo "$out"; fail "deploy with a missing image exited $rc, want 1"; }
has "missing image" "images: shipd-test/no-such-image-$$:9: not present on the engine (build or load it first); used by worker ($IT_UNITS/worker.yaml)"
[ "$(count_containers)" = 0 ] || fail "a failed pre-flight created containers"
ok "a missing image names the service and its unit file"

# the bind source that now exists is one the engine takes
rm "$IT_UNITS/worker.yaml"
out=$(sctl deploy "$IT_UNITS" 2>&1) || { echo "$out"; fail "deploy with a bind mount failed"; }
[ "$(docker inspect -f '{{range .Mounts}}{{.Source}}{{end}}' "$(cid web)")" = "$IT_UNITS/conf" ] ||
    fail "web does not mount $IT_UNITS/conf"
grep -q '"cmd":"deploy"' "$IT_STATE/audit.log" ||
    fail "the audit log lacks deploys, so it proves nothing above"
ok "the existing bind source deploys"
stop_shipd
