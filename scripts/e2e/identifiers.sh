#!/usr/bin/env bash
# End to end (issue 17): IP address certificates (RFC 8738) and which chain is installed, against Pebble with
# alternate roots (PEBBLE_ALTERNATE_ROOTS=2):
#
#   a. preferred_chain = the CN of Pebble's second alternate root: the installed fullchain leads to that root, and
#      `status --json` (chainRoot) and the table (CHAIN ROOT) name it;
#   b. no preferred_chain: the CA's default chain (root 0);
#   c. preferred_chain naming a root the CA does not offer: the default chain, and the log says which roots were
#      offered.
#   d. domains = ["127.0.0.1", "::1"] over http-01 (the built-in responder on 127.0.0.1 and [::1]): one certificate
#      whose SANs are exactly the two IP addresses, sent as `ip` identifiers;
#   e. 127.0.0.1 over tls-alpn-01 (SNI 1.0.0.127.in-addr.arpa, RFC 8738 §6);
#   f. `check` refuses an IP address with dns-01 and a wildcard of an address, at FILE:LINE:COLUMN.
#
# Usage: scripts/e2e/identifiers.sh WORKDIR   (root; Pebble 14220/15220, http-01 5222, tls-alpn 5221, challtestsrv
#        8275/8273, on 127.0.0.1)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

work=${1:?usage: $0 WORKDIR}
install_packages
swift build --product certkeeper 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)/certkeeper

rm -rf "$work"
mkdir -p "$work"/{etc/certs.d,state,run}
work=$(cd "$work" && pwd)
export RUNTIME_DIRECTORY=$work/run
daemon_pid=
cleanup() {
    stop_pid "$daemon_pid"
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1 || true
}
trap cleanup EXIT
show_context() { tail -n 20 "$work/daemon.log" 2>/dev/null; }

PEBBLE_ALTERNATE_ROOTS=2 PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=0 \
    start_pebble_at 220 "$work/pebble" "$work/pebble-start.log"
write_main_config "$work/etc" pebble "$CERTKEEPER_TEST_ACME_DIRECTORY" "$CERTKEEPER_TEST_ACME_TLS_ROOTS" chain@example.com

# root_cn N: the Common Name of Pebble's root N (0: the default chain's).
root_cn() {
    curl -fsS --cacert "$CERTKEEPER_TEST_ACME_TLS_ROOTS" "https://127.0.0.1:$PEBBLE_MGMT_PORT/roots/$1" |
        openssl x509 -noout -subject -nameopt RFC2253 | sed -n 's/^subject=.*CN=\([^,]*\).*/\1/p'
}
root0=$(root_cn 0)
root2=$(root_cn 2)
[[ -n $root0 && -n $root2 && $root0 != "$root2" ]] || fail "cannot read two different root names from Pebble ('$root0', '$root2')"
echo "Pebble's roots: default '$root0', alternate 2 '$root2'"

spec() {
    printf 'domains = ["%s.chain.test"]\n%s\n[challenge]\ntype = "http-01"\nlisten = "127.0.0.1:%s"\n' \
        "$1" "$2" "$PEBBLE_HTTP_PORT" >"$work/etc/certs.d/$1.toml"
}
spec preferred "preferred_chain = \"$root2\""
spec default ""
spec unknown 'preferred_chain = "No Such Root CA"'
cat >"$work/etc/certs.d/ips.toml" <<TOML
domains = ["127.0.0.1", "0:0:0:0:0:0:0:1"]
[challenge]
type = "http-01"
listen = "127.0.0.1:$PEBBLE_HTTP_PORT"
[challenge.domains."::1"]
type = "http-01"
listen = "[::1]:$PEBBLE_HTTP_PORT"
TOML
cat >"$work/etc/certs.d/ipalpn.toml" <<TOML
domains = ["127.0.0.1"]
[challenge]
type = "tls-alpn-01"
listen = "127.0.0.1:$PEBBLE_TLS_PORT"
TOML
check "certkeeper check accepts the specs" "$bin" check --config-dir "$work/etc"

"$bin" run --config-dir "$work/etc" --state-dir "$work/state" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
installed() {
    local name
    for name in preferred default unknown ips ipalpn; do
        [[ -s $work/state/live/$name/fullchain.pem ]] || return 1
    done
}
wait_for "five certificates" 120 installed || fail "the five certificates were not installed"

# top_issuer NAME: the issuer CN of the topmost certificate in NAME's installed fullchain.
top_issuer() {
    local dir=$work/top-$1
    rm -rf "$dir" && mkdir -p "$dir"
    awk -v dir="$dir" '/BEGIN CERTIFICATE/ { n++ } { print > (dir "/" n ".pem") }' "$work/state/live/$1/fullchain.pem"
    openssl x509 -noout -issuer -nameopt RFC2253 -in "$dir/$(ls "$dir" | sort -n | tail -n 1)" |
        sed -n 's/^issuer=.*CN=\([^,]*\).*/\1/p'
}
echo "== a. preferred_chain = \"$root2\""
check "preferred: the installed chain leads to '$root2' (got '$(top_issuer preferred)')" test "$(top_issuer preferred)" = "$root2"
"$bin" status --json --config-dir "$work/etc" --state-dir "$work/state" >"$work/status.json"
status_root() { python3 -c 'import json,sys; print({c["name"]: c for c in json.load(open(sys.argv[1]))["certificates"]}[sys.argv[2]].get("chainRoot"))' "$work/status.json" "$1"; }
check "preferred: status --json says chainRoot '$root2'" test "$(status_root preferred)" = "$root2"
"$bin" status --config-dir "$work/etc" --state-dir "$work/state" >"$work/status.txt"
check "preferred: the status table has a CHAIN ROOT column naming it" \
    bash -c "grep -q 'CHAIN ROOT' '$work/status.txt' && grep '^preferred ' '$work/status.txt' | grep -qF '$root2'"
check "preferred: the log says the alternate chain was installed" \
    grep -qF "installing the alternate chain to $root2" "$work/daemon.log"

echo "== b. no preferred_chain"
check "default: the installed chain leads to '$root0'" test "$(top_issuer default)" = "$root0"
check "default: status --json says chainRoot '$root0'" test "$(status_root default)" = "$root0"

echo "== c. a root the CA does not offer"
check "unknown: the default chain is installed" test "$(top_issuer unknown)" = "$root0"
check "unknown: the log names the wanted root and the offered ones" \
    bash -c "grep -F 'no chain the CA offers leads to \"No Such Root CA\"' '$work/daemon.log' | grep -qF '$root2'"

sans() { openssl x509 -noout -ext subjectAltName -in "$work/state/live/$1/cert.pem" | tail -n 1 | tr -d ' '; }
echo "== d. IP addresses over http-01"
check "ips: the SANs are exactly IP 127.0.0.1 and ::1 (got $(sans ips))" \
    test "$(sans ips)" = "IPAddress:127.0.0.1,IPAddress:0:0:0:0:0:0:0:1"
check "ips: Pebble validated 127.0.0.1 and [::1] over http-01" \
    bash -c "grep -q 'validate w/ HTTP: http://127.0.0.1:$PEBBLE_HTTP_PORT/' '$work/pebble/pebble.log' &&
        grep -q 'validate w/ HTTP: http://\[::1\]:$PEBBLE_HTTP_PORT/' '$work/pebble/pebble.log'"
check "ips: the order carried ip identifiers" grep -q 'Type:"ip", Value:"::1"' "$work/pebble/pebble.log"
echo "== e. an IP address over tls-alpn-01"
check "ipalpn: the SAN is exactly IP 127.0.0.1 (got $(sans ipalpn))" test "$(sans ipalpn)" = "IPAddress:127.0.0.1"
# Pebble logs no tls-alpn-01 detail; two validation tasks for 127.0.0.1 (one per spec) show ipalpn's authorization
# was validated (over tls-alpn-01, its only solver), not reused from ips.
check "ipalpn: Pebble ran a validation of its own for 127.0.0.1" \
    test "$(grep -c 'Type:"ip", Value:"127.0.0.1"' "$work/pebble/pebble.log")" -eq 2
"$bin" status --json --config-dir "$work/etc" --state-dir "$work/state" >"$work/status2.json"
check "status: ips and ipalpn have nothing to do but renew later" \
    python3 -c 'import json,sys; r={c["name"]: c for c in json.load(open(sys.argv[1]))["certificates"]}; sys.exit(0 if all(r[n]["nextAction"] == "renew" and r[n]["failureCount"] == 0 for n in ("ips", "ipalpn")) else 1)' "$work/status2.json"

echo "== f. check refuses dns-01 for an IP address and a wildcard of one"
mkdir -p "$work/bad/certs.d"
cp "$work/etc/certkeeper.toml" "$work/bad/certkeeper.toml"
cat >"$work/bad/certs.d/ipdns.toml" <<'TOML'
domains = ["192.0.2.10", "*.192.0.2.11"]
[challenge]
type = "dns-01"
provider = "exec"
command = ["/bin/true"]
TOML
check_rejected "check exits non-zero" "$work/bad" "$work/check-bad.out"
check "ipdns.toml:1:12: the address cannot use dns-01" \
    grep -qE 'certs\.d/ipdns\.toml:1:12: .*192\.0\.2\.10.*dns-01 cannot validate' "$work/check-bad.out"
check "ipdns.toml:1:26: a wildcard of an address" \
    grep -qE 'certs\.d/ipdns\.toml:1:26: .*wildcard of an IP address' "$work/check-bad.out"

echo "identifiers: all checks passed (${SECONDS}s)"
