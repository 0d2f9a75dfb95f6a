import DaemonThreads
import NIOPosix
import TestSupport
import Testing

/// With the hook installed, tasks, their continuations and what they await run on NIO's event loops. Installing
/// changes the whole process, so the suite is isolated; the other isolated suites then run on the loops too.
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
    }
}
