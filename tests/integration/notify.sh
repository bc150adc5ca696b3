#!/bin/bash
# stack.yaml notify: webhooks against a receiver on loopback
# (tests/tools/hookrecv.py): a deploy's start and success, a failed
# deploy's failure and its rollback, retries after 500s with one stable
# id, a header from shipd's environment that no revision holds, and a
# silent receiver whose timeout does not hold up the deploy.  Bad notify:
# entries are refused at file:line:col.
. "$(dirname "$0")/lib.sh"

RECV_LOG=$IT_DIR/hooks.jsonl
: > "$RECV_LOG"
python3 "$ROOT/tests/tools/hookrecv.py" "$IT_DIR/port" "$RECV_LOG" &
RECV_PID=$!
it_at_exit 'kill "$RECV_PID" 2>/dev/null' 
wait_until 10 test -s "$IT_DIR/port" || fail "receiver did not start"
PORT=$(cat "$IT_DIR/port")
BASE=http://127.0.0.1:$PORT

# hooks PATH EVENT: what PATH got for EVENT, one JSON line per request.
hooks() {
	python3 - "$RECV_LOG" "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] == sys.argv[2] and r["body"]["event"] == sys.argv[3]:
        print(json.dumps(r, sort_keys=True))
PY
}
has_hook() {	# PATH EVENT [REGEX]
	hooks "$1" "$2" | grep -Eq -- "${3:-.}"
}

# ---- validation (stack_yaml writes name: on line 1) -------------------------
stack_yaml <<EOF
notify:
  - url: ftp://example.com/x
    events: [deploy_start, deploy_sideways]
    retries: 11
    headers: {"Bad Name": x, Host: y}
  - events: [rollback]
EOF
unit web <<EOF
image: $IMAGE1
EOF
rc=0
out=$(sctl validate "$IT_UNITS" 2>&1) || rc=$?
[ "$rc" = 2 ] || { echo "$out"; fail "validate exited $rc, want 2"; }
for want in "stack.yaml:3:[0-9]+: notify\[0\].url: a webhook URL starts with http" \
    "stack.yaml:4:[0-9]+: notify\[0\].events\[1\]: unknown event 'deploy_sideways'" \
    "stack.yaml:5:[0-9]+: notify\[0\].retries" \
    "stack.yaml:6:[0-9]+: notify\[0\].headers.Bad Name: not a valid HTTP header name" \
    "stack.yaml:6:[0-9]+: notify\[0\].headers.Host: shipd sets this header itself" \
    "stack.yaml:7:[0-9]+: notify\[1\]: 'url' is required"; do
	echo "$out" | grep -Eq "$want" || { echo "$out"; fail "validate lacks: $want"; }
done
ok "bad notify: entries are refused at file:line:col"

# ---- a deploy that succeeds ---------------------------------------------------
stack_yaml <<EOF
notify:
  - url: $BASE/ok
    events: [deploy_start, deploy_success, deploy_failure, rollback, backup_failure]
    timeout: 2s
    retries: 0
    headers:
      X-Team: ops
      Authorization: {env: NO_HOOK_TOKEN}
  - url: $BASE/fail/2/a
    events: [deploy_success]
    retries: 3
  - url: $BASE/silent
    events: [deploy_start]
    timeout: 12s
    retries: 0
EOF
unit web <<EOF
image: $IMAGE1
init: true
health: {test: [NONE]}
EOF
# Never changed below, so no deploy backs it up; shipctl backup fails.
unit db <<EOF
image: $IMAGE1
init: true
health: {test: [NONE]}
backup: {paths: [/tmp], pre: "echo cannot dump >&2; exit 3"}
EOF
NO_HOOK_TOKEN=s3cr3t-no-hook start_shipd
t0=$(now_ms)
sctl deploy "$IT_UNITS" >/dev/null || fail "deploy failed"
took=$(($(now_ms) - t0))
# The silent receiver holds its request past its 12 s: the deploy did not wait.
assert_lt "$took" 12000 "deploy time (ms) with a silent webhook"
has_hook /silent deploy_start || fail "the silent receiver got no deploy_start"
! grep -q "webhook deploy_start .* failed" "$IT_LOG" ||
    fail "the silent webhook timed out before the deploy returned"
t1=$(now_ms)
sctl status --stack "$IT_STACK" >/dev/null || fail "status failed"
assert_lt "$(($(now_ms) - t1))" 2000 "status (ms) while a webhook hangs"
ok "deploy took ${took} ms with a webhook hanging on a silent receiver"

wait_until 10 has_hook /ok deploy_success || fail "no deploy_success at /ok"
has_hook /ok deploy_start || fail "no deploy_start at /ok"
python3 - "$(hooks /ok deploy_start)" "$(hooks /ok deploy_success)" "$IT_STACK" <<'PY' ||
import json, re, sys
start, succ, stack = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
for r in (start, succ):
    b, h = r["body"], r["headers"]
    assert b["stack"] == stack, b
    assert b["services"] == ["db", "web"], b
    assert re.fullmatch(r"[0-9a-f]{32}", b["id"]), b
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b["time"]), b
    assert b["host"] and b["reason"] is None, b
    assert h["Content-Type"] == "application/json", h
    assert h["X-Shipd-Delivery"] == b["id"], h
    assert h["X-Shipd-Event"] == b["event"], h
    assert h["X-Team"] == "ops", h
    assert h["Authorization"] == "s3cr3t-no-hook", h
assert start["body"]["revision"] == 1 and succ["body"]["revision"] == 1
assert start["body"]["detail"] == {"previous_revision": 0}, start
assert start["body"]["id"] != succ["body"]["id"]
PY
    fail "bodies or headers wrong"
ok "deploy_start and deploy_success bodies and headers as documented"

! grep -rq "s3cr3t-no-hook" "$IT_STATE" || fail "the secret is in shipd's state"
grep -rq "NO_HOOK_TOKEN" "$IT_STATE" || fail "the revision does not name the variable"
ok "a header from shipd's environment is sent, and no revision holds it"

wait_until 10 has_hook /fail/2/a deploy_success '"status": 200' ||
    fail "the failing receiver never got a 200 through"
python3 - "$(hooks /fail/2/a deploy_success)" <<'PY' || fail "retries wrong"
import json, sys
rs = [json.loads(l) for l in sys.argv[1].splitlines()]
assert [r["status"] for r in rs] == [500, 500, 200], rs
assert len({r["body"]["id"] for r in rs}) == 1, rs
assert [r["headers"]["X-Shipd-Attempt"] for r in rs] == ["1", "2", "3"], rs
PY
ok "two 500s retried, the third attempt delivered, one id throughout"

# ---- a deploy that fails and rolls back --------------------------------------
unit web <<EOF
image: $IMAGE1
environment: {SVC_NEVER_HEALTHY: "1"}
init: true
health: {test: [CMD, /bin/svc-check], interval: 500ms}
update: {healthy_deadline: 2s}
EOF
rc=0
sctl deploy "$IT_UNITS" >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "the bad deploy exited $rc, want 1"
wait_until 10 has_hook /ok rollback || fail "no rollback at /ok"
has_hook /ok deploy_failure || fail "no deploy_failure at /ok"
python3 - "$(hooks /ok deploy_failure)" "$(hooks /ok rollback)" <<'PY' ||
import json, sys
f, r = json.loads(sys.argv[1])["body"], json.loads(sys.argv[2])["body"]
assert f["revision"] == 2 and "healthy" in f["reason"], f
assert f["detail"]["rolling_back"] is True, f
assert r["detail"] == {"kind": "automatic", "from": 2, "to": 1, "ok": True}, r
PY
    fail "failure or rollback body wrong"
ok "a failed deploy sent deploy_failure (revision 2) and rollback (2 -> 1)"

# ---- a backup that fails --------------------------------------------------------
rc=0
sctl backup --stack "$IT_STACK" --quiet >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "the failing backup exited $rc, want 1"
wait_until 10 has_hook /ok backup_failure || fail "no backup_failure at /ok"
python3 - "$(hooks /ok backup_failure)" <<'PY' || fail "backup_failure body wrong"
import json, sys
b = json.loads(sys.argv[1])["body"]
assert b["revision"] == 1 and b["services"] == ["db"], b
assert "pre hook failed (exit 3): cannot dump" in b["reason"], b
PY
ok "a failed backup sent backup_failure with the hook's output"

# ---- the silent receiver's attempt ends by its timeout --------------------------
wait_until 20 grep -q "webhook deploy_start .* failed after 1 attempt" "$IT_LOG" ||
    fail "the silent webhook's timeout was never reported"
ok "the silent webhook gave up after its timeout, in the log"

stop_shipd
