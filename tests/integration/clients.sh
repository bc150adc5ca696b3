#!/bin/bash
# Connection limits: uids that are not root open many idle connections;
# each gets at most the per-uid cap, root still gets through past the
# global cap, idle connections are closed after the (shortened) idle
# timeout, and an open `events` stream is not.
. "$(dirname "$0")/lib.sh"

IDLE_MS=8000
PER_UID=32
NUIDS=9		# 9 x 32 > 256, the global cap
# The holders run as other uids: they need a way to the socket.
chmod 0755 "$IT_DIR"

# hold.pl N: open N connections one by one, ping on each and sort the
# answers into held and refused; report; then wait (40 s at most) for
# shipd to close every held one, and report the shortest and longest
# time from a connection's last reply to its close.
cat > "$IT_DIR/hold.pl" <<'EOF'
use strict; use warnings;
use IO::Socket::UNIX; use IO::Select; use Time::HiRes qw(time);
$SIG{PIPE} = 'IGNORE'; $| = 1;
my ($sock, $n) = @ARGV;
my (@held, %since, $refused, $other);
$refused = $other = 0;
for (1 .. $n) {
	my $c = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $sock)
	    or die "connect: $!";
	print $c qq({"v":1,"id":1,"cmd":"ping"}\n);
	my $line = IO::Select->new($c)->can_read(10) ? <$c> : undef;
	if (defined $line && $line =~ /"ok":\s*true/) {
		push @held, $c; $since{fileno $c} = time;
	} elsif (defined $line && $line =~ /"busy"/) {
		$refused++; close $c;
	} else {
		$other++; close $c;
	}
}
print "held ", scalar @held, " refused $refused other $other\n";
my $sel = IO::Select->new(@held);
my ($min, $max, $closed) = (1e9, 0, 0);
my $deadline = time + 40;
while ($sel->count && time < $deadline) {
	for my $c ($sel->can_read(0.5)) {
		my $buf;
		next if sysread($c, $buf, 4096);
		my $t = time - $since{fileno $c};
		$min = $t if $t < $min; $max = $t if $t > $max;
		$closed++; $sel->remove($c); close $c;
	}
}
printf "closed %d min %d max %d\n", $closed, $min * 1000, $max * 1000;
EOF
chmod 0644 "$IT_DIR/hold.pl"

holder() {		# uid n outfile
	setpriv --reuid="$1" --regid=65534 --clear-groups \
	    perl "$IT_DIR/hold.pl" "$IT_SOCK" "$2" > "$3" 2>&1
}

SHIPD_TEST_CTL_IDLE_MS=$IDLE_MS start_shipd --group nogroup

# events of a stack shipd does not know is not_found: one container with
# the stack's label makes it known.
it_run known "$IMAGE1" >/dev/null
"$SHIPCTL" -s "$IT_SOCK" events --stack "$IT_STACK" > "$IT_DIR/events" 2>"$IT_DIR/events.err" &
epid=$!
wait_until 10 grep -q "watching stack" "$IT_DIR/events.err" ||
    fail "events did not subscribe"

hpids=
for i in $(seq 1 $NUIDS); do
	holder $((60000 + i)) 40 "$IT_DIR/hold.$i" &
	hpids="$hpids $!"
done
all_held() {
	for i in $(seq 1 $NUIDS); do
		grep -q '^held' "$IT_DIR/hold.$i" || return 1
	done
}
wait_until 30 all_held || fail "holders did not connect: $(cat "$IT_DIR"/hold.*)"

# At once, while they hold their connections.
out=$(sctl version 2>&1) || fail "root is locked out: $out"
ok "root gets through while $NUIDS uids hold their connections"
extra=$(setpriv --reuid=60100 --regid=65534 --clear-groups \
    perl "$IT_DIR/hold.pl" "$IT_SOCK" 1 | head -n 1)
assert_eq "$extra" "held 0 refused 1 other 0" "a new uid past the global cap"
total=0
for i in $(seq 1 $NUIDS); do
	read -r _ held _ refused _ other < "$IT_DIR/hold.$i"
	assert_eq "$other" 0 "holder $i: answers neither ok nor busy"
	assert_eq $((held + refused)) 40 "holder $i: held and refused"
	[ "$held" -le $PER_UID ] || fail "holder $i holds $held connections"
	total=$((total + held))
done
# 256 in all: the events stream is one of them.
assert_eq "$total" 255 "connections held by uids that are not root"
grep -q "too many clients of uid" "$IT_LOG" || fail "no per-uid refusal logged"
ok "each uid holds at most $PER_UID; the rest is refused at the global cap"

for p in $hpids; do
	wait "$p" || fail "a holder failed: $(cat "$IT_DIR"/hold.*)"
done
for i in $(seq 1 $NUIDS); do
	read -r _ held _ _ _ _ < "$IT_DIR/hold.$i"
	read -r _ closed _ min _ max < <(sed -n 2p "$IT_DIR/hold.$i")
	assert_eq "$closed" "$held" "holder $i: idle connections closed"
	[ "$closed" = 0 ] && continue
	assert_ge "$min" $((IDLE_MS - 500)) "holder $i: closed before the idle timeout"
	assert_lt "$max" $((IDLE_MS * 2 + 5000)) "holder $i: closed long after the idle timeout"
done
ok "idle connections are closed after the idle timeout"

kill -0 "$epid" 2>/dev/null || fail "the events stream was closed: $(cat "$IT_DIR/events.err")"
it_run ev "$IMAGE1" >/dev/null
wait_until 10 grep -q "start" "$IT_DIR/events" || fail "events stream no longer relays"
kill "$epid"
wait "$epid" 2>/dev/null || true
ok "an open events stream outlives the idle timeout"

sctl version >/dev/null || fail "shipd stopped answering"
stop_shipd
