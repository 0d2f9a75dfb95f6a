#!/usr/bin/env python3
"""Helper for scripts/e2e/crash.sh: find out whether the daemon is inside a window (registering its account,
installing a certificate), and kill -9 it exactly there.

Usage:
  crash_helper.py markers WINDOW STATE_DIR
      Prints the window's markers now present in STATE_DIR, one per line (see below).
  crash_helper.py kill-in WINDOW STATE_DIR PID TIMEOUT_S BASELINE_FILE
      Takes the markers listed in BASELINE_FILE (the output of `markers`, taken before PID started) as a baseline,
      then watches STATE_DIR (about every millisecond). When a new
      marker appears, it freezes PID (SIGSTOP, waits until every thread is stopped) and looks again: if a new marker
      is still there, the frozen process is inside the window, and SIGKILL ends it in that state ("killed in WINDOW:
      MARKER...", exit 0); otherwise it lets the process go on (SIGCONT) and keeps watching. After TIMEOUT_S without a
      kill inside the window it kills PID anyway and exits 1 ("missed WINDOW"); exit 2 when PID exits by itself.

Windows and their markers (what a process killed at that instant leaves on disk):
  registration  accounts/ID/account.json with status "pending": the key and record are stored, the CA's answer to
                newAccount is not (lifecycle step 1-2 in docs/state-layout.md). Marker "ID pending <mtime_ns>".
  install       certs/NAME/pending-key.pem still exists (the install is not recorded yet) while either
                archive/NAME/V, newer than the version live/NAME points to, is being written ("NAME writing V ...")
                or live/NAME already points to a version whose privkey.pem is that pending key ("NAME switched V ...").
Markers carry inode and ctime, so a version directory left by an earlier kill is not taken for a new install.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time


def registration_markers(state: str) -> set[str]:
    out = set()
    base = os.path.join(state, "accounts")
    try:
        ids = [e for e in os.listdir(base) if e != "archive" and not e.startswith(".")]
    except FileNotFoundError:
        return out
    for account_id in ids:
        path = os.path.join(base, account_id, "account.json")
        try:
            st = os.stat(path)
            with open(path) as f:
                record = json.load(f)
        except (OSError, ValueError):
            continue
        if record.get("status") == "pending":
            out.add(f"{account_id} pending {st.st_mtime_ns}")
    return out


def read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def install_markers(state: str) -> set[str]:
    out = set()
    certs = os.path.join(state, "certs")
    try:
        names = [e for e in os.listdir(certs) if not e.startswith(".")]
    except FileNotFoundError:
        return out
    for name in names:
        pending = read(os.path.join(certs, name, "pending-key.pem"))
        if pending is None:
            continue
        archive = os.path.join(state, "archive", name)
        try:
            target = os.readlink(os.path.join(state, "live", name))
            live_version = int(target.rstrip("/").rsplit("/", 1)[-1])
        except (OSError, ValueError):
            live_version = 0
        try:
            versions = [int(v) for v in os.listdir(archive) if v.isdigit()]
        except FileNotFoundError:
            versions = []
        for v in versions:
            vdir = os.path.join(archive, str(v))
            try:
                st = os.stat(vdir)
            except OSError:
                continue
            if v > live_version:
                out.add(f"{name} writing {v} {st.st_ino} {st.st_ctime_ns}")
            elif v == live_version and read(os.path.join(vdir, "privkey.pem")) == pending:
                out.add(f"{name} switched {v} {st.st_ino} {st.st_ctime_ns}")
    return out


WINDOWS = {"registration": registration_markers, "install": install_markers}


def all_threads_stopped(pid: int) -> bool:
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return True
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("T", "t", "Z", "X"):
            return False
    return True


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def kill_in(window: str, state: str, pid: int, timeout: float, baseline_file: str) -> int:
    markers = WINDOWS[window]
    with open(baseline_file) as f:
        baseline = {line.rstrip("\n") for line in f if line.strip()}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            print(f"process {pid} exited before a kill in {window}")
            return 2
        if markers(state) - baseline:
            os.kill(pid, signal.SIGSTOP)
            stop_deadline = time.monotonic() + 1.0
            while not all_threads_stopped(pid) and time.monotonic() < stop_deadline:
                time.sleep(0.0002)
            inside = markers(state) - baseline
            if inside and all_threads_stopped(pid):
                os.kill(pid, signal.SIGKILL)
                print(f"killed in {window}: " + "; ".join(sorted(inside)))
                return 0
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.001)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    print(f"missed {window} within {timeout} s")
    return 1


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[1] == "markers" and argv[2] in WINDOWS:
        for marker in sorted(WINDOWS[argv[2]](argv[3])):
            print(marker)
        return 0
    if len(argv) == 7 and argv[1] == "kill-in" and argv[2] in WINDOWS:
        return kill_in(argv[2], argv[3], int(argv[4]), float(argv[5]), argv[6])
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
