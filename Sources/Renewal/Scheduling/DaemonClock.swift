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

/// The real clock: `Date()`, and a Dispatch timer on the wall clock for ``sleep(until:)``.
///
/// Not `Task.sleep`: a cancelled `Task.sleep` returns at once but leaves its timer and its job (about 1 KB) queued
/// until the original deadline. The daemon cancels sleeps all the time: every attempt's deadline (30 minutes away)
/// when the attempt ends, and the scheduler's sleep (until the next renewal, days away) at every change. massif
/// counted one such leftover per certificate adopted by a reload (10 % of the heap with 1,100 specs, held for 30
/// minutes). A cancelled timer here is cancelled in Dispatch too, and freed.
package struct SystemClock: DaemonClock {
    package init() {}
    package func now() -> Date { Date() }

    package func sleep(until deadline: Date) async throws {
        let interval = deadline.timeIntervalSinceNow
        guard interval > 0 else {
            try Task.checkCancellation()
            return
        }
        // Clamped: a date millions of years away must not trap when converted to nanoseconds.
        let seconds = min(interval, Self.longestSleepSeconds)
        let timer = SendableTimer(source: DispatchSource.makeTimerSource(queue: Self.queue))
        let waiter = SleepWaiter()
        timer.source.setEventHandler {
            waiter.finish(nil)
            timer.source.cancel()
        }
        timer.source.setCancelHandler { waiter.finish(CancellationError()) }
        timer.source.schedule(wallDeadline: .now() + seconds, leeway: .milliseconds(1))
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                waiter.install(continuation)
                timer.source.activate()
            }
        } onCancel: {
            waiter.finish(CancellationError())
            timer.source.cancel()
        }
    }

    /// About 100 years: any longer sleep is this one (and ends only by cancellation in practice).
    static let longestSleepSeconds: TimeInterval = 100 * 365 * 86_400
    private static let queue = DispatchQueue(label: "certkeeper.clock")

    /// Sleeps whose timer still exists (waiting, or ended and not yet released by Dispatch): what a cancelled
    /// `Task.sleep` would have left behind until its deadline.
    package static var timersAlive: Int { SleepWaiter.alive.load(ordering: .relaxed) }

    /// Returns once Dispatch has run every handler queued so far (a cancelled timer's is queued, not run, by cancel).
    package static func settle() { queue.sync {} }
}

/// A Dispatch timer shared by the sleeper, its handlers and its cancellation: Dispatch sources may be used from any
/// thread, the type is just not marked Sendable. The handlers and the source refer to each other until the timer
/// fires or is cancelled, which every path does.
private struct SendableTimer: @unchecked Sendable {
    let source: any DispatchSourceTimer
}

/// Resumes one sleep exactly once, whichever comes first: the timer, its cancellation, or the task's cancellation
/// (which may come before the continuation exists).
private final class SleepWaiter: Sendable {
    static let alive = Atomic<Int>(0)
    init() { Self.alive.add(1, ordering: .relaxed) }
    deinit { Self.alive.subtract(1, ordering: .relaxed) }

    private let state = Mutex<(continuation: CheckedContinuation<Void, any Error>?, outcome: (any Error)??)>((nil, nil))

    func install(_ continuation: CheckedContinuation<Void, any Error>) {
        let finished = state.withLock { state -> (any Error)?? in
            guard let outcome = state.outcome else {
                state.continuation = continuation
                return nil
            }
            return outcome
        }
        if let finished { Self.resume(continuation, finished) }
    }

    /// Records the outcome (nil: the deadline passed) and resumes the sleeper if it waits; later calls do nothing.
    func finish(_ error: (any Error)?) {
        let waiting = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard state.outcome == nil else { return nil }
            state.outcome = .some(error)
            defer { state.continuation = nil }
            return state.continuation
        }
        if let waiting { Self.resume(waiting, error) }
    }

    private static func resume(_ continuation: CheckedContinuation<Void, any Error>, _ error: (any Error)?) {
        if let error { continuation.resume(throwing: error) } else { continuation.resume() }
    }
}
