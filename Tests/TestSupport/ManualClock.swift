import Foundation
import Renewal

/// A clock that only moves when told to: `advance(to:)` resumes every sleeper whose deadline has passed.
///
/// Used by tests (and by simulations) to exercise renewal timing without sleeping.
package final class ManualClock: DaemonClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    private var sleepers: [Int: (deadline: Date, continuation: CheckedContinuation<Void, any Error>)] = [:]
    private var nextID = 0
    private var watchers: [Int: (deadline: Date, continuation: CheckedContinuation<Void, Never>)] = [:]

    package init(now: Date) { self.current = now }

    package func now() -> Date {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    /// The deadlines of tasks currently asleep on this clock, earliest first.
    package var pendingDeadlines: [Date] {
        lock.lock()
        defer { lock.unlock() }
        return sleepers.values.map(\.deadline).sorted()
    }

    package func sleep(until deadline: Date) async throws {
        let id: Int = lock.withLock {
            nextID += 1
            return nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                lock.lock()
                if deadline <= current || Task.isCancelled {
                    lock.unlock()
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        continuation.resume()
                    }
                    return
                }
                sleepers[id] = (deadline, continuation)
                let woken = watchers.filter { $0.value.deadline == deadline }
                for key in woken.keys { watchers.removeValue(forKey: key) }
                lock.unlock()
                for watcher in woken.values { watcher.continuation.resume() }
            }
        } onCancel: {
            let sleeper = lock.withLock { sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Returns once some task sleeps on this clock until exactly `deadline` (or the caller is cancelled): a test
    /// knows the code under test reached its wait, without polling.
    package func waitForSleeper(until deadline: Date) async {
        let id: Int = lock.withLock {
            nextID += 1
            return nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                lock.lock()
                if Task.isCancelled || sleepers.values.contains(where: { $0.deadline == deadline }) {
                    lock.unlock()
                    continuation.resume()
                    return
                }
                watchers[id] = (deadline, continuation)
                lock.unlock()
            }
        } onCancel: {
            let watcher = lock.withLock { watchers.removeValue(forKey: id) }
            watcher?.continuation.resume()
        }
    }

    /// Moves time forward to `date` (never backwards) and wakes every sleeper due by then.
    package func advance(to date: Date) {
        lock.lock()
        if date > current { current = date }
        let due = sleepers.filter { $0.value.deadline <= current }
        for key in due.keys { sleepers.removeValue(forKey: key) }
        lock.unlock()
        for sleeper in due.values.sorted(by: { $0.deadline < $1.deadline }) { sleeper.continuation.resume() }
    }

    /// Moves time forward by `seconds`.
    package func advance(by seconds: TimeInterval) {
        advance(to: now().addingTimeInterval(seconds))
    }
}
