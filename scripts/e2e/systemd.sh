#!/usr/bin/env bash
# certkeeper under a real systemd (252, booted in systemd-nspawn) against its own Pebble: the Debian package
# (scripts/package.sh --debug: unit, sysusers, tmpfiles, catalog, path units, man pages) unpacked into the container
# and configured by its own postinst, then start/notify/STATUS, journal fields and
# catalog, synchronous reload (good and broken spec), SIGHUP, a LoadCredential= EAB key, the reload path unit, a
# clean stop, and the hardening gate. Pebble requires External Account Binding: every account registers with an EAB
# key (kid-2 from a file, kid-1 from a systemd credential), and the stored records must name the key id. At the end
# the package's postrm purge runs: the account store stays, and it says so.
#
# Usage: scripts/e2e/systemd.sh WORKDIR      (root; Pebble on 127.0.0.1:14600, http-01 on 127.0.0.1:5602)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

work=${1:?usage: $0 WORKDIR}
name=ck-e2e-systemd
install_packages
echo "== building certkeeper"
swift build --product certkeeper 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)/certkeeper

rm -rf "$work"
mkdir -p "$work/share"
work=$(cd "$work" && pwd)
pebble_dir=$work/pebble
cleanup() {
    set +e
    if scripts/testenv/nspawn.sh exec "$name" true >/dev/null 2>&1; then
        scripts/testenv/nspawn.sh exec "$name" journalctl -u certkeeper --no-pager >"$work/certkeeper.journal" 2>&1
    fi
    scripts/testenv/nspawn.sh stop "$name" >/dev/null 2>&1
    scripts/testenv/pebble.sh stop "$pebble_dir" >/dev/null 2>&1
}
trap cleanup EXIT

show_context() {
    if scripts/testenv/nspawn.sh exec "$name" true >/dev/null 2>&1; then
        echo "--- journalctl -u certkeeper (last 40 lines)"
        scripts/testenv/nspawn.sh exec "$name" journalctl -u certkeeper --no-pager -n 40
    fi
}
# in CMD...: run inside the container as root.
ctr() { scripts/testenv/nspawn.sh exec "$name" "$@"; }
# put PATH MODE: write stdin to PATH inside the container.
# shellcheck disable=SC2016 # expanded by the inner sh
put() { ctr sh -c 'mkdir -p "$(dirname "$1")" && cat >"$1" && chmod "$2" "$1"' sh "$1" "$2"; }
prop() { ctr systemctl show -p "$2" --value "$1"; }
# wait_in TRIES CMD...: poll a command inside the container every 0.5 s.
wait_in() {
    local tries=$1 i
    shift
    for ((i = 0; i < tries; i++)); do
        if ctr "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    return 1
}
journal_json() { ctr journalctl -u certkeeper -o json --no-pager; }
# count_events MESSAGE_ID: journal entries of the unit with that MESSAGE_ID.
count_events() { ctr journalctl -u certkeeper "MESSAGE_ID=$1" -o cat --no-pager | grep -c . || true; }
serial() { ctr openssl x509 -noout -serial -in "$1" 2>/dev/null; }
# account_is ID STATUS KID: the stored record (STATE/accounts/ID/account.json) has that status, EAB key id, eabSent.
account_is() {
    ctr cat "/var/lib/certkeeper/accounts/$1/account.json" | python3 -c '
import json, sys
r = json.load(sys.stdin)
ok = (r.get("status"), r.get("eabKeyID"), r.get("eabSent")) == (sys.argv[1], sys.argv[2], True) and r.get("accountURL")
print("   ", sys.argv[3], "status", r.get("status"), "eabKeyID", r.get("eabKeyID"), "eabSent", r.get("eabSent"))
sys.exit(0 if ok else 1)' "$2" "$3" "$1"
}

# MESSAGE_IDs (Sources/Renewal/CertkeeperEvent.swift).
id_issued=37bf690deaa14d4ab11dd1f138647f19
id_account=558e25cf79f34537b7ad09eb8d2a9d29
id_reload_ok=c8a9b59f844e4ab499f041780e678031
id_reload_rejected=838e0c27903243c0b0c6f96fa23deae3

echo "== Pebble on 127.0.0.1:14600 (own port block), External Account Binding required"
export PEBBLE_EAB_REQUIRED=true
start_pebble_block 6 "$pebble_dir" "$work/pebble-start.log"

echo "== the Debian package, unpacked into a staging tree (overlaid on the container's /usr)"
deb=$(bash scripts/package.sh --debug 2>"$work/package.log" | tail -n 1) || {
    tail -n 30 "$work/package.log" >&2
    exit 1
}
stage=$work/stage
# What dpkg unpacks: the files (dpkg-deb -x), then the maintainer scripts run inside the container below. The
# container's /usr comes from the host; its /etc and /var are empty, so dpkg itself cannot run there.
dpkg-deb -x "$deb" "$stage"
dpkg-deb -e "$deb" "$work/share/DEBIAN"
# Debian 12 merges /usr: the package's /lib/systemd/system is /usr/lib/systemd/system.
cp -a "$stage/lib/." "$stage/usr/lib/"
cp -a "$stage/etc" "$work/share/etc"
cp "$CERTKEEPER_TEST_ACME_TLS_ROOTS" "$work/share/pebble-tls-ca.pem"
cp "$CERTKEEPER_TEST_EAB_HMAC_FILE" "$work/share/eab.hmac"
cp "$pebble_dir/eab/kid-2.hmac" "$work/share/kid-2.hmac"
eab_secret=$(tr -d '\n' <"$CERTKEEPER_TEST_EAB_HMAC_FILE")
kid2_secret=$(tr -d '\n' <"$pebble_dir/eab/kid-2.hmac")
# First boot applies presets (enable everything); the test starts certkeeper itself, after writing its config.
echo 'disable certkeeper.service' >"$work/share/00-test.preset"

echo "== booting systemd in nspawn container $name"
# /opt/swift: the Swift runtime libraries of the debug build; /etc/ssl/certs: the system trust store (the
# container's /etc is empty); the staged /usr/bin/certkeeper and /usr/lib/{systemd,sysusers.d,tmpfiles.d} via overlay.
scripts/testenv/nspawn.sh start "$name" "$work/container" \
    --bind-ro=/opt/swift --bind-ro=/etc/ssl/certs --bind-ro="$work/share:/srv/share" \
    --bind-ro="$work/share/00-test.preset:/etc/systemd/system-preset/00-certkeeper-test.preset" \
    --overlay-ro="/usr:$stage/usr:/usr"

echo "== installing: the package's /etc, configuration, then its postinst (sysusers, tmpfiles, enable)"
# The container's /etc is empty; a real system has localhost in /etc/hosts (the EAB CA below uses that name).
printf '127.0.0.1 localhost\n::1 localhost\n' | put /etc/hosts 0644
ctr cp -a /srv/share/etc/. /etc/
ctr test -d /etc/certkeeper/certs.d
# systemd's dpkg trigger on /usr/lib/systemd/catalog does this after an install.
ctr journalctl --update-catalog
ctr install -D -m 0644 /srv/share/pebble-tls-ca.pem /etc/certkeeper/pebble-tls-ca.pem
ctr install -D -m 0640 /srv/share/kid-2.hmac /etc/certkeeper/kid-2.hmac
put /etc/certkeeper/certkeeper.toml 0644 <<TOML
[defaults]
ca = "pebble"
contact = "ops@example.com"
key = "ecdsa-p256"

[ca.pebble]
directory = "https://127.0.0.1:14600/dir"
trust_roots = "/etc/certkeeper/pebble-tls-ca.pem"
eab_kid = "kid-2"
eab_hmac_key_file = "/etc/certkeeper/kid-2.hmac"
TOML
for cert in www other; do
    put /etc/certkeeper/certs.d/$cert.toml 0644 <<TOML
domains = ["$cert.systemd.test"]
[challenge]
type = "http-01"
listen = "127.0.0.1:5602"
TOML
done
# The package's own postinst: systemd-sysusers, systemd-tmpfiles (Z: config files root:certkeeper), enable, start.
# As dpkg calls them (deb-systemd-helper insists on dpkg's environment). A policy-rc.d that forbids starts (as in
# containers and chroots) only stops postinst from starting the unit; step 1 starts it.
maint() {
    ctr env DPKG_MAINTSCRIPT_PACKAGE=certkeeper DPKG_MAINTSCRIPT_NAME="$1" DPKG_MAINTSCRIPT_ARCH="$(dpkg --print-architecture)" \
        DPKG_RUNNING_VERSION="$(dpkg-query -W -f='${Version}' dpkg)" sh -e "/srv/share/DEBIAN/$1" "$2"
}
check "the package's postinst configure succeeds" maint postinst configure
check "postinst created the certkeeper user" ctr id certkeeper
# deb-systemd-helper enables through presets; the test's preset (disable, so that boot did not start it) wins.
check "postinst ran the unit's enable step (deb-systemd-helper state recorded)" \
    ctr test -e /var/lib/systemd/deb-systemd-helper-enabled/certkeeper.service.dsh-also
check "the packaged man pages are in place and render" \
    ctr sh -c 'for p in man8/certkeeper.8.gz man5/certkeeper.toml.5.gz; do zcat /usr/share/man/$p | groff -man -ww -z || exit 1; done'
ctr systemctl daemon-reload
ctr certkeeper check

echo "== 1. start"
check "systemctl start certkeeper returns 0 (Type=notify: READY=1 arrived)" ctr timeout 60 systemctl start certkeeper
check "unit is active (running)" test "$(prop certkeeper ActiveState)/$(prop certkeeper SubState)" = active/running
main_pid=$(prop certkeeper MainPID)
check "main process runs as user certkeeper" test "$(ctr stat -c %U "/proc/$main_pid")" = certkeeper
check "www and other get issued into /var/lib/certkeeper/live" \
    wait_in 120 test -s /var/lib/certkeeper/live/www/fullchain.pem -a -s /var/lib/certkeeper/live/other/fullchain.pem
check "issued files are owned by certkeeper, key not world-readable" \
    test "$(ctr stat -L -c '%U %a' /var/lib/certkeeper/live/www/privkey.pem)" = "certkeeper 600"
check "the default account at 127.0.0.1:14600 is stored as bound to EAB key id kid-2 (Pebble requires EAB)" \
    account_is 127.0.0.1_14600_dir--default valid kid-2

echo "== 2. STATUS="
status_ok() { [[ $(prop certkeeper StatusText) =~ ^2\ certificates\ valid ]]; }
wait_for "StatusText '2 certificates valid ...'" 20 status_ok || true
echo "   StatusText: $(prop certkeeper StatusText)"
check "StatusText says '2 certificates valid ...'" status_ok
check "systemctl status shows the Status: line" \
    bash -c "scripts/testenv/nspawn.sh exec $name systemctl status certkeeper --no-pager | grep -q 'Status: \"2 certificates valid'"

echo "== 3. journal"
journal_json >"$work/journal-1.json"
python3 - "$work/journal-1.json" "$id_issued" "$id_account" >"$work/journal-check.txt" 2>&1 <<'PY' || true
import json, sys
path, issued, account = sys.argv[1:4]
entries = [json.loads(line) for line in open(path) if line.strip()]
ok = True
def need(entry, field, expected=None):
    global ok
    value = entry.get(field)
    if value is None or (expected is not None and value != expected):
        print(f"missing or wrong {field}={value!r} (expected {expected!r}) in {entry.get('MESSAGE')!r}")
        ok = False
iss = [e for e in entries if e.get("MESSAGE_ID") == issued and e.get("CERTKEEPER_CERT") == "www"]
acc = [e for e in entries if e.get("MESSAGE_ID") == account]
if not iss: print("no 'issued' entry for www"); ok = False
if not acc: print("no 'account registered' entry"); ok = False
for e in iss[:1]:
    need(e, "CERTKEEPER_CERT", "www"); need(e, "CERTKEEPER_DOMAINS", "www.systemd.test")
    need(e, "CERTKEEPER_CA", "https://127.0.0.1:14600/dir"); need(e, "CERTKEEPER_ACCOUNT", "default")
    need(e, "CERTKEEPER_NOT_AFTER"); need(e, "PRIORITY"); need(e, "SYSLOG_IDENTIFIER", "certkeeper")
    need(e, "_TRANSPORT", "journal")
for e in acc[:1]:
    need(e, "CERTKEEPER_ACCOUNT", "default"); need(e, "CERTKEEPER_CA", "https://127.0.0.1:14600/dir")
    need(e, "PRIORITY"); need(e, "SYSLOG_IDENTIFIER", "certkeeper")
print("fields ok" if ok else "FIELDS MISSING")
sys.exit(0 if ok else 1)
PY
cat "$work/journal-check.txt"
check "journal has 'issued' + 'account registered' entries with MESSAGE_ID, CERTKEEPER_*, PRIORITY, SYSLOG_IDENTIFIER" \
    grep -qx "fields ok" "$work/journal-check.txt"
ctr journalctl -u certkeeper -x --no-pager "MESSAGE_ID=$id_issued" CERTKEEPER_CERT=www >"$work/journal-x.txt"
check "journalctl -x shows the catalog text of 'issued' with the fields filled in" \
    grep -q "certkeeper obtained the first certificate for www" "$work/journal-x.txt"

echo "== 4. reload with a new spec"
put /etc/certkeeper/certs.d/api.toml 0644 <<TOML
domains = ["api.systemd.test"]
[challenge]
type = "http-01"
listen = "127.0.0.1:5602"
TOML
reload_ok_before=$(count_events "$id_reload_ok")
check "systemctl reload certkeeper returns 0" ctr timeout 30 systemctl reload certkeeper
check "the reload was logged as succeeded (synchronous: already in the journal)" \
    test "$(count_events "$id_reload_ok")" -gt "$reload_ok_before"
check "the new spec api gets issued" wait_in 120 test -s /var/lib/certkeeper/live/api/fullchain.pem

echo "== 5. reload with a broken spec"
put /etc/certkeeper/certs.d/bad.toml 0644 <<'TOML'
domains = ["bad.systemd.test"]
renew_before = "soon"
[challenge]
type = "http-01"
TOML
set +e
ctr timeout 30 systemctl reload certkeeper >"$work/reload-bad.txt" 2>&1
reload_status=$?
set -e
check "systemctl reload fails (exit $reload_status) when a spec is rejected" test "$reload_status" -ne 0 -a "$reload_status" -ne 124
check "daemon stays active with the same MainPID" \
    test "$(prop certkeeper ActiveState)/$(prop certkeeper MainPID)" = "active/$main_pid"
ctr journalctl -u certkeeper --no-pager "MESSAGE_ID=$id_reload_rejected" -o cat >"$work/rejected.txt"
check "journal names the broken spec as FILE:LINE:COLUMN" grep -Eq '/etc/certkeeper/certs.d/bad.toml:[0-9]+:[0-9]+' "$work/rejected.txt"
serial_before=$(serial /var/lib/certkeeper/live/other/cert.pem)
check "certkeeper renew other --force (control socket, as root) is accepted" ctr certkeeper renew other --force
serial_changed() { local now; now=$(serial /var/lib/certkeeper/live/other/cert.pem) && [[ -n $now && $now != "$serial_before" ]]; }
check "other is renewed (serial changed) while the broken spec is rejected" wait_for "renewal of other" 120 serial_changed
ctr rm /etc/certkeeper/certs.d/bad.toml

echo "== 6. SIGHUP"
reload_ok_before=$(count_events "$id_reload_ok")
check "systemctl kill -s HUP certkeeper" ctr systemctl kill -s HUP certkeeper
hup_reloaded() { [[ $(count_events "$id_reload_ok") -gt $reload_ok_before ]]; }
check "SIGHUP reloads (a new 'reload succeeded' event)" wait_for "reload after SIGHUP" 40 hup_reloaded
check "daemon still active with the same MainPID after SIGHUP" \
    test "$(prop certkeeper ActiveState)/$(prop certkeeper MainPID)" = "active/$main_pid"

echo "== 7. LoadCredential= EAB key"
ctr install -D -m 0600 /srv/share/eab.hmac /etc/credstore/eab
put /etc/systemd/system/certkeeper.service.d/50-eab.conf 0644 <<'INI'
[Service]
LoadCredential=eab:/etc/credstore/eab
INI
put /etc/certkeeper/certkeeper.toml 0644 <<TOML
[defaults]
ca = "pebble"
contact = "ops@example.com"
key = "ecdsa-p256"

[ca.pebble]
directory = "https://127.0.0.1:14600/dir"
trust_roots = "/etc/certkeeper/pebble-tls-ca.pem"

# The same Pebble under another name and URL, with External Account Binding from a systemd credential.
[ca.pebble-eab]
directory = "https://localhost:14600/dir"
trust_roots = "/etc/certkeeper/pebble-tls-ca.pem"
eab_kid = "$CERTKEEPER_TEST_EAB_KID"
eab_hmac_key_credential = "eab"
TOML
put /etc/certkeeper/certs.d/eab.toml 0644 <<TOML
domains = ["eab.systemd.test"]
ca = "pebble-eab"
[challenge]
type = "http-01"
listen = "127.0.0.1:5602"
TOML
# A short watchdog: from now on the daemon is killed and restarted unless WATCHDOG=1 arrives every 2 s.
put /etc/systemd/system/certkeeper.service.d/60-watchdog.conf 0644 <<'INI'
[Service]
WatchdogSec=2s
INI
ctr systemctl daemon-reload
check "systemctl restart with the credential drop-in" ctr timeout 60 systemctl restart certkeeper
main_pid=$(prop certkeeper MainPID)
restarted_at=$(date +%s)
eab_registered() {
    ctr journalctl -u certkeeper -o json --no-pager "MESSAGE_ID=$id_account" |
        grep -q '"CERTKEEPER_CA":"https://localhost:14600/dir"'
}
check "the EAB account at the second CA registers (credential read from \$CREDENTIALS_DIRECTORY)" \
    wait_for "EAB account registration" 60 eab_registered
check "its certificate gets issued" wait_in 120 test -s /var/lib/certkeeper/live/eab/fullchain.pem
check "the stored account at localhost:14600 is bound to the credential's EAB key id $CERTKEEPER_TEST_EAB_KID" \
    account_is localhost_14600_dir--default valid "$CERTKEEPER_TEST_EAB_KID"
check "the EAB HMAC keys appear nowhere in the journal" \
    bash -c "! scripts/testenv/nspawn.sh exec $name journalctl --no-pager -o verbose | grep -qF -e '$eab_secret' -e '$kid2_secret'"

echo "== 8. certkeeper-reload@.path reloads another unit"
put /etc/systemd/system/demo-web.service 0644 <<'INI'
[Unit]
Description=Dummy web server using a certkeeper certificate
[Service]
ExecStart=/bin/sh -c 'while :; do sleep 3600; done'
ExecReload=/bin/sh -c 'date >> /run/demo-web.reloads'
INI
ctr systemctl daemon-reload
ctr systemctl start demo-web.service
check "systemctl enable --now certkeeper-reload@demo-web.path" ctr systemctl enable --now certkeeper-reload@demo-web.path
reloads() { ctr sh -c 'cat /run/demo-web.reloads 2>/dev/null | wc -l'; }
put /etc/certkeeper/certs.d/demo-web.toml 0644 <<'TOML'
domains = ["web.systemd.test"]
[challenge]
type = "http-01"
listen = "127.0.0.1:5602"
[install]
fullchain = "/etc/ssl/certkeeper/demo-web/fullchain.pem"
key = "/etc/ssl/certkeeper/demo-web/privkey.pem"
cert = "/etc/ssl/certkeeper/demo-web/cert.pem"
chain = "/etc/ssl/certkeeper/demo-web/chain.pem"
group = "ssl-cert"
mode = "0640"
TOML
check "reload for the demo-web spec" ctr timeout 30 systemctl reload certkeeper
check "demo-web's certificate is installed under /etc/ssl/certkeeper (ReadWritePaths=)" \
    wait_in 120 test -s /etc/ssl/certkeeper/demo-web/fullchain.pem
check "its key is group-owned by ssl-cert, 0640, under the shipped unit's syscall filter" \
    test "$(ctr stat -c '%U:%G %a' /etc/ssl/certkeeper/demo-web/privkey.pem)" = "certkeeper:ssl-cert 640"
reloads_are() { [[ $(reloads) -eq $1 ]]; }
# The trigger is over when the path unit waits again and its oneshot has finished; then the counter must stay put.
trigger_done() {
    [[ $(prop certkeeper-reload@demo-web.path SubState) == waiting &&
        $(prop certkeeper-reload@demo-web.service ActiveState) == inactive ]]
}
check "demo-web.service was reloaded once for the installed batch" wait_for "demo-web reload" 40 reloads_are 1
check "the path unit's trigger finished" wait_for "the trigger to finish" 40 trigger_done
count=$(settled "demo-web's reload counter" 2 30 reloads) || fail "demo-web's reload counter kept changing"
check "... exactly once (counter stays 1, got $count)" test "$count" -eq 1
check "certkeeper renew demo-web --force" ctr certkeeper renew demo-web --force
check "after the renewal demo-web.service was reloaded exactly once more" wait_for "second demo-web reload" 120 reloads_are 2
check "the path unit's trigger finished" wait_for "the trigger to finish" 40 trigger_done
count=$(settled "demo-web's reload counter" 2 30 reloads) || fail "demo-web's reload counter kept changing"
check "... and only once (counter stays 2, got $count)" test "$count" -eq 2

echo "== watchdog"
# Observed, not slept through: until at least 3 watchdog periods (6 s) have passed since the restart AND 3 fresh
# WATCHDOG=1 pings have moved WatchdogTimestamp, the same process must run and NRestarts stay 0.
watchdog_holds() {
    local pings=0 last now_ts state i
    last=$(prop certkeeper WatchdogTimestampMonotonic)
    for ((i = 0; i < 60; i++)); do
        state="$(prop certkeeper ActiveState)/$(prop certkeeper MainPID)/$(prop certkeeper NRestarts)"
        [[ $state == "active/$main_pid/0" ]] || { echo "     state $state, expected active/$main_pid/0" >&2; return 1; }
        now_ts=$(prop certkeeper WatchdogTimestampMonotonic)
        if [[ $now_ts != "$last" ]]; then
            pings=$((pings + 1))
            last=$now_ts
        fi
        if ((pings >= 3 && $(date +%s) >= restarted_at + 6)); then
            echo "   $pings fresh watchdog pings observed"
            return 0
        fi
        sleep 0.5
    done
    echo "     only $pings fresh watchdog pings in 30 s" >&2
    return 1
}
check "WatchdogSec=2s: 3 fresh WATCHDOG=1 pings and >= 6 s since the restart, same process, no watchdog restart" \
    watchdog_holds

echo "== 9. stop"
start_ns=$(date +%s%N)
check "systemctl stop certkeeper returns 0" ctr timeout 20 systemctl stop certkeeper
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
echo "   stop took ${elapsed_ms} ms"
check "stop took under 10 s" test "$elapsed_ms" -lt 10000
check "unit is inactive (not failed), Result=success" \
    test "$(prop certkeeper ActiveState)/$(prop certkeeper Result)" = inactive/success
check "ExecMainStatus=0" test "$(prop certkeeper ExecMainStatus)" = 0

echo "== 10. apt purge keeps the account store and says so"
maint postrm purge >"$work/purge.out" 2>&1 || fail "postrm purge failed: $(cat "$work/purge.out")"
cat "$work/purge.out"
check "purge kept /var/lib/certkeeper/accounts" ctr test -d /var/lib/certkeeper/accounts
check "purge said so" grep -q "kept /var/lib/certkeeper (ACME accounts" "$work/purge.out"

echo "== 11. hardening gate"
check "scripts/check-unit.sh (verify + exposure <= 2.0)" env CERTKEEPER_BIN="$bin" sh scripts/check-unit.sh systemd
ctr systemd-analyze security certkeeper.service --no-pager | tail -n 1 | sed 's/^/   in the container: /'

echo "systemd end-to-end: all checks passed"
