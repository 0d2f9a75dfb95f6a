#!/usr/bin/env bash
# End-to-end: converge under faults (issue 10). One daemon, one account, 100 single-name http-01 certificates against
# a real Pebble that rejects half the nonces (PEBBLE_WFE_NONCEREJECT=50), behind the ACME test double with seeded
# chaos on every request kind (directory, newNonce, newAccount, newOrder, authz, challenge, finalize, order, cert):
# 10 % of requests get a 500 serverInternal without reaching Pebble, 5 % lose their connection (half after Pebble
# carried the request out, half before). Waits (bounded: 12 minutes, polling every 5 s) until all 100 are installed.
# Asserts counts, never times:
#   - all 100 fullchain.pem files exist, verify against Pebble's roots, name their domain and match their privkey.pem;
#   - exactly one account: Pebble answered 201 to newAccount once (a retry after a lost reply gets 200, the same
#     account), and the state directory holds one account;
#   - orders created at Pebble (its 201s to relayed newOrder requests, lost replies included)
#     <= 100 + chaos faults injected on newOrder + on finalize. The raw number of newOrder POSTs is printed beside it:
#     it also counts requests Pebble refused with badNonce (half of them, by PEBBLE_WFE_NONCEREJECT=50), which are
#     retries of one request, not new orders.
# Prints the time to converge, requests per certificate (total and per kind), chaos faults injected per kind and
# Pebble's badNonce refusals per kind. On failure: the daemon log tail and `status` of the certificates not installed.
#
# Usage: scripts/e2e/chaos.sh WORKDIR     (everything on 127.0.0.1; Pebble block 5: ACME 14500, management 15500,
#        challtestsrv 8555/DNS 8553, http-01 5502, tls-alpn-01 5501; the double on 14510, control 14511)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

work=${1:?usage: $0 WORKDIR}
install_packages
swift build --product certkeeper 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)/certkeeper

count=100
error_rate=0.10
drop_rate=0.05
seed=${CHAOS_SEED:-1}
poll_seconds=5
max_polls=144 # 12 minutes

rm -rf "$work"
mkdir -p "$work"/{etc/certs.d,state,run}
work=$(cd "$work" && pwd)
export PEBBLE_WFE_NONCEREJECT=50
export DOUBLE_PORT=14510 DOUBLE_CONTROL_PORT=14511 DOUBLE_FLAGS=""
export RUNTIME_DIRECTORY=$work/run
log=$work/daemon.log
daemon_pid=
cleanup() {
    set +e
    stop_pid "$daemon_pid"
    scripts/testenv/acme-double.sh stop "$work/double" >/dev/null 2>&1
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1
}
trap cleanup EXIT

installed() { [[ -s $work/state/live/$1/fullchain.pem ]]; }
count_installed() {
    local n=0 i
    for ((i = 1; i <= count; i++)); do installed "c$i" && n=$((n + 1)); done
    echo "$n"
}
show_context() {
    echo "--- last daemon log lines ($log)"
    tail -n 60 "$log" 2>/dev/null
    echo "--- status of the certificates not installed"
    local missing=() i
    for ((i = 1; i <= count; i++)); do installed "c$i" || missing+=("c$i"); done
    timeout 10 "$bin" status --json --config-dir "$work/etc" --state-dir "$work/state" 2>&1 |
        python3 -c '
import json, sys
missing = set(sys.argv[1:])
text = sys.stdin.read()
try:
    rows = json.loads(text)["certificates"]
except (ValueError, KeyError):
    print(text[:2000]); sys.exit(0)
for row in rows:
    if row["name"] in missing:
        print(row["name"], row["nextAction"], "failures=%s" % row["failureCount"], "backoffUntil=%s" % row.get("backoffUntil"),
              "inFlight=%s" % row["inFlight"], "lastError=%s" % (row.get("lastError") or "")[:300])
' "${missing[@]}"
}

# Another Pebble block 5 on this machine would answer in place of ours (pebble.sh only checks that /dir answers, and
# pebble-challtestsrv keeps running when its DNS port is taken): refuse to start beside one.
busy=$(ss -Hltnu | awk '{print $5}' | grep -E ':(14500|15500|8555|8553|5502|5501|14510|14511)$' | sort -u | tr '\n' ' ' || true)
[[ -z $busy ]] || fail "ports of block 5 already in use by another process: $busy"
echo "== Pebble (block 5, PEBBLE_WFE_NONCEREJECT=50) and the ACME double on 14510"
start_pebble_block 5 "$work/pebble" "$work/pebble-start.log"
! grep -q 'address already in use' "$work/pebble/challtestsrv.log" || fail "pebble-challtestsrv could not bind: $(grep 'address already in use' "$work/pebble/challtestsrv.log")"
PEBBLE_DIR=$work/pebble scripts/testenv/acme-double.sh start "$work/double" >/dev/null || fail "acme-double.sh start"
# shellcheck disable=SC1091
source "$work/double/env"
ctl=$CERTKEEPER_TEST_DOUBLE_CONTROL

write_double_config "$work/etc" ops@example.com "$count" c chaos.test
"$bin" check --config-dir "$work/etc" >/dev/null || fail "certkeeper check rejected the generated config"

echo "== chaos on every request kind: error_rate $error_rate, drop_rate $drop_rate, seed $seed"
curl -fsS --max-time 5 -X POST "$ctl/reset/stats" >/dev/null
curl -fsS --max-time 5 -X POST -H 'Content-Type: application/json' \
    -d "{\"error_rate\": $error_rate, \"drop_rate\": $drop_rate, \"seed\": $seed}" "$ctl/chaos" >/dev/null ||
    fail "cannot switch chaos on"

echo "== the daemon: $count certificates, waiting at most $((poll_seconds * max_polls / 60)) minutes"
t0=$(date +%s.%N)
"$bin" run --config-dir "$work/etc" --state-dir "$work/state" >>"$log" 2>&1 &
daemon_pid=$!
done_count=0
for ((poll = 1; poll <= max_polls; poll++)); do
    done_count=$(count_installed)
    ((done_count >= count)) && break
    kill -0 "$daemon_pid" 2>/dev/null || break
    ((poll % 12 == 0)) && echo "   $done_count / $count installed after $((poll * poll_seconds / 60)) min"
    sleep "$poll_seconds"
done
t1=$(date +%s.%N)
converge=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
sleep 2 # requests still on the wire land in the counters
curl -fsS --max-time 5 "$ctl/stats" >"$work/stats.json" || fail "cannot read the double's stats"

echo "== figures"
if ((done_count >= count)); then
    echo "time to converge: ${converge} s ($count certificates)"
else
    echo "not converged: $done_count / $count installed after ${converge} s"
fi
python3 - "$work/stats.json" "$count" <<'PY'
import json, sys
s, n = json.load(open(sys.argv[1])), int(sys.argv[2])
kinds = ["directory", "newNonce", "newAccount", "newOrder", "authz", "challenge", "finalize", "order", "cert"]
kinds += sorted(k for k in s["requests_by_kind"] if k not in kinds)
print(f"requests: {s['requests_total']} total, {s['requests_total'] / n:.2f} per certificate")
print(f"{'kind':<12} {'requests':>9} {'per cert':>9} {'500':>6} {'drop':>6} {'drop-bef':>9} {'badNonce':>9}")
for k in kinds:
    c = s["chaos_injected"].get(k, {})
    print(f"{k:<12} {s['requests_by_kind'].get(k, 0):>9} {s['requests_by_kind'].get(k, 0) / n:>9.2f} {c.get('500', 0):>6}"
          f" {c.get('drop', 0):>6} {c.get('drop-before', 0):>9} {s['upstream_bad_nonce'].get(k, 0):>9}")
print(f"chaos faults injected: {s['chaos_injected_total']}")
PY
failed_lines=$(grep -c 'renewal failed' "$log" || true)
echo "daemon: $failed_lines 'renewal failed' log lines; most frequent errors:"
grep 'renewal failed' "$log" | sed -E 's/^.*renewal failed/renewal failed/; s/; the installed certificate.*$//; s/next try [^)]*/next try T/;
    s/c[0-9]+\.chaos\.test/cN.chaos.test/g; s#/(authZ|chalZ|my-order|certZ|finalize-order|my-account)/[A-Za-z0-9_-]+#/\1/ID#g' |
    cut -c1-220 | sort | uniq -c | sort -rn | head -n 8 || true

stat_expr() { python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"s": s}))' "$work/stats.json" "$1"; }
accounts_created=$(stat_expr 's["upstream_status"].get("newAccount", {}).get("201", 0)')
orders_created=$(stat_expr 's["upstream_status"].get("newOrder", {}).get("201", 0)')
new_order_posts=$(stat_expr 's["new_order"]')
faults_order_finalize=$(stat_expr 'sum(s["chaos_injected"][k][f] for k in ("newOrder", "finalize") for f in ("500", "drop", "drop-before"))')
bound=$((count + faults_order_finalize))
echo "newOrder: $orders_created orders created at Pebble (bound $count + $faults_order_finalize faults on newOrder/finalize = $bound);" \
    "$new_order_posts newOrder POSTs received, $(stat_expr 's["upstream_bad_nonce"].get("newOrder", 0)') refused by Pebble with badNonce"

echo "== checks"
((done_count >= count)) || fail "only $done_count of $count certificates installed within $((poll_seconds * max_polls / 60)) minutes"
check "all $count certificates installed" [ "$(count_installed)" -eq "$count" ]
verify_all() {
    local i dir
    for ((i = 1; i <= count; i++)); do
        dir=$work/state/live/c$i
        openssl verify -CAfile "$CERTKEEPER_TEST_PEBBLE_ROOTS" -untrusted "$dir/fullchain.pem" "$dir/fullchain.pem" >/dev/null 2>&1 ||
            { echo "c$i: chain does not verify" >&2; return 1; }
        openssl x509 -noout -ext subjectAltName -in "$dir/fullchain.pem" | grep -q "DNS:c$i.chaos.test$" ||
            { echo "c$i: wrong subjectAltName" >&2; return 1; }
        [[ $(openssl x509 -noout -pubkey -in "$dir/fullchain.pem") == "$(openssl pkey -pubout -in "$dir/privkey.pem")" ]] ||
            { echo "c$i: fullchain.pem does not match privkey.pem" >&2; return 1; }
    done
}
check "all $count chains verify against Pebble's roots, carry their name and match their key" verify_all
check "exactly one account created at the CA (Pebble's 201s to newAccount: $accounts_created)" [ "$accounts_created" -eq 1 ]
account_dirs=$(find "$work/state/accounts" -mindepth 1 -maxdepth 1 -type d ! -name archive | wc -l)
archived=$( (find "$work/state/accounts/archive" -mindepth 1 -maxdepth 1 2>/dev/null || true) | wc -l)
check "exactly one account in the state directory ($account_dirs, $archived archived)" [ "$account_dirs" -eq 1 -a "$archived" -eq 0 ]
check "orders created ($orders_created) <= $count + faults on newOrder and finalize ($faults_order_finalize)" \
    [ "$orders_created" -le "$bound" ]
check "the daemon is still running" kill -0 "$daemon_pid"
echo "chaos end-to-end: all checks passed ($count certificates in ${converge} s)"
