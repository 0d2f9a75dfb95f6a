import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Timers on the wall clock, kept by one thread of their own that waits on a condition variable until the earliest
/// deadline (`pthread_cond_timedwait` on `CLOCK_REALTIME`: a clock step or a suspended machine moves the wake-up with
/// the wall clock, as a certificate's validity does). Nothing wakes between deadlines.
///
/// A cancelled timer is removed at once, with its closure: nothing waits until the original deadline.
package final class WallClockTimers: Sendable {
    /// The daemon's timers; the thread starts with the first one.
    package static let shared = WallClockTimers(name: "certkeeper-timers")

    private let core: Core

    package init(name: String) {
        core = Core()
        ThreadName.start(name, stackKB: 256) { [core] in core.run() }
    }

    deinit { core.stop() }

    /// Calls `fire` on the timer thread once `deadline` has passed (at once if it has), unless cancelled before.
    /// `fire` must not block: it runs on the thread that serves every timer.
    package func schedule(at deadline: Date, _ fire: @escaping @Sendable () -> Void) -> Int {
        // Held at about a century from now: the condition variable's wait converts the date to nanoseconds.
        core.schedule(at: min(deadline, Date().addingTimeInterval(Self.longestWait)), fire)
    }

    /// About 100 years.
    static let longestWait: TimeInterval = 100 * 365 * 86_400

    /// Removes the timer if it has not fired; returns whether it was still waiting.
    @discardableResult
    package func cancel(_ id: Int) -> Bool {
        core.cancel(id)
    }

    /// Timers waiting for their deadline.
    package var count: Int { core.count }

    private final class Core: @unchecked Sendable {
        /// Guards everything below.
        private let condition = NSCondition()
        private var timers: [Int: (deadline: Date, fire: @Sendable () -> Void)] = [:]
        private var nextID = 0
        private var stopping = false

        func schedule(at deadline: Date, _ fire: @escaping @Sendable () -> Void) -> Int {
            condition.lock()
            defer { condition.unlock() }
            let id = nextID
            nextID += 1
            timers[id] = (deadline, fire)
            condition.signal()
            return id
        }

        func cancel(_ id: Int) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            // The thread recomputes its wake-up now rather than waking at a deadline that is gone.
            condition.signal()
            return timers.removeValue(forKey: id) != nil
        }

        var count: Int {
            condition.lock()
            defer { condition.unlock() }
            return timers.count
        }

        func stop() {
            condition.lock()
            stopping = true
            condition.signal()
            condition.unlock()
        }

        func run() {
            condition.lock()
            while !stopping {
                // A handful of timers at a time (the scheduler's, one per attempt, the status line's): a scan is
                // cheaper than keeping a heap in order.
                guard let earliest = timers.values.lazy.map(\.deadline).min() else {
                    condition.wait()
                    continue
                }
                let now = Date()
                guard earliest <= now else {
                    _ = condition.wait(until: earliest)
                    continue
                }
                let due = timers.filter { $0.value.deadline <= now }
                for id in due.keys { timers[id] = nil }
                condition.unlock()
                let ordered = due.sorted { ($0.value.deadline, $0.key) < ($1.value.deadline, $1.key) }
                for (_, timer) in ordered { timer.fire() }
                condition.lock()
            }
            condition.unlock()
        }
    }
}
