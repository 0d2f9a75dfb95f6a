import DaemonThreads
import Dispatch
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The stop deadline runs on the signal thread: with every thread that runs Swift concurrency blocked (a hung file
/// system, a stuck library call), a stop signal still ends the process after the grace period, before systemd's
/// `TimeoutStopSec=` would SIGKILL it and mark the unit failed.
@Suite(.serialized, .enabled(if: IsolatedTests.enabled, Comment(rawValue: IsolatedTests.reason)))
struct ProcessSignalsIsolatedTests {
    @Test func aStopSignalEndsTheProcessWhileEveryPoolThreadIsBlocked() async throws {
        let terminated = DispatchSemaphore(value: 0)
        let log = EventLog()
        let signals = ProcessSignals(stop: [SIGUSR2], reload: SIGUSR1)
        signals.handleStop(
            .init(grace: .milliseconds(100), status: 3) {
                log.append("stop")
            } onExpiry: {
                log.append("expiry")
            } terminate: { status in
                log.append("exit \(status)")
                terminated.signal()
            })
        let outcome = await CooperativePoolBlocker.run {
            signals.send(SIGUSR2)
            guard terminated.wait(timeout: .now() + .seconds(5)) == .success else { throw DeadlineMissed() }
        }
        #expect(outcome == .finished)
        #expect(log.values == ["stop", "expiry", "exit 3"])
    }
}

private struct DeadlineMissed: Error {}

final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []
    func append(_ event: String) { lock.withLock { recorded.append(event) } }
    var values: [String] { lock.withLock { recorded } }
}
