#!/usr/bin/env bash
# End-to-end: Prometheus metrics (issue 14), with a real Prometheus server scraping the daemon while it issues from
# a real Pebble:
#
#  a. the daemon with metrics_listen and metrics_textfile issues three certificates; GET /metrics answers the
#     exposition (404 for another path, 405 for POST), and `promtool check metrics` passes on it and on the textfile;
#  b. Prometheus (Debian's, on loopback, scraping every second from before the daemon starts, so during issuance)
#     sees every certificate's expiry through its HTTP
#     API, equal to the notAfter of the installed certificate, plus renewal attempts, ACME requests by resource and
#     the account registration, with no URL in any label;
#  c. the alert rules shipped in etc/prometheus pass `promtool check rules` and their `promtool test rules` tests;
#  d. `run --once` writes the textfile too.
#
# Usage: scripts/e2e/metrics.sh WORKDIR   (root; Pebble 14120/15120, challtestsrv 8175/8173, http-01 5122,
#        tls-alpn 5121, metrics 14130, Prometheus 14131, all on 127.0.0.1)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

work=${1:?usage: $0 WORKDIR}
install_packages
swift build --product certkeeper 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)/certkeeper

export PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 PEBBLE_WFE_NONCEREJECT=0
metrics=127.0.0.1:14130
prom=127.0.0.1:14131
rm -rf "$work"
mkdir -p "$work"/{etc/certs.d,state,run,textfile,tsdb,prometheus-deb}
work=$(cd "$work" && pwd)
# Debian's prometheus and promtool, unpacked here rather than installed: installing the package would enable and
# start a Prometheus service on a booted host and leave it running.
(
    cd "$work/prometheus-deb"
    apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download prometheus >/dev/null; }
    dpkg-deb -x prometheus_*.deb root
)
export PATH=$work/prometheus-deb/root/usr/bin:$PATH
command -v prometheus promtool >/dev/null || { echo "no prometheus/promtool unpacked in $work/prometheus-deb" >&2; exit 1; }
daemon_pid=
prom_pid=
cleanup() {
    stop_pid "$daemon_pid"
    stop_pid "$prom_pid"
    scripts/testenv/pebble.sh stop "$work/pebble" >/dev/null 2>&1 || true
}
trap cleanup EXIT
show_context() { tail -n 20 "$work/daemon.log" 2>/dev/null; tail -n 10 "$work/prometheus.log" 2>/dev/null; }
start_pebble_at 120 "$work/pebble" "$work/pebble-start.log"

write_main_config "$work/etc" pebble "$CERTKEEPER_TEST_ACME_DIRECTORY" "$CERTKEEPER_TEST_ACME_TLS_ROOTS" metrics@example.com
sed -i "/^\[defaults\]/a metrics_listen = \"$metrics\"\nmetrics_textfile = \"$work/textfile/certkeeper.prom\"" \
    "$work/etc/certkeeper.toml"
write_specs "$work/etc" 3 m m.metrics.test "127.0.0.1:$PEBBLE_HTTP_PORT"
"$bin" check --config-dir "$work/etc" >/dev/null || fail "certkeeper check rejects metrics_listen/metrics_textfile"

echo "== a. the daemon issues three certificates; /metrics and the textfile pass promtool"
# Prometheus scrapes every second from before the daemon starts, so it sees the certificates being issued.
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $(pwd)/etc/prometheus/certkeeper-alerts.yml
scrape_configs:
  - job_name: certkeeper
    static_configs:
      - targets: ["$metrics"]
YAML
promtool check config "$work/prometheus.yml" >/dev/null || fail "promtool check config rejects the test's prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" --web.listen-address="$prom" \
    >"$work/prometheus.log" 2>&1 &
prom_pid=$!
RUNTIME_DIRECTORY=$work/run "$bin" run --config-dir "$work/etc" --state-dir "$work/state" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
installed() { for i in 1 2 3; do [[ -s $work/state/live/m$i/cert.pem ]] || return 1; done; }
wait_for "three certificates installed" 120 installed || fail "the daemon did not install three certificates"
scrape() { curl -sf "http://$metrics/metrics"; }
# The per-certificate gauges follow the status line (at most once a second): wait for all three expiries.
has_expiries() { [[ $(scrape | grep -c '^certkeeper_certificate_not_after_timestamp_seconds{') -eq 3 ]]; }
wait_for "three expiries on /metrics" 20 has_expiries || fail "/metrics does not show three certificate expiries"
scrape >"$work/exposition.txt"
promtool check metrics <"$work/exposition.txt" || fail "promtool check metrics rejects the exposition"
grep -q '^certkeeper_build_info{version="' "$work/exposition.txt" || fail "no certkeeper_build_info"
for family in certkeeper_renewal_attempts_total certkeeper_acme_requests_total \
    certkeeper_acme_request_duration_seconds_bucket certkeeper_account_registrations_total \
    certkeeper_certificate_next_action_timestamp_seconds certkeeper_certificate_consecutive_failures \
    certkeeper_certificate_last_success_timestamp_seconds; do
    grep -q "^$family{" "$work/exposition.txt" || fail "no $family in the exposition"
done
grep -q '^certkeeper_renewal_attempts_total{name="m1",ca="pebble",result="success"} 1$' "$work/exposition.txt" ||
    fail "m1's successful renewal attempt is not counted"
if grep -E '^[a-z_]+\{[^}]*(https?://|/dir|my-order|error=)' "$work/exposition.txt"; then
    fail "a label holds a URL or an error"
fi
status=$(curl -s -o /dev/null -w '%{http_code}' "http://$metrics/other")
[[ $status == 404 ]] || fail "GET /other answered $status, not 404"
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$metrics/metrics")
[[ $status == 405 ]] || fail "POST /metrics answered $status, not 405"
textfile=$work/textfile/certkeeper.prom
has_textfile() { [[ $(grep -c '^certkeeper_certificate_not_after_timestamp_seconds{' "$textfile" 2>/dev/null) -eq 3 ]]; }
wait_for "three expiries in the textfile" 20 has_textfile || fail "the textfile does not show three expiries"
promtool check metrics <"$textfile" || fail "promtool check metrics rejects the textfile"
[[ $(stat -c %a "$textfile") == 644 ]] || fail "the textfile is mode $(stat -c %a "$textfile"), not 644"
# 40 connections that never send a request: beyond 32 they are closed at once, the rest after the 10 s idle timeout.
python3 - "${metrics%:*}" "${metrics#*:}" <<'PY' || fail "idle connections to the metrics endpoint were not bounded"
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
conns = [socket.create_connection((host, port), timeout=5) for _ in range(40)]
def closed(s):
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
time.sleep(1)
early = sum(closed(s) for s in conns)
deadline = time.time() + 20
while time.time() < deadline and not all(closed(s) for s in conns):
    time.sleep(0.5)
late = sum(closed(s) for s in conns)
print(f"   idle connections: {early} of 40 closed within 1 s (over the cap), {late} of 40 within 20 s (idle timeout)")
sys.exit(0 if early >= 8 and late == 40 else 1)
PY
scrape >/dev/null || fail "/metrics does not answer after the idle connections"
echo "ok: $(grep -c '^certkeeper_' "$work/exposition.txt") samples; promtool passes on both; 404/405; idle connections bounded"

echo "== b. the real Prometheus that scraped it answers every certificate's expiry"
query() { curl -sfG "http://$prom/api/v1/query" --data-urlencode "query=$1"; }
three_series() {
    query certkeeper_certificate_not_after_timestamp_seconds >"$work/query.json" &&
        python3 -c 'import json,sys; sys.exit(len(json.load(open(sys.argv[1]))["data"]["result"]) != 3)' "$work/query.json"
}
wait_for "Prometheus to have scraped three expiries" 60 three_series || fail "Prometheus does not answer three expiries"
for i in 1 2 3; do
    want=$(date -d "$(openssl x509 -noout -enddate -in "$work/state/live/m$i/cert.pem" | cut -d= -f2)" +%s)
    got=$(python3 -c 'import json,sys
for r in json.load(open(sys.argv[1]))["data"]["result"]:
    if r["metric"]["name"] == sys.argv[2]: print(int(float(r["value"][1])))' "$work/query.json" "m$i")
    [[ $got == "$want" ]] || fail "Prometheus says m$i expires at '$got', the certificate says $want"
    [[ $(python3 -c 'import json,sys
print([r["metric"] for r in json.load(open(sys.argv[1]))["data"]["result"] if r["metric"]["name"] == sys.argv[2]][0]["ca"])' \
        "$work/query.json" "m$i") == pebble ]] || fail "m$i has no ca=\"pebble\" label in Prometheus"
done
query 'sum(certkeeper_account_registrations_total)' | grep -q '"value":\[[0-9.]*,"1"\]' ||
    fail "Prometheus does not count one account registration"
query 'sum by (endpoint) (certkeeper_acme_requests_total{status_class="2xx"})' >"$work/endpoints.json"
for endpoint in directory newNonce newAccount newOrder authorization challenge finalize certificate; do
    grep -q "\"endpoint\":\"$endpoint\"" "$work/endpoints.json" || fail "no successful $endpoint request in Prometheus"
done
query 'ALERTS{alertname="CertkeeperNotScraped"}' | grep -q '"result":\[\]' || fail "CertkeeperNotScraped is pending"
echo "ok: Prometheus's expiry of each certificate equals its notAfter; registrations 1; requests by resource"

echo "== c. the shipped alert rules"
promtool check rules etc/prometheus/certkeeper-alerts.yml >/dev/null || fail "promtool check rules"
(cd etc/prometheus && promtool test rules certkeeper-alerts.test.yml) || fail "promtool test rules"
echo "ok: promtool check rules and test rules pass"

echo "== d. run --once writes the textfile"
stop_pid "$daemon_pid"
daemon_pid=
rm -f "$textfile"
"$bin" run --once --config-dir "$work/etc" --state-dir "$work/state" >"$work/once.out" 2>"$work/once.err" ||
    fail "run --once failed: $(cat "$work/once.out")"
has_textfile || fail "run --once did not write three expiries to the textfile"
promtool check metrics <"$textfile" || fail "promtool check metrics rejects the textfile run --once wrote"
echo "ok: the textfile after run --once passes promtool"
echo "metrics: all checks passed"
