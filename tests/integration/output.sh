#!/bin/bash
# What scripts and people read, against the real engine: an unknown stack
# is not_found for every command that names one; a stack whose first
# deploy holds the lock before any container exists shows its holder;
# status marks the containers kept for rollback as kept, with their
# revision, and names the image a snapshot rollback pinned by ID by its
# reference; history says where a rollback went; rollback --with-data
# names the safety backup it took; --json goes before or after the
# command.
. "$(dirname "$0")/lib.sh"

typo=$IT_STACK-typo
stack_yaml <<EOF
volumes: [data]
EOF
write() {	# image
	unit db <<EOF
image: $1
volumes: ["data:/data"]
environment: {SVC_NAME: db, SVC_WRITE: /data/log}
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s}
backup: {paths: [/data], keep: 3}
EOF
	unit web <<EOF
image: $1
depends_on: [db]
environment: {SVC_NAME: web}
init: true
health: {test: [CMD, /bin/svc-check], interval: 1s}
stop_grace: 1s
EOF
}

start_shipd

# ---- an unknown stack -------------------------------------------------------

for cmd in status history events down logs backups cancel backup \
    "restore 20260101-000000-000"; do
	# shellcheck disable=SC2086 # the restore line has its ID
	set -- $cmd
	rc=0
	out=$(sctl "$@" --stack "$typo" 2>&1) || rc=$?
	assert_eq "$rc" 1 "$1 of an unknown stack: exit"
	assert_match "$out" "no stack '$typo'" "$1 of an unknown stack"
	rc=0
	out=$(sctl --json "$@" --stack "$typo" 2>/dev/null) || rc=$?
	assert_eq "$rc" 1 "$1 --json of an unknown stack: exit"
	assert_eq "$(echo "$out" | jq -c '[.ok, .error.code]')" \
	    '[false,"not_found"]' "$1 --json of an unknown stack"
done
ok "status, history, events, down, logs, backups, cancel, backup, restore: an unknown stack is not_found (exit 1)"

# ---- the lock holder of a stack without containers -------------------------

# A registry that accepts connections and never answers holds the first
# deploy in its images phase: the stack has the lock, no revision and no
# container yet.
it_port port
# shellcheck disable=SC2016 # perl, not shell, expands these
timeout 120 perl -MIO::Socket::INET -e '
	$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
	    LocalPort => $ARGV[0], Listen => 16, ReuseAddr => 1) or
	    die "listen: $!";
	while (my $c = $s->accept) { push @c, $c }' "$port" &
hang=$!
wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null ||
    fail "the silent registry did not listen"
# A stack of its own (no container of it is ever created), so that the
# test's revisions start at 1.
lk=${IT_STACK:0:56}-lk
mkdir -p "$IT_DIR/lk"
printf 'name: %s\n' "$lk" > "$IT_DIR/lk/stack.yaml"
printf 'image: 127.0.0.1:%s/shipd-test/never:1\n' "$port" > "$IT_DIR/lk/web.yaml"
"$SHIPCTL" -s "$IT_SOCK" deploy "$IT_DIR/lk" > "$IT_DIR/hung.out" 2>&1 &
hung=$!
locked() { sctl --json status --stack "$lk" | jq -e '.lock.kind == "deploy"'; }
wait_until 20 locked || fail "the first deploy never held the lock: $(sctl --json status --stack "$lk" 2>&1)"
assert_eq "$(docker ps -aq --filter "label=io.shipd.stack=$lk" | wc -l)" 0 \
    "containers while the first deploy pulls"
out=$(sctl status --stack "$lk") || fail "status: $out"
assert_match "$out" "^stack $lk: no revision yet; locked by deploy \(uid [0-9]+, pid [0-9]+\) since " \
    "status of a locked stack without containers"
ok "status shows the lock holder of a stack that has no container yet"
rc=0
out=$(sctl deploy "$IT_DIR/lk" 2>&1) || rc=$?
assert_eq "$rc" 6 "a second deploy while the first holds the lock (busy)"
assert_match "$out" "is busy: deploy" "the busy refusal"
kill "$hang"
wait "$hang" 2>/dev/null || true
rc=0
wait "$hung" || rc=$?
assert_eq "$rc" 1 "the deploy whose pull failed"
ok "busy has its own exit status, 6"

# ---- kept containers, pinned images, rollback -------------------------------

write "$IMAGE1"
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy v1"
write "$IMAGE2"
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy v2"
st=$(sctl status --stack "$IT_STACK") || fail "status: $st"
assert_match "$st" "web +kept \(rev 1\) +$IT_STACK-web-1-r1 " "web's kept container in status"
assert_match "$st" "web +1 +$IT_STACK-web-1 " "web's live replica in status"
js=$(sctl status --json --stack "$IT_STACK")
assert_eq "$(echo "$js" | jq -c "[.containers[] | select(.service == \"web\") |
    [.name, .replica, .revision, .kept]]")" \
    "[[\"$IT_STACK-web-1\",1,2,false],[\"$IT_STACK-web-1-r1\",1,1,true]]" \
    "status --json of web's containers"
assert_eq "$(echo "$js" | jq -c '[.services[] | select(.service == "web") | .running]')" \
    "[1]" "the kept container is not counted running"
ok "status marks the container kept for rollback as kept, with its revision"

# Without web's kept container the rollback recreates it from the
# revision's snapshot, pinned to the image ID the snapshot recorded.
docker rm -f "$IT_STACK-web-1-r1" >/dev/null
out=$(sctl rollback --stack "$IT_STACK" --with-data) || fail "rollback --with-data: $out"
safety=$(echo "$out" | sed -n 's/.*safety backup \([0-9-]*\).*/\1/p')
[ -n "$safety" ] || fail "rollback --with-data did not name the safety backup: $out"
assert_eq "$(sctl --json backups --stack "$IT_STACK" | jq -r \
    ".backups[] | select(.id == \"$safety\") | .class")" safety \
    "the backup rollback named"
ok "rollback --with-data names its safety backup ($safety)"
img=$(docker inspect -f '{{.Config.Image}}' "$(cid web)")
assert_match "$img" '^sha256:' "web's recreated container is pinned by ID"
js=$(sctl --json status --stack "$IT_STACK")
assert_eq "$(echo "$js" | jq -r '.containers[] | select(.name | endswith("-web-1")) | .image')" \
    "$IMAGE1" "the pinned container's image in status"
assert_match "$(sctl status --stack "$IT_STACK")" "web +1 +$IT_STACK-web-1 +running +[a-z]* +$IMAGE1 " \
    "the pinned container's image in status (human)"
ok "status names the image reference of a container pinned by a snapshot rollback"

assert_eq "$(sctl history --json --stack "$IT_STACK" | jq -c '[.revisions[] | [.revision, .kind, .to]]')" \
    '[[1,"deploy",null],[2,"deploy",null],[3,"rollback",1]]' "history --json"
assert_match "$(sctl history --stack "$IT_STACK")" "^3\* .* rollback to 1 +committed" \
    "history's rollback row"
ok "history says which revision a rollback went to"

# --with-data's JSON: the backup restored and the safety one, by ID.
write "$IMAGE2"
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy v2 again"
res=$(sctl rollback --with-data --stack "$IT_STACK" --json | tail -n 1)
assert_eq "$(echo "$res" | jq -c '[.ok, (.restored | type), (.safety | type)]')" \
    '[true,"string","string"]' "rollback --with-data --json"
assert_eq "$(sctl --json backups --stack "$IT_STACK" | jq -r \
    ".backups[] | select(.id == $(echo "$res" | jq .safety)) | .class")" safety \
    "the safety backup of the JSON reply"
ok "rollback --with-data --json has restored and safety"

# --json before and after the command, -j too, with the same output.
a=$(sctl --json history --stack "$IT_STACK")
assert_eq "$(sctl history --stack "$IT_STACK" --json)" "$a" "--json after"
assert_eq "$(sctl history -j --stack "$IT_STACK")" "$a" "-j after"
assert_eq "$(echo "$a" | jq -c '.ok')" true "the final line's ok"
ok "--json and -j before or after the command"
