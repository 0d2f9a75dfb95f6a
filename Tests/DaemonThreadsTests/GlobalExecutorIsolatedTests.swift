import DaemonThreads
import NIOPosix
import TestSupport
import Testing

/// With the hooks installed, every way a job reaches the global executor (now, after a delay, at a deadline on
/// either clock) runs on one of NIO's event loops, in order of its time. Installing changes the whole process, so
/// the suite is isolated; the other isolated suites then run on the loops too.
@Suite(.serialized, .enabled(if: IsolatedTests.enabled, Comment(rawValue: IsolatedTests.reason)))
struct GlobalExecutorIsolatedTests {
    @Test func jobsAndSleepsRunOnTheEventLoops() async throws {
        _ = GlobalExecutor.install()
        #expect(GlobalExecutor.install() == false, "a second install changes nothing")

        let onLoop = await Task.detached { MultiThreadedEventLoopGroup.currentEventLoop != nil }.value
        #expect(onLoop)

        let continuous = ContinuousClock()
        let start = continuous.now
        try await Task.sleep(for: .milliseconds(30))  // the deadline hook, continuous clock
        #expect(start.duration(to: continuous.now) >= .milliseconds(30))
        #expect(MultiThreadedEventLoopGroup.currentEventLoop != nil)

        let suspending = SuspendingClock()
        let before = suspending.now
        try await Task.sleep(until: before.advanced(by: .milliseconds(30)), clock: suspending)
        #expect(before.duration(to: suspending.now) >= .milliseconds(30))

        let delayed = ContinuousClock.now
        try await Task.sleep(nanoseconds: 30_000_000)  // the delay hook
        #expect(delayed.duration(to: .now) >= .milliseconds(30))
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
