#!/usr/bin/env bash
# End to end: kill -9 at any instant. The daemon is started and SIGKILLed at pseudo-random moments while it registers
# its EAB account, issues certificates and (once all are installed) renews them on `renew --force` (Pebble behind the GTS-like single-use-EAB double, with 5xx and dropped
# replies injected), then started once more and left to finish. Afterwards:
#   - every certificate is installed, verifies against Pebble's roots and matches its key (key and certificate switch
#     together, whatever instant the process died at);
#   - the single-use EAB key was never offered with a second account key (no refusal; the one key the CA bound it to
#     is the account key in the store), and the store holds exactly one active account;
#   - every live directory holds exactly its four complete files;
#   - the kills did land where they matter: at least one inside the account registration (the record stored as
#     "pending", newAccount's answer not yet), and at least one inside an install (the new version being written or
#     already switched in, the install not yet recorded), judged from the state directory the killed process left
#     (scripts/e2e/crash_helper.py); the first round and the install rounds aim there (SIGSTOP, check, SIGKILL);
#   - every transient fault injected through the double was actually injected (the double counts them).
#
# Usage: scripts/e2e/crash.sh WORKDIR    (ports: Pebble 14400/15400, challtestsrv 8455/8453, http-01 5402,
#                                         double 14410 + control 14411; everything on 127.0.0.1)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
helper=scripts/e2e/crash_helper.py

work=${1:?usage: $0 WORKDIR}
install_packages
swift build --product certkeeper 2>&1 | tail -n 1
rm -rf "$work"
mkdir -p "$work"/{etc/certs.d,state,run}
work=$(cd "$work" && pwd)
cp "$(swift build --show-bin-path)/certkeeper" "$work/certkeeper"
bin=$work/certkeeper
export PEBBLE_PORT=14400 PEBBLE_MGMT_PORT=15400 CHALLTESTSRV_PORT=8455 CHALLTESTSRV_DNS_PORT=8453
export PEBBLE_DNS=127.0.0.1:8453 PEBBLE_HTTP_PORT=5402 PEBBLE_TLS_PORT=5401 PEBBLE_EAB_REQUIRED=true
export DOUBLE_PORT=14410 DOUBLE_CONTROL_PORT=14411 DOUBLE_FLAGS="--single-use-eab"
export RUNTIME_DIRECTORY=$work/run
log=$work/daemon.log
daemon_pid=
cleanup() {
    set +e
    stop_pid "$daemon_pid"
    PEBBLE_DIR=$work/pebble scripts/testenv/acme-double.sh stop "$work/double" >/dev/null 2>&1
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1
}
trap cleanup EXIT
show_context() {
    echo "--- last daemon log lines ($log)"
    tail -n 30 "$log"
}

scripts/testenv/pebble.sh start "$work/pebble" >/dev/null 2>&1 || fail "pebble.sh start"
PEBBLE_DIR=$work/pebble scripts/testenv/acme-double.sh start "$work/double" >/dev/null || fail "acme-double.sh start"
# shellcheck disable=SC1091
source "$work/double/env"
control=$CERTKEEPER_TEST_DOUBLE_CONTROL

names=(k1 k2 k3 k4 k5 k6 k7 k8 k9 k10 k11 k12)
cat >"$work/etc/certkeeper.toml" <<TOML
[defaults]
ca = "gts"
contact = "ops@example.com"
[ca.gts]
directory = "$CERTKEEPER_TEST_DOUBLE_DIRECTORY"
trust_roots = "$CERTKEEPER_TEST_DOUBLE_TLS_ROOTS"
eab_kid = "kid-1"
eab_hmac_key_file = "$work/pebble/eab/kid-1.hmac"
TOML
for name in "${names[@]}"; do
    printf 'domains = ["%s.crash.test"]\n[challenge]\ntype = "http-01"\nlisten = "127.0.0.1:5402"\n' "$name" \
        >"$work/etc/certs.d/$name.toml"
done
# Transient faults on top of the kills: the daemon must absorb them as well.
for fault in '{"path_contains":"newOrder","kind":"500","count":2}' '{"path_contains":"finalize","kind":"drop","count":2}' \
    '{"path_contains":"newAccount","kind":"drop","count":1}'; do
    curl -fsS -X POST -d "$fault" "$control/faults" >/dev/null || fail "cannot inject $fault"
done

# Which windows the kills landed in: a window's markers (crash_helper.py) present after the kill and not before it.
kills_in_registration=0
kills_in_install=0
new_markers() { # new_markers WINDOW BEFORE_FILE: markers now present that were not in BEFORE_FILE
    python3 "$helper" markers "$1" "$work/state" | grep -vxF -f "$2" || true
}
# landed WHAT: after the daemon died, count the kill for each window it was inside of, and say so.
landed() {
    local what=$1 reg inst
    reg=$(new_markers registration "$work/before-registration")
    inst=$(new_markers install "$work/before-install")
    [[ -n $reg ]] && kills_in_registration=$((kills_in_registration + 1))
    [[ -n $inst ]] && kills_in_install=$((kills_in_install + 1))
    local where="${reg:+inside the registration [$(tr '\n' ' ' <<<"$reg")] }${inst:+inside an install [$(tr '\n' ' ' <<<"$inst")]}"
    echo "$what: ${where:-in neither window}"
}
remember_markers() {
    python3 "$helper" markers registration "$work/state" >"$work/before-registration"
    python3 "$helper" markers install "$work/state" >"$work/before-install"
}
start_daemon() {
    remember_markers
    "$bin" run --config-dir "$work/etc" --state-dir "$work/state" >>"$log" 2>&1 &
    daemon_pid=$!
}
# renew_all: once the daemon answers, `renew --force` every certificate (keeps orders and installs going).
renew_all() {
    local name
    wait_for "the control socket" 40 "$bin" renew "${names[0]}" --force 2>/dev/null || return 0
    for name in "${names[@]:1}"; do "$bin" renew "$name" --force >/dev/null 2>&1 || true; done
}

# Round 0 aims at the registration: killed while the account record is pending (newAccount sent, answer not stored).
start_daemon
aim=0
python3 "$helper" kill-in registration "$work/state" "$daemon_pid" 60 "$work/before-registration" || aim=$?
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=
landed "round 0 (aimed at the registration, helper exit $aim)"

# Kill -9 after 0.05 .. 1.2 s, ten times, with delays from a fixed seed so a failure can be replayed.
RANDOM=8555
for ((round = 1; round <= 10; round++)); do
    delay_ms=$((50 + RANDOM % 1150))
    start_daemon
    # Once everything is installed, forced renewals keep the kills landing in the middle of orders and installs.
    (
        sleep 0.1
        for name in "${names[@]}"; do "$bin" renew "$name" --force >/dev/null 2>&1 || true; done
    ) &
    renewer=$!
    sleep "$(awk -v ms="$delay_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
    kill -9 "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
    wait "$renewer" 2>/dev/null || true
    daemon_pid=
    installed=$( (ls "$work/state/live" 2>/dev/null || true) | wc -l)
    landed "round $round: killed after ${delay_ms} ms, $installed certificate(s) installed so far"
done

# Install rounds: forced renewals of every certificate, killed inside an install (at most 5 rounds to get one).
for ((round = 11; round <= 15 && kills_in_install == 0; round++)); do
    start_daemon
    renew_all &
    renewer=$!
    aim=0
    python3 "$helper" kill-in install "$work/state" "$daemon_pid" 60 "$work/before-install" || aim=$?
    wait "$daemon_pid" 2>/dev/null || true
    wait "$renewer" 2>/dev/null || true
    daemon_pid=
    landed "round $round (aimed at an install, helper exit $aim)"
done
check "at least one kill landed inside the account registration ($kills_in_registration)" test "$kills_in_registration" -ge 1
check "at least one kill landed inside an install ($kills_in_install)" test "$kills_in_install" -ge 1

"$bin" run --config-dir "$work/etc" --state-dir "$work/state" >>"$log" 2>&1 &
daemon_pid=$!
all_issued() { local n; for n in "${names[@]}"; do [[ -s $work/state/live/$n/fullchain.pem ]] || return 1; done; }
wait_for "every certificate after the crashes" 240 all_issued || fail "not every certificate was issued after the crashes"

verified() {
    local n
    for n in "${names[@]}"; do
        openssl verify -CAfile "$work/pebble/pebble-roots.pem" -untrusted "$work/state/live/$n/fullchain.pem" \
            "$work/state/live/$n/fullchain.pem" >/dev/null || return 1
        [[ $(openssl x509 -noout -pubkey -in "$work/state/live/$n/cert.pem" | openssl sha256) == \
            $(openssl pkey -pubout -in "$work/state/live/$n/privkey.pem" | openssl sha256) ]] || return 1
    done
}
check "every certificate verifies against Pebble's roots and matches its installed key" verified
stat_of() { curl -fsS --max-time 5 "$control/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
check "the CA never refused the EAB key (no second account key offered it)" test "$(stat_of new_account_refused)" = 0
active=$(find "$work/state/accounts" -mindepth 1 -maxdepth 1 -type d ! -name archive | wc -l)
check "exactly one account in the store ($active)" test "$active" = 1
account_dir=$(find "$work/state/accounts" -mindepth 1 -maxdepth 1 -type d ! -name archive)
bound=$(curl -fsS "$control/spent" | python3 -c "import json,sys; print(json.load(sys.stdin).get('kid-1', ''))")
stored=$(python3 scripts/e2e/accounts_helper.py thumbprint "$account_dir/key.pem")
check "the CA bound kid-1 to the stored account key ($stored)" test "$bound" = "$stored"
check "the stored account is registered" grep -q '"valid"' "$account_dir/account.json"
# What a reader sees: each live directory holds the four complete files and nothing half-written. (A version a kill
# interrupted before its switch may remain in archive/ until the certificate's next install removes it.)
live_clean() {
    local n
    for n in "${names[@]}"; do
        [[ $(ls -A "$work/state/live/$n/" | tr '\n' ' ') == "cert.pem chain.pem fullchain.pem privkey.pem " ]] || return 1
    done
}
check "every live directory holds exactly the four complete files" live_clean
check "the double injected all 5 transient faults (faults_injected=$(stat_of faults_injected))" test "$(stat_of faults_injected)" = 5
check "no injected fault left pending" test "$(curl -fsS "$control/faults")" = "[]"
echo "crash end-to-end: all checks passed"
