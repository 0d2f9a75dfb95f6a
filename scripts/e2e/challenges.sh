#!/usr/bin/env bash
# End to end (issue 6): every challenge path through the daemon, against Pebble whose DNS is a real BIND 9.
#
#   a. dns-01 rfc2136 (zone found by SOA): example.test + *.example.test issued; SANs exactly both names; the
#      challenge TXT records are gone afterwards while an unrelated TXT record at the same name survives
#   b. a wrong TSIG secret: failure naming server, zone and key (log and `status --json`), backoff, secret not logged;
#      a key name missing from the key file: failure naming the key and the file
#   c. dns-01 exec provider (etc/examples/dns-hook.sh, nsupdate): issued; the hook saw present and cleanup
#   d. tls-alpn-01 on Pebble's tlsPort: issued
#   e. per-domain override: http-01 (built-in) for the apex, dns-01 (TSIG secret as a systemd credential) for *.
#   f. `certkeeper check` rejects a wildcard with http-01 at FILE:LINE:COLUMN
#   g. CNAME delegation: _acme-challenge.cname.example.test is a CNAME to cname.delegated.test; rfc2136 with a key
#      that may update delegated.test only issues cname.example.test + *.cname.example.test; the exec hook is given
#      cname2.delegated.test for cname2.example.test; the records go in delegated.test and are gone afterwards
#
# Usage: scripts/e2e/challenges.sh WORKDIR     (ports: Pebble 14900/15900, http 5902, tls 5901, BIND 5953)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

work=${1:?usage: $0 WORKDIR}
install_packages
command -v nsupdate >/dev/null || { echo "nsupdate missing (bind9-dnsutils)" >&2; exit 1; }
echo "== building certkeeper"
swift build --product certkeeper 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)/certkeeper

rm -rf "$work"
mkdir -p "$work"/{etc/certs.d,state,run,creds,bad/certs.d}
work=$(cd "$work" && pwd)
bind_dir=$work/bind
pebble_dir=$work/pebble
daemon_pid=
cleanup() {
    set +e
    if [[ -n $daemon_pid ]]; then
        kill "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null
        echo "daemon stopped (${SECONDS}s)"
    fi
    scripts/testenv/pebble.sh stop "$pebble_dir" >/dev/null 2>&1
    scripts/testenv/bind.sh stop "$bind_dir" >/dev/null 2>&1
}
trap cleanup EXIT

show_context() {
    if [[ -f $work/daemon.log ]]; then
        echo "--- last daemon log lines ($work/daemon.log)"
        tail -n 30 "$work/daemon.log"
    fi
}

echo "== starting BIND on 127.0.0.1:5953 and Pebble on 127.0.0.1:14900 (DNS: BIND)"
scripts/testenv/bind.sh start "$bind_dir" 5953 >/dev/null
# shellcheck disable=SC1091
source "$bind_dir/env"
PEBBLE_PORT=14900 PEBBLE_MGMT_PORT=15900 PEBBLE_HTTP_PORT=5902 PEBBLE_TLS_PORT=5901 \
    PEBBLE_DNS=127.0.0.1:5953 PEBBLE_CHALLTESTSRV=0 PEBBLE_AUTHZREUSE=0 \
    scripts/testenv/pebble.sh start "$pebble_dir" >/dev/null || { cat "$pebble_dir"/*.log >&2; exit 1; }
# shellcheck disable=SC1091
source "$pebble_dir/env"

dig_txt() { dig @127.0.0.1 -p 5953 +short +norecurse +time=2 +tries=1 TXT "$1" | sort; }

# An unrelated TXT record at the challenge name: the daemon must delete only what it added.
printf 'server 127.0.0.1 5953\nupdate add _acme-challenge.example.test. 60 IN TXT "keep-me"\nsend\n' |
    nsupdate -k "$TSIG_SECRET_FILE" -t 5
check "unrelated TXT record planted at _acme-challenge.example.test" \
    test "$(dig_txt _acme-challenge.example.test)" = '"keep-me"'

real_secret=$(sed -n 's/.*secret "\([^"]*\)".*/\1/p' "$TSIG_SECRET_FILE")
[[ -n $real_secret ]] || fail "cannot read the secret from $TSIG_SECRET_FILE"
# The same key as a bare base64 secret, handed over as a systemd credential (case e).
(umask 077 && printf '%s\n' "$real_secret" >"$work/creds/tsig")
# A wrong secret of the right shape (case b).
wrong_secret=$(openssl rand -base64 32)
(umask 077 && printf '%s\n' "$wrong_secret" >"$work/wrong-tsig.key")

cat >"$work/etc/certkeeper.toml" <<TOML
[defaults]
ca = "pebble"
contact = "ops@example.com"
key = "ecdsa-p256"

[ca.pebble]
directory = "$CERTKEEPER_TEST_ACME_DIRECTORY"
trust_roots = "$CERTKEEPER_TEST_ACME_TLS_ROOTS"
TOML
# a. rfc2136 without zone: found through SOA.
cat >"$work/etc/certs.d/wild.toml" <<TOML
domains = ["example.test", "*.example.test"]
[challenge]
type = "dns-01"
provider = "rfc2136"
server = "127.0.0.1:5953"
tsig_key_name = "$TSIG_KEY_NAME."
tsig_algorithm = "hmac-sha256"
tsig_secret_file = "$TSIG_SECRET_FILE"
propagation_servers = ["127.0.0.1:5953"]
propagation_timeout = "30s"
TOML
# b. the wrong secret.
cat >"$work/etc/certs.d/badkey.toml" <<TOML
domains = ["badkey.example.test"]
[challenge]
type = "dns-01"
provider = "rfc2136"
server = "127.0.0.1:5953"
zone = "example.test"
tsig_key_name = "$TSIG_KEY_NAME"
tsig_secret_file = "$work/wrong-tsig.key"
propagation_servers = ["127.0.0.1:5953"]
TOML
# b2. a key name that the key file does not hold.
cat >"$work/etc/certs.d/keyname.toml" <<TOML
domains = ["keyname.example.test"]
[challenge]
type = "dns-01"
provider = "rfc2136"
server = "127.0.0.1:5953"
tsig_key_name = "not-the-key"
tsig_secret_file = "$TSIG_SECRET_FILE"
TOML
# c. exec provider.
cat >"$work/etc/certs.d/hook.toml" <<TOML
domains = ["hook.example.test", "*.hook.example.test"]
[challenge]
type = "dns-01"
provider = "exec"
command = ["$PWD/etc/examples/dns-hook.sh"]
propagation_servers = ["127.0.0.1:5953"]
propagation_timeout = "30s"
TOML
# g. CNAME delegation: rfc2136 with the key for delegated.test only, and the exec hook.
cat >"$work/etc/certs.d/delegated.toml" <<TOML
domains = ["cname.example.test", "*.cname.example.test"]
[challenge]
type = "dns-01"
provider = "rfc2136"
server = "127.0.0.1:5953"
tsig_key_name = "$DELEGATED_KEY_NAME"
tsig_secret_file = "$DELEGATED_SECRET_FILE"
resolver = "127.0.0.1:5953"
delegated_zone = "delegated.test"
propagation_servers = ["127.0.0.1:5953"]
propagation_timeout = "30s"
TOML
cat >"$work/etc/certs.d/delegated-exec.toml" <<TOML
domains = ["cname2.example.test"]
[challenge]
type = "dns-01"
provider = "exec"
command = ["$PWD/etc/examples/dns-hook.sh"]
resolver = "127.0.0.1:5953"
propagation_servers = ["127.0.0.1:5953"]
propagation_timeout = "30s"
TOML
# d. tls-alpn-01 on Pebble's tlsPort.
cat >"$work/etc/certs.d/alpn.toml" <<TOML
domains = ["alpn.example.test"]
[challenge]
type = "tls-alpn-01"
listen = "127.0.0.1:5901"
TOML
# e. http-01 for the apex, dns-01 for the wildcard. mixed.example.test resolves through the zone's `*` A record;
#    while _acme-challenge.mixed.example.test exists the name is an empty non-terminal (no A), so this also relies
#    on the daemon removing the wildcard's TXT record as soon as its authorization is settled.
cat >"$work/etc/certs.d/mixed.toml" <<TOML
domains = ["mixed.example.test", "*.mixed.example.test"]
[challenge]
type = "http-01"
listen = "127.0.0.1:5902"

[challenge.domains."*.mixed.example.test"]
type = "dns-01"
provider = "rfc2136"
server = "127.0.0.1:5953"
zone = "example.test"
tsig_key_name = "$TSIG_KEY_NAME"
tsig_secret_credential = "tsig"
propagation_servers = ["127.0.0.1:5953"]
TOML

echo "== certkeeper check"
check "certkeeper check accepts the six specs" "$bin" check --config-dir "$work/etc"

echo "== f. certkeeper check rejects a wildcard with http-01"
cp "$work/etc/certkeeper.toml" "$work/bad/certkeeper.toml"
cat >"$work/bad/certs.d/wildhttp.toml" <<TOML
domains = ["plain.example.test", "*.example.test"]
[challenge]
type = "http-01"
listen = "127.0.0.1:5902"
TOML
check_rejected "check exits non-zero for a wildcard with http-01" "$work/bad" "$work/check-bad.out"
check "the error is located at certs.d/wildhttp.toml:LINE:COLUMN and names the wildcard" \
    grep -qE "certs\.d/wildhttp\.toml:[0-9]+:[0-9]+:.*\*\.example\.test" "$work/check-bad.out"

echo "== certkeeper run (log: $work/daemon.log)"
RUNTIME_DIRECTORY=$work/run CREDENTIALS_DIRECTORY=$work/creds \
    DNS_HOOK_SERVER=127.0.0.1:5953 DNS_HOOK_KEY_FILE=$TSIG_SECRET_FILE DNS_HOOK_LOG=$work/hook.log \
    "$bin" run --config-dir "$work/etc" --state-dir "$work/state" >"$work/daemon.log" 2>&1 &
daemon_pid=$!

live() { echo "$work/state/live/$1/fullchain.pem"; }
# Polls until the four good certificates are installed; snapshots `status --json` the first time badkey shows a
# failure, so the check below sees its first backoff even on a slow machine.
progress() {
    local name
    if [[ ! -s $work/status.json ]]; then
        RUNTIME_DIRECTORY=$work/run "$bin" status --json --config-dir "$work/etc" --state-dir "$work/state" \
            >"$work/status.poll" 2>/dev/null &&
            python3 -c 'import json, sys; rows = {c["name"]: c for c in json.load(open(sys.argv[1]))["certificates"]}; sys.exit(0 if rows["badkey"]["failureCount"] >= 1 and rows["keyname"]["failureCount"] >= 1 else 1)' \
                "$work/status.poll" &&
            mv "$work/status.poll" "$work/status.json"
    fi
    [[ -s $work/status.json ]] || return 1
    for name in wild hook alpn mixed delegated delegated-exec; do [[ -s $(live "$name") ]] || return 1; done
}
if ! wait_for "four certificates and the badkey failure" 240 progress; then
    for name in wild hook alpn mixed delegated delegated-exec; do
        [[ -s $(live "$name") ]] || echo "missing: $name" >&2
    done
    [[ -s $work/status.json ]] || echo "badkey never recorded a failure" >&2
    fail "not everything happened within 120 s"
fi

sans() { openssl x509 -in "$1" -noout -ext subjectAltName | tail -n +2 | tr -d ' ' | tr ',' '\n' | sort | paste -sd,; }
verify() { openssl verify -CAfile "$CERTKEEPER_TEST_PEBBLE_ROOTS" -untrusted "$1" "$1" >/dev/null; }

echo "== a. dns-01 rfc2136, apex + wildcard"
check "wild: chain verifies against Pebble's roots" verify "$(live wild)"
check "wild: SANs are exactly example.test and *.example.test (got $(sans "$(live wild)"))" \
    test "$(sans "$(live wild)")" = "DNS:*.example.test,DNS:example.test"
check "wild: both challenges went through BIND (2 dns-01 updates logged by named)" \
    test "$(grep "adding an RR at '_acme-challenge.example.test' TXT" "$bind_dir/named.log" | grep -vc keep-me)" -eq 2
check "wild: only the unrelated TXT record remains at _acme-challenge.example.test" \
    test "$(dig_txt _acme-challenge.example.test)" = '"keep-me"'

echo "== c. dns-01 exec hook"
check "hook: chain verifies" verify "$(live hook)"
check "hook: SANs are exactly hook.example.test and *.hook.example.test" \
    test "$(sans "$(live hook)")" = "DNS:*.hook.example.test,DNS:hook.example.test"
check "hook: ran present twice with the FQDN" \
    test "$(grep -c '^present _acme-challenge\.hook\.example\.test\. [A-Za-z0-9_-]\{43\}$' "$work/hook.log")" -eq 2
check "hook: ran cleanup twice with the FQDN" \
    test "$(grep -c '^cleanup _acme-challenge\.hook\.example\.test\. [A-Za-z0-9_-]\{43\}$' "$work/hook.log")" -eq 2
check "hook: each cleanup removed a value that present added" \
    test "$(grep '^present' "$work/hook.log" | cut -d' ' -f3 | sort)" = "$(grep '^cleanup' "$work/hook.log" | cut -d' ' -f3 | sort)"
check "hook: no TXT record left at _acme-challenge.hook.example.test" \
    test -z "$(dig_txt _acme-challenge.hook.example.test)"

echo "== d. tls-alpn-01"
check "alpn: chain verifies, SAN alpn.example.test" \
    bash -c "$(declare -f verify sans); verify '$(live alpn)' && test \"\$(sans '$(live alpn)')\" = DNS:alpn.example.test"
# Pebble logs http-01 attempts and BIND logs TXT updates: neither may have happened for alpn, so the issued
# certificate was validated over tls-alpn-01 by the daemon's responder.
check "alpn: Pebble made no http-01 request for alpn.example.test" \
    bash -c "! grep -q 'validate w/ HTTP: http://alpn.example.test' '$pebble_dir/pebble.log'"
check "alpn: no TXT record was added for alpn.example.test" \
    bash -c "! grep -q '_acme-challenge.alpn.example.test' '$bind_dir/named.log'"

echo "== e. per-domain override (http-01 apex, dns-01 wildcard with a credential)"
check "mixed: chain verifies" verify "$(live mixed)"
check "mixed: SANs are exactly mixed.example.test and *.mixed.example.test" \
    test "$(sans "$(live mixed)")" = "DNS:*.mixed.example.test,DNS:mixed.example.test"
check "mixed: the wildcard went through BIND" \
    grep -q "adding an RR at '_acme-challenge.mixed.example.test' TXT" "$bind_dir/named.log"
check "mixed: the apex was validated over http-01 on 127.0.0.1:5902" \
    grep -q "validate w/ HTTP: http://mixed.example.test:5902/.well-known/acme-challenge/" "$pebble_dir/pebble.log"
check "mixed: no TXT record left at _acme-challenge.mixed.example.test" \
    test -z "$(dig_txt _acme-challenge.mixed.example.test)"

echo "== g. CNAME delegation"
check "delegated: SANs are exactly cname.example.test and *.cname.example.test" \
    test "$(sans "$(live delegated)")" = "DNS:*.cname.example.test,DNS:cname.example.test"
check "delegated: both records were added at the CNAME's target in delegated.test" \
    test "$(grep -c "updating zone 'delegated.test/IN': adding an RR at 'cname.delegated.test' TXT" "$bind_dir/named.log")" -eq 2
check "delegated: nothing was added at _acme-challenge.cname.example.test" \
    bash -c "! grep -q \"adding an RR at '_acme-challenge.cname.example.test'\" '$bind_dir/named.log'"
check "delegated: no TXT record left at cname.delegated.test" test -z "$(dig_txt cname.delegated.test)"
check "delegated-exec: SAN cname2.example.test" test "$(sans "$(live delegated-exec)")" = "DNS:cname2.example.test"
check "delegated-exec: the hook was given the CNAME's target (present and cleanup)" \
    test "$(grep -c '^\(present\|cleanup\) cname2\.delegated\.test\. ' "$work/hook.log")" -eq 2
check "delegated-exec: no TXT record left at cname2.delegated.test" test -z "$(dig_txt cname2.delegated.test)"

echo "== b. wrong TSIG secret"
python3 - "$work/status.json" "$TSIG_KEY_NAME" <<'PY' || fail "badkey status does not show the expected failure and backoff"
import json, sys
from datetime import datetime
report = json.load(open(sys.argv[1]))
row = {c["name"]: c for c in report["certificates"]}["badkey"]
key = sys.argv[2]
err = row.get("lastError") or ""
print("   lastError:", err)
def when(s): return datetime.fromisoformat(s.replace("Z", "+00:00"))
checks = [
    ("failureCount is 1", row["failureCount"] == 1),
    ("lastError names the server 127.0.0.1:5953", "127.0.0.1" in err and "5953" in err),
    ("lastError names the zone example.test", "example.test" in err),
    ("lastError names the key " + key, key in err),
    ("backoffUntil is in the future", row.get("backoffUntil") and when(row["backoffUntil"]) > when(report["generated"])),
    ("nothing installed", row.get("notAfter") is None),
]
bad = False
for what, ok in checks:
    print(("ok: " if ok else "FAIL: ") + "badkey: " + what)
    bad |= not ok
sys.exit(1 if bad else 0)
PY
python3 - "$work/status.json" "$TSIG_SECRET_FILE" <<'PY' || fail "keyname status does not name the key and the key file"
import json, sys
row = {c["name"]: c for c in json.load(open(sys.argv[1]))["certificates"]}["keyname"]
err = row.get("lastError") or ""
print("   keyname lastError:", err)
ok = row["failureCount"] == 1 and "not-the-key" in err and sys.argv[2] in err and "certkeeper-test-key" in err
print(("ok: " if ok else "FAIL: ") + "keyname: the error names the wanted key, the key file and the key it holds")
sys.exit(0 if ok else 1)
PY
failure_logged() {
    grep -F "renewal failed" "$work/daemon.log" | grep -F "cert=badkey" | grep -F "server 127.0.0.1:5953" |
        grep -F "zone example.test" | grep -qF "TSIG key $TSIG_KEY_NAME"
}
check "badkey: the daemon log has the failure naming server, zone and key" failure_logged
check "badkey: BIND saw the bad signature" grep -qi "tsig.*\(bad\|fail\)\|signature failed\|BADSIG" "$bind_dir/named.log"
RUNTIME_DIRECTORY=$work/run "$bin" status --config-dir "$work/etc" --state-dir "$work/state" >"$work/status.txt" 2>&1
no_secret() {
    ! grep -qF -e "$wrong_secret" -e "$real_secret" "$work/daemon.log" "$work/status.json" "$work/status.txt" "$work/hook.log"
}
check "neither TSIG secret appears in the daemon log, status or hook log" no_secret

echo "challenges: all checks passed"
