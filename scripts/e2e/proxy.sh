#!/usr/bin/env bash
# End to end (issue 17): ACME through an outbound HTTP proxy (a real squid from Debian). Pebble's TLS certificate names
# acme.proxy.test, a name only squid can resolve (its own hosts file), so the daemon reaches the CA through the proxy
# or not at all:
#
#   a. no proxy: `run --once` fails, the error names the CA and the unresolvable name (direct access is blocked);
#   b. HTTPS_PROXY=http://127.0.0.1:14246 in the environment: issued; squid logged the CONNECTs to the CA;
#   c. HTTPS_PROXY with NO_PROXY=.proxy.test: the proxy is bypassed, and the order fails again;
#   d. proxy = "http://127.0.0.1:14246" in [ca.NAME], nothing in the environment: issued through the proxy;
#   e. `check` refuses a proxy URL without a port or with another scheme at FILE:LINE:COLUMN, without echoing it.
#
# Usage: scripts/e2e/proxy.sh WORKDIR   (root; Pebble 14240/15240, http-01 5242, tls 5241, challtestsrv 8295/8293,
#        squid 14246, on 127.0.0.1)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

work=${1:?usage: $0 WORKDIR}
install_packages
swift build --product certkeeper 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)/certkeeper

rm -rf "$work"
mkdir -p "$work"/{etc/certs.d,state,run,bad/certs.d}
work=$(cd "$work" && pwd)
export RUNTIME_DIRECTORY=$work/run
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy NO_PROXY no_proxy ALL_PROXY all_proxy
cleanup() {
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1 || true
    scripts/testenv/squid.sh stop "$work/squid" >/dev/null 2>&1 || true
}
trap cleanup EXIT
show_context() { tail -n 15 "$work/last.err" 2>/dev/null; tail -n 5 "${SQUID_ACCESS_LOG:-/dev/null}" 2>/dev/null; }

PEBBLE_TLS_EXTRA_SANS=DNS:acme.proxy.test PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=0 \
    start_pebble_at 240 "$work/pebble" "$work/pebble-start.log"
scripts/testenv/squid.sh start "$work/squid" 14246 "127.0.0.1 acme.proxy.test"
# shellcheck disable=SC1091
source "$work/squid/env"
directory=https://acme.proxy.test:$PEBBLE_PORT/dir
getent hosts acme.proxy.test >/dev/null && fail "acme.proxy.test resolves on this host; the test needs it not to"

write_main_config "$work/etc" pebble "$directory" "$CERTKEEPER_TEST_ACME_TLS_ROOTS" proxy@example.com
spec() { printf 'domains = ["%s.proxy.test"]\n[challenge]\ntype = "http-01"\nlisten = "127.0.0.1:%s"\n' "$1" "$PEBBLE_HTTP_PORT" >"$work/etc/certs.d/$1.toml"; }
spec p1
dirs=(--config-dir "$work/etc" --state-dir "$work/state")
# once [--force] [ENV...]: `certkeeper run --once` with ENV (--force: also retry what failed before, at once);
# status in $status, output in $work/last.{out,err}.
once() {
    local force=()
    if [[ ${1:-} == --force ]]; then
        force=(--force)
        shift
    fi
    set +e
    env "$@" "$bin" run --once "${force[@]}" "${dirs[@]}" >"$work/last.out" 2>"$work/last.err"
    status=$?
    set -e
}
connects() { grep -c "CONNECT acme.proxy.test:$PEBBLE_PORT" "$SQUID_ACCESS_LOG" 2>/dev/null || true; }

echo "== a. no proxy: the CA cannot be reached"
once
check "run --once exits 1 without a proxy" test "$status" -eq 1
check "the error names the CA's unresolvable host" grep -q "acme.proxy.test" "$work/last.err"
check "nothing was installed" test ! -e "$work/state/live/p1/fullchain.pem"
check "squid saw nothing" test "$(connects)" -eq 0

echo "== b. HTTPS_PROXY from the environment"
# --force: p1 is in back-off after a. Its retry time is counted from the start of a's attempt, which spent about the
# same minute failing to resolve the CA, so without --force b raced the back-off (CI lost it once).
once --force HTTPS_PROXY=http://127.0.0.1:14246
check "run --once exits 0 through HTTPS_PROXY" test "$status" -eq 0
check "p1 installed" test -s "$work/state/live/p1/fullchain.pem"
after_b=$(connects)
check "squid logged CONNECTs to acme.proxy.test:$PEBBLE_PORT ($after_b)" test "$after_b" -ge 1

echo "== c. NO_PROXY bypasses it"
spec p2
once HTTPS_PROXY=http://127.0.0.1:14246 NO_PROXY=localhost,.proxy.test
check "run --once exits 1 when NO_PROXY names the CA" test "$status" -eq 1
check "p2 not installed" test ! -e "$work/state/live/p2/fullchain.pem"
check "squid saw no more CONNECTs" test "$(connects)" -eq "$after_b"

echo "== d. proxy in [ca.pebble]"
printf 'proxy = "http://127.0.0.1:14246"\n' >>"$work/etc/certkeeper.toml"
check "certkeeper check accepts the proxy" "$bin" check --config-dir "$work/etc"
# --force: p2 is in backoff after c.
once --force
check "run --once exits 0 through the configured proxy" test "$status" -eq 0
check "p2 installed" test -s "$work/state/live/p2/fullchain.pem"
check "squid logged more CONNECTs" test "$(connects)" -gt "$after_b"

echo "== e. check: bad proxy URLs"
cat >"$work/bad/certkeeper.toml" <<TOML
[defaults]
ca = "pebble"
contact = "proxy@example.com"
proxy = "http://user:s3cret@proxy.example.com"

[ca.pebble]
directory = "$directory"
proxy = "socks5://127.0.0.1:1080"
TOML
check_rejected "check exits non-zero" "$work/bad" "$work/check-bad.out"
check "certkeeper.toml:4:9: a proxy without a port" \
    grep -qE 'certkeeper\.toml:4:9: .*proxy.* has no port' "$work/check-bad.out"
check "certkeeper.toml:8:9: a socks5 proxy" grep -qE 'certkeeper\.toml:8:9: .*only http:// proxies' "$work/check-bad.out"
check "the password is not echoed" bash -c "! grep -q s3cret '$work/check-bad.out'"

echo "proxy: all checks passed (${SECONDS}s)"
