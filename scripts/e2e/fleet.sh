#!/usr/bin/env bash
# End-to-end: a fleet of three daemons sharing one PostgreSQL 15 store (issue 15), against a real Pebble and a real
# throw-away PostgreSQL cluster (scripts/testenv/postgres.sh):
#
#  a. three nodes, the same 30 specs: exactly one account row and one newAccount at Pebble, exactly one order per
#     certificate, and every certificate installed on all three nodes with the same serial. Pebble's DNS sends every
#     http-01 validation to node 3's address only (127.0.0.13), so a certificate node 1 or 2 ordered was validated by
#     node 3 answering a token another node placed;
#  b. the node working on a certificate is killed with kill -9 between the CA's finalize answer and the download
#     (CERTKEEPER_FAULT=after-finalize with CERTKEEPER_FAULT_ACTION=stop freezes it there, then the test sends
#     SIGKILL): its lease expires and another node finishes that same order (no second order for it) within the
#     lease time plus one attempt; all three install it;
#  c. the database stopped for a minute and started again: the daemons keep running and serving what is installed,
#     report the outage, and without a restart a forced renewal afterwards is ordered once and installed everywhere;
#  d. one node given another spec of a certificate (another name added): it reports the conflict (log, status) and
#     nothing is ordered for that certificate;
#  e. a registration interrupted on one node is finished by another without a second EAB use: through
#     the ACME double in front of Pebble (single-use EAB keys, as Google Trust Services), node 1 is killed with
#     kill -9 between the CA's newAccount answer and storing the account (after-newaccount-reply); nodes 2 and 3
#     take the account's lease when it expires and find the registration with onlyReturnExisting: one newAccount
#     with EAB in all, none refused, and the certificate issued on that account installed on every node;
#  f. `certkeeper revoke` on a fleet node: revoked at Pebble with the fleet's account, replaced once and installed on
#     every node; `certkeeper delete` refused while a live node still has the spec, then the database's state and
#     certificate removed by the first node's delete and each node's own files by its own;
#  g. a host on the file store is moved into the database (`certkeeper store migrate --from files --to postgresql`,
#     a dry run first, after an account key rollover on the host): no newAccount, no order, the replaced key copied
#     with the account, its certificates unchanged and installed on a node that joins; then the encryption key is
#     rotated (`certkeeper store reseal`) and the account key still opens without the old one.
#
# Usage: scripts/e2e/fleet.sh WORKDIR   (root; Pebble at offset 160: 14160/15160, challtestsrv 8215/8213,
#        http-01 5162 on 127.0.0.11-13; PostgreSQL 127.0.0.1:14169; the ACME double 14163, its control 14164)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

work=${1:?usage: $0 WORKDIR}
install_packages
swift build --product certkeeper-crashing 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)/certkeeper-crashing
unset CERTKEEPER_FAULT

export PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=0
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
pg_port=14169
count=30
lease=10
pids=(0 0 0 0)
cleanup() {
    local n
    for n in 1 2 3; do stop_pid "${pids[$n]}"; done
    PEBBLE_DIR=$work/pebble scripts/testenv/acme-double.sh stop "$work/double" >/dev/null 2>&1 || true
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1 || true
    scripts/testenv/postgres.sh stop "$work/pg" >/dev/null 2>&1 || true
}
[[ -n ${FLEET_KEEP:-} ]] || trap cleanup EXIT
show_context() {
    local n
    for n in 1 2 3; do
        echo "--- node $n log (last 15 lines)"
        tail -n 15 "$work/node$n.log" 2>/dev/null
    done
}

start_pebble_at 160 "$work/pebble" "$work/pebble-start.log"
scripts/testenv/postgres.sh start "$work/pg" "$pg_port" >"$work/pg-start.log"
DOUBLE_PORT=14163 DOUBLE_CONTROL_PORT=14164 DOUBLE_FLAGS="--single-use-eab" PEBBLE_DIR=$work/pebble \
    scripts/testenv/acme-double.sh start "$work/double" >"$work/double-start.log" || fail "acme-double.sh start"
# shellcheck disable=SC1091
source "$work/double/env"
double_stat() {
    curl -fsS --max-time 5 "$CERTKEEPER_TEST_DOUBLE_CONTROL/stats" |
        python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"
}
psql_admin() { scripts/testenv/postgres.sh psql "$work/pg" "$1"; }
head -c 32 /dev/urandom | base64 >"$work/store.key"
chmod 600 "$work/store.key"
# Every name resolves to node 3: the CA validates http-01 there, whichever node placed the token.
curl -fsS -d '{"ip":"127.0.0.13"}' "$CERTKEEPER_TEST_CHALLTESTSRV/set-default-ipv4" >/dev/null

# node_config N: node N's configuration: the shared store, its own state directory, listener and node name.
node_config() {
    local n=$1 etc=$work/node$1/etc i
    mkdir -p "$etc/certs.d" "$work/node$n/state" "$work/node$n/run"
    write_main_config "$etc" pebble "$CERTKEEPER_TEST_ACME_DIRECTORY" "$CERTKEEPER_TEST_ACME_TLS_ROOTS" fleet@example.com
    write_store_config "$etc" "$work/pg" "$pg_port" "$work/store.key" "node$n" "127.0.0.1$n:$PEBBLE_HTTP_PORT" \
        "lease_time = \"${lease}s\""
    # Node 3, where the CA validates every token, orders one certificate at a time: most orders are then nodes 1
    # and 2's, whose tokens must reach the CA through node 3. With eight each, whichever node got going first could
    # take all thirty (once in CI node 3 did, in 2 s, while node 1 registered the account).
    if ((n == 3)); then
        sed -i 's/^key = "ecdsa-p256"$/&\nmax_concurrent_orders = 1/' "$etc/certkeeper.toml"
        grep -qx 'max_concurrent_orders = 1' "$etc/certkeeper.toml" || fail "node 3's certkeeper.toml has no [defaults] key line to follow"
    fi
    for ((i = 1; i <= count; i++)); do
        printf 'domains = ["f%s.fleet.test"]\n[challenge]\ntype = "http-01"\nlisten = "127.0.0.1%s:%s"\n' \
            "$i" "$n" "$PEBBLE_HTTP_PORT" >"$etc/certs.d/f$i.toml"
    done
}

# start_node N [ENV...]: starts node N's daemon in the background (its log: $work/nodeN.log).
start_node() {
    local n=$1
    shift
    env RUNTIME_DIRECTORY="$work/node$n/run" "$@" \
        "$bin" run --config-dir "$work/node$n/etc" --state-dir "$work/node$n/state" >>"$work/node$n.log" 2>&1 &
    pids[$n]=$!
}
# ctl N COMMAND...: a control command (reload, renew, status) to node N's daemon.
ctl() {
    local n=$1
    shift
    RUNTIME_DIRECTORY="$work/node$n/run" "$bin" "$@"
}
serial_of() { openssl x509 -noout -serial -in "$work/node$1/state/live/$2/cert.pem" 2>/dev/null | cut -d= -f2; }
# installed_everywhere NAME: the same certificate is installed on all three nodes.
installed_everywhere() {
    local s1 s2 s3
    s1=$(serial_of 1 "$1") && s2=$(serial_of 2 "$1") && s3=$(serial_of 3 "$1") || return 1
    [[ -n $s1 && $s1 == "$s2" && $s1 == "$s3" ]]
}
all_installed() {
    local i
    for ((i = 1; i <= count; i++)); do installed_everywhere "f$i" || return 1; done
}
# kill_node1_at POINT: waits until node 1 (started with CERTKEEPER_FAULT=POINT CERTKEEPER_FAULT_ACTION=stop) froze
# itself at POINT (state T in /proc/PID/stat), then kills it with SIGKILL and checks it died of it (status 137).
kill_node1_at() {
    local point=$1 rc=0
    stopped() { [[ $(awk '{ print $3 }' "/proc/${pids[1]}/stat" 2>/dev/null) == T ]]; }
    wait_for "node 1 to stop at $point" 120 stopped || fail "node 1 did not reach $point"
    grep -q "fault point $point reached, stopping" "$work/node1.log" || fail "node 1 stopped elsewhere"
    kill -KILL "${pids[1]}"
    wait "${pids[1]}" 2>/dev/null || rc=$?
    [[ $rc == 137 ]] || fail "node 1 ended with status $rc after kill -9 (want 137)"
    pids[1]=0
}
# Pebble's answers: newAccount requests that created an account, orders created.
pebble_new_accounts() { grep -c 'POST /sign-me-up -> calling handler' "$work/pebble/pebble.log" || true; }
pebble_orders() { grep -c 'POST /order-plz -> calling handler' "$work/pebble/pebble.log" || true; }

for n in 1 2 3; do node_config "$n"; done

echo "== a. three nodes, $count certificates"
for n in 1 2 3; do start_node "$n"; done
wait_for "every certificate installed on all three nodes" 360 all_installed || fail "not every certificate reached all three nodes"
accounts=$(psql_admin "SELECT count(*) FROM certkeeper.accounts")
[[ $accounts == 1 ]] || fail "$accounts account rows (want 1)"
new_accounts=$(pebble_new_accounts)
[[ $new_accounts == 1 ]] || fail "$new_accounts newAccount requests at Pebble (want 1)"
orders=$(settled "orders at Pebble" 2 30 pebble_orders) || fail "the order count kept changing"
[[ $orders == "$count" ]] || fail "$orders orders for $count certificates (want exactly one each)"
published=$(psql_admin "SELECT count(*) FROM certkeeper.certificates")
[[ $published == "$count" ]] || fail "$published certificates published (want $count)"
by_others=$(psql_admin "SELECT count(*) FROM certkeeper.certificates WHERE published_by NOT LIKE 'node3:%'")
((by_others > 0)) || fail "node 3 ordered every certificate: no token placed by another node was validated through node 3"
echo "ok: 1 account, 1 newAccount, $orders orders, $count certificates on 3 nodes; $by_others ordered by nodes 1-2 and validated through node 3 (${SECONDS}s)"
grep -q 'installed the certificate node node' "$work/node1.log" "$work/node2.log" "$work/node3.log" ||
    fail "no node logged installing a certificate another node issued"
# The commands outside the daemon see the fleet's store too.
"$bin" account list --config-dir "$work/node3/etc" --state-dir "$work/node3/state" >"$work/account-list.txt" 2>&1 ||
    fail "account list failed: $(cat "$work/account-list.txt")"
[[ $(grep -c $'\tvalid\t' "$work/account-list.txt") == 1 ]] || fail "account list on node 3 does not show the fleet's account"
[[ ! -e $work/node3/state/accounts ]] || fail "node 3 keeps accounts in its state directory"
tokens_left=$(settled "tokens withdrawn" 1 20 psql_admin "SELECT count(*) FROM certkeeper.http01_tokens")
[[ $tokens_left == 0 ]] || fail "$tokens_left http-01 tokens left in the table after every order ended"

echo "== b. the node holding a lease dies mid-order; another node finishes that order"
stop_pid "${pids[1]}"
start_node 1 CERTKEEPER_FAULT=after-finalize CERTKEEPER_FAULT_ACTION=stop
wait_for "node 1's control socket" 60 test -S "$work/node1/run/control.sock" || fail "node 1 did not restart"
orders_before=$(pebble_orders)
printf 'domains = ["late.fleet.test"]\n[challenge]\ntype = "http-01"\nlisten = "127.0.0.11:%s"\n' "$PEBBLE_HTTP_PORT" \
    >"$work/node1/etc/certs.d/late.toml"
ctl 1 reload >/dev/null 2>&1 || true # the reload starts the order; node 1 stops in it
kill_node1_at after-finalize
order_url=$(psql_admin "SELECT state::json->'order'->>'url' FROM certkeeper.certificate_state WHERE name = 'late'")
[[ -n $order_url ]] || fail "node 1 died without its order in the store"
lease_owner=$(psql_admin "SELECT owner FROM certkeeper.leases WHERE name = 'cert-late'")
[[ $lease_owner == node1:* ]] || fail "the lease on cert-late is held by '$lease_owner', not the dead node 1"
echo "ok: node 1 killed with kill -9 holding the lease, order $order_url in the store"
died=$SECONDS
for n in 2 3; do
    printf 'domains = ["late.fleet.test"]\n[challenge]\ntype = "http-01"\nlisten = "127.0.0.1%s:%s"\n' "$n" \
        "$PEBBLE_HTTP_PORT" >"$work/node$n/etc/certs.d/late.toml"
    ctl "$n" reload >/dev/null
done
wait_for "late installed on nodes 2 and 3" 120 bash -c \
    "[[ -n \$(openssl x509 -noout -serial -in $work/node2/state/live/late/cert.pem 2>/dev/null) ]] && [[ -n \$(openssl x509 -noout -serial -in $work/node3/state/live/late/cert.pem 2>/dev/null) ]]" ||
    fail "no other node finished the dead node's order"
took=$((SECONDS - died))
((took <= lease + 60)) || fail "taking over took ${took}s (lease ${lease}s)"
[[ $(serial_of 2 late) == $(serial_of 3 late) ]] || fail "nodes 2 and 3 installed different certificates for late"
late_orders=$(($(pebble_orders) - orders_before))
[[ $late_orders == 1 ]] || fail "$late_orders orders for late (want the dead node's one order, finished by another node)"
grep -h "took over the expired lease cert-late of node node1" "$work/node2.log" "$work/node3.log" >/dev/null ||
    fail "no node logged taking over node 1's lease"
echo "ok: taken over and installed on nodes 2 and 3 ${took}s after node 1 died; 1 order in all"
start_node 1
wait_for "late installed on node 1 after its restart" 60 installed_everywhere late || fail "node 1 did not install late"
echo "ok: node 1 restarted and installed the certificate another node finished"

echo "== c. the database stopped for a minute"
before_outage=$(serial_of 1 f1)
scripts/testenv/postgres.sh pause "$work/pg" >/dev/null
outage_started=$SECONDS
ctl 2 renew f1 --force >/dev/null 2>&1 || true  # asked during the outage: it waits for the database
# A minute without the database: every daemon stays up and what is installed stays in place.
while ((SECONDS - outage_started < 60)); do
    for n in 1 2 3; do kill -0 "${pids[$n]}" 2>/dev/null || fail "node $n exited during the outage"; done
    sleep 5
done
[[ $(serial_of 1 f1) == "$before_outage" ]] || fail "f1 changed on node 1 during the outage"
grep -q 'unavailable' "$work/node2.log" || fail "node 2 did not report the store unavailable"
ctl 3 status >"$work/status-outage.txt" 2>&1 || true
grep -q '^STORE: the store is unavailable since' "$work/status-outage.txt" ||
    fail "status on node 3 does not show the outage: $(head -n 3 "$work/status-outage.txt")"
scripts/testenv/postgres.sh resume "$work/pg" >/dev/null
echo "ok: one minute down, all nodes up, nothing changed, outage reported"
resumed=$(psql_admin "SELECT now()")
# Each node reconnects by itself (postgres-nio's pool backs off while the database is down) and says it is live.
live_again() {
    [[ $(psql_admin "SELECT count(*) FROM certkeeper.nodes WHERE last_seen > '$resumed'") -ge 3 ]]
}
wait_for "all three nodes back on the database" 180 live_again || fail "not every node reconnected to the database"
store_answers() { ctl 3 status >"$work/status-after.txt" 2>&1 && ! grep -q '^STORE:' "$work/status-after.txt"; }
wait_for "node 3's status without the outage" 40 store_answers || fail "node 3 still reports the store unavailable"
echo "ok: all three nodes reconnected without a restart ($((SECONDS - outage_started))s after the outage began)"
orders_before=$(pebble_orders)
ctl 2 renew f1 --force >/dev/null
renewed_everywhere() {
    local s
    s=$(serial_of 1 f1) && [[ $s != "$before_outage" ]] && installed_everywhere f1
}
wait_for "the renewed f1 on all three nodes" 180 renewed_everywhere || fail "f1 was not renewed everywhere after the outage"
published_f1=$(psql_admin "SELECT ltrim(upper(serial), '0') FROM certkeeper.certificates WHERE name = 'f1'")
[[ $published_f1 == $(serial_of 1 f1 | tr a-f A-F | sed 's/^0*//') ]] || fail "the store's f1 ($published_f1) is not what the nodes installed"
renewal_orders=$(settled "orders after the outage" 2 30 pebble_orders)
# The renewal asked for during the outage ended at the lease (no database): it ordered nothing; the one asked for
# afterwards is exactly one order.
[[ $((renewal_orders - orders_before)) == 1 ]] || fail "$((renewal_orders - orders_before)) orders for f1 after the outage (want 1)"
accounts=$(psql_admin "SELECT count(*) FROM certkeeper.accounts")
[[ $accounts == 1 && $(pebble_new_accounts) == 1 ]] || fail "the outage led to another account"
grep -q "looking again at" "$work/node2.log" || fail "node 2 did not say when it looks again during the outage"
echo "ok: renewed after the outage without a restart ($((renewal_orders - orders_before)) order(s)), on all three nodes"
echo "== d. two nodes with different specs of one name: reported, not fought over"
orders_before=$(pebble_orders)
printf 'domains = ["f2.fleet.test", "www.f2.fleet.test"]\n[challenge]\ntype = "http-01"\nlisten = "127.0.0.12:%s"\n' \
    "$PEBBLE_HTTP_PORT" >"$work/node2/etc/certs.d/f2.toml"
ctl 2 reload >/dev/null
conflict_reported() { grep -q 'the spec of f2 differs on node(s) node' "$work/node2.log"; }
wait_for "node 2 to report the conflicting spec of f2" 60 conflict_reported || fail "node 2 did not report the conflict"
ctl 2 status >"$work/status-conflict.txt" 2>&1 || true
grep -q 'differs on node' "$work/status-conflict.txt" || fail "status on node 2 does not show the conflict"
[[ $(settled "orders during the conflict" 2 20 pebble_orders) == "$orders_before" ]] || fail "a node ordered f2 during the conflict"
printf 'domains = ["f2.fleet.test"]\n[challenge]\ntype = "http-01"\nlisten = "127.0.0.12:%s"\n' "$PEBBLE_HTTP_PORT" \
    >"$work/node2/etc/certs.d/f2.toml"
ctl 2 reload >/dev/null
echo "ok: node 2's other spec of f2 reported in its log and status, nothing ordered; reverted"

echo "== e. a registration interrupted by kill -9 on one node, finished by another without a second EAB use"
for n in 1 2 3; do
    printf '\n[ca.double]\ndirectory = "%s"\ntrust_roots = "%s"\n\n[account.crash]\nca = "double"\ncontact = "crash@example.com"\neab_kid = "kid-3"\neab_hmac_key_file = "%s"\n' \
        "$CERTKEEPER_TEST_DOUBLE_DIRECTORY" "$CERTKEEPER_TEST_DOUBLE_TLS_ROOTS" "$work/pebble/eab/kid-3.hmac" \
        >>"$work/node$n/etc/certkeeper.toml"
done
reg_spec() {
    printf 'domains = ["reg.fleet.test"]\nca = "double"\naccount = "crash"\n[challenge]\ntype = "http-01"\nlisten = "127.0.0.1%s:%s"\n' \
        "$1" "$PEBBLE_HTTP_PORT" >"$work/node$1/etc/certs.d/reg.toml"
}
stop_pid "${pids[1]}"
reg_spec 1
start_node 1 CERTKEEPER_FAULT=after-newaccount-reply CERTKEEPER_FAULT_ACTION=stop
kill_node1_at after-newaccount-reply
[[ $(double_stat new_account_with_eab) == 1 ]] || fail "$(double_stat new_account_with_eab) newAccount with EAB before the crash (want 1)"
pending=$(psql_admin "SELECT count(*) FROM certkeeper.accounts WHERE record::json->>'status' = 'pending'")
[[ $pending == 1 ]] || fail "$pending pending account records after the crash (want the one node 1 was registering)"
echo "ok: node 1 killed with kill -9 after the CA registered the account, before it was stored as valid"
crashed=$SECONDS
for n in 2 3; do
    reg_spec "$n"
    ctl "$n" reload >/dev/null
done
reg_everywhere() { [[ -n $(serial_of 2 reg) && $(serial_of 2 reg) == $(serial_of 3 reg) ]]; }
wait_for "reg installed on nodes 2 and 3" 120 reg_everywhere || fail "the interrupted registration was not finished"
[[ $(double_stat new_account_with_eab) == 1 ]] || fail "$(double_stat new_account_with_eab) newAccount with EAB in all (want 1)"
[[ $(double_stat new_account_refused) == 0 ]] || fail "the CA refused a registration (a spent EAB key sent again)"
(($(double_stat new_account_only_return_existing) >= 1)) || fail "no node looked the registration up with onlyReturnExisting"
[[ $(psql_admin "SELECT count(*) FROM certkeeper.accounts WHERE record::json->>'status' = 'valid'") == 2 ]] ||
    fail "the fleet's two accounts are not both valid"
start_node 1
wait_for "reg installed on node 1 after its restart" 60 installed_everywhere reg || fail "node 1 did not install reg"
echo "ok: finished by another node $((SECONDS - crashed))s after the crash: 1 newAccount with EAB, none refused, looked up with onlyReturnExisting, installed on all three nodes"

echo "== f. revoke and delete on fleet nodes"
# pebble_status SERIAL: Pebble's management API view of a certificate ("Valid" or "Revoked", then the reason).
pebble_status() {
    local hex
    hex=$(tr 'A-F' 'a-f' <<<"$1" | sed 's/^0*//')
    curl -sk "https://127.0.0.1:$PEBBLE_MGMT_PORT/cert-status-by-serial/$hex" |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Status"), d.get("Reason"))'
}
old_f3=$(serial_of 3 f3)
orders_before=$(pebble_orders)
RUNTIME_DIRECTORY="$work/node3/run" "$bin" revoke f3 --reason superseded --config-dir "$work/node3/etc" \
    --state-dir "$work/node3/state" >"$work/revoke.txt" 2>&1 || fail "revoke on node 3 failed: $(cat "$work/revoke.txt")"
grep -q "^f3: certificate .* revoked (superseded) at .*, signed with account " "$work/revoke.txt" ||
    fail "revoke did not sign with the fleet's account: $(cat "$work/revoke.txt")"
[[ $(pebble_status "$old_f3") == "Revoked 4" ]] || fail "Pebble says $(pebble_status "$old_f3") for the revoked f3"
replaced() { installed_everywhere f3 && [[ $(serial_of 1 f3) != "$old_f3" ]]; }
wait_for "the replacement of f3 on all three nodes" 90 replaced || fail "the revoked f3 was not replaced everywhere"
[[ $(settled "orders after the revocation" 2 20 pebble_orders) == $((orders_before + 1)) ]] ||
    fail "$(($(pebble_orders) - orders_before)) orders to replace f3 (want 1)"
echo "ok: f3 revoked on node 3 with the fleet's account (Pebble: reason 4), replaced by 1 order and installed on 3 nodes"
for n in 1 3; do
    rm "$work/node$n/etc/certs.d/f4.toml"
    ctl "$n" reload >/dev/null
done
delete_on() {
    local n=$1
    shift
    "$bin" delete f4 --revoke "$@" --config-dir "$work/node$n/etc" --state-dir "$work/node$n/state" \
        --socket "$work/node$n/run/control.sock"
}
f4_serial=$(serial_of 3 f4)
if delete_on 3 >"$work/delete-refused.txt" 2>&1; then fail "delete went ahead while node 2 has the spec of f4"; fi
grep -q 'node(s) node2:.* still have a spec of f4' "$work/delete-refused.txt" ||
    fail "the refusal does not name node 2: $(cat "$work/delete-refused.txt")"
[[ -s $work/node3/state/live/f4/cert.pem ]] || fail "a refused delete removed files"
rm "$work/node2/etc/certs.d/f4.toml"
ctl 2 reload >/dev/null
delete_on 3 >"$work/delete.txt" 2>&1 || fail "delete on node 3 failed: $(cat "$work/delete.txt")"
grep -q "removed the fleet's certificate f4" "$work/delete.txt" || fail "delete did not remove the fleet's certificate"
[[ $(pebble_status "$f4_serial") == "Revoked 5" ]] || fail "Pebble says $(pebble_status "$f4_serial") for f4 after delete --revoke"
[[ $(psql_admin "SELECT count(*) FROM certkeeper.certificate_state WHERE name = 'f4'") == 0 &&
    $(psql_admin "SELECT count(*) FROM certkeeper.certificates WHERE name = 'f4'") == 0 ]] ||
    fail "f4 is still in the database after delete"
[[ ! -e $work/node3/state/live/f4 && -s $work/node1/state/live/f4/cert.pem ]] || fail "delete on node 3 removed the wrong files"
delete_on 1 >"$work/delete-1.txt" 2>&1 || fail "delete on node 1 failed: $(cat "$work/delete-1.txt")"
grep -q "the fleet's store no longer has it" "$work/delete-1.txt" || fail "node 1's delete did not say why it revoked nothing"
[[ ! -e $work/node1/state/live/f4 ]] || fail "delete on node 1 left live/f4"
echo "ok: delete refused while node 2 had the spec; then f4 revoked (Pebble: reason 5), the database's f4 and each node's files removed"

echo "== g. a host on the file store moves into the database: nothing registered, nothing ordered"
host=$work/host
mkdir -p "$host/etc/certs.d" "$host/state"
write_main_config "$host/etc" pebble "$CERTKEEPER_TEST_ACME_DIRECTORY" "$CERTKEEPER_TEST_ACME_TLS_ROOTS" host@example.com
write_specs "$host/etc" 3 m migrated.test "127.0.0.14:$PEBBLE_HTTP_PORT"
curl -fsS -d '{"ip":"127.0.0.14"}' "$CERTKEEPER_TEST_CHALLTESTSRV/set-default-ipv4" >/dev/null
"$bin" run --once --config-dir "$host/etc" --state-dir "$host/state" >"$work/host-once.log" 2>&1 ||
    fail "the file-store host did not issue its certificates: $(tail -n 5 "$work/host-once.log")"
host_serials() {
    local i
    for i in 1 2 3; do openssl x509 -noout -serial -in "$1/live/m$i/cert.pem"; done
}
before_serials=$(host_serials "$host/state")
host_account_url=$(python3 -c 'import json,glob,sys; print(json.load(open(glob.glob(sys.argv[1] + "/accounts/*/account.json")[0]))["accountURL"])' "$host/state")
# A key rollover on the host first: the replaced key (key.pem.old-*) goes with the account.
host_account_id=$(basename "$(dirname "$(ls "$host"/state/accounts/*/account.json)")")
"$bin" account rollover "$host_account_id" --config-dir "$host/etc" --state-dir "$host/state" >"$work/rollover.log" 2>&1 ||
    fail "account rollover on the host failed: $(cat "$work/rollover.log")"
write_store_config "$host/etc" "$work/pg" "$pg_port" "$work/store.key" host "127.0.0.14:$PEBBLE_HTTP_PORT" \
    'schema = "migrated"'
# The least privileges of docs/fleet.md: the administrator makes the schema for certkeeper and takes back CREATE on
# the database (the running nodes' schema exists already).
psql_admin "CREATE SCHEMA migrated AUTHORIZATION certkeeper; REVOKE CREATE ON DATABASE certkeeper FROM certkeeper" >/dev/null
"$bin" store migrate --from files --to postgresql --dry-run --config-dir "$host/etc" --state-dir "$host/state" \
    >"$work/migrate-dry.log" 2>&1 || fail "the dry run failed: $(cat "$work/migrate-dry.log")"
grep -q '^dry run: nothing was changed$' "$work/migrate-dry.log" || fail "the dry run did not say so"
[[ $(psql_admin "SELECT count(*) FROM pg_tables WHERE schemaname = 'migrated'") == 0 ]] ||
    fail "the dry run created tables"
"$bin" store migrate --from files --to postgresql --config-dir "$host/etc" --state-dir "$host/state" \
    >"$work/migrate.log" 2>&1 || fail "store migrate failed: $(cat "$work/migrate.log")"
sed 's/^/   | /' "$work/migrate.log"
[[ $(grep -c '^certificate m[123]: copied' "$work/migrate.log") == 3 ]] || fail "not every certificate was copied"
[[ $(psql_admin "SELECT record::json->>'accountURL' FROM migrated.accounts") == "$host_account_url" ]] ||
    fail "the store's account is not the host's"
grep -q "^account $host_account_id: copied (valid, with 1 key(s) replaced by rollover)" "$work/migrate.log" ||
    fail "the migration did not copy the key the rollover replaced"
[[ $(psql_admin "SELECT count(*) FROM migrated.account_old_keys") == 1 ]] || fail "no old key in the store"
"$bin" store migrate --from files --to postgresql --config-dir "$host/etc" --state-dir "$host/state" \
    >"$work/migrate-again.log" 2>&1 || fail "a second migration failed: $(cat "$work/migrate-again.log")"
grep -q 'already in the store' "$work/migrate-again.log" || fail "a second migration did not find what the first copied"
! grep -q 'lacked' "$work/migrate-again.log" || fail "a second migration found keys the first did not copy"
[[ $(psql_admin "SELECT count(*) FROM migrated.account_old_keys") == 1 ]] || fail "a second migration copied the old key again"
accounts_before=$(pebble_new_accounts)
orders_before=$(pebble_orders)
# The host on the database, and a new node joining it with an empty state directory.
cp -r "$host/etc" "$work/joiner-etc"
sed -i 's/node_name = "host"/node_name = "joiner"/; s/127.0.0.14:/127.0.0.15:/' "$work/joiner-etc/certkeeper.toml"
mkdir -p "$work/joiner-state" "$work/host-run" "$work/joiner-run"
RUNTIME_DIRECTORY="$work/host-run" "$bin" run --config-dir "$host/etc" --state-dir "$host/state" >"$work/host.log" 2>&1 &
host_pid=$!
RUNTIME_DIRECTORY="$work/joiner-run" "$bin" run --config-dir "$work/joiner-etc" --state-dir "$work/joiner-state" \
    >"$work/joiner.log" 2>&1 &
joiner_pid=$!
joined() { [[ $(host_serials "$work/joiner-state" 2>/dev/null) == "$before_serials" ]]; }
wait_for "the joining node to install the migrated certificates" 60 joined || {
    stop_pid "$host_pid"
    stop_pid "$joiner_pid"
    fail "the joining node did not install the host's certificates"
}
settled "requests after migration" 2 20 pebble_orders >/dev/null || true
stop_pid "$host_pid"
stop_pid "$joiner_pid"
[[ $(host_serials "$host/state") == "$before_serials" ]] || fail "the host's certificates changed"
[[ $(pebble_new_accounts) == "$accounts_before" ]] || fail "the migrated host or the joiner registered an account"
[[ $(pebble_orders) == "$orders_before" ]] || fail "the migrated host or the joiner ordered a certificate"
# Rotating the encryption key (docs/fleet.md): the new key current, the old one previous, `store reseal`, then the
# old key removed from the configuration: the account key still opens, and is the host's own.
head -c 32 /dev/urandom | base64 >"$work/store.key.new"
chmod 600 "$work/store.key.new"
sed -i "s|^encryption_key_file = .*|encryption_key_file = \"$work/store.key.new\"\nprevious_encryption_key_files = [\"$work/store.key\"]|" \
    "$host/etc/certkeeper.toml"
"$bin" store reseal --config-dir "$host/etc" --state-dir "$host/state" >"$work/reseal.log" 2>&1 ||
    fail "store reseal failed: $(cat "$work/reseal.log")"
grep -q '^re-sealed [1-9][0-9]* key(s) with key ' "$work/reseal.log" || fail "reseal did not say what it did: $(cat "$work/reseal.log")"
sed -i '/^previous_encryption_key_files = /d' "$host/etc/certkeeper.toml"
"$bin" account export "$host_account_id" --output "$work/export-after-reseal" --config-dir "$host/etc" \
    --state-dir "$host/state" >"$work/export.log" 2>&1 || fail "the account key does not open after the rotation: $(cat "$work/export.log")"
cmp -s "$work/export-after-reseal/key.pem" "$host/state/accounts/$host_account_id/key.pem" ||
    fail "the store's account key is not the host's after the rotation"
echo "ok: migrated into a schema made by the administrator, without CREATE on the database (dry run first, a second run a no-op): 0 newAccount, 0 orders, the host's 3 certificates unchanged and installed on a joining node; the encryption key rotated with store reseal"
echo "fleet: all checks passed (${SECONDS}s)"
