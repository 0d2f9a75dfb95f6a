#!/usr/bin/env bash
# End-to-end: what an operator relies on in a running daemon (issue 11), against Pebble (port block 2) behind the
# ACME test double (--profiles tlsserver,shortlived):
#
#  a. max_concurrent_orders = 3 with 8 certificates due at once: the most orders in flight at the CA at any time
#     (the double's /orders, newOrder 201 to certificate download) is exactly 3, never more.
#  b. profiles: a spec with profile = "shortlived" sends it in newOrder; an unknown profile is refused by the reload
#     (FILE:LINE:COLUMN, the offered profiles named) and never reaches the CA; a good spec edited to an unknown
#     profile keeps its last good version.
#  c. reload: a good spec that breaks keeps its last good version (still listed, renewed with its old names) and the
#     error is logged as FILE:LINE:COLUMN; a broken certkeeper.toml keeps the whole previous configuration (a spec
#     whose file was removed is still renewed, a new one does not start) until it is fixed.
#  d. control socket: root is served; user nobody is refused by the socket's mode and, with the socket opened to
#     everyone, by the daemon's own peer check (answer, exit status, log line, nothing done); a second daemon run as
#     user daemon serves that user and root and refuses nobody.
#
# Usage: scripts/e2e/operations.sh WORKDIR   (root; Pebble block 2: 14200/15200, challtestsrv 8255/8253, http-01 5202,
#        tls-alpn 5201; the double on 14210, control 14211; sockets under a /tmp/certkeeper-ops.* directory)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

work=${1:?usage: $0 WORKDIR}
[[ $(id -u) -eq 0 ]] || { echo "operations.sh plays root, nobody and a service user: run it as root" >&2; exit 1; }
install_packages
swift build --product certkeeper 2>&1 | tail -n 1

rm -rf "$work"
mkdir -p "$work"/{etc/certs.d,state}
work=$(cd "$work" && pwd)
# Users other than root must reach the sockets and run the binary: a directory of its own, open to everyone.
pub=$(mktemp -d /tmp/certkeeper-ops.XXXXXX)
chmod 0755 "$pub"
mkdir -m 0755 "$pub/run"
cp "$(swift build --show-bin-path)/certkeeper" "$pub/certkeeper"
chmod 0755 "$pub/certkeeper"
bin=$pub/certkeeper
sock=$pub/run/control.sock
export RUNTIME_DIRECTORY=$pub/run
export PEBBLE_WFE_NONCEREJECT=0 # exact newOrder counts
export DOUBLE_PORT=14210 DOUBLE_CONTROL_PORT=14211 DOUBLE_FLAGS="--profiles tlsserver,shortlived"

log=$work/daemon.log
svc_log=$pub/svc/daemon.log
daemon_pid=
svc_pid=
cleanup() {
    set +e
    stop_pid "$daemon_pid"
    stop_pid "$svc_pid"
    scripts/testenv/acme-double.sh stop "$work/double" >/dev/null 2>&1
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1
    rm -rf "$pub"
}
trap cleanup EXIT
show_context() {
    echo "--- daemon log (last 30 lines of $log)"
    tail -n 30 "$log" 2>/dev/null
    if [[ -s $svc_log ]]; then
        echo "--- service-user daemon log (last 10 lines)"
        tail -n 10 "$svc_log"
    fi
}

start_pebble_block 2 "$work/pebble" "$work/pebble-start.log"
PEBBLE_DIR=$work/pebble scripts/testenv/acme-double.sh start "$work/double" >/dev/null ||
    fail "the double did not start: $(tail -n 5 "$work/double/double.stderr" 2>/dev/null)"
# shellcheck disable=SC1091
source "$work/double/env"
ctl=$CERTKEEPER_TEST_DOUBLE_CONTROL

# --- helpers ---------------------------------------------------------------------------------------------------
stats() { curl -fsS --max-time 5 "$ctl/stats"; }
stat_of() { stats | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
control_get() { curl -fsS --max-time 5 "$ctl$1"; }
post_json() { curl -fsS --max-time 5 -X POST -H 'Content-Type: application/json' -d "$2" "$ctl$1" >/dev/null; }
# ck ARGS...: a client command against this daemon's socket, bounded; status never falls back to the disk
# (--config-dir /nonexistent), so only the daemon can answer it.
ck() { timeout 20 "$bin" "$@" --socket "$sock"; }
ck_status() { timeout 20 "$bin" status --json --socket "$sock" --config-dir /nonexistent; }
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
as_daemon_user() { setpriv --reuid=daemon --regid=daemon --clear-groups -- "$@"; }
installed() { [[ -s $work/state/live/$1/fullchain.pem ]]; }
all_installed() { local n; for n in "$@"; do installed "$n" || return 1; done; }
serial_of() { openssl x509 -noout -serial -in "$work/state/live/$1/cert.pem" | cut -d= -f2; }
sans_of() { openssl x509 -noout -ext subjectAltName -in "$work/state/live/$1/cert.pem" | tail -n +2 | tr -d ' '; }
started_count() { grep -c 'certkeeper .* started: ' "$log" 2>/dev/null || true; }
count_in_log() { grep -c -- "$1" "$log" 2>/dev/null || true; }
# status_has JQ-LIKE-PYTHON: evaluates a Python expression over the daemon's status (s) and the names listed (names).
status_has() {
    local json
    json=$(ck_status) || return 1
    python3 -c '
import json, sys
s = json.loads(sys.argv[1]); names = sorted(c["name"] for c in s["certificates"])
ok = s["live"] and eval(sys.argv[2])
if not ok: print("status:", names, "rejected:", s["rejectedSpecs"], file=sys.stderr)
sys.exit(0 if ok else 1)' "$json" "$1"
}
# renewed NAME OLD_SERIAL: a new certificate is installed for NAME.
renewed() { installed "$1" && [[ $(serial_of "$1") != "$2" ]]; }
# spec NAME DOMAIN [LINE...]: an http-01 spec on the built-in responder; LINEs go after `domains` (line 2 on).
spec() {
    local name=$1 domain=$2
    shift 2
    {
        printf 'domains = ["%s"]\n' "$domain"
        local line
        for line in "$@"; do printf '%s\n' "$line"; done
        printf '[challenge]\ntype = "http-01"\nlisten = "127.0.0.1:%s"\n' "$PEBBLE_HTTP_PORT"
    } >"$work/etc/certs.d/$name.toml"
}
main_toml() { # main_toml [EXTRA LINE in [defaults]]
    cat >"$work/etc/certkeeper.toml" <<TOML
[defaults]
ca = "double"
contact = "ops@example.com"
key = "ecdsa-p256"
max_concurrent_orders = 3
${1:-}
[ca.double]
directory = "$CERTKEEPER_TEST_DOUBLE_DIRECTORY"
trust_roots = "$CERTKEEPER_TEST_DOUBLE_TLS_ROOTS"
TOML
}
# reload_expect_fail OUT: `certkeeper reload` must exit 1 (the daemon answered "reload failed"); its stderr in OUT.
reload_expect_fail() {
    local rc=0
    ck reload >/dev/null 2>"$1" || rc=$?
    [[ $rc -eq 1 ]] || { echo "reload exited $rc: $(cat "$1")" >&2; return 1; }
}

# ================================================================================================================
echo "== a. max_concurrent_orders = 3, 8 certificates due at once: at most 3 orders in flight at the CA, and 3 reached"
main_toml
for i in $(seq 1 8); do spec "c$i" "c$i.ops.test"; done
"$bin" check --config-dir "$work/etc" >/dev/null || fail "certkeeper check rejected the generated config"
# The first three finalize requests get 503 + Retry-After: 1 (absorbed inside the request), so the first three
# orders stay open for at least a second each and overlap on a loaded machine too.
post_json /faults '{"path_contains": "finalize", "kind": "503-retry-after", "retryAfter": 1, "count": 3}'
"$bin" run --config-dir "$work/etc" --state-dir "$work/state" >>"$log" 2>&1 &
daemon_pid=$!
daemon_up() { (($(started_count) > 0)) && ck_status >/dev/null; }
check "the daemon starts (its start line, its socket answers status)" wait_for "the daemon" 120 daemon_up
check "the 8 certificates are installed" wait_for "8 certificates" 240 all_installed c1 c2 c3 c4 c5 c6 c7 c8
orders_closed() { [[ $(stat_of orders_closed) -ge 8 ]]; }
check "the double saw 8 orders closed by their certificate download" wait_for "8 closed orders" 20 orders_closed
control_get /orders >"$work/orders.json"
stats >"$work/stats-a.json"
peak=$(stat_of orders_in_flight_peak)
echo "   orders in flight at the CA: peak $peak (max_concurrent_orders = 3)"
check "orders in flight never above 3 (double's peak $peak)" [ "$peak" -le 3 ]
check "orders in flight reached 3 (double's peak $peak)" [ "$peak" -eq 3 ]
# The same from the recorded intervals (an order counts from newOrder's 201 to its download).
orders_from_log() {
    python3 - "$work/orders.json" <<'PY'
import json, sys
orders = json.load(open(sys.argv[1]))
events = sorted([(o["opened"], 1) for o in orders] + [(o["closed"], -1) for o in orders])
peak = cur = 0
for _, step in events:
    cur += step
    peak = max(peak, cur)
assert len(orders) == 8 and all(o["end"] == "certificate" for o in orders), orders
assert peak == 3, f"peak from /orders is {peak}"
print(f"   /orders: 8 orders, each closed by its download; peak {peak}")
PY
}
check "/orders: 8 orders, peak of the open intervals 3" orders_from_log
check "exactly 8 newOrder (got $(stat_of new_order))" [ "$(stat_of new_order)" -eq 8 ]
check "the three 503s on finalize were injected and absorbed" [ "$(stat_of faults_injected)" -eq 3 ]
check "8 'ordering' log lines" [ "$(count_in_log 'ordering:')" -eq 8 ]

# ================================================================================================================
echo "== b. profiles: a known profile is sent in newOrder; an unknown one is refused by the reload, never sent"
spec pshort pshort.ops.test 'profile = "shortlived"'
check "reload with pshort (profile shortlived) succeeds" ck reload
check "pshort is installed" wait_for "pshort" 120 installed pshort
check "newOrder carried profile shortlived, the 8 others none (GET /profiles: $(control_get /profiles | tr -d ' \n'))" \
    [ "$(control_get /profiles | tr -d ' \n')" = '["shortlived"]' ]
orders_before=$(stat_of new_order)
spec pbad pbad.ops.test 'profile = "nonesuch"'
check "reload with pbad (profile nonesuch) fails" reload_expect_fail "$work/reload-pbad.err"
profile_error="$work/etc/certs.d/pbad.toml:2:11: profile 'nonesuch' is not offered by CA 'double' ($CERTKEEPER_TEST_DOUBLE_DIRECTORY); it offers: shortlived, tlsserver"
check "the reload's answer names pbad.toml:2:11, the profile and the offered ones" grep -qF "$profile_error" "$work/reload-pbad.err"
check "the daemon logs it as 'reload rejected: FILE:LINE:COLUMN: ...'" grep -qF "reload rejected: $profile_error" "$log"
check "the reload's answer says pbad did not start" grep -q 'not started: pbad' "$work/reload-pbad.err"
renew_refused() { ! ck renew pbad --force 2>"$work/renew-pbad.err" && grep -q "no certificate named 'pbad' is configured" "$work/renew-pbad.err"; }
check "pbad is not scheduled: 'renew pbad' is refused" renew_refused
check "status lists pbad among the rejected specs, not among the certificates" \
    status_has '"pbad" in s["rejectedSpecs"] and "pbad" not in names'
check "no newOrder was sent for it (newOrder $orders_before -> $(stat_of new_order), refused by the CA $(stat_of new_order_refused))" \
    [ "$(stat_of new_order)/$(stat_of new_order_refused)" = "$orders_before/0" ]
rm "$work/etc/certs.d/pbad.toml"
pshort_serial=$(serial_of pshort)
spec pshort pshort.ops.test 'profile = "nonesuch"'
check "pshort edited to profile nonesuch: the reload fails" reload_expect_fail "$work/reload-pshort.err"
check "pshort keeps its last good version" grep -q 'last good version kept for: pshort' "$work/reload-pshort.err"
check "renew pshort --force (its last good version) is accepted" ck renew pshort --force
check "pshort is renewed" wait_for "pshort renewed" 120 renewed pshort "$pshort_serial"
check "the renewal sent the last good profile again (GET /profiles: $(control_get /profiles | tr -d ' \n'))" \
    [ "$(control_get /profiles | tr -d ' \n')" = '["shortlived","shortlived"]' ]
check "the CA refused no newOrder" [ "$(stat_of new_order_refused)" -eq 0 ]
spec pshort pshort.ops.test 'profile = "shortlived"'
check "pshort restored: the reload succeeds" ck reload

# ================================================================================================================
echo "== c. reload: a broken spec keeps its last good version; a broken certkeeper.toml keeps everything"
c1_serial=$(serial_of c1)
# c1 breaks: an extra name (which must not be ordered) and an unknown key type on line 2.
spec c1 c1.ops.test 'key = "ecdsa-p999"'
sed -i '1s/.*/domains = ["c1.ops.test", "c1-extra.ops.test"]/' "$work/etc/certs.d/c1.toml"
rejected_before=$(count_in_log 'reload rejected: ')
check "reload with a broken c1.toml fails" reload_expect_fail "$work/reload-c1.err"
check "the answer says c1 keeps its last good version" grep -q 'last good version kept for: c1' "$work/reload-c1.err"
check "the answer names $work/etc/certs.d/c1.toml:2:7 and the key" \
    grep -qE "^$work/etc/certs.d/c1.toml:2:7: .*key" "$work/reload-c1.err"
check "the daemon logs exactly one 'reload rejected: .../c1.toml:2:7: ...'" \
    [ "$(count_in_log "reload rejected: $work/etc/certs.d/c1.toml:2:7: ")/$(count_in_log 'reload rejected: ')" = "1/$((rejected_before + 1))" ]
check "status still lists c1 with its last good names, and c1 as rejected" \
    status_has '"c1" in names and [c["domains"] for c in s["certificates"] if c["name"] == "c1"] == [["c1.ops.test"]] and "c1" in s["rejectedSpecs"]'
check "renew c1 --force is accepted" ck renew c1 --force
check "c1 is renewed" wait_for "c1 renewed" 120 renewed c1 "$c1_serial"
check "c1's new certificate has its last good names only ($(sans_of c1))" [ "$(sans_of c1)" = "DNS:c1.ops.test" ]
spec c1 c1.ops.test
check "c1 restored: the reload succeeds" ck reload

# certkeeper.toml breaks while c8's file is removed and c9's is added: none of it may apply.
c8_serial=$(serial_of c8)
mv "$work/etc/certs.d/c8.toml" "$work/c8.toml.removed"
spec c9 c9.ops.test
main_toml 'max_concurent_orders = 5' # a typo: an unknown key
check "reload with a broken certkeeper.toml fails" reload_expect_fail "$work/reload-main.err"
check "the answer says the previous configuration stays in force" \
    grep -q 'certkeeper.toml has errors: the previous configuration stays in force' "$work/reload-main.err"
check "the answer names $work/etc/certkeeper.toml:6:1" grep -q "^$work/etc/certkeeper.toml:6:1: " "$work/reload-main.err"
check "the daemon logs 'reload rejected: .../certkeeper.toml:6:1: ...'" \
    grep -q "reload rejected: $work/etc/certkeeper.toml:6:1: " "$log"
check "status lists the previous certificates: c1..c8 and pshort, not c9" \
    status_has 'names == sorted(["c%d" % i for i in range(1, 9)] + ["pshort"])'
c9_refused() { ! ck renew c9 2>"$work/renew-c9.err" && grep -q "no certificate named 'c9' is configured" "$work/renew-c9.err"; }
check "c9 did not start: 'renew c9' is refused" c9_refused
check "c8 (its file removed) is still managed: renew c8 --force is accepted" ck renew c8 --force
check "c8 is renewed per the previous configuration" wait_for "c8 renewed" 120 renewed c8 "$c8_serial"
main_toml
check "certkeeper.toml fixed: the reload succeeds" ck reload
check "now c9 is issued" wait_for "c9" 120 installed c9
check "and c8 is no longer listed (its files stay)" status_has '"c8" not in names and "c9" in names'
check "c8's files stay on disk" installed c8

# ================================================================================================================
echo "== d. control socket: root is served, nobody is refused (socket mode, then the daemon's peer check)"
in_force='names == sorted(["c%d" % i for i in range(1, 8)] + ["c9", "pshort"])'
check "root: status is answered by the daemon" status_has "$in_force"
check "the socket is 0600 root" [ "$(stat -c '%a %U' "$sock")" = "600 root" ]
rc=0
as_nobody "$bin" reload --socket "$sock" >/dev/null 2>"$work/nobody-mode.err" || rc=$?
check "nobody on the 0600 socket: reload exits 2 with 'permission denied' (rc $rc: $(cat "$work/nobody-mode.err"))" \
    bash -c "[[ $rc -eq 2 ]] && grep -q 'permission denied on control socket $sock' '$work/nobody-mode.err'"
# Past the socket's mode (an operator who loosened it, a socket in a shared directory), the daemon checks the peer.
# refused_by_peer_check RC ERRFILE SOCKET: `certkeeper reload` as nobody was refused by the daemon: exit 1 with its
# answer; or exit 2 with "I/O on closed channel", when the daemon's answer and close beat the client's write of the
# request (a client bug: ControlClient.send gives up on the write error without reading the answer that arrived).
# Served, it would exit 0. The answer itself is checked with a raw client below, and the log line after that.
refused_by_peer_check() {
    local rc=$1 err=$2 socket=$3
    if [[ $rc -eq 1 ]] && grep -qF "permission denied: uid 65534 may not use $socket; run as root or as the daemon" "$err"; then
        return 0
    fi
    if [[ $rc -eq 2 ]] && grep -qF "unexpected answer on control socket $socket: I/O on closed channel" "$err"; then
        echo "   note: the client lost the daemon's refusal (known client race, see the comment above)"
        return 0
    fi
    return 1
}
chmod 0666 "$sock"
reloads_before=$(count_in_log 'reload succeeded')
refusals_before=$(count_in_log 'refused connection from a peer that is not allowed')
rc=0
as_nobody "$bin" reload --socket "$sock" >/dev/null 2>"$work/nobody-peer.err" || rc=$?
check "nobody on a 0666 socket: reload is refused by the daemon (rc $rc: $(cat "$work/nobody-peer.err"))" \
    refused_by_peer_check "$rc" "$work/nobody-peer.err" "$sock"
# One status request on a raw connection, printing the answer line. A refused peer is answered at once, without its
# request being read: the send may then meet a closed connection (EPIPE), the answer is still there to read.
cat >"$pub/raw-request.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
try:
    s.sendall(b'{"command":"status"}\n')
except BrokenPipeError:
    pass
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.decode().strip())
PY
# /usr/bin/python3: the python3 first on root's PATH may live where nobody cannot read it.
answer=$(as_nobody /usr/bin/python3 "$pub/raw-request.py" "$sock" 2>"$work/nobody-raw.err") || answer="(no answer: $(tail -n 1 "$work/nobody-raw.err"))"
echo "   raw status request as nobody: $answer"
check "nobody's raw status request: ok false, no payload, uid 65534 named" python3 -c '
import json, sys
a = json.loads(sys.argv[1])
assert a["ok"] is False and not a.get("payload") and "uid 65534" in a["message"], a' "$answer"
nobody_status_rc=0
as_nobody "$bin" status --json --socket "$sock" --config-dir /nonexistent >"$work/nobody-status.out" 2>&1 || nobody_status_rc=$?
# Refused, the client falls back to the disk (documented); from an empty config directory that lists nothing.
check "nobody's 'certkeeper status' gets nothing from the daemon (rc $nobody_status_rc: not live, no certificate)" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["live"] is False and s["certificates"] == [], s' "$work/nobody-status.out"
refusals_logged() { [[ $(count_in_log 'refused connection from a peer that is not allowed') -eq $((refusals_before + 3)) ]]; }
check "the daemon logged the 3 refusals" wait_for "3 refusal log lines" 20 refusals_logged
check "the refusal log line names peer_uid=65534" grep -q 'refused connection from a peer that is not allowed.*peer_uid=65534' "$log"
check "nobody's reload was not carried out" [ "$(count_in_log 'reload succeeded')" -eq "$reloads_before" ]
check "root is still served on the 0666 socket" status_has "$in_force"
check "root's reload is carried out" ck reload

echo "== d2. a daemon run as a service user (daemon) serves that user and root, and refuses nobody"
mkdir -p "$pub/svc"/{etc/certs.d,state,run}
chmod 0755 "$pub/svc"
printf '[defaults]\ncontact = "ops@example.com"\n' >"$pub/svc/etc/certkeeper.toml"
chown -R daemon:daemon "$pub/svc"
svc_sock=$pub/svc/run/control.sock
# setpriv itself, not the as_daemon_user function: a backgrounded function is a subshell, and $! would be the
# subshell's PID, which cleanup would kill while the daemon lived on (it did, after a CI run).
setpriv --reuid=daemon --regid=daemon --clear-groups -- env RUNTIME_DIRECTORY="$pub/svc/run" \
    "$bin" run --config-dir "$pub/svc/etc" --state-dir "$pub/svc/state" >>"$svc_log" 2>&1 &
svc_pid=$!
svc_up() { grep -q 'certkeeper .* started: ' "$svc_log" && [[ -S $svc_sock ]]; }
check "the service-user daemon starts" wait_for "the service-user daemon" 60 svc_up
check "its socket is 0600 daemon" [ "$(stat -c '%a %U' "$svc_sock")" = "600 daemon" ]
check "the service user is served (reload)" as_daemon_user "$bin" reload --socket "$svc_sock"
check "root is served (reload)" timeout 20 "$bin" reload --socket "$svc_sock"
chmod 0666 "$svc_sock"
rc=0
as_nobody "$bin" reload --socket "$svc_sock" >/dev/null 2>"$work/nobody-svc.err" || rc=$?
check "nobody is refused by the service-user daemon's peer check (rc $rc: $(cat "$work/nobody-svc.err"))" \
    refused_by_peer_check "$rc" "$work/nobody-svc.err" "$svc_sock"
svc_refusal() { grep -q 'refused connection from a peer that is not allowed.*peer_uid=65534' "$svc_log"; }
check "the service-user daemon logged the refusal" wait_for "the refusal log line" 20 svc_refusal
check "the service-user daemon did 2 reloads, not 3" [ "$(grep -c 'reload succeeded' "$svc_log")" -eq 2 ]

echo "operations end-to-end: all checks passed (${SECONDS}s)"
