#!/usr/bin/env bash
# End-to-end: the renewal engine (issue 5) against a real Pebble behind the ACME test double (--ari).
#
#  a. 100 specs issue concurrently (default max_concurrent_orders), each exactly once; chains verify.
#  f. hooks: three certificates with reload_units issued together -> ONE systemctl reload-or-restart; run hooks
#     get CERTKEEPER_* variables; hook output is logged with cert=.
#  c. ARI: a past window + `renew NAME` (not forced) renews with `replaces`; a future window does not renew.
#  d. transient faults (500, 503 + Retry-After, badNonce, lost finalize reply, lost newOrder reply) are absorbed.
#  b. resume: killed between finalize and download (CERTKEEPER_FAULT=after-finalize), the restart continues the order.
#  g. explicit install paths with owner "nobody", group "nogroup" and key mode 0640 (the script runs as root).
#  e. backoff: a failing validation backs off (persisted across restart); --force retries; 429 Retry-After 3600
#     is honoured; on_failure hooks get CERTKEEPER_ERROR.
#
# Exact counts and "nothing more happened" checks come after the event that proves the work was done (the install
# recorded in state.json, a log line) and a quiet period measured by the count itself (`settled`), never a sleep.
#
# Usage: scripts/e2e/renewal.sh WORKDIR      (servers on 127.0.0.x; ports: Pebble 14800/15800, challtestsrv
#        8855/8853, http-01 5802, tls-alpn 5801, double 14843/14880)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

work=${1:?usage: $0 WORKDIR}
install_packages
swift build --product certkeeper 2>&1 | tail -n 1
swift build --product certkeeper-crashing 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)/certkeeper
# The same command line with CERTKEEPER_FAULT crash points (the product has none).
crashing=$(swift build --show-bin-path)/certkeeper-crashing

rm -rf "$work"
mkdir -p "$work"/{etc/certs.d,state,run,bin,hooks}
work=$(cd "$work" && pwd)
export PEBBLE_PORT=14800 PEBBLE_MGMT_PORT=15800 CHALLTESTSRV_PORT=8855 CHALLTESTSRV_DNS_PORT=8853
export PEBBLE_HTTP_PORT=5802 PEBBLE_TLS_PORT=5801
# No random nonce rejections: the double counts every newOrder/finalize POST, so counters equal orders created.
# badNonce handling is covered by an injected fault in (d).
export PEBBLE_WFE_NONCEREJECT=0
export DOUBLE_PORT=14843 DOUBLE_CONTROL_PORT=14880 DOUBLE_FLAGS="--ari"
export RUNTIME_DIRECTORY=$work/run
unset CERTKEEPER_FAULT

daemon_pid=
log=$work/daemon.log
cleanup() {
    set +e
    [[ -n $daemon_pid ]] && stop_pid "$daemon_pid"
    scripts/testenv/acme-double.sh stop "$work/double" >/dev/null 2>&1
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1
}
trap cleanup EXIT
# stop_pid PID: SIGTERM, wait up to 15 s, then SIGKILL; returns 1 when SIGKILL was needed.
stop_pid() {
    local pid=$1 i
    kill "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 1
}

show_context() {
    echo "--- last daemon log lines ($log):"
    tail -n 40 "$log" 2>/dev/null
}

echo "== starting Pebble and the ACME double (--ari)"
scripts/testenv/pebble.sh start "$work/pebble" >"$work/pebble-start.log" 2>&1 || { cat "$work/pebble-start.log" >&2; fail "pebble did not start"; }
# shellcheck disable=SC1091
source "$work/pebble/env"
PEBBLE_DIR=$work/pebble scripts/testenv/acme-double.sh start "$work/double" >/dev/null || fail "double did not start"
# shellcheck disable=SC1091
source "$work/double/env"
ctl=$CERTKEEPER_TEST_DOUBLE_CONTROL

# --- helpers ---------------------------------------------------------------------------------------------------
stat_of() { curl -fsS --max-time 5 "$ctl/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
reset_stats() { curl -fsS --max-time 5 -X POST "$ctl/reset/stats" >/dev/null; }
post_json() { curl -fsS --max-time 5 -X POST -H 'Content-Type: application/json' -d "$2" "$ctl$1" >/dev/null; }
# state_field NAME PATH [DEFAULT]: a field of STATE/certs/NAME/state.json by dotted path, e.g. backoff.failures
# (DEFAULT, or "" when absent: after a success there is no backoff group at all).
state_field() {
    python3 - "$work/state/certs/$1/state.json" "$2" "${3:-}" <<'PY'
import json, sys
try:
    value = json.load(open(sys.argv[1]))
    for key in sys.argv[2].split("."):
        value = value.get(key) if isinstance(value, dict) else None
except FileNotFoundError:
    value = None
print(sys.argv[3] if value is None else value)
PY
}
# seconds_until ISO8601: seconds from now to the given time (negative when past).
seconds_until() { python3 -c 'import sys,datetime,time; print(int(datetime.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")).timestamp()-time.time()))' "$1"; }
serial_of() { openssl x509 -noout -serial -in "$1" | cut -d= -f2; }
# ari_cert_id PEM: RFC 9773 certID = b64url(AKI keyIdentifier) "." b64url(DER serial value bytes).
ari_cert_id() {
    python3 - "$1" <<'PY'
import base64, sys
from cryptography import x509
cert = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
serial = cert.serial_number
raw = serial.to_bytes(max(1, (serial.bit_length() + 7) // 8), "big")
if raw[0] & 0x80:
    raw = b"\x00" + raw
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
print(b64(aki) + "." + b64(raw))
PY
}
installed() { [[ -s $work/state/live/$1/fullchain.pem ]]; }
# committed NAME...: each state.json records its install (issuer.issuedAt set, no order in flight).
committed() {
    python3 - "$work/state/certs" "$@" <<'PY'
import json, os, sys
for name in sys.argv[2:]:
    try:
        state = json.load(open(os.path.join(sys.argv[1], name, "state.json")))
    except (OSError, ValueError):
        sys.exit(1)
    if not (state.get("issuer") or {}).get("issuedAt") or state.get("order"):
        sys.exit(1)
PY
}
# ca_quiet: wait until the double's request count has not changed for 2 s (the daemon is done talking to the CA).
ca_quiet() { settled "the double's request count" 2 90 stat_of requests_total >/dev/null || fail "the daemon kept talking to the CA"; }
count_installed() { local n=0 f; for f in "$work"/state/live/*/fullchain.pem; do [[ -s $f ]] && n=$((n + 1)); done; echo "$n"; }
all_installed() { local n; for n in "$@"; do installed "$n" || return 1; done; }

started_count() { grep -c 'certkeeper .* started: ' "$log" 2>/dev/null || true; }
# daemon_answers: this daemon logged its start line and answers `status` over its control socket ("live": true;
# `status` falls back to reading from disk, with "live": false, when no daemon answers).
daemon_answers() {
    kill -0 "$daemon_pid" 2>/dev/null && (($(started_count) > started_before)) &&
        "$bin" status --json | python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["live"] is True else 1)'
}
start_daemon() {
    started_before=$(started_count)
    "$bin" run --config-dir "$work/etc" --state-dir "$work/state" >>"$log" 2>&1 &
    daemon_pid=$!
    wait_for "the daemon (pid $daemon_pid) to start and answer on its control socket" 60 daemon_answers ||
        fail "daemon did not come up"
}
stop_daemon() {
    if [[ -n $daemon_pid ]]; then
        local pid=$daemon_pid
        daemon_pid=
        stop_pid "$pid" || fail "the daemon (pid $pid) did not exit within 15 s of SIGTERM"
    fi
}
spec_http() { # NAME DOMAIN [extra TOML appended]
    {
        printf 'domains = ["%s"]\n' "$2"
        printf '%s\n' "${3:-}"
        printf '[challenge]\ntype = "http-01"\nlisten = "127.0.0.1:%s"\n' "$PEBBLE_HTTP_PORT"
    } >"$work/etc/certs.d/$1.toml"
}

write_double_config "$work/etc" ops@example.com
# Every certificate without its own window gets one far in the future (no ARI-driven renewal).
post_json /ari/default '{"startOffset": 2592000, "endOffset": 2678400, "retryAfter": 21600}'

# ================================================================================================================
echo "== a. 100 specs issue concurrently, each exactly once"
for i in $(seq 1 100); do spec_http "x$i" "x$i.renew.test"; done
"$bin" check --config-dir "$work/etc" >/dev/null || fail "certkeeper check rejected the generated config"
t0=$(date +%s.%N)
start_daemon
wait_for "100 installed certificates" 480 bash -c "[[ \$(ls $work/state/live/*/fullchain.pem 2>/dev/null | wc -l) -ge 100 ]]" ||
    fail "only $(count_installed) of 100 certificates installed"
t1=$(date +%s.%N)
wall=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
echo "   100 certificates issued in ${wall}s (max_concurrent_orders default)"
check "100 certificates under live/" [ "$(count_installed)" -eq 100 ]
wait_for "the 100 installs recorded in state.json" 60 committed $(seq -f 'x%g' 1 100) || fail "not every install was recorded"
ca_quiet
check "double saw exactly 100 newOrder (got $(stat_of new_order))" [ "$(stat_of new_order)" -eq 100 ]
check "double saw exactly 100 finalize (got $(stat_of finalize))" [ "$(stat_of finalize)" -eq 100 ]
verify_all() {
    local i f
    for i in $(seq 1 100); do
        f=$work/state/live/x$i/fullchain.pem
        openssl verify -CAfile "$CERTKEEPER_TEST_PEBBLE_ROOTS" -untrusted "$f" "$f" >/dev/null 2>&1 || { echo "x$i does not verify" >&2; return 1; }
        openssl x509 -noout -ext subjectAltName -in "$f" | grep -q "DNS:x$i.renew.test$" || { echo "x$i has wrong SAN" >&2; return 1; }
    done
}
check "all 100 chains verify against Pebble's roots and carry their own name" verify_all
max_conc=$(grep -c 'ordering:' "$log" || true)
check "100 'ordering' log lines (one per certificate)" [ "$max_conc" -eq 100 ]
# The orders polled (Task.sleep) and retried: all of it on the event loops, none on libdispatch's worker pool.
threads=$(dispatch_threads "$daemon_pid")
check "no libdispatch thread in the daemon after 100 orders (found: ${threads:-none})" [ -z "$threads" ]

# ================================================================================================================
echo "== f. hooks: three certificates with reload_units issued together, run hooks, output logged"
cat >"$work/bin/systemctl" <<SH
#!/bin/sh
echo "\$*" >>"$work/systemctl.calls"
SH
chmod 755 "$work/bin/systemctl"
cat >"$work/hooks/deploy" <<SH
#!/bin/sh
echo "deploy-hook-stdout for \$CERTKEEPER_NAME"
echo "deploy-hook-stderr for \$CERTKEEPER_NAME" >&2
printf '%s|%s|%s|%s\n' "\$CERTKEEPER_NAME" "\$CERTKEEPER_DOMAINS" "\$CERTKEEPER_FULLCHAIN" "\$CERTKEEPER_KEY" >>"$work/hooks/deploy.calls"
SH
cat >"$work/hooks/failure" <<SH
#!/bin/sh
echo "failure-hook-stderr for \$CERTKEEPER_NAME" >&2
printf '%s|%s\n' "\$CERTKEEPER_NAME" "\$CERTKEEPER_ERROR" >>"$work/hooks/failure.calls"
SH
chmod 755 "$work/hooks/deploy" "$work/hooks/failure"
# The daemon must find the fake systemctl first in PATH: restart it with that PATH.
stop_daemon
export PATH=$work/bin:$PATH
hooks_toml="[hooks]
reload_units = [\"demo.service\"]
run = [[\"$work/hooks/deploy\"]]"
for n in h1 h2 h3; do spec_http "$n" "$n.renew.test" "$hooks_toml"; done
start_daemon
wait_for "h1, h2, h3 installed" 120 all_installed h1 h2 h3 || fail "hook certificates not installed"
wait_for "the systemctl call" 20 test -s "$work/systemctl.calls" || fail "systemctl was never called"
deploy_calls() { [[ $(wc -l <"$work/hooks/deploy.calls") -ge 3 ]]; }
wait_for "the three deploy hooks" 20 deploy_calls || fail "the deploy hook did not run for h1, h2 and h3"
# The batch is done when its reload journal is gone; then the call count must stay put.
wait_for "the reload journal to be cleared" 20 bash -c "! test -e '$work/state/pending-reloads.json'" ||
    fail "pending-reloads.json was never cleared"
systemctl_count() { wc -l <"$work/systemctl.calls"; }
systemctl_calls=$(settled "the systemctl call count" 2 30 systemctl_count) || fail "the systemctl call count kept changing"
check "exactly one systemctl call for the batch (calls: $(tr '\n' ';' <"$work/systemctl.calls"))" \
    [ "$systemctl_calls" -eq 1 ]
check "the call is 'reload-or-restart demo.service'" grep -qx 'reload-or-restart demo.service' "$work/systemctl.calls"
check "deploy hook ran once per certificate" [ "$(wc -l <"$work/hooks/deploy.calls")" -eq 3 ]
check "deploy hook got CERTKEEPER_NAME/DOMAINS/FULLCHAIN/KEY" \
    grep -qx "h2|h2.renew.test|$work/state/live/h2/fullchain.pem|$work/state/live/h2/privkey.pem" "$work/hooks/deploy.calls"
check "deploy hook stdout in the daemon log with cert=" grep -q 'deploy-hook-stdout for h1.*cert=h1' "$log"
check "deploy hook stderr in the daemon log with cert=" grep -q 'deploy-hook-stderr for h3.*cert=h3' "$log"

# ================================================================================================================
echo "== c. ARI: a past window renews on a non-forced 'renew' with 'replaces'; a future window does not"
spec_http ari-past ari-past.renew.test
spec_http ari-future ari-future.renew.test
"$bin" reload >/dev/null || fail "reload failed"
wait_for "ari-past and ari-future installed" 120 all_installed ari-past ari-future || fail "ARI certificates not installed"
wait_for "their installs recorded" 30 committed ari-past ari-future || fail "the ARI installs were not recorded"
ca_quiet
past_id=$(ari_cert_id "$work/state/live/ari-past/fullchain.pem")
future_id=$(ari_cert_id "$work/state/live/ari-future/fullchain.pem")
past_serial=$(serial_of "$work/state/live/ari-past/fullchain.pem")
future_serial=$(serial_of "$work/state/live/ari-future/fullchain.pem")
echo "   ari-past certID $past_id"
post_json /ari "{\"certID\": \"$past_id\", \"startOffset\": -7200, \"endOffset\": -60, \"retryAfter\": 21600}"
post_json /ari "{\"certID\": \"$future_id\", \"startOffset\": 5184000, \"endOffset\": 5270400, \"retryAfter\": 21600}"
reset_stats
"$bin" renew ari-future >/dev/null || fail "renew ari-future was refused"
"$bin" renew ari-past >/dev/null || fail "renew ari-past was refused"
renewed() { [[ $(serial_of "$work/state/live/ari-past/fullchain.pem") != "$past_serial" ]]; }
wait_for "ari-past renewed" 60 renewed || fail "ari-past was not renewed after a past ARI window + renew"
wait_for "the renewal recorded" 30 committed ari-past || fail "ari-past's renewal was not recorded"
ca_quiet
ari_requests=$(curl -fsS "$ctl/ari/requests")
check "renewalInfo fetched for ari-past's certID" grep -qF "\"$past_id\"" <<<"$ari_requests"
check "renewalInfo fetched for ari-future's certID" grep -qF "\"$future_id\"" <<<"$ari_requests"
check "exactly one newOrder (ari-past) after the two non-forced renews (got $(stat_of new_order))" [ "$(stat_of new_order)" -eq 1 ]
check "newOrder carried replaces = ari-past's certID" grep -qF "\"$past_id\"" <<<"$(curl -fsS "$ctl/replaces")"
check "ari-future keeps its certificate" [ "$(serial_of "$work/state/live/ari-future/fullchain.pem")" = "$future_serial" ]
check "ari-past's new chain verifies" openssl verify -CAfile "$CERTKEEPER_TEST_PEBBLE_ROOTS" \
    -untrusted "$work/state/live/ari-past/fullchain.pem" "$work/state/live/ari-past/fullchain.pem"

# ================================================================================================================
echo "== d. transient faults absorbed at the request level"
reset_stats
curl -fsS -X DELETE "$ctl/faults" >/dev/null
post_json /faults '{"path_contains": "newOrder", "kind": "500", "count": 1}'
post_json /faults '{"path_contains": "finalize", "kind": "503-retry-after", "retryAfter": 1, "count": 1}'
post_json /faults '{"path_contains": "finalize", "kind": "badNonce", "count": 1}'
post_json /faults '{"path_contains": "finalize", "kind": "drop", "count": 1}'
spec_http faulty faulty.renew.test
"$bin" reload >/dev/null || fail "reload failed"
wait_for "faulty installed" 120 installed faulty || fail "faulty was not issued despite only transient faults"
wait_for "faulty's install recorded" 30 committed faulty || fail "faulty's install was not recorded"
ca_quiet
check "all four injected faults were hit (faults_injected=$(stat_of faults_injected))" [ "$(stat_of faults_injected)" -eq 4 ]
check "no injected fault left pending" [ "$(curl -fsS "$ctl/faults")" = "[]" ]
check "faulty: state failureCount 0" [ "$(state_field faulty backoff.failures 0)" = "0" ]
check "faulty: no order left in flight" [ -z "$(state_field faulty order.url)" ]
check "the lost finalize reply was recovered by polling the known order" \
    grep -qE 'finalize failed .* is already (processing|valid); polling it.*cert=faulty' "$log"
check "finalize was not resent after the lost reply (3 POSTs: 503, badNonce, dropped; got $(stat_of finalize))" \
    [ "$(stat_of finalize)" -eq 3 ]
check "faulty: no renewal-failed event logged" bash -c "! grep -q 'renewal failed.*cert=faulty' '$log'"

reset_stats
post_json /faults '{"path_contains": "newOrder", "kind": "drop", "count": 1}'
spec_http lostorder lostorder.renew.test
"$bin" reload >/dev/null || fail "reload failed"
wait_for "lostorder installed" 120 installed lostorder || fail "lostorder was not issued after a lost newOrder reply"
wait_for "lostorder's install recorded" 30 committed lostorder || fail "lostorder's install was not recorded"
ca_quiet
check "the lost newOrder reply was injected" [ "$(stat_of faults_injected)" -eq 1 ]
check "lostorder: one certificate installed (one leaf in fullchain)" \
    [ "$(openssl crl2pkcs7 -nocrl -certfile "$work/state/live/lostorder/fullchain.pem" | openssl pkcs7 -print_certs -noout | grep -c 'subject=.*lostorder' || true)" -eq 1 ]
check "lostorder: one finalize (got $(stat_of finalize))" [ "$(stat_of finalize)" -eq 1 ]
check "lostorder: state failureCount 0" [ "$(state_field lostorder backoff.failures 0)" = "0" ]

# ================================================================================================================
echo "== g. explicit install paths with owner nobody, group nogroup, key mode 0640"
[[ $(id -u) -eq 0 ]] || fail "this scenario runs as root (it installs files owned by nobody:nogroup)"
nobody_uid=$(id -u nobody) && nogroup_gid=$(getent group nogroup | cut -d: -f3) || fail "no user nobody or group nogroup"
owned=$work/installed/owned
spec_http owned owned.renew.test "[install]
fullchain = \"$owned/fullchain.pem\"
key = \"$owned/privkey.pem\"
cert = \"$owned/cert.pem\"
chain = \"$owned/chain.pem\"
owner = \"nobody\"
group = \"nogroup\"
mode = \"0640\""
"$bin" reload >/dev/null || fail "reload failed"
wait_for "owned installed" 120 test -s "$owned/fullchain.pem" || fail "owned was not installed at its explicit paths"
wait_for "owned's install recorded" 30 committed owned || fail "owned's install was not recorded"
owned_modes() {
    local f want
    for f in privkey cert chain fullchain; do
        want="$nobody_uid:$nogroup_gid 644 regular file"
        [[ $f == privkey ]] && want="$nobody_uid:$nogroup_gid 640 regular file"
        [[ $(stat -c '%u:%g %a %F' "$owned/$f.pem") == "$want" ]] || {
            echo "     $owned/$f.pem: $(stat -c '%U:%G (%u:%g) %a %F' "$owned/$f.pem"), expected $want" >&2
            return 1
        }
    done
}
check "owned: key nobody:nogroup 0640, cert, chain and fullchain nobody:nogroup 0644 (uid $nobody_uid, gid $nogroup_gid)" owned_modes
check "owned: the installed key belongs to the installed certificate" \
    [ "$(openssl x509 -noout -pubkey -in "$owned/cert.pem" | openssl sha256)" = "$(openssl pkey -pubout -in "$owned/privkey.pem" | openssl sha256)" ]
check "owned: the chain verifies" openssl verify -CAfile "$CERTKEEPER_TEST_PEBBLE_ROOTS" -untrusted "$owned/fullchain.pem" "$owned/fullchain.pem"

# ================================================================================================================
echo "== b. resume: killed between finalize and download, the restart continues the order"
stop_daemon
reset_stats
spec_http resume resume.renew.test
CERTKEEPER_FAULT=after-finalize "$crashing" run --config-dir "$work/etc" --state-dir "$work/state" >>"$log" 2>&1 &
daemon_pid=$!
wait_for "the daemon to die at after-finalize" 120 bash -c "! kill -0 $daemon_pid" || fail "the daemon did not reach after-finalize"
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=
check "the daemon exited 137 at the fault point (rc=$rc)" [ "$rc" -eq 137 ]
check "nothing installed for resume yet" bash -c "! test -s '$work/state/live/resume/fullchain.pem'"
check "the order URL is persisted" [ -n "$(state_field resume order.url)" ]
order_url=$(state_field resume order.url)
start_daemon
wait_for "resume installed" 120 installed resume || fail "resume was not installed after the restart"
wait_for "resume's install recorded" 30 committed resume || fail "resume's install was not recorded"
ca_quiet
check "the restart logged 'continuing order' for that order" grep -qF "continuing order $order_url" "$log"
check "newOrder stays 1 (got $(stat_of new_order))" [ "$(stat_of new_order)" -eq 1 ]
check "finalize stays 1 (got $(stat_of finalize))" [ "$(stat_of finalize)" -eq 1 ]
check "resume's chain verifies" openssl verify -CAfile "$CERTKEEPER_TEST_PEBBLE_ROOTS" \
    -untrusted "$work/state/live/resume/fullchain.pem" "$work/state/live/resume/fullchain.pem"

# ================================================================================================================
echo "== e. backoff: persisted across restart, --force retries, 429 Retry-After honoured, on_failure hook"
curl -fsS -X POST -d '{"host":"broken.renew.test","addresses":["127.0.0.9"]}' "$CERTKEEPER_TEST_CHALLTESTSRV/add-a" >/dev/null
spec_http broken broken.renew.test "[hooks]
on_failure = [[\"$work/hooks/failure\"]]"
reset_stats
"$bin" reload >/dev/null || fail "reload failed"
failed_once() { [[ $(state_field broken backoff.failures) == 1 ]]; }
wait_for "broken to fail once" 120 failed_once || fail "broken did not record a failure"
next=$(state_field broken backoff.retryAt)
delay=$(seconds_until "$next")
echo "   nextAttempt $next (in ${delay}s)"
check "failureCount 1, nextAttempt about a minute later (${delay}s)" [ "$delay" -ge 40 -a "$delay" -le 75 ]
check "lastErrorType is an ACME problem ($(state_field broken backoff.lastErrorType))" \
    grep -q '^urn:ietf:params:acme:error:' <<<"$(state_field broken backoff.lastErrorType)"
status_json=$("$bin" status --json)
broken_status() {
    python3 - "$status_json" "$(state_field broken backoff.lastErrorType)" <<'PY'
import json, sys
row = [c for c in json.loads(sys.argv[1])["certificates"] if c["name"] == "broken"][0]
assert row["failureCount"] == 1, row
# The problem type (short form, e.g. "connection") and Pebble's detail are in lastError.
ptype = sys.argv[2].rsplit(":", 1)[-1]
assert ptype and (ptype + ":") in (row.get("lastError") or ""), (ptype, row)
assert "broken.renew.test" in row["lastError"], row
assert row.get("backoffUntil"), row
print("   status: lastError =", row["lastError"][:150], "| backoffUntil =", row["backoffUntil"])
PY
}
check "status --json shows lastError with the problem type and backoffUntil" broken_status
check "on_failure hook got CERTKEEPER_ERROR" grep -q '^broken|.*validation of broken.renew.test failed' "$work/hooks/failure.calls"
check "failure hook stderr in the daemon log with cert=" grep -q 'failure-hook-stderr for broken.*cert=broken' "$log"
failure_logged() {
    grep 'renewal failed' "$log" | grep 'cert=broken' | grep 'message_id=13123b71feef45199ce11659a47a3efe' |
        grep -q 'problem_type=urn:ietf:params:acme:error:'
}
check "the failure is logged with cert=, message_id and problem_type" failure_logged

stop_daemon
reset_stats
start_daemon
# The event that proves the restarted daemon decided about broken: its scheduler (live status) plans the next attempt
# at the persisted nextAttempt, nothing in flight. Then the newOrder count must stay put (a quiet period, not a sleep).
scheduled_at_backoff() {
    "$bin" status --json | python3 -c '
import datetime, json, sys
report = json.load(sys.stdin)
row = [c for c in report["certificates"] if c["name"] == "broken"][0]
at = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
ok = report["live"] and not row["inFlight"] and row["nextAction"] == "retry" and row.get("nextActionAt") \
    and abs((at(row["nextActionAt"]) - at(sys.argv[1])).total_seconds()) < 2
sys.exit(0 if ok else 1)' "$(state_field broken backoff.retryAt)"
}
wait_for "the restarted daemon to schedule broken at its nextAttempt" 30 scheduled_at_backoff ||
    fail "after the restart, broken is not scheduled at its persisted nextAttempt ($(state_field broken backoff.retryAt))"
new_orders=$(settled "the newOrder count" 3 30 stat_of new_order) || fail "the newOrder count kept changing"
check "no retry before nextAttempt after a restart (new_order $new_orders)" [ "$new_orders" -eq 0 ]
check "failureCount still 1" [ "$(state_field broken backoff.failures)" = "1" ]
"$bin" renew broken --force >/dev/null || fail "renew --force refused"
failed_twice() { [[ $(state_field broken backoff.failures) == 2 ]]; }
wait_for "the forced retry" 60 failed_twice || fail "renew --force did not retry"
check "renew --force retried at once (new_order $(stat_of new_order))" [ "$(stat_of new_order)" -eq 1 ]

post_json /faults '{"path_contains": "newOrder", "kind": "429-rate-limited", "retryAfter": 3600, "count": 1}'
"$bin" renew broken --force >/dev/null || fail "renew --force refused"
failed_thrice() { [[ $(state_field broken backoff.failures) == 3 ]]; }
wait_for "the rate-limited attempt" 60 failed_thrice || fail "the 429 attempt was not recorded"
delay=$(seconds_until "$(state_field broken backoff.retryAt)")
check "rateLimited: lastErrorType rateLimited ($(state_field broken backoff.lastErrorType))" \
    [ "$(state_field broken backoff.lastErrorType)" = "urn:ietf:params:acme:error:rateLimited" ]
check "rateLimited with Retry-After 3600: nextAttempt >= now+3600 (in ${delay}s)" [ "$delay" -ge 3590 ]

echo "renewal e2e: all checks passed (100 certificates in ${wall}s)"
