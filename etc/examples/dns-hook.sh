#!/bin/sh
# Example dns-01 hook for certkeeper's exec provider (the same shape as lego's exec provider):
#
#     dns-hook.sh present|cleanup FQDN VALUE
#
# FQDN is `_acme-challenge.<domain>.` (with the trailing dot) and VALUE the TXT value. `present` adds one TXT
# record and `cleanup` deletes exactly that record (RFC 2136 single-RR delete), with nsupdate and a TSIG key file.
#
# In a spec:
#     [challenge]
#     type = "dns-01"
#     provider = "exec"
#     command = ["/usr/local/bin/dns-hook.sh"]
#
# Settings come from the environment (for the daemon: `systemctl edit certkeeper`, Environment=...):
#     DNS_HOOK_SERVER    the primary server accepting updates, HOST or HOST:PORT (default 127.0.0.1)
#     DNS_HOOK_KEY_FILE  a BIND key file as tsig-keygen writes it (required)
#     DNS_HOOK_ZONE      the zone (optional; nsupdate finds it via SOA when unset)
#     DNS_HOOK_TTL       TTL of the record in seconds (default 60)
#     DNS_HOOK_LOG       when set, one line "ACTION FQDN VALUE" is appended per call (for audits and tests)
set -eu

if [ $# -ne 3 ]; then
    echo "usage: $0 present|cleanup FQDN VALUE" >&2
    exit 2
fi
action=$1 fqdn=$2 value=$3
server=${DNS_HOOK_SERVER:-127.0.0.1}
key_file=${DNS_HOOK_KEY_FILE:?set DNS_HOOK_KEY_FILE to a TSIG key file (tsig-keygen output)}
ttl=${DNS_HOOK_TTL:-60}

case $action in
    present) verb="update add $fqdn $ttl IN TXT \"$value\"" ;;
    cleanup) verb="update delete $fqdn IN TXT \"$value\"" ;;
    *)
        echo "$0: unknown action '$action' (expected present or cleanup)" >&2
        exit 2
        ;;
esac

host=${server%:*}
port=53
[ "$host" != "$server" ] && port=${server##*:}

{
    echo "server $host $port"
    [ -n "${DNS_HOOK_ZONE:-}" ] && echo "zone $DNS_HOOK_ZONE"
    echo "$verb"
    echo "send"
} | nsupdate -k "$key_file" -t 10 || {
    echo "$0: nsupdate $action of $fqdn at $host:$port failed" >&2
    exit 1
}

if [ -n "${DNS_HOOK_LOG:-}" ]; then
    printf '%s %s %s\n' "$action" "$fqdn" "$value" >>"$DNS_HOOK_LOG"
fi
