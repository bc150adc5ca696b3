#!/bin/sh
# Build the test images shipd-test/svc:1 and :2 FROM scratch around the
# host's static busybox (no registry is reachable).  Each image carries a
# hash of its recipe; an image whose hash matches is left alone, so running
# this again is cheap.  --force rebuilds anyway.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bb=${BUSYBOX:-/bin/busybox}
repo=shipd-test/svc
versions="1 2"
force=0
[ "${1:-}" = --force ] && force=1

die() {
	echo "images: $*" >&2
	exit 1
}

command -v docker >/dev/null 2>&1 || die "the docker CLI is not installed"
if ! timeout 20 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
then
	die "dockerd is not reachable (${DOCKER_HOST:-unix:///var/run/docker.sock}); start it with 'make engine'"
fi

[ -x "$bb" ] || die "$bb is missing; install busybox-static"
# A dynamic busybox would not run in an image with no libc.
if command -v file >/dev/null 2>&1; then
	file -L "$bb" | grep -q 'statically linked' ||
	    die "$bb is not statically linked; install busybox-static"
elif readelf -l "$bb" 2>/dev/null | grep -q INTERP; then
	die "$bb is not statically linked; install busybox-static"
fi

# The recipe is every input: change any of them and the images rebuild.
recipe=$(cat "$here/build.sh" "$here/Dockerfile" "$here/svc" \
    "$here/svc-check" "$bb" | sha256sum | cut -c1-16)

ctx=
log=
trap 'rm -rf "$ctx" "$log"' EXIT

for v in $versions; do
	tag=$repo:$v
	have=$(docker image inspect -f \
	    '{{index .Config.Labels "io.shipd.test.recipe"}}' "$tag" \
	    2>/dev/null || true)
	if [ "$force" = 0 ] && [ "$have" = "$recipe" ]; then
		continue
	fi
	if [ -z "$ctx" ]; then
		ctx=$(mktemp -d /tmp/shipd-images.XXXXXX)
		log=$(mktemp /tmp/shipd-images-log.XXXXXX)
		cp "$bb" "$ctx/busybox"
		cp "$here/svc" "$here/svc-check" "$here/Dockerfile" "$ctx/"
		chmod 0755 "$ctx/busybox" "$ctx/svc" "$ctx/svc-check"
	fi
	echo "$v" > "$ctx/svc-version"
	echo "images: building $tag"
	if ! DOCKER_BUILDKIT=0 docker build --build-arg "VERSION=$v" \
	    --label "io.shipd.test.recipe=$recipe" -t "$tag" "$ctx" \
	    >"$log" 2>&1; then
		cat "$log" >&2
		die "docker build of $tag failed"
	fi
done

# Images a rebuild untagged are ours by label; prune only those that are
# dangling and unused.
if [ -n "$ctx" ]; then
	docker image prune -f --filter label=io.shipd.test=1 >/dev/null 2>&1 ||
	    true
fi
exit 0
