#!/bin/sh
# Install the Debian packages shipd builds and tests with, when missing.
# Idempotent and quiet when everything is present.  clang and
# libclang-rt-14-dev build the fuzz harnesses (tests/fuzz/): the latter
# holds libFuzzer, which clang only recommends.
set -eu

PKGS="build-essential pkg-config libuv1-dev libcurl4-openssl-dev libssl-dev
      libjansson-dev libyaml-dev libarchive-dev libcmocka-dev libmicrohttpd-dev
      docker.io busybox-static
      iptables valgrind curl procps jq clang libclang-rt-14-dev pandoc man-db
      systemd prometheus"
[ "${SHIPD_BENCH:-0}" = 1 ] && PKGS="$PKGS docker-compose"

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root or install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
