#!/bin/sh
# The main job: start shipd (unless one answers already), deploy the demo
# stack in units/ and show it.  Run through `make demo`, which installs
# what is missing, starts dockerd and builds the binaries and test images.
set -eu

cd "$(dirname "$0")/.."
SHIPD=${SHIPD:-build/shipd}
SHIPCTL=${SHIPCTL:-build/shipctl}
# The base stack, demo: an environment (-e) is for by hand (units/README.md).
unset SHIPD_ENV
SOCK=${SHIPD_SOCKET:-/run/shipd/shipd.sock}
STATE=${SHIPD_STATE:-/var/lib/shipd}
LOG=${SHIPD_LOG:-/var/log/shipd.log}
export SHIPD_SOCKET="$SOCK"

if ! "$SHIPCTL" -s "$SOCK" version >/dev/null 2>&1; then
	echo "demo: starting shipd on $SOCK (state $STATE, log $LOG)"
	setsid "$SHIPD" -s "$SOCK" --state-dir "$STATE" >>"$LOG" 2>&1 </dev/null &
	i=0
	until "$SHIPCTL" -s "$SOCK" version >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "demo: shipd did not answer within 10 s; see $LOG" >&2
			exit 1
		fi
		sleep 0.1
	done
fi

"$SHIPCTL" version
echo
"$SHIPCTL" validate units
echo
"$SHIPCTL" deploy units
echo
"$SHIPCTL" status --stack demo
echo
"$SHIPCTL" history --stack demo
echo
echo "demo: the stack runs under shipd; try: $SHIPCTL -s $SOCK status --stack demo"
echo "      or $SHIPCTL -s $SOCK logs --stack demo api -f; remove it with"
echo "      $SHIPCTL -s $SOCK down --stack demo --volumes"
