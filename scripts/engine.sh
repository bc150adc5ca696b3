#!/bin/sh
# Make sure a Docker engine answers on $DOCKER_SOCK (default
# /var/run/docker.sock); start dockerd in the background when none does.
set -eu

sock=${DOCKER_SOCK:-/var/run/docker.sock}
log=${DOCKERD_LOG:-/var/log/shipd-dockerd.log}

ping() { curl -fsS --max-time 2 --unix-socket "$sock" http://engine/_ping >/dev/null 2>&1; }

ping && exit 0
if [ "$sock" != /var/run/docker.sock ]; then
	echo "engine: nothing answers on $sock" >&2
	exit 1
fi
# A systemd host starts it the usual way; elsewhere run it ourselves.
if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null; then
	:
else
	echo "engine: starting dockerd (log: $log)"
	setsid dockerd >>"$log" 2>&1 </dev/null &
fi
i=0
until ping; do
	i=$((i + 1))
	if [ $i -gt 120 ]; then
		echo "engine: dockerd did not answer within 60 s; last lines of $log:" >&2
		tail -n 20 "$log" >&2
		exit 1
	fi
	sleep 0.5
done
echo "engine: dockerd is up"
