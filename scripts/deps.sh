#!/bin/sh
# Install the Debian packages shipd builds and tests with, when missing.
# Idempotent and quiet when everything is present.  clang and
# libclang-rt-14-dev build the fuzz harnesses (tests/fuzz/): the latter
# holds libFuzzer, which clang only recommends.  nodejs and npm run the
# Kubernetes schema validator of the export tests, whose pinned packages
# (tests/k8s/package-lock.json) go into tests/k8s/node_modules.
set -eu

PKGS="build-essential pkg-config libuv1-dev libcurl4-openssl-dev libssl-dev
      libjansson-dev libyaml-dev libarchive-dev libcmocka-dev libmicrohttpd-dev
      docker.io busybox-static
      iptables valgrind curl procps jq clang libclang-rt-14-dev pandoc man-db
      systemd nodejs prometheus"
[ "${SHIPD_BENCH:-0}" = 1 ] && PKGS="$PKGS docker-compose"

# The export tests' validator: npm ci of the lock file, once.
k8s_deps() {
	d=$(cd "$(dirname "$0")/../tests/k8s" && pwd)
	[ -d "$d/node_modules/kubernetes-models" ] && return 0
	echo "deps: npm ci in tests/k8s"
	(cd "$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
# Debian's nodejs leaves npm to a package of its own; some nodejs builds
# carry it.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -z "$missing" ]; then
	k8s_deps
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root or install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
k8s_deps
