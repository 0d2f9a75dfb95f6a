import DaemonThreads
import Foundation
import Testing

@Suite struct WorkerThreadsTests {
    @Test func oneThreadRunsWorkInOrderOfSubmission() async {
        let threads = WorkerThreads(name: "test-serial", count: 1)
        let log = EventLog()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            for index in 0..<200 { threads.submit { log.append("\(index)") } }
            threads.submit { done.resume() }
        }
        #expect(log.values == (0..<200).map { String($0) })
    }

    @Test func aPoolRunsWorkConcurrently() async {
        // Two items that each wait for the other can finish only on two threads at once.
        let threads = WorkerThreads(name: "test-pool", count: 2)
        let rendezvous = Rendezvous()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let finished = Rendezvous()
            for _ in 0..<2 {
                threads.submit {
                    rendezvous.arriveAndWait(for: 2)
                    if finished.arrive() == 2 { done.resume() }
                }
            }
        }
        #expect(rendezvous.arrived == 2)
    }

    @Test func timersFireInDeadlineOrderAndACancelledOneNever() async {
        let timers = WallClockTimers(name: "test-timers")
        let log = EventLog()
        let now = Date()
        nonisolated(unsafe) var first = -1
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let cancelled = timers.schedule(at: now.addingTimeInterval(0.02)) { log.append("cancelled") }
            _ = timers.schedule(at: now.addingTimeInterval(0.05)) {
                log.append("second")
                done.resume()
            }
            first = timers.schedule(at: now.addingTimeInterval(0.03)) { log.append("first") }
            _ = timers.schedule(at: now.addingTimeInterval(-1)) { log.append("past") }
            #expect(timers.cancel(cancelled))
        }
        #expect(log.values == ["past", "first", "second"])
        #expect(Date() >= now.addingTimeInterval(0.05))
        #expect(timers.count == 0)
        #expect(timers.cancel(first) == false, "a timer that fired cannot be cancelled")
    }
}

/// Counts arrivals; `arriveAndWait` returns once `count` have arrived.
private final class Rendezvous: @unchecked Sendable {
    /// Guards `count`.
    private let condition = NSCondition()
    private var count = 0

    var arrived: Int {
        condition.lock()
        defer { condition.unlock() }
        return count
    }

    func arrive() -> Int {
        condition.lock()
        defer { condition.unlock() }
        count += 1
        condition.broadcast()
        return count
    }

    func arriveAndWait(for total: Int) {
        condition.lock()
        count += 1
        condition.broadcast()
        while count < total { condition.wait() }
        condition.unlock()
    }
}
