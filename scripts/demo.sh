#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: build certkeeper, start a local Pebble, run the daemon with three
# certificate specs (webroot, built-in http-01 responder, RSA), wait until all are issued and installed,
# verify the chains with openssl, and show `certkeeper status`.
#
# Usage: scripts/demo.sh [WORKDIR]     (default: /tmp/certkeeper-demo; everything stays on 127.0.0.0/8)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

work=${1:-/tmp/certkeeper-demo}
install_packages
echo "== building certkeeper"
swift build --product certkeeper 2>&1 | tail -n 3
bin=$(swift build --show-bin-path)/certkeeper

rm -rf "$work"
mkdir -p "$work"/{etc/certs.d,state,www,ssl}
pebble_dir=$work/pebble
daemon_pid=
web_pid=
cleanup() {
    set +e
    stop_pid "$daemon_pid"
    stop_pid "$web_pid"
    scripts/testenv/pebble.sh stop "$pebble_dir" >/dev/null 2>&1
}
trap cleanup EXIT

echo "== starting Pebble on 127.0.0.1:14000"
scripts/testenv/pebble.sh start "$pebble_dir" >/dev/null 2>&1 || { cat "$pebble_dir"/*.log >&2; exit 1; }
# shellcheck disable=SC1091
source "$pebble_dir/env"

# The webroot site is a plain web server on 127.0.0.2:5002; Pebble's DNS sends webroot.demo.test there.
python3 -m http.server --bind 127.0.0.2 5002 --directory "$work/www" >"$work/www.log" 2>&1 &
web_pid=$!
wait_for "the webroot web server on 127.0.0.2:5002" 40 curl -fsS -o /dev/null http://127.0.0.2:5002/
curl -fsS -X POST -d '{"host":"webroot.demo.test","addresses":["127.0.0.2"]}' "$CERTKEEPER_TEST_CHALLTESTSRV/add-a" >/dev/null

cat >"$work/etc/certkeeper.toml" <<TOML
[defaults]
ca = "pebble"
contact = "ops@example.com"
key = "ecdsa-p256"

[ca.pebble]
directory = "$CERTKEEPER_TEST_ACME_DIRECTORY"
trust_roots = "$CERTKEEPER_TEST_ACME_TLS_ROOTS"
TOML
cat >"$work/etc/certs.d/webroot.toml" <<TOML
domains = ["webroot.demo.test"]
[challenge]
type = "http-01"
webroot = "$work/www"
TOML
cat >"$work/etc/certs.d/www.toml" <<TOML
domains = ["www.demo.test", "demo.test"]
[challenge]
type = "http-01"
listen = "127.0.0.1:5002"
TOML
cat >"$work/etc/certs.d/rsa.toml" <<TOML
domains = ["rsa.demo.test"]
key = "rsa-2048"
[challenge]
type = "http-01"
listen = "127.0.0.1:5002"
[install]
fullchain = "$work/ssl/rsa/fullchain.pem"
key = "$work/ssl/rsa/privkey.pem"
cert = "$work/ssl/rsa/cert.pem"
chain = "$work/ssl/rsa/chain.pem"
mode = "0640"
TOML

echo "== certkeeper check"
"$bin" check --config-dir "$work/etc"

echo "== certkeeper run (daemon in the background; log: $work/daemon.log)"
RUNTIME_DIRECTORY=$work/run "$bin" run --config-dir "$work/etc" --state-dir "$work/state" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
mkdir -p "$work/run"

issued() {
    [[ -s $work/state/live/webroot/fullchain.pem && -s $work/state/live/www/fullchain.pem && -s $work/ssl/rsa/fullchain.pem ]]
}
if ! wait_for "three certificates" 240 issued; then
    tail -n 50 "$work/daemon.log" >&2
    exit 1
fi

echo "== verifying the installed chains against Pebble's roots"
for chain in "$work/state/live/webroot/fullchain.pem" "$work/state/live/www/fullchain.pem" "$work/ssl/rsa/fullchain.pem"; do
    openssl verify -CAfile "$CERTKEEPER_TEST_PEBBLE_ROOTS" -untrusted "$chain" "$chain"
done
stat -c '%A %n' "$work/ssl/rsa/privkey.pem" "$work/state/live/www/privkey.pem"

echo "== certkeeper status"
RUNTIME_DIRECTORY=$work/run "$bin" status --config-dir "$work/etc" --state-dir "$work/state"
echo
echo "demo finished: config $work/etc, state $work/state, daemon log $work/daemon.log"
