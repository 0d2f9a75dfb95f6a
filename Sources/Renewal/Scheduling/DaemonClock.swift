import Foundation

/// Time as an input. Decisions use `now()` (certificate validity is wall time); waiting uses `sleep(until:)`.
///
/// The production clock is ``SystemClock``; tests use ``ManualClock`` and move time without sleeping.
package protocol DaemonClock: Sendable {
    /// The current wall-clock time.
    func now() -> Date
    /// Suspends until `deadline` (wall time) has been reached, or throws `CancellationError`.
    func sleep(until deadline: Date) async throws
}

/// The real clock: `Date()` and `Task.sleep` on the continuous clock (which keeps counting across suspend).
package struct SystemClock: DaemonClock {
    package init() {}
    package func now() -> Date { Date() }
    package func sleep(until deadline: Date) async throws {
        let interval = deadline.timeIntervalSinceNow
        guard interval > 0 else {
            try Task.checkCancellation()
            return
        }
        // Clamped: a date millions of years away must not trap when converted to milliseconds.
        let milliseconds = min((interval * 1000).rounded(.up), Self.longestSleepMilliseconds)
        try await Task.sleep(for: .milliseconds(Int64(milliseconds)), clock: .continuous)
    }

    /// About 285,000 years: any longer sleep is this one.
    static let longestSleepMilliseconds = Double(Int64.max / 1024)
}
