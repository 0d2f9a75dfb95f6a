import Foundation
import Renewal
import Testing

/// The production clock's sleep: ends at its wall-clock deadline, ends at once when cancelled, and a cancelled sleep
/// leaves no timer behind (a cancelled `Task.sleep` keeps its timer and job until the original deadline).
@Suite(.serialized) struct SystemClockTests {
    @Test func aSleepEndsAtItsDeadlineNotBefore() async throws {
        let deadline = Date().addingTimeInterval(0.05)
        try await SystemClock().sleep(until: deadline)
        #expect(Date() >= deadline)
    }

    @Test func aPastDeadlineReturnsAtOnceAndACancelledTaskThrows() async throws {
        try await SystemClock().sleep(until: Date().addingTimeInterval(-1))
        let cancelled = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await SystemClock().sleep(until: Date().addingTimeInterval(-1))
        }
        await #expect(throws: CancellationError.self) { try await cancelled.value }
    }

    /// Here, not in DurationClampTests: every test using the real clock is in this serialized suite, so the count of
    /// timers alive is this suite's own.
    @Test func sleepingUntilAnAbsurdDateDoesNotTrap() async throws {
        // Cancelled before or after it starts: either way the date is converted to a sleep first.
        let sleeper = Task { try await SystemClock().sleep(until: Date(timeIntervalSinceReferenceDate: 1e300)) }
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
    }

    @Test func cancelledSleepsLeaveNoTimerBehind() async throws {
        let before = SystemClock.timersAlive
        // Cancelled while sleeping (each started: the task has reached its sleep when it is cancelled) ...
        for _ in 0..<50 {
            let started = AsyncStream<Void>.makeStream()
            let sleeper = Task {
                started.continuation.yield()
                try await SystemClock().sleep(until: Date().addingTimeInterval(86_400 * 60))
            }
            var iterator = started.stream.makeAsyncIterator()
            _ = await iterator.next()
            sleeper.cancel()
            await #expect(throws: CancellationError.self) { try await sleeper.value }
        }
        // ... and cancelled before it started.
        for _ in 0..<50 {
            let sleeper = Task { try await SystemClock().sleep(until: Date().addingTimeInterval(86_400 * 60)) }
            sleeper.cancel()
            await #expect(throws: CancellationError.self) { try await sleeper.value }
        }
        // A cancellation removes the timer before the cancelled task resumes: nothing to wait for.
        #expect(SystemClock.timersAlive == before, "100 cancelled sleeps of 60 days: no timer left")
    }
}
