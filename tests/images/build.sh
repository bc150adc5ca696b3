#!/bin/sh
# Build the test images shipd-test/svc:1 and :2 FROM scratch with the
# host's static busybox (no registry is reachable).  Skips the build when
# an image carries the hash of the current recipe.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bb=/bin/busybox
if ! curl -fsS --max-time 2 --unix-socket /var/run/docker.sock \
    http://engine/_ping >/dev/null 2>&1; then
	echo "images: no Docker engine answers on /var/run/docker.sock" >&2
	exit 1
fi
if ! file -L "$bb" 2>/dev/null | grep -q 'statically linked' &&
    ! ldd "$bb" 2>&1 | grep -q 'not a dynamic'; then
	echo "images: $bb is not static; install busybox-static" >&2
	exit 1
fi
hash=$(cat "$here/Dockerfile" "$here/svc" "$here/svc-check" "$bb" |
    sha256sum | cut -c1-16)
ctx=
trap '[ -n "$ctx" ] && rm -rf "$ctx"' EXIT
for v in 1 2; do
	tag=shipd-test/svc:$v
	have=$(docker image inspect -f '{{index .Config.Labels "io.shipd.test.recipe"}}' \
	    "$tag" 2>/dev/null || true)
	[ "$have" = "$hash" ] && continue
	if [ -z "$ctx" ]; then
		ctx=$(mktemp -d)
		cp "$bb" "$here/svc" "$here/svc-check" "$here/Dockerfile" "$ctx/"
		chmod 0755 "$ctx/svc" "$ctx/svc-check"
	fi
	echo "images: building $tag"
	DOCKER_BUILDKIT=0 docker build -q --build-arg VERSION=$v \
	    --label io.shipd.test.recipe="$hash" -t "$tag" "$ctx" >/dev/null 2>&1 ||
	    { echo "images: docker build of $tag failed" >&2; exit 1; }
done
