import DaemonThreads
import Foundation
import Synchronization

/// Time as an input. Decisions use `now()` (certificate validity is wall time); waiting uses `sleep(until:)`.
///
/// The production clock is ``SystemClock``; tests use ``ManualClock`` and move time without sleeping.
package protocol DaemonClock: Sendable {
    /// The current wall-clock time.
    func now() -> Date
    /// Suspends until `deadline` (wall time) has been reached, or throws `CancellationError`.
    func sleep(until deadline: Date) async throws
}

/// The real clock: `Date()`, and a wall-clock timer of ``WallClockTimers`` for ``sleep(until:)``.
///
/// Not `Task.sleep`: a cancelled `Task.sleep` returns at once but leaves its timer and its job (about 1 KB) queued
/// until the original deadline. The daemon cancels sleeps all the time: every attempt's deadline (30 minutes away)
/// when the attempt ends, and the scheduler's sleep (until the next renewal, days away) at every change. massif
/// counted one such leftover per certificate adopted by a reload (10 % of the heap with 1,100 specs, held for 30
/// minutes). A cancelled sleep here removes its timer at once. And the timer follows the wall clock: a machine
/// suspended for a day, or a clock stepped by NTP at boot, wakes the scheduler when the certificate's dates say.
package struct SystemClock: DaemonClock {
    package init() {}
    package func now() -> Date { Date() }

    package func sleep(until deadline: Date) async throws {
        guard deadline.timeIntervalSinceNow > 0 else {
            try Task.checkCancellation()
            return
        }
        // Clamped: a date millions of years away is a sleep that ends only by cancellation in practice.
        let wake = min(deadline, Date().addingTimeInterval(Self.longestSleepSeconds))
        let waiter = SleepWaiter()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                guard waiter.install(continuation) else { return }
                let timer = SystemClock.timers.schedule(at: wake) { waiter.finish(nil) }
                waiter.setTimer(timer)
            }
        } onCancel: {
            waiter.finish(CancellationError())
        }
    }

    /// About 100 years: any longer sleep is this one (and ends only by cancellation in practice).
    static let longestSleepSeconds: TimeInterval = 100 * 365 * 86_400

    /// The clock's own timers (one thread): counted apart from other timers of the process.
    static let timers = WallClockTimers(name: "certkeeper-clock")

    /// Sleeps waiting for their deadline: a cancelled one is not among them (a cancelled `Task.sleep` would have
    /// stayed until its deadline).
    package static var timersAlive: Int { timers.count }
}

/// Resumes one sleep exactly once, whichever comes first: the timer, or the task's cancellation (which may come
/// before the continuation or the timer exists); a cancellation removes the timer.
private final class SleepWaiter: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Void, any Error>?
        /// nil: still sleeping; .some(nil): the deadline passed; .some(error): cancelled.
        var outcome: (any Error)??
        var timer: Int?
    }
    private let state = Mutex(State())

    /// Stores the continuation; returns false (after resuming it) when the sleep already ended.
    func install(_ continuation: CheckedContinuation<Void, any Error>) -> Bool {
        let finished = state.withLock { state -> (any Error)?? in
            guard let outcome = state.outcome else {
                state.continuation = continuation
                return nil
            }
            return outcome
        }
        guard let finished else { return true }
        Self.resume(continuation, finished)
        return false
    }

    /// Remembers the timer, or removes it when the sleep was cancelled meanwhile.
    func setTimer(_ timer: Int) {
        let cancelled = state.withLock { state -> Bool in
            guard state.outcome == nil else { return true }
            state.timer = timer
            return false
        }
        if cancelled { SystemClock.timers.cancel(timer) }
    }

    /// Records the outcome (nil: the deadline passed) and resumes the sleeper if it waits; later calls do nothing.
    func finish(_ error: (any Error)?) {
        let (waiting, timer) = state.withLock { state -> (CheckedContinuation<Void, any Error>?, Int?) in
            guard state.outcome == nil else { return (nil, nil) }
            state.outcome = .some(error)
            defer {
                state.continuation = nil
                state.timer = nil
            }
            return (state.continuation, state.timer)
        }
        if error != nil, let timer { SystemClock.timers.cancel(timer) }
        if let waiting { Self.resume(waiting, error) }
    }

    private static func resume(_ continuation: CheckedContinuation<Void, any Error>, _ error: (any Error)?) {
        if let error { continuation.resume(throwing: error) } else { continuation.resume() }
    }
}
