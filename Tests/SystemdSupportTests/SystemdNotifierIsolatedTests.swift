import TestSupport
import Testing
import UnixSockets

@testable import SystemdSupport

#if canImport(Glibc)
    import Glibc
#endif

/// These tests change the process environment ($NOTIFY_SOCKET, $WATCHDOG_*): isolated.
@Suite(.serialized, .enabled(if: IsolatedTests.enabled, Comment(rawValue: IsolatedTests.reason)))
struct SystemdNotifierIsolatedTests {
    /// Binds a datagram socket in a new temporary directory and points $NOTIFY_SOCKET at it.
    private func makeNotifySocket() throws -> (SocketDirectory, TestSocket) {
        let directory = try SocketDirectory()
        let receiver = try TestSocket(path: directory.path + "/notify")
        setenv("NOTIFY_SOCKET", receiver.path, 1)
        return (directory, receiver)
    }

    private func cleanUp(_ directory: SocketDirectory) {
        unsetenv("NOTIFY_SOCKET")
        directory.remove()
    }

    private func text(_ received: (bytes: [UInt8], passedDescriptor: Int32?)) -> String {
        String(decoding: received.bytes, as: UTF8.self)
    }

    @Test func sendsReadyStatusStoppingAndWatchdogDatagrams() throws {
        let (directory, receiver) = try makeNotifySocket()
        defer { cleanUp(directory) }
        do {
            let notifier = SystemdNotifier()
            #expect(notifier.isEnabled)
            #expect(notifier.ready())
            #expect(try text(receiver.receive()) == "READY=1")
            #expect(notifier.ready(status: "2 certificates"))
            #expect(try text(receiver.receive()) == "READY=1\nSTATUS=2 certificates")
            #expect(notifier.status("renewing\nexample.com\r\nnow"))
            #expect(try text(receiver.receive()) == "STATUS=renewing example.com  now")
            #expect(notifier.watchdog())
            #expect(try text(receiver.receive()) == "WATCHDOG=1")
            #expect(notifier.extendTimeout(by: .seconds(90)))
            #expect(try text(receiver.receive()) == "EXTEND_TIMEOUT_USEC=90000000")
            #expect(notifier.stopping())
            #expect(try text(receiver.receive()) == "STOPPING=1")
            #expect(notifier.send(["X_CUSTOM=1", "ERRNO=5"]))
            #expect(try text(receiver.receive()) == "X_CUSTOM=1\nERRNO=5")
        }
    }

    @Test func reloadingCarriesMonotonicMicroseconds() throws {
        let (directory, receiver) = try makeNotifySocket()
        defer { cleanUp(directory) }
        do {
            let before = SystemdNotifier.monotonicMicroseconds()
            #expect(SystemdNotifier().reloading(status: "reloading configuration"))
            let after = SystemdNotifier.monotonicMicroseconds()
            let lines = text(try receiver.receive()).split(separator: "\n").map(String.init)
            #expect(lines.count == 3)
            #expect(lines.first == "RELOADING=1")
            #expect(lines.last == "STATUS=reloading configuration")
            let monotonic = try #require(lines.dropFirst().first)
            #expect(monotonic.hasPrefix("MONOTONIC_USEC="))
            let digits = monotonic.dropFirst("MONOTONIC_USEC=".count)
            #expect(!digits.isEmpty && digits.allSatisfy(\.isNumber))
            let value = try #require(UInt64(digits))
            #expect(value >= before && value <= after)
        }
    }

    @Test func monotonicMicrosecondsMatchesClockGettime() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let reference = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
        let value = SystemdNotifier.monotonicMicroseconds()
        #expect(value >= reference && value - reference < 5_000_000)
    }

    @Test func isHarmlessWithoutNotifySocket() {
        unsetenv("NOTIFY_SOCKET")
        let notifier = SystemdNotifier()
        #expect(!notifier.isEnabled)
        #expect(!notifier.ready())
        #expect(!notifier.reloading())
        #expect(!notifier.watchdog())
        setenv("NOTIFY_SOCKET", "", 1)
        #expect(!notifier.isEnabled)
        #expect(!notifier.stopping())
        unsetenv("NOTIFY_SOCKET")
    }

    @Test func watchdogIntervalIsHalfOfWatchdogUsec() {
        unsetenv("WATCHDOG_PID")
        unsetenv("WATCHDOG_USEC")
        #expect(SystemdNotifier().watchdogInterval == nil)
        setenv("WATCHDOG_USEC", "300000000", 1)
        defer {
            unsetenv("WATCHDOG_USEC")
            unsetenv("WATCHDOG_PID")
        }
        #expect(SystemdNotifier().watchdogTimeout == .seconds(300))
        #expect(SystemdNotifier().watchdogInterval == .seconds(150))
        setenv("WATCHDOG_PID", String(getpid()), 1)
        #expect(SystemdNotifier().watchdogInterval == .seconds(150))
        // A watchdog meant for another process (e.g. inherited by a hook) is not ours.
        setenv("WATCHDOG_PID", String(getpid() + 1), 1)
        #expect(SystemdNotifier().watchdogInterval == nil)
        setenv("WATCHDOG_PID", "not-a-pid", 1)
        #expect(SystemdNotifier().watchdogInterval == nil)
        unsetenv("WATCHDOG_PID")
        // What sd_watchdog_enabled(3) refuses: no number, zero, infinity.
        for refused in ["abc", "0", "-5", "18446744073709551615", ""] {
            setenv("WATCHDOG_USEC", refused, 1)
            #expect(SystemdNotifier().watchdogTimeout == nil, "WATCHDOG_USEC=\(refused)")
        }
    }

    /// `@name` is a socket in the abstract namespace, as systemd passes it to services in containers.
    @Test func sendsToAnAbstractSocket() throws {
        let name = "@certkeeper-notify-test-\(getpid())"
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(descriptor) }
        #expect(UnixSocketAddress.withSockaddr(path: name) { bind(descriptor, $0, $1) } == 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setenv("NOTIFY_SOCKET", name, 1)
        defer { unsetenv("NOTIFY_SOCKET") }
        #expect(SystemdNotifier().ready(status: "up"))
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        #expect(String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self) == "READY=1\nSTATUS=up")
    }

    /// Not a socket that can be reached: nothing is sent and the caller learns it.
    @Test func reportsWhatCannotBeSent() throws {
        defer { unsetenv("NOTIFY_SOCKET") }
        for unusable in ["relative/notify", "vsock:2:1234", "/nonexistent-certkeeper-dir/notify"] {
            setenv("NOTIFY_SOCKET", unusable, 1)
            #expect(!SystemdNotifier().ready(), "NOTIFY_SOCKET=\(unusable)")
        }
        let directory = try SocketDirectory()
        defer { directory.remove() }
        setenv("NOTIFY_SOCKET", directory.path + "/" + String(repeating: "n", count: 200), 1)
        #expect(!SystemdNotifier().watchdog(), "a path longer than sun_path")
    }
}
