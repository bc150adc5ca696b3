#!/bin/bash
# shipctl refuses a unit directory past the loader's limits at once, naming
# the limit, where the loader used to take time quadratic in its size (80k
# environment entries: 13 s): entries of one mapping, env file variables,
# services of a stack.  stack.yaml's bad and repeated names are reported,
# not read after being freed.  deploy refuses the same before sending.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
trap it_cleanup EXIT

refused() {	# what fixed-text CMD...: exits 2, says the text, in 10 s
	local what=$1 want=$2 rc=0 t0 ms

	shift 2
	t0=$(now_ms)
	out=$("$@" 2>&1) || rc=$?
	ms=$(($(now_ms) - t0))
	[ "$rc" = 2 ] || { echo "$out" | tail -5; fail "$what: exited $rc, want 2"; }
	printf '%s\n' "$out" | grep -qF -- "$want" ||
	    { echo "$out" | tail -5; fail "$what: no '$want'"; }
	assert_lt "$ms" 10000 "$what: milliseconds to refuse"
}

start_shipd
stack_yaml </dev/null

# ---- 80k environment entries ----------------------------------------------
{ printf 'image: %s\ninit: true\nenvironment:\n' "$IMAGE1"
  seq 0 79999 | sed 's/^/  K/; s/$/: v/'; } > "$IT_UNITS/web.yaml"
refused "80k environment" "web.yaml:4:3: a mapping holds at most 4096 entries" \
    sctl validate "$IT_UNITS"
refused "80k environment, deploy" "a mapping holds at most 4096 entries" \
    sctl deploy "$IT_UNITS"
ok "80k environment entries are refused at once, naming the limit"

# ---- env files ------------------------------------------------------------
seq 0 79999 | sed 's/^/K/; s/$/=v/' > "$IT_UNITS/web.env"
printf 'image: %s\ninit: true\nenv_file: web.env\n' "$IMAGE1" > "$IT_UNITS/web.yaml"
refused "80k env file variables" "web.env:4097:1: more than 4096 variables" \
    sctl validate "$IT_UNITS"
rm "$IT_UNITS/web.env"
ok "an env file of 80k variables is refused at the one past the limit"

# ---- services -------------------------------------------------------------
printf 'image: %s\ninit: true\n' "$IMAGE1" > "$IT_UNITS/web.yaml"
for i in $(seq 1 1000); do
	cp "$IT_UNITS/web.yaml" "$IT_UNITS/s$i.yaml"
done
refused "1001 services" "1001 services; a stack may have at most 1000" \
    sctl validate "$IT_UNITS"
refused "1001 services, deploy" "1001 services; a stack may have at most 1000" \
    sctl deploy "$IT_UNITS"
rm -f "$IT_UNITS"/s*.yaml
ok "a stack of 1001 services is refused, naming the limit"

# ---- stack.yaml names -----------------------------------------------------
printf 'name: %s\nnetworks: ["Bad!", "x"]\nvolumes: [a, a, b]\n' "$IT_STACK" \
    > "$IT_UNITS/stack.yaml"
refused "stack.yaml names" "stack.yaml:2:12: networks[0]: invalid name 'Bad!'" \
    sctl validate "$IT_UNITS"
printf '%s\n' "$out" | grep -qF "stack.yaml:3:14: volumes[1]: 'a' is listed twice" ||
    fail "stack.yaml names: no repeated volume"
ok "stack.yaml's bad and repeated names are each reported"

assert_eq "$(count_containers)" 0 "containers made"
stop_shipd
