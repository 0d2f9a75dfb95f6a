#!/bin/sh
# Test hook for ExecDNSSolver: appends its argv (one argument per line, then "--") to $HOOK_ARGV_LOG.
# When $HOOK_FAIL_ACTION equals the action ($1), it writes to stderr and exits 3.
set -eu
for arg in "$@"; do
    printf '%s\n' "$arg" >>"$HOOK_ARGV_LOG"
done
printf -- '--\n' >>"$HOOK_ARGV_LOG"
if [ "${HOOK_FAIL_ACTION:-}" = "$1" ]; then
    echo "zone API said no to $2" >&2
    exit 3
fi
