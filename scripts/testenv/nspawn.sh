#!/usr/bin/env bash
# A booted systemd (the host's own /usr, systemd 252 on Debian 12) in a throw-away systemd-nspawn container, for
# end-to-end tests under a real service manager. The container has a tmpfs / (empty /etc, /var), the host's /usr
# read-only, and shares the host network (everything stays on 127.0.0.0/8).
#
# Usage: scripts/testenv/nspawn.sh start NAME DIR [NSPAWN-OPTION]...   e.g. --bind-ro=/opt/swift --bind=/x:/srv/x
#        scripts/testenv/nspawn.sh exec NAME CMD [ARG]...               runs CMD inside (root, clean environment)
#        scripts/testenv/nspawn.sh stop NAME                             powers the container off (bounded), idempotent
#
# start: boots `systemd-nspawn -D / --volatile=yes --register=no --keep-unit --console=passive -M NAME --boot` with
#        setsid in the background (log: DIR/nspawn.log), finds the container's PID 1 (the nspawn process's child) and
#        waits (bounded) for `systemctl is-system-running --wait` to say running or degraded.
#        State (PIDs) is kept in $NSPAWN_STATE_DIR/NAME (default /run/certkeeper-nspawn/NAME).
# stop:  kills only the recorded nspawn PID (SIGTERM makes nspawn power the container off), SIGKILL after 15 s.
# Needs root and the systemd-container package (installed with apt-get when missing).
set -euo pipefail

die() { echo "nspawn.sh: $*" >&2; exit 1; }
usage() { die "usage: $0 start NAME DIR [NSPAWN-OPTION]... | exec NAME CMD [ARG]... | stop NAME"; }

[[ $# -ge 2 ]] || usage
cmd=$1
name=$2
shift 2
[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9-]{0,30}$ ]] || die "container name '$name' must be letters, digits and '-'"
state=${NSPAWN_STATE_DIR:-/run/certkeeper-nspawn}/$name

# nspawn_pid: the recorded nspawn PID when that process is alive and is our nspawn for NAME.
nspawn_pid() {
    local pid
    [[ -f $state/nspawn.pid ]] || return 1
    pid=$(<"$state/nspawn.pid")
    [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "systemd-nspawn .*-M $name " || return 1
    echo "$pid"
}

# leader_pid: the container's PID 1 as seen from the host (a direct child of nspawn running systemd).
leader_pid() {
    local parent child
    parent=$(nspawn_pid) || return 1
    # shellcheck disable=SC2013 # the children files hold space-separated PIDs
    for child in $(cat "/proc/$parent/task/"*/children 2>/dev/null); do
        if [[ $(cat "/proc/$child/comm" 2>/dev/null) == systemd ]]; then
            echo "$child"
            return 0
        fi
    done
    return 1
}

in_container() {
    local leader
    leader=$(leader_pid) || die "container '$name' is not running (no $state/nspawn.pid or no PID 1)"
    # A clean environment: nothing of the caller's (NOTIFY_SOCKET, pagers, ...) leaks into the container's tools.
    nsenter -t "$leader" -m -u -i -n -p -C -- /usr/bin/env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb \
        SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}

do_start() {
    [[ $# -ge 1 ]] || usage
    local dir=$1 pid leader i status
    shift
    [[ $(id -u) -eq 0 ]] || die "start needs root"
    if ! command -v systemd-nspawn >/dev/null; then
        echo "installing systemd-container" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd-container >/dev/null
    fi
    if nspawn_pid >/dev/null; then die "container '$name' is already running (pid $(nspawn_pid))"; fi
    mkdir -p "$dir" "$state"
    dir=$(cd "$dir" && pwd)
    # Without --keep-unit nspawn asks the host's systemd (there is none here) for a scope unit and fails.
    setsid systemd-nspawn -D / --volatile=yes --register=no --keep-unit --console=passive -M "$name" "$@" \
        --boot -- systemd.firstboot=no </dev/null >"$dir/nspawn.log" 2>&1 &
    pid=$!
    echo "$pid" >"$state/nspawn.pid"
    echo "$dir" >"$state/dir"
    leader=
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$dir/nspawn.log" >&2
            die "systemd-nspawn exited during boot (log above: $dir/nspawn.log)"
        fi
        if leader=$(leader_pid); then break; fi
        sleep 0.1
    done
    [[ -n $leader ]] || { do_stop; die "no container PID 1 after 10 s (log: $dir/nspawn.log)"; }
    echo "$leader" >"$state/leader.pid"
    # systemctl fails at once ("Failed to connect to bus") until PID 1 has created its private socket.
    for ((i = 0; i < 200; i++)); do
        in_container test -S /run/systemd/private 2>/dev/null && break
        sleep 0.1
    done
    status=$(in_container timeout 60 systemctl is-system-running --wait 2>/dev/null) || true
    case $status in
        running | degraded) ;;
        *)
            in_container systemctl --failed --no-legend 2>&1 | head -n 20 >&2 || true
            do_stop
            die "container '$name' did not finish booting within 60 s (state '$status', log: $dir/nspawn.log)"
            ;;
    esac
    echo "container $name: nspawn pid $pid, PID 1 = host pid $leader, system $status"
}

do_stop() {
    local pid i
    if pid=$(nspawn_pid); then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 150; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "nspawn.sh: container '$name' did not power off in 15 s, killing nspawn pid $pid" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        echo "stopped container $name (nspawn pid $pid)"
    fi
    rm -rf "$state"
}

case $cmd in
    start) do_start "$@" ;;
    exec)
        [[ $# -ge 1 ]] || usage
        in_container "$@"
        ;;
    stop) do_stop ;;
    *) usage ;;
esac
