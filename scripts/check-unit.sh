#!/bin/sh
# Checks the shipped systemd units: `systemd-analyze verify` and the hardening gate
# `systemd-analyze security --offline=yes --threshold=20` (scale 0-100, i.e. exposure <= 2.0).
# verify needs ExecStart= binaries to exist, so it runs on temporary copies that point at $CERTKEEPER_BIN
# (default: a dummy script); nothing is installed. Usage: scripts/check-unit.sh [systemd-dir]
set -eu

unit_dir=${1:-"$(dirname "$0")/../systemd"}
threshold=${THRESHOLD:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ -n "${CERTKEEPER_BIN:-}" ]; then
    bin=$CERTKEEPER_BIN
else
    bin=$tmp/certkeeper
    printf '#!/bin/sh\nexit 0\n' >"$bin"
    chmod 0755 "$bin"
fi

sed "s|/usr/bin/certkeeper|$bin|g" "$unit_dir/certkeeper.service" >"$tmp/certkeeper.service"
# Templates are verified as an instance.
cp "$unit_dir/certkeeper-reload@.path" "$tmp/certkeeper-reload@example.path"
cp "$unit_dir/certkeeper-reload@.service" "$tmp/certkeeper-reload@example.service"

status=0
# --man=no: the man page is checked separately (it may not be installed where this runs).
echo "== systemd-analyze verify"
# verify only warns about unknown or unparsable settings, so any output counts as a failure.
if ! systemd-analyze verify --man=no "$tmp/certkeeper.service" "$tmp/certkeeper-reload@example.path" \
    "$tmp/certkeeper-reload@example.service" >"$tmp/verify.txt" 2>&1 || [ -s "$tmp/verify.txt" ]; then
    cat "$tmp/verify.txt"
    echo "systemd-analyze verify reported problems (above)" >&2
    status=1
fi

echo "== systemd-analyze security --offline=yes --threshold=$threshold certkeeper.service"
if ! systemd-analyze security --offline=yes --threshold="$threshold" --no-pager "$unit_dir/certkeeper.service" \
    >"$tmp/security.txt" 2>&1; then
    cat "$tmp/security.txt"
    echo "certkeeper.service: exposure above threshold $threshold (0-100); tighten the sandbox" >&2
    status=1
fi
tail -n 1 "$tmp/security.txt"

if [ "$status" -eq 0 ]; then echo "check-unit: OK"; else echo "check-unit: FAILED" >&2; fi
exit "$status"
