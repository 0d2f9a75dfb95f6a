#!/usr/bin/env bash
# Sourced by the test-server scripts: processes are known by the PID file their start wrote, and only a process
# that is still alive and still runs the expected program is ever signalled.

# is_ours PIDFILE NAME: true when the recorded PID is alive and its command line contains NAME.
is_ours() {
    local pidfile=$1 name=$2 pid
    [[ -f $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$name"
}

# stop_one PIDFILE NAME: SIGTERM the recorded process if it is ours, SIGKILL it after 5 s, remove PIDFILE.
stop_one() {
    local pidfile=$1 name=$2 pid i
    if is_ours "$pidfile" "$name"; then
        pid=$(<"$pidfile")
        kill "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
        echo "stopped $name (pid $pid)"
    fi
    rm -f "$pidfile"
}
