#!/usr/bin/env bash
# End-to-end account guarantees (issue 3) against Pebble (EAB required) behind the GTS-like ACME double
# (--single-use-eab): one registration per account across restarts/reloads/new specs, contact update, local EAB
# binding check, refused-EAB without a retry loop, crash recovery between newAccount's reply and the store write,
# EAB re-binding with archive, key rollover (CLI, picked up by a running daemon, and from a changed `key` in config),
# certbot/lego import, an import the CA does not know storing nothing, deactivation, and no secret in any log or
# state file.
#
# Usage: scripts/e2e/accounts.sh WORKDIR      (ports: Pebble 14700/15700, challtestsrv 8755/8753, http-01 5702,
#                                              double 14743 + control 14780; everything on 127.0.0.1)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

work=${1:?usage: $0 WORKDIR}
install_packages
swift build --product certkeeper 2>&1 | tail -n 1
swift build --product certkeeper-crashing 2>&1 | tail -n 1
helper=scripts/e2e/accounts_helper.py

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
# A private copy, so a rebuild in the shared tree cannot swap the binary between restarts.
cp "$(swift build --show-bin-path)/certkeeper" "$work/certkeeper"
bin=$work/certkeeper
# The same command line with CERTKEEPER_FAULT crash points (the product has none).
cp "$(swift build --show-bin-path)/certkeeper-crashing" "$work/certkeeper-crashing"
crashing=$work/certkeeper-crashing
export PEBBLE_PORT=14700 PEBBLE_MGMT_PORT=15700 CHALLTESTSRV_PORT=8755 CHALLTESTSRV_DNS_PORT=8753
export PEBBLE_HTTP_PORT=5702 PEBBLE_TLS_PORT=5701 PEBBLE_EAB_REQUIRED=true
export DOUBLE_PORT=14743 DOUBLE_CONTROL_PORT=14780 DOUBLE_FLAGS="--single-use-eab"
export RUNTIME_DIRECTORY=$work/run
mkdir -p "$RUNTIME_DIRECTORY"

daemon_pid=
cleanup() {
    set +e
    if [[ -n $daemon_pid ]]; then
        kill "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null
    fi
    PEBBLE_DIR=$work/pebble scripts/testenv/acme-double.sh stop "$work/double" >/dev/null 2>&1
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1
}
trap cleanup EXIT

show_context() {
    if [[ -n ${log:-} && -f ${log:-} ]]; then
        echo "--- last lines of $log"
        tail -n 25 "$log"
    fi
}

echo "== starting Pebble (EAB required) and the GTS-like double"
# The double counts every newAccount POST, so Pebble's random badNonce rejections (whose retries are covered by
# ACMEClientTests and scripts/e2e/renewal.sh) would show up as extra requests: turn them off here.
PEBBLE_WFE_NONCEREJECT=0 scripts/testenv/pebble.sh start "$work/pebble" >/dev/null || fail "pebble.sh start"
# shellcheck disable=SC1091
source "$work/pebble/env"
PEBBLE_DIR=$work/pebble scripts/testenv/acme-double.sh start "$work/double" >/dev/null || fail "acme-double.sh start"
# shellcheck disable=SC1091
source "$work/double/env"
ca_dir=$CERTKEEPER_TEST_DOUBLE_DIRECTORY
roots=$CERTKEEPER_TEST_DOUBLE_TLS_ROOTS
control=$CERTKEEPER_TEST_DOUBLE_CONTROL
eab=$work/pebble/eab
default_id="127.0.0.1_${DOUBLE_PORT}_dir--default"

# The HMAC key for kid-1 is handed out in "console" form: standard base64 with padding and a trailing newline
# (the others stay base64url without padding), so both spellings are exercised.
python3 - "$eab/kid-1.hmac" "$work/kid-1.b64" <<'PY'
import base64, sys
raw = base64.urlsafe_b64decode(open(sys.argv[1]).read().strip() + "==")
open(sys.argv[2], "w").write("  " + base64.b64encode(raw).decode() + "\n")
PY
chmod 600 "$work/kid-1.b64"

stat_of() { curl -fsS --max-time 5 "$control/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
path_count() {
    curl -fsS --max-time 5 "$control/stats" |
        python3 -c "import json,sys; print(json.load(sys.stdin)['requests_by_path'].get(sys.argv[1], 0))" "$1"
}
reset_stats() { curl -fsS --max-time 5 -X POST "$control/reset/stats" >/dev/null; }
kind_count() { # kind_count KIND: requests of that kind (keyChange, account, ...) the double received
    curl -fsS --max-time 5 "$control/stats" |
        python3 -c "import json,sys; print(json.load(sys.stdin)['requests_by_kind'].get(sys.argv[1], 0))" "$1"
}
record_field() { # record_field ACCOUNT_JSON FIELD
    python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))" "$1" "$2"
}
expect_stat() { # expect_stat NAME VALUE
    local got
    got=$(stat_of "$1")
    [[ $got == "$2" ]] || { echo "     $1 = $got, expected $2" >&2; return 1; }
}

# write_main CONFDIR CONTACT KID HMACFILE [EXTRA...]: certkeeper.toml for the double.
write_main() {
    local conf=$1 contact=$2 kid=$3 hmac=$4
    shift 4
    mkdir -p "$conf/certs.d"
    {
        printf '[defaults]\nca = "double"\ncontact = "%s"\nkey = "ecdsa-p256"\n\n' "$contact"
        printf '[ca.double]\ndirectory = "%s"\ntrust_roots = "%s"\neab_kid = "%s"\neab_hmac_key_file = "%s"\n' \
            "$ca_dir" "$roots" "$kid" "$hmac"
        local extra
        for extra in "$@"; do printf '\n%s\n' "$extra"; done
    } >"$conf/certkeeper.toml"
}
# write_spec CONFDIR NAME [EXTRA LINE]: one http-01 certificate on the built-in responder.
write_spec() {
    {
        printf 'domains = ["%s.accounts.test"]\n' "$2"
        [[ -n ${3:-} ]] && printf '%s\n' "$3"
        printf '[challenge]\ntype = "http-01"\nlisten = "127.0.0.1:%s"\n' "$PEBBLE_HTTP_PORT"
    } >"$1/certs.d/$2.toml"
}

conf=
state=
log=
started_count() { grep -c 'certkeeper .* started: ' "$log" 2>/dev/null || true; }
start_daemon() { # start_daemon CONF STATE LOG [ENV...]
    conf=$1 state=$2 log=$3
    shift 3
    local before
    before=$(started_count)
    env "$@" "$bin" run --config-dir "$conf" --state-dir "$state" >>"$log" 2>&1 &
    daemon_pid=$!
    daemon_up() { (($(started_count) > before)) && [[ -S $RUNTIME_DIRECTORY/control.sock ]]; }
    wait_for "the daemon (pid $daemon_pid) to start" 60 daemon_up || fail "daemon did not come up (log $log)"
}
# stop_daemon: SIGTERM, then a bounded wait (15 s); SIGKILL only as a last resort (orders are crash-safe).
stop_daemon() {
    [[ -n $daemon_pid ]] || return 0
    kill "$daemon_pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 30; i++)); do
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$daemon_pid" 2>/dev/null; then
        echo "     note: daemon $daemon_pid did not stop within 15 s of SIGTERM; sending SIGKILL"
        kill -9 "$daemon_pid" 2>/dev/null || true
    fi
    wait "$daemon_pid" 2>/dev/null || true
    daemon_pid=
}
issued() { local n; for n in "$@"; do [[ -s $state/live/$n/fullchain.pem ]] || return 1; done; }
serial_of() { openssl x509 -noout -serial -in "$state/live/$1/cert.pem" | cut -d= -f2; }
ck() { "$bin" "$@" --config-dir "$conf" --state-dir "$state"; }
reload() { "$bin" reload; }

# ---------------------------------------------------------------------------------------------------------------
echo "== a. two specs, three restarts, a spec added later and a reload: exactly one newAccount with EAB"
c1=$work/c1 s1=$work/s1
write_main "$c1" "ops@example.com" kid-1 "$work/kid-1.b64"
write_spec "$c1" a1
write_spec "$c1" a2
"$bin" check --config-dir "$c1" >/dev/null || fail "certkeeper check on the first config"
reset_stats
start_daemon "$c1" "$s1" "$work/daemon-a.log"
wait_for "a1 and a2 issued" 240 issued a1 a2 || fail "a1/a2 were not issued"
for i in 1 2 3; do
    stop_daemon
    start_daemon "$c1" "$s1" "$work/daemon-a.log"
done
write_spec "$c1" a3
check "certkeeper reload (spec a3 added) exits 0" reload
wait_for "a3 issued" 240 issued a3 || fail "a3 was not issued after the reload"
check "every spec issued (a1 a2 a3)" issued a1 a2 a3
check "exactly one newAccount in total" expect_stat new_account_total 1
check "exactly one newAccount carrying EAB" expect_stat new_account_with_eab 1
check "no onlyReturnExisting lookup and no refusal" \
    bash -c "[[ \$(curl -fsS $control/stats | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s[\"new_account_only_return_existing\"], s[\"new_account_refused\"])') == '0 0' ]]"
check "one active account in the store, bound to kid-1" \
    bash -c "ck() { \"$bin\" \"\$@\" --config-dir '$c1' --state-dir '$s1'; }; ck account list | grep -q '^$default_id	valid	mailto:ops@example.com	eab:kid-1	https://'"
check "the three certificates are ordered by the same account" \
    bash -c "[[ \$(grep -c 'message_id=558e25cf79f34537b7ad09eb8d2a9d29' '$work/daemon-a.log') == 1 ]]"
account_url=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['accountURL'])" "$s1/accounts/$default_id/account.json")
account_path=${account_url#https://127.0.0.1:${DOUBLE_PORT}}

# ---------------------------------------------------------------------------------------------------------------
echo "== b. contact changed + reload: account update (POST to the account URL), no registration"
reset_stats
write_main "$c1" "ops2@example.com" kid-1 "$work/kid-1.b64"
check "certkeeper reload (contact changed) exits 0" reload
updated_contact() { grep -q '"mailto:ops2@example.com"' "$s1/accounts/$default_id/account.json"; }
wait_for "the stored contact to change" 60 updated_contact || fail "the stored contact was not updated"
check "a POST to the account URL $account_path" bash -c "(( \$(curl -fsS $control/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"requests_by_path\"].get(sys.argv[1], 0))' '$account_path') >= 1 ))"
check "no newAccount" expect_stat new_account_total 0

# ---------------------------------------------------------------------------------------------------------------
echo "== c. a second named account with the same eab_kid fails before anything is sent"
reset_stats
before_requests=$(stat_of requests_total)
write_main "$c1" "ops2@example.com" kid-1 "$work/kid-1.b64" \
    "$(printf '[account.second]\nca = "double"\ncontact = "second@example.com"\neab_kid = "kid-1"\neab_hmac_key_file = "%s"' "$work/kid-1.b64")"
write_spec "$c1" c1 'account = "second"'
# Caught by the configuration itself (the store-level check for a kid spent by an account no longer configured
# is covered by AccountManagerTests): the reload fails and names both accounts, the key id and what to do.
if reload >"$work/reload-c.out" 2>&1; then fail "reload with two accounts sharing kid-1 succeeded"; fi
check "the reload error names both accounts and the key id" \
    grep -q "accounts 'default' (used by .*) and 'second' (used by c1) at .* are both configured with EAB key id 'kid-1'" "$work/reload-c.out"
check "the error says what to do" grep -q "give each account in .* its own eab_kid" "$work/reload-c.out"
check "the error is FILE:LINE:COLUMN" grep -q "certs.d/c1.toml:1:1: " "$work/reload-c.out"
check "nothing was sent to the CA (requests_total unchanged: $before_requests)" expect_stat requests_total "$before_requests"
check "no account record for 'second' was created" bash -c "! ls '$s1/accounts' | grep -q -- '--second'"
rm -f "$c1/certs.d/c1.toml"
write_main "$c1" "ops2@example.com" kid-1 "$work/kid-1.b64"
check "certkeeper reload (second account removed) exits 0" reload

# ---------------------------------------------------------------------------------------------------------------
echo "== d. account store deleted: one refused registration, a clear error, no retry loop"
stop_daemon
cp -a "$s1/accounts" "$work/accounts-backup"
rm -rf "$s1/accounts"
reset_stats
start_daemon "$c1" "$s1" "$work/daemon-d.log"
refused() { [[ $(stat_of new_account_refused) -ge 1 ]]; }
wait_for "the refused registration" 60 refused || fail "the double saw no refused newAccount"
eab_line() { grep 'message_id=a29784a5ac12444eabd634901270f312' "$log"; }
wait_for "the EAB-refused log line" 20 eab_line || fail "no log line with the EAB-refused MESSAGE_ID"
check "the line says the key is probably spent" bash -c "grep 'message_id=a29784a5ac12444eabd634901270f312' '$log' | grep -q 'probably already spent'"
check "the line names the backup path and certkeeper account import" \
    bash -c "grep 'message_id=a29784a5ac12444eabd634901270f312' '$log' | grep -q '$s1/accounts/$default_id.*certkeeper account import'"
# The forced renewal is handled when a1 logs another failure; until then, and for a quiet period after it, the CA
# must see nothing more (the refusal is remembered until a reload).
a1_failures() { grep 'renewal failed' "$log" | grep -c 'cert=a1' || true; }
a1_failed_before=$(a1_failures)
"$bin" renew a1 --force >/dev/null || fail "certkeeper renew a1 --force"
a1_failed_again() { (($(a1_failures) > a1_failed_before)); }
wait_for "a1's forced renewal to fail" 40 a1_failed_again || fail "renew a1 --force did not lead to a logged failure"
check "the forced attempt waits for a reload" bash -c "grep 'renewal failed' '$log' | grep 'cert=a1' | tail -n 1 | grep -q 'next try after a reload'"
settled "the double's request count" 3 60 stat_of requests_total >/dev/null || fail "the daemon kept talking to the CA"
check "still exactly one refused registration after renew --force" expect_stat new_account_refused 1
check "exactly one newAccount in total" expect_stat new_account_total 1

echo "== d2. a reload retries the refused registration once, with the stored key, and is refused again"
pending_key_sum=$(sha256sum <"$s1/accounts/$default_id/key.pem")
check "the refused registration left a pending record" grep -q '"pending"' "$s1/accounts/$default_id/account.json"
eab_lines_before=$(eab_line | wc -l)
a1_failed_before=$(a1_failures)
reset_stats
check "certkeeper reload exits 0" reload
# The retry: a lookup of the stored key (onlyReturnExisting), then newAccount with the same key and EAB, refused.
retried() { [[ $(stat_of new_account_refused) -ge 1 ]] && (($(eab_line | wc -l) > eab_lines_before)) && (($(a1_failures) > a1_failed_before)); }
wait_for "the reload's registration attempt, its refusal and a1's failure" 60 retried ||
    fail "after the reload: refused=$(stat_of new_account_refused), EAB-refused lines $(eab_line | wc -l) (before: $eab_lines_before)"
settled "the double's request count" 3 60 stat_of requests_total >/dev/null || fail "the daemon kept talking to the CA"
check "the reload sent exactly two newAccount: the lookup and one registration" expect_stat new_account_total 2
check "... the lookup of the stored key (onlyReturnExisting)" expect_stat new_account_only_return_existing 1
check "... one registration carrying EAB" expect_stat new_account_with_eab 1
check "... refused once by the CA (403), and not retried again" expect_stat new_account_refused 1
check "the retry used the stored key (key.pem unchanged, no second key generated)" \
    test "$(sha256sum <"$s1/accounts/$default_id/key.pem")" = "$pending_key_sum"
check "the refusal is logged again (EAB-refused lines: $(eab_line | wc -l))" test "$(eab_line | wc -l)" -eq $((eab_lines_before + 1))
check "a1 waits for a reload again" bash -c "grep 'renewal failed' '$log' | grep 'cert=a1' | tail -n 1 | grep -q 'next try after a reload'"
check "the record is still pending (nothing was registered)" grep -q '"pending"' "$s1/accounts/$default_id/account.json"
stop_daemon

echo "== restore from backup: the account is used again, no registration"
rm -rf "$s1/accounts"
cp -a "$work/accounts-backup" "$s1/accounts"
reset_stats
start_daemon "$c1" "$s1" "$work/daemon-r.log"
old_serial=$(serial_of a1)
"$bin" renew a1 --force >/dev/null || fail "certkeeper renew a1 --force"
renewed_a1() { [[ $(serial_of a1) != "$old_serial" ]]; }
wait_for "a1 renewed with the restored account" 240 renewed_a1 || fail "a1 was not renewed after restoring the account"
check "no newAccount after the restore" expect_stat new_account_total 0

# ---------------------------------------------------------------------------------------------------------------
echo "== f. a different eab_kid (kid-2) for the default account + reload: new account, old record archived"
reset_stats
write_main "$c1" "ops2@example.com" kid-2 "$eab/kid-2.hmac"
check "certkeeper reload (eab_kid kid-2) exits 0" reload
rebound() { grep -q '"kid-2"' "$s1/accounts/$default_id/account.json" && grep -q '"valid"' "$s1/accounts/$default_id/account.json"; }
wait_for "the default account re-bound to kid-2" 60 rebound || fail "the default account was not re-bound to kid-2"
check "exactly one new registration, with EAB" expect_stat new_account_with_eab 1
check "account list --all shows the kid-1 account archived" \
    bash -c "\"$bin\" account list --all --config-dir '$c1' --state-dir '$s1' | grep -P '\tarchived\t.*\teab:kid-1\t$account_url$' | grep -q ."
check "the archived account's files are still on disk" \
    bash -c "ls '$s1'/accounts/archive/${default_id}-*/key.pem '$s1'/accounts/archive/${default_id}-*/account.json >/dev/null"
new_url=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['accountURL'])" "$s1/accounts/$default_id/account.json")
check "the new account has a different URL" test "$new_url" != "$account_url"
old_serial=$(serial_of a2)
"$bin" renew a2 --force >/dev/null || fail "certkeeper renew a2 --force"
renewed_a2() { [[ $(serial_of a2) != "$old_serial" ]]; }
wait_for "a2 renewed with the re-bound account" 240 renewed_a2 || fail "a2 was not renewed with the new account"

# ---------------------------------------------------------------------------------------------------------------
echo "== g. account rollover: orders work with the new key, the old key is refused"
stop_daemon
cp "$s1/accounts/$default_id/key.pem" "$work/old-key.pem"
"$bin" account rollover "$default_id" --config-dir "$c1" --state-dir "$s1" || fail "certkeeper account rollover"
check "the key file changed" bash -c "! cmp -s '$work/old-key.pem' '$s1/accounts/$default_id/key.pem'"
check "the old key is kept as key.pem.old-*" bash -c "cmp -s '$work/old-key.pem' '$s1'/accounts/$default_id/key.pem.old-*"
reset_stats
start_daemon "$c1" "$s1" "$work/daemon-g.log"
old_serial=$(serial_of a3)
"$bin" renew a3 --force >/dev/null || fail "certkeeper renew a3 --force"
renewed_a3() { [[ $(serial_of a3) != "$old_serial" ]]; }
wait_for "a3 renewed with the new key" 240 renewed_a3 || fail "a3 was not renewed after the rollover"
check "no newAccount after the rollover" expect_stat new_account_total 0
old_lookup=$(python3 "$helper" lookup "$ca_dir" "$roots" "$work/old-key.pem")
check "the old key has no account any more ($old_lookup)" grep -q '^400 - urn:ietf:params:acme:error:accountDoesNotExist$' <<<"$old_lookup"
old_post=$(python3 "$helper" post-as-get "$ca_dir" "$roots" "$work/old-key.pem" "$new_url")
check "a request signed with the old key is refused ($old_post)" grep -qE '^(400|401|403) urn:ietf:params:acme:error:' <<<"$old_post"
new_lookup=$(python3 "$helper" lookup "$ca_dir" "$roots" "$s1/accounts/$default_id/key.pem")
check "the new key finds the same account ($new_lookup)" grep -q "^200 $new_url -$" <<<"$new_lookup"

echo "== g2. a running daemon picks up \`certkeeper account rollover\` at its next use of the account (no reload)"
# The daemon above used the account for a3: it holds the key in memory. After the rollover the CA refuses that key,
# so a1 can only be renewed if the daemon reads the new key.
g_pid=$daemon_pid
cp "$s1/accounts/$default_id/key.pem" "$work/old-key-2.pem"
reset_stats
"$bin" account rollover "$default_id" --config-dir "$c1" --state-dir "$s1" >/dev/null || fail "certkeeper account rollover (daemon running)"
check "the CA saw exactly one keyChange" test "$(kind_count keyChange)" = 1
check "the key file changed" bash -c "! cmp -s '$work/old-key-2.pem' '$s1/accounts/$default_id/key.pem'"
old2_post=$(python3 "$helper" post-as-get "$ca_dir" "$roots" "$work/old-key-2.pem" "$new_url")
check "the key the daemon holds in memory is refused by the CA now ($old2_post)" grep -qE '^(400|401|403) urn:ietf:params:acme:error:' <<<"$old2_post"
old_serial=$(serial_of a1)
"$bin" renew a1 --force >/dev/null || fail "certkeeper renew a1 --force"
renewed_a1() { [[ $(serial_of a1) != "$old_serial" ]]; }
wait_for "a1 renewed by the running daemon with the rolled-over key" 120 renewed_a1 ||
    fail "the running daemon did not renew a1 after \`account rollover\` (does it still sign with the old key?)"
check "the same daemon process did it (pid $g_pid, no restart)" test "$daemon_pid" = "$g_pid" -a "$(started_count)" = 1
check "no newAccount" expect_stat new_account_total 0
check "no failure logged for a1" bash -c "! grep 'renewal failed' '$log' | grep -q 'cert=a1'"
stop_daemon

# ---------------------------------------------------------------------------------------------------------------
echo "== e. crash between newAccount's reply and the store write: recovered with the stored key"
c2=$work/c2 s2=$work/s2
write_main "$c2" "ops@example.com" kid-1 "$work/kid-1.b64" \
    "$(printf '[account.crash]\nca = "double"\ncontact = "crash@example.com"\nkey = "rsa-2048"\neab_kid = "kid-3"\neab_hmac_key_file = "%s"' "$eab/kid-3.hmac")"
write_spec "$c2" e1 'account = "crash"'
reset_stats
log=$work/daemon-e.log
env CERTKEEPER_FAULT=after-newaccount-reply "$crashing" run --config-dir "$c2" --state-dir "$s2" >>"$log" 2>&1 &
daemon_pid=$!
rc=0
for ((i = 0; i < 120; i++)); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.5; done
wait "$daemon_pid" 2>/dev/null || rc=$?
daemon_pid=
check "the daemon died at the fault point (exit status $rc)" test "$rc" = 137
crash_id="127.0.0.1_${DOUBLE_PORT}_dir--crash"
check "the store holds the pending record and its key" \
    bash -c "grep -q '\"pending\"' '$s2/accounts/$crash_id/account.json' && test -s '$s2/accounts/$crash_id/key.pem'"
check "the CA saw exactly one newAccount with EAB" expect_stat new_account_with_eab 1
start_daemon "$c2" "$s2" "$log"
wait_for "e1 issued after the crash" 240 issued e1 || fail "e1 was not issued after recovery"
check "recovered with onlyReturnExisting" bash -c "(( \$(curl -fsS $control/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"new_account_only_return_existing\"])') >= 1 ))"
check "still exactly one newAccount with EAB" expect_stat new_account_with_eab 1
check "no refusal" expect_stat new_account_refused 0
check "the record is valid now" grep -q '"valid"' "$s2/accounts/$crash_id/account.json"
crash_url=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['accountURL'])" "$s2/accounts/$crash_id/account.json")
stop_daemon

# ---------------------------------------------------------------------------------------------------------------
echo "== h. import from certbot- and lego-shaped account directories: issued without a new registration"
"$bin" account export "$crash_id" --output "$work/export-crash" --config-dir "$c2" --state-dir "$s2" >/dev/null ||
    fail "certkeeper account export"
python3 "$helper" certbot "$work/export-crash/key.pem" "$crash_url" "mailto:crash@example.com" "$ca_dir" "$work/certbot-acct" ||
    fail "building the certbot account directory"
python3 "$helper" lego "$s1/accounts/$default_id/key.pem" "$new_url" "ops2@example.com" "$work/lego-acct" ||
    fail "building the lego account directory"

c3=$work/c3 s3=$work/s3
write_main "$c3" "crash@example.com" kid-3 "$eab/kid-3.hmac" \
    "$(printf '[account.imported]\nca = "double"\ncontact = "crash@example.com"\nkey = "rsa-2048"\neab_kid = "kid-3"\neab_hmac_key_file = "%s"' "$eab/kid-3.hmac")"
write_spec "$c3" h1 'account = "imported"'
reset_stats
"$bin" account import --from-certbot "$work/certbot-acct" --ca double --name imported --eab-kid kid-3 \
    --config-dir "$c3" --state-dir "$s3" || fail "certkeeper account import --from-certbot"
check "certbot import: the record holds the CA's account URL" grep -q "\"$crash_url\"" "$s3/accounts/127.0.0.1_${DOUBLE_PORT}_dir--imported/account.json"
start_daemon "$c3" "$s3" "$work/daemon-h1.log"
wait_for "h1 issued with the certbot account" 240 issued h1 || fail "h1 was not issued with the imported certbot account"
stop_daemon
check "certbot import: no registration (only onlyReturnExisting lookups)" \
    bash -c "[[ \$(curl -fsS $control/stats | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s[\"new_account_total\"] - s[\"new_account_only_return_existing\"], s[\"new_account_with_eab\"])') == '0 0' ]]"

c4=$work/c4 s4=$work/s4
write_main "$c4" "ops2@example.com" kid-2 "$eab/kid-2.hmac"
write_spec "$c4" h2
reset_stats
"$bin" account import --from-lego "$work/lego-acct" --ca double --eab-kid kid-2 --config-dir "$c4" --state-dir "$s4" ||
    fail "certkeeper account import --from-lego"
start_daemon "$c4" "$s4" "$work/daemon-h2.log"
wait_for "h2 issued with the lego account" 240 issued h2 || fail "h2 was not issued with the imported lego account"
stop_daemon
check "lego import: no registration (only onlyReturnExisting lookups)" \
    bash -c "[[ \$(curl -fsS $control/stats | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s[\"new_account_total\"] - s[\"new_account_only_return_existing\"], s[\"new_account_with_eab\"])') == '0 0' ]]"
check "lego import: the account URL is the existing one" grep -q "\"$new_url\"" "$s4/accounts/$default_id/account.json"

# ---------------------------------------------------------------------------------------------------------------
echo "== i. [account.imported] key changed from rsa-2048 to ecdsa-p384 in config + reload: key rollover, same account"
imported_id="127.0.0.1_${DOUBLE_PORT}_dir--imported"
imported_dir=$s3/accounts/$imported_id
cp "$imported_dir/key.pem" "$work/imported-rsa-key.pem"
check "the imported account holds an RSA key" bash -c "openssl pkey -noout -text -in '$imported_dir/key.pem' | grep -q 'Private-Key: (2048 bit'"
start_daemon "$c3" "$s3" "$work/daemon-i.log"
reset_stats
write_main "$c3" "crash@example.com" kid-3 "$eab/kid-3.hmac" \
    "$(printf '[account.imported]\nca = "double"\ncontact = "crash@example.com"\nkey = "ecdsa-p384"\neab_kid = "kid-3"\neab_hmac_key_file = "%s"' "$eab/kid-3.hmac")"
check "certkeeper reload (account key type changed) exits 0" reload
old_serial=$(serial_of h1)
"$bin" renew h1 --force >/dev/null || fail "certkeeper renew h1 --force"
renewed_h1() { [[ $(serial_of h1) != "$old_serial" ]]; }
wait_for "h1 renewed after the key type change" 120 renewed_h1 || fail "h1 was not renewed after the account key type changed"
check "the rollover is logged" grep -q "account 'imported' at .*: key rolled over to ecdsa-p384" "$log"
check "the record says ecdsa-p384" test "$(record_field "$imported_dir/account.json" keyType)" = ecdsa-p384
check "key.pem is a P-384 key now" bash -c "openssl pkey -noout -text -in '$imported_dir/key.pem' | grep -q 'NIST CURVE: P-384'"
check "the RSA key is kept as key.pem.old-*" bash -c "cmp -s '$work/imported-rsa-key.pem' '$imported_dir'/key.pem.old-*"
check "no key.pem.next left behind" bash -c "! test -e '$imported_dir/key.pem.next'"
check "the CA saw exactly one keyChange" test "$(kind_count keyChange)" = 1
check "no registration (no newAccount other than lookups, none with EAB)" \
    bash -c "[[ \$(curl -fsS $control/stats | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s[\"new_account_total\"] - s[\"new_account_only_return_existing\"], s[\"new_account_with_eab\"])') == '0 0' ]]"
check "the account URL is unchanged" test "$(record_field "$imported_dir/account.json" accountURL)" = "$crash_url"
p384_lookup=$(python3 "$helper" lookup "$ca_dir" "$roots" "$imported_dir/key.pem")
check "the CA finds the same account with the P-384 key ($p384_lookup)" grep -q "^200 $crash_url -$" <<<"$p384_lookup"
rsa_lookup=$(python3 "$helper" lookup "$ca_dir" "$roots" "$work/imported-rsa-key.pem")
check "the CA no longer knows the RSA key ($rsa_lookup)" grep -q '^400 - urn:ietf:params:acme:error:accountDoesNotExist$' <<<"$rsa_lookup"
stop_daemon

# ---------------------------------------------------------------------------------------------------------------
echo "== j. certkeeper account deactivate: refused without --yes; with it, deactivated at the CA and in the store"
reset_stats
if "$bin" account deactivate "$imported_id" --config-dir "$c3" --state-dir "$s3" >"$work/deactivate-no.out" 2>&1; then
    fail "account deactivate without --yes succeeded"
fi
check "without --yes: the error asks for --yes" grep -q -- '--yes' "$work/deactivate-no.out"
check "without --yes: nothing was sent to the CA" expect_stat requests_total 0
check "without --yes: the record stays valid" test "$(record_field "$imported_dir/account.json" status)" = valid
"$bin" account deactivate "$imported_id" --yes --config-dir "$c3" --state-dir "$s3" >"$work/deactivate.out" ||
    fail "certkeeper account deactivate --yes"
check "the record says deactivated" test "$(record_field "$imported_dir/account.json" status)" = deactivated
check "account list shows it deactivated" \
    bash -c "\"$bin\" account list --config-dir '$c3' --state-dir '$s3' | grep -P '^$imported_id\tdeactivated\t' | grep -q ."
check "the CA got a request at the account URL" test "$(path_count "${crash_url#https://127.0.0.1:${DOUBLE_PORT}}")" -ge 1
deactivated_post=$(python3 "$helper" post-as-get "$ca_dir" "$roots" "$imported_dir/key.pem" "$crash_url")
check "the CA refuses the deactivated account's key ($deactivated_post)" grep -qE '^(401|403) urn:ietf:params:acme:error:unauthorized$' <<<"$deactivated_post"

# ---------------------------------------------------------------------------------------------------------------
echo "== k. certkeeper account import of a key the CA does not know: refused, nothing stored"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/unknown-key.pem" 2>/dev/null
s5=$work/s5
reset_stats
if "$bin" account import --key "$work/unknown-key.pem" --ca double --name ghost --config-dir "$c3" --state-dir "$s5" \
    >"$work/import-unknown.out" 2>&1; then
    fail "account import of an unknown key succeeded: $(cat "$work/import-unknown.out")"
fi
check "the error says the CA does not know the key" grep -q 'accountDoesNotExist' "$work/import-unknown.out"
check "the CA was asked exactly once, with onlyReturnExisting" \
    bash -c "[[ \$(curl -fsS $control/stats | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s[\"new_account_total\"], s[\"new_account_only_return_existing\"], s[\"new_account_with_eab\"])') == '1 1 0' ]]"
check "nothing was stored (no file under the state directory, hidden ones included)" \
    test "$(find "$s5" -mindepth 1 -type f 2>/dev/null | wc -l)" = 0
check "account list shows no account" bash -c "! \"$bin\" account list --all --config-dir '$c3' --state-dir '$s5' | grep -q ghost"

# ---------------------------------------------------------------------------------------------------------------
echo "== secrets: no EAB HMAC key in any log, state JSON or account show output"
"$bin" account show "$default_id" --config-dir "$c1" --state-dir "$s1" >"$work/account-show.out"
ck_status() { "$bin" status --offline --json --config-dir "$c1" --state-dir "$s1"; }
ck_status >"$work/status.out" 2>&1 || true
secrets=("$(tr -d ' \n' <"$work/kid-1.b64")")
for n in 1 2 3; do secrets+=("$(tr -d ' \n' <"$eab/kid-$n.hmac")"); done
secret_leak=0
for secret in "${secrets[@]}"; do
    if grep -rlF -- "$secret" "$work"/daemon-*.log "$work"/*.out "$work"/s[1-4] "$work"/c[1-4] --include='*.log' \
        --include='*.out' --include='*.json' --include='*.toml' 2>/dev/null; then
        secret_leak=1
    fi
done
check "no HMAC key text in logs, status, account show or state JSON" test "$secret_leak" = 0
check "account show does not print the private key" bash -c "! grep -q 'PRIVATE KEY' '$work/account-show.out'"
echo "all account checks passed"
