#!/bin/sh
# Make sure a Docker engine answers on $DOCKER_SOCK (default
# /var/run/docker.sock); start dockerd in the background when none does.
set -eu

sock=${DOCKER_SOCK:-/var/run/docker.sock}
log=${DOCKERD_LOG:-/var/log/shipd-dockerd.log}

ping() { curl -fsS --max-time 2 --unix-socket "$sock" http://engine/_ping >/dev/null 2>&1; }

start() {
	# A systemd host starts it the usual way; elsewhere run it ourselves.
	if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null; then
		return
	fi
	echo "engine: starting dockerd (log: $log)"
	setsid dockerd >>"$log" 2>&1 </dev/null &
}

# Poll with a deadline: 0 once it answers, 1 if it died or timed out.
wait_up() {
	i=0
	until ping; do
		i=$((i + 1))
		[ $i -gt 120 ] && return 1
		# no point waiting out the deadline for a dockerd that died
		[ $i -gt 10 ] && ! pgrep -x dockerd >/dev/null && return 1
		sleep 0.5
	done
}

ping && exit 0
if [ "$sock" != /var/run/docker.sock ]; then
	echo "engine: nothing answers on $sock" >&2
	exit 1
fi
start
wait_up && { echo "engine: dockerd is up"; exit 0; }
# dockerd 20.10 panics at start (libnetwork reservePools) when its network
# store was left inconsistent by an unclean stop; the store only holds
# networks, which shipd recreates on the next deploy.
if grep -q reservePools "$log" 2>/dev/null &&
    [ -f /var/lib/docker/network/files/local-kv.db ]; then
	echo "engine: dockerd's network store is damaged; moving it aside"
	mv /var/lib/docker/network/files/local-kv.db \
	    "/var/lib/docker/network/files/local-kv.db.broken.$(date +%s)"
	start
	wait_up && { echo "engine: dockerd is up"; exit 0; }
fi
echo "engine: dockerd did not answer within 60 s; last lines of $log:" >&2
tail -n 20 "$log" >&2
exit 1
