import UnixSockets

#if canImport(Glibc)
    import Glibc
#endif

/// Sends service state notifications to the service manager (sd_notify(3)).
///
/// Every method is a harmless no-op when `$NOTIFY_SOCKET` is not set, i.e. when the process does not run under
/// systemd with `Type=notify`. Each message is one datagram to the `AF_UNIX` socket `$NOTIFY_SOCKET` names (a path,
/// or `@name` in the abstract namespace), read on every call, as sd_notify(3) does; the kernel attaches the sender's
/// credentials, which systemd asks for. This is the whole of the protocol sd_notify(3) documents as stable for
/// reimplementation. It was libsystemd's `sd_notify` until libsystemd turned out to cost the daemon about 1 MB of
/// resident memory, with the six libraries it loads (libcap, libgcrypt, libgpg-error, liblzma, libzstd, liblz4),
/// for two functions.
///
/// ```swift
/// let notifier = SystemdNotifier()
/// notifier.ready()                      // READY=1
/// notifier.status("3 certificates, next renewal in 41 days")
/// notifier.reloading()                  // RELOADING=1 + MONOTONIC_USEC=…
/// notifier.ready()                      // a reload ends with READY=1, too
/// notifier.stopping()                   // STOPPING=1
/// ```
package struct SystemdNotifier: Sendable {
    /// Creates a notifier for the current process.
    package init() {}

    /// Whether `$NOTIFY_SOCKET` is set (and non-empty), i.e. the service manager listens for notifications.
    package var isEnabled: Bool {
        guard let value = getenv("NOTIFY_SOCKET") else { return false }
        return value.pointee != 0
    }

    /// The watchdog timeout configured by `WatchdogSec=` (`$WATCHDOG_USEC`), or `nil` when the watchdog is off
    /// or meant for another process (`$WATCHDOG_PID` differs). See sd_watchdog_enabled(3).
    package var watchdogTimeout: Duration? {
        guard let usec = Self.environment("WATCHDOG_USEC").flatMap({ UInt64($0) }), usec > 0, usec < .max else {
            return nil
        }
        if let pid = Self.environment("WATCHDOG_PID") {
            // Unparsable or another process's (inherited by a hook, say): not ours to keep alive.
            guard let pid = pid_t(pid), pid == getpid() else { return nil }
        }
        return .microseconds(Int64(clamping: usec))
    }

    /// How often to call ``watchdog()``: half of ``watchdogTimeout`` as sd_watchdog_enabled(3) recommends,
    /// or `nil` when the watchdog is off.
    package var watchdogInterval: Duration? {
        watchdogTimeout.map { $0 / 2 }
    }

    /// Tells the service manager that start-up, or a reload, has finished (`READY=1`).
    @discardableResult
    package func ready(status: String? = nil) -> Bool {
        send(["READY=1"] + Self.statusAssignment(status))
    }

    /// Tells the service manager that a reload has begun: `RELOADING=1` plus `MONOTONIC_USEC=` (CLOCK_MONOTONIC now,
    /// in microseconds), which `Type=notify-reload` requires on systemd 253+. Must be followed by ``ready(status:)``.
    @discardableResult
    package func reloading(status: String? = nil) -> Bool {
        send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())"] + Self.statusAssignment(status))
    }

    /// Tells the service manager that shutdown has begun (`STOPPING=1`).
    @discardableResult
    package func stopping(status: String? = nil) -> Bool {
        send(["STOPPING=1"] + Self.statusAssignment(status))
    }

    /// Sets the one-line status text shown by `systemctl status` (`STATUS=`). Line breaks become spaces.
    @discardableResult
    package func status(_ line: String) -> Bool {
        send(Self.statusAssignment(line))
    }

    /// Sends a watchdog keep-alive ping (`WATCHDOG=1`). Call it every ``watchdogInterval`` from code that proves
    /// progress, not from an unrelated timer.
    @discardableResult
    package func watchdog() -> Bool {
        send(["WATCHDOG=1"])
    }

    /// Asks the service manager to extend the current start, reload or stop timeout (`EXTEND_TIMEOUT_USEC=`).
    @discardableResult
    package func extendTimeout(by duration: Duration) -> Bool {
        send(["EXTEND_TIMEOUT_USEC=\(Self.microseconds(duration))"])
    }

    /// Sends raw `KEY=VALUE` assignments in one datagram.
    ///
    /// - Parameter assignments: assignments such as `"READY=1"`; each must be a single line.
    /// - Returns: `true` when the message was sent, `false` when notifications are disabled or sending failed.
    @discardableResult
    package func send(_ assignments: [String]) -> Bool {
        guard let path = Self.environment("NOTIFY_SOCKET"), !assignments.isEmpty else { return false }
        // sd_notify(3) takes a path or an abstract name; anything else (vsock:, a relative path) is not a socket here.
        guard path.hasPrefix("/") || path.hasPrefix("@") else { return false }
        let message = Array(assignments.map(Self.singleLine).joined(separator: "\n").utf8)
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return UnixSocketAddress.sendDatagram(message, from: descriptor, to: path) == message.count
    }

    /// A non-empty environment variable.
    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name), value.pointee != 0 else { return nil }
        return String(cString: value)
    }

    /// CLOCK_MONOTONIC now, in microseconds (the unit of `MONOTONIC_USEC=`).
    package static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }

    static func statusAssignment(_ status: String?) -> [String] {
        guard let status else { return [] }
        return ["STATUS=" + singleLine(status)]
    }

    /// Replaces line breaks (and NULs, which would end the C string) with spaces.
    static func singleLine(_ text: String) -> String {
        String(
            text.unicodeScalars.map { scalar -> Character in
                switch scalar {
                case "\n", "\r", "\0", "\u{2028}", "\u{2029}": " "
                default: Character(scalar)
                }
            }
        )
    }

    static func microseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        // Saturating: an absurd duration must not trap.
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000)
        let (total, overflow2) = whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000_000))
        return overflow || overflow2 ? .max : total
    }
}
