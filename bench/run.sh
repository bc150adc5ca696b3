#!/bin/sh
# make bench: the side-by-side benchmark of bench/README.md.  Run from the
# repository root after `make all images`; installs docker-compose when it
# is missing, then hands over to bench/bench.py.
#   BENCH_RUNS=N (default 5)  BENCH_QUICK=1 (one run)
#   BENCH_MODES=compose,shipd,noprobe  BENCH_STACKS=chain,fan,web,scale
set -eu

cd "$(dirname "$0")/.."

if ! command -v python3 >/dev/null 2>&1; then
	echo "bench: python3 is needed (apt-get install python3)" >&2
	exit 1
fi
case ",${BENCH_MODES:-compose}," in
*,compose,*)
	if ! command -v docker-compose >/dev/null 2>&1; then
		if [ "$(id -u)" != 0 ]; then
			echo "bench: docker-compose is missing" \
			    "(apt-get install docker-compose)" >&2
			exit 1
		fi
		echo "bench: installing docker-compose"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q >/dev/null
		apt-get install -y -q --no-install-recommends docker-compose >/dev/null
	fi
	;;
esac
sock=${DOCKER_SOCK:-/var/run/docker.sock}
if ! curl -fsS --max-time 2 --unix-socket "$sock" http://engine/_ping \
    >/dev/null 2>&1; then
	echo "bench: no engine answers on $sock (make engine)" >&2
	exit 1
fi
# Keep bench/ free of __pycache__.
export PYTHONDONTWRITEBYTECODE=1
exec python3 bench/bench.py "$@"
