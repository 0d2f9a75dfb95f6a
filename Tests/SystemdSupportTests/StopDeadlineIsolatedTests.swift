import Dispatch
import Foundation
import SystemdSupport
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The stop deadline fires from Dispatch threads of its own: with every thread of the cooperative pool blocked (a
/// hung file system, a stuck library call), a stop signal still ends the process after the grace period, before
/// systemd's `TimeoutStopSec=` would SIGKILL it and mark the unit failed.
@Suite(.serialized, .enabled(if: IsolatedTests.enabled, Comment(rawValue: IsolatedTests.reason)))
struct StopDeadlineIsolatedTests {
    @Test func aStopSignalEndsTheProcessWhileEveryPoolThreadIsBlocked() async throws {
        signal(SIGUSR2, SIG_IGN)  // as UnixSignalsSequence does for SIGTERM; only the Dispatch source sees it
        let terminated = DispatchSemaphore(value: 0)
        let statuses = StatusLog()
        let deadline = StopDeadline(grace: .milliseconds(100), status: 3, signals: [SIGUSR2]) {
        } terminate: { status in
            statuses.append(status)
            terminated.signal()
        }
        let outcome = await CooperativePoolBlocker.run {
            kill(getpid(), SIGUSR2)
            guard terminated.wait(timeout: .now() + .seconds(5)) == .success else { throw DeadlineMissed() }
        }
        #expect(outcome == .finished)
        #expect(statuses.values == [3])
        withExtendedLifetime(deadline) {}
    }
}

private struct DeadlineMissed: Error {}

private final class StatusLog: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [Int32] = []
    func append(_ status: Int32) { lock.withLock { recorded.append(status) } }
    var values: [Int32] { lock.withLock { recorded } }
}
