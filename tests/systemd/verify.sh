#!/bin/bash
# systemd-analyze verify on every unit in systemd/, as installed: make
# install with PREFIX in a scratch dir, so that the ExecStart= binaries and
# the man pages of Documentation= exist where the installed units say.
# Any message fails, not only a non-zero exit.  Skips (exit 0, saying so)
# only when systemd-analyze is absent.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze is not installed (Debian package systemd)"
	exit 0
fi
tmp=$(mktemp -d /tmp/shipd-verify-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

make -s -C "$ROOT" install PREFIX="$tmp" SYSCONFDIR="$tmp/etc" > "$tmp/make.out" 2>&1 || {
	cat "$tmp/make.out"
	echo "FAIL: make install PREFIX=$tmp"
	exit 1
}
rc=0
for u in "$ROOT"/systemd/*.service "$ROOT"/systemd/*.timer; do
	f=$tmp/lib/systemd/system/${u##*/}
	[ -f "$f" ] || { echo "FAIL: ${u##*/} was not installed"; rc=1; continue; }
	out=$(MANPATH=$tmp/share/man systemd-analyze verify "$f" 2>&1) || rc=1
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
		rc=1
	fi
	[ "$rc" = 0 ] && echo "  ok: ${u##*/}"
done
# The engine's socket needs no mount (a read-only mount does not stop
# connect()), and one of a path dockerd has not made yet fails the start.
if grep -nE '^(ReadWritePaths|ReadOnlyPaths|BindPaths|BindReadOnlyPaths)=.*docker\.sock' \
    "$ROOT"/systemd/*; then
	echo "FAIL: a unit mounts the Docker socket"
	rc=1
fi
# Every ReadWritePaths= entry must exist or be optional ("-").
for p in $(sed -n 's/^ReadWritePaths=//p' "$ROOT"/systemd/*); do
	case $p in -*) continue ;; esac
	echo "FAIL: ReadWritePaths=$p is not optional (prefix it with -)"
	rc=1
done
[ "$rc" = 0 ] || { echo "FAIL: systemd-analyze verify"; exit 1; }
echo "  ok: systemd-analyze verify is clean on every unit"
