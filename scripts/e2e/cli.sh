#!/usr/bin/env bash
# End to end (issue 2): the operator's first steps, exactly as the README shows them.
#
#   a. `certkeeper check` on etc/examples/broken prints three FILE:LINE:COLUMN errors and exits non-zero
#   b. `certkeeper check` on the shipped example config passes
#   c. the demo (scripts/demo.sh): the daemon issues three certificates (webroot, built-in responder, RSA) from a
#      local Pebble, the chains verify against Pebble's roots, `certkeeper status` lists them with their expiry
#
# Usage: scripts/e2e/cli.sh WORKDIR     (the demo uses Pebble's default ports 14000/15000/8053/8055/5002)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

work=${1:?usage: $0 WORKDIR}
rm -rf "$work"
mkdir -p "$work"
swift build --product certkeeper 2>&1 | tail -n 1
bin=$(swift build --show-bin-path)/certkeeper

echo "== a. check on a config with three mistakes"
set +e
"$bin" check --config-dir etc/examples/broken >"$work/check.out" 2>"$work/check.err"
status=$?
set -e
cat "$work/check.err"
[[ $status -ne 0 ]] || fail "check exited 0 on etc/examples/broken"
errors=$(grep -cE '^etc/examples/broken/[^:]+\.toml:[0-9]+:[0-9]+: ' "$work/check.err" || true)
[[ $errors -eq 3 ]] || fail "expected 3 FILE:LINE:COLUMN errors, got $errors"
echo "ok: 3 FILE:LINE:COLUMN errors, exit status $status"

echo "== b. check on the shipped example config"
"$bin" check --config-dir etc/certkeeper || fail "etc/certkeeper does not pass check"
echo "ok: etc/certkeeper is valid"

echo "== c. the demo"
bash scripts/demo.sh "$work/demo" | tee "$work/demo.out"
for name in webroot www rsa; do
    grep -qE "^$name +[^ ]+ +pebble +default +20[0-9]{2}-[0-9]{2}-[0-9]{2}T" "$work/demo.out" \
        || fail "status does not list $name with its expiry"
done
[[ $(grep -c ': OK$' "$work/demo.out") -eq 3 ]] || fail "not all three chains verified"
echo "ok: three certificates issued, verified and listed by status"
