import DaemonThreads
import NIOPosix
import TestSupport
import Testing

/// With the executors installed, tasks, their continuations and what they await, and sleeps, run on NIO's event loops
/// (a sleep's timer was libdispatch's, whose worker pool then woke the process every second). Installing changes the
/// whole process, so the suite is isolated; the other isolated suites then run on the loops too.
@Suite(.serialized, .enabled(if: IsolatedTests.enabled, Comment(rawValue: IsolatedTests.reason)))
struct GlobalExecutorIsolatedTests {
    @Test func tasksAndTheirContinuationsRunOnTheEventLoops() async throws {
        _ = GlobalExecutor.install()
        #expect(GlobalExecutor.install() == false, "a second install changes nothing")

        let onLoop = await Task.detached { MultiThreadedEventLoopGroup.currentEventLoop != nil }.value
        #expect(onLoop)

        // A task group's children, and a task resumed by a continuation from another thread.
        let children = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 { group.addTask { MultiThreadedEventLoopGroup.currentEventLoop != nil } }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(children == Array(repeating: true, count: 8))
        let threads = WorkerThreads(name: "test-resume", count: 1)
        await withCheckedContinuation { (resumed: CheckedContinuation<Void, Never>) in
            threads.submit { resumed.resume() }
        }
        #expect(MultiThreadedEventLoopGroup.currentEventLoop != nil, "resumed from a worker thread, run on a loop")

        // Sleeps: their timers are the loops' (on libdispatch's they would resume on one of its worker threads).
        let start = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(20))
        #expect(MultiThreadedEventLoopGroup.currentEventLoop != nil)
        #expect(start.duration(to: .now) >= .milliseconds(20))
        let suspending = SuspendingClock.now
        try await Task.sleep(until: suspending.advanced(by: .milliseconds(20)), clock: .suspending)
        #expect(MultiThreadedEventLoopGroup.currentEventLoop != nil)
        #expect(suspending.duration(to: .now) >= .milliseconds(20))
        try await Task.sleep(nanoseconds: 20_000_000)
        #expect(MultiThreadedEventLoopGroup.currentEventLoop != nil)

        // Sleeps end in the order of their deadlines (from one base instant), not of their starts.
        let order = EventLog()
        let base = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for milliseconds in [300, 100, 200] {
                group.addTask {
                    try? await Task.sleep(until: base.advanced(by: .milliseconds(milliseconds)), clock: .continuous)
                    order.append("\(milliseconds)")
                }
            }
        }
        #expect(order.values == ["100", "200", "300"])

        // A cancelled sleep ends at once.
        let sleeper = Task { try await Task.sleep(for: .seconds(3600)) }
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
    }
}
