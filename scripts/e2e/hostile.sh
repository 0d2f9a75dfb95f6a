#!/usr/bin/env bash
# certkeeper run as root next to a hostile site owner (issue 9), against its own Pebble: the install directory of
# spec "site" belongs to another user (nobody), who swapped privkey.pem for a FIFO and fullchain.pem for a link to a
# root-only canary file. The daemon must report the path, keep answering `status`, issue a spec added by a reload,
# leave the canary alone, and stop on SIGTERM within TimeoutStopSec=10.
#
# Usage: scripts/e2e/hostile.sh WORKDIR     (root; Pebble on 127.0.0.1:14700, http-01 on 127.0.0.1:5702)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

work=${1:?usage: $0 WORKDIR}
[[ $(id -u) -eq 0 ]] || { echo "hostile.sh plays root next to another user: run it as root" >&2; exit 1; }
install_packages
swift build --product certkeeper 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)/certkeeper

rm -rf "$work"
mkdir -p "$work"/{etc/certs.d,state,run}
work=$(cd "$work" && pwd)
chmod 0755 "$work"
pebble_dir=$work/pebble
daemon_pid=
cleanup() {
    set +e
    stop_pid "$daemon_pid"
    scripts/testenv/pebble.sh stop "$pebble_dir" >/dev/null 2>&1
}
trap cleanup EXIT
show_context() { echo "--- daemon log (last 30 lines)"; tail -n 30 "$work/daemon.log"; }

start_pebble_block 7 "$pebble_dir" "$work/pebble-start.log"

echo "== the site owner's install directory: a FIFO for the key, a link to a root-only canary for the chain"
site=$work/site
mkdir -p "$site"
chown 65534:65534 "$site"
printf 'canary\n' >"$work/canary"
chmod 0600 "$work/canary"
mkfifo "$site/privkey.pem"
ln -s "$work/canary" "$site/fullchain.pem"
canary_before=$(stat -c '%U:%G %a %s %Y' "$work/canary")

cat >"$work/etc/certkeeper.toml" <<TOML
[defaults]
ca = "pebble"
contact = "ops@example.com"

[ca.pebble]
directory = "$CERTKEEPER_TEST_ACME_DIRECTORY"
trust_roots = "$CERTKEEPER_TEST_ACME_TLS_ROOTS"
TOML
spec() {
    cat <<TOML
domains = ["$1.hostile.test"]
reuse_key = true
[challenge]
type = "http-01"
listen = "127.0.0.1:5702"
TOML
}
{
    spec site
    printf '[install]\nfullchain = "%s"\nkey = "%s"\n' "$site/fullchain.pem" "$site/privkey.pem"
} >"$work/etc/certs.d/site.toml"
spec first >"$work/etc/certs.d/first.toml"

# ck COMMAND...: a client command against this daemon's control socket, bounded (a hung daemon fails the check).
ck() { timeout 10 "$bin" "$@" --socket "$work/run/control.sock"; }
RUNTIME_DIRECTORY=$work/run "$bin" run --config-dir "$work/etc" --state-dir "$work/state" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
check "the daemon starts (its control socket answers a reload)" wait_for "control socket" 60 ck reload

echo "== 1. the FIFO and the link are refused with the path named; nothing hangs"
refused() { grep -q "renewal failed.*$site/privkey.pem is a FIFO" "$work/daemon.log"; }
check "site's renewal fails naming $site/privkey.pem as a FIFO" wait_for "the FIFO refusal" 120 refused
check "first is issued alongside" wait_for "first" 120 test -s "$work/state/live/first/fullchain.pem"
# Without --offline and with no disk fallback possible (no --config-dir given), only the daemon can answer.
ck status --json --config-dir /nonexistent >"$work/status.json"
check "status answers from the daemon and shows site's error" grep -q "is a FIFO" "$work/status.json"

echo "== 2. the FIFO replaced by a regular file: now the planted link is named"
rm "$site/privkey.pem"
printf 'not a key\n' >"$site/privkey.pem"
chown 65534:65534 "$site/privkey.pem"
check "certkeeper renew site --force" ck renew site --force
link_refused() { grep -q "$site/fullchain.pem is a symbolic link in $site" "$work/daemon.log"; }
check "site's renewal names the planted link" wait_for "the link refusal" 120 link_refused

echo "== 3. a spec added by a reload is still issued"
spec second >"$work/etc/certs.d/second.toml"
check "certkeeper reload" ck reload
check "second is issued" wait_for "second" 120 test -s "$work/state/live/second/fullchain.pem"

echo "== 4. nothing outside was touched"
check "the canary keeps its content, owner, mode, size and mtime" \
    test "$(stat -c '%U:%G %a %s %Y' "$work/canary")/$(cat "$work/canary")" = "$canary_before/canary"
check "the FIFO-swapped key file was not replaced and no temp file is left" \
    test "$(cat "$site/privkey.pem")/$(find "$site" -name '.*tmp*' | wc -l)" = "not a key/0"

echo "== 5. SIGTERM stops it within TimeoutStopSec=10"
start_ns=$(date +%s%N)
kill -TERM "$daemon_pid"
stopped() { ! kill -0 "$daemon_pid" 2>/dev/null; }
check "the daemon exits within 10 s" wait_for "exit after SIGTERM" 20 stopped
echo "   stopped after $((($(date +%s%N) - start_ns) / 1000000)) ms"
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=
echo "hostile end-to-end: all checks passed"
