import NIOCore
import NIOPosix
import Synchronization
@_spi(ExperimentalCustomExecutors) @_spi(ExperimentalScheduling) import _Concurrency

/// Makes SwiftNIO's event loops (`MultiThreadedEventLoopGroup.singleton`) Swift concurrency's default executor, for
/// jobs to run now and for jobs to run later (`Task.sleep`, `Clock.sleep`), instead of libdispatch's worker pool.
///
/// Why: the first time a libdispatch worker thread runs, libdispatch on Linux arms a one-second timer that monitors
/// its pools (`_dispatch_workq_monitor_pools`) and never cancels it, so a daemon with nothing to do for weeks woke up
/// every second. NIO's loops wait in `epoll_wait` and wake only for I/O, a timer (`timerfd`) or work.
///
/// Through the runtime's executor factory (`_createExecutors(factory:)`, SPI in Swift 6.3, `ExecutorFactory` in the
/// custom main and global executors proposal): the runtime's `swift_task_enqueueGlobal_hook` covers only jobs to run
/// now, and in 6.3 `Task.sleep` takes its timer from the default executor's scheduling side, which was
/// libdispatch's `dispatch_after`.
///
/// Not covered: SwiftNIO's `getaddrinfo` resolver runs on a Dispatch queue (a connection to a CA by host name).
package enum GlobalExecutor {
    private static let installed = Atomic(false)

    /// Installs the executors; call once, first thing in `main`, before any task exists. Returns false (and changes
    /// nothing) when called again.
    @discardableResult
    package static func install() -> Bool {
        guard !installed.exchange(true, ordering: .relaxed) else { return false }
        _createExecutors(factory: EventLoopExecutorFactory.self)
        return true
    }
}

/// The executors the runtime asks for: the default one on the event loops; the main one stays the platform's (the
/// daemon has no main-actor code, and the main thread is parked).
struct EventLoopExecutorFactory: ExecutorFactory {
    static var mainExecutor: any MainExecutor { PlatformExecutorFactory.mainExecutor }
    static var defaultExecutor: any TaskExecutor { EventLoopTaskExecutor.shared }
}

/// Runs each job on one of the singleton group's loops (the current one when already on a loop), a delayed job as a
/// timer of that loop.
final class EventLoopTaskExecutor: TaskExecutor, SchedulingExecutor {
    static let shared = EventLoopTaskExecutor()

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        MultiThreadedEventLoopGroup.singleton.any().execute { job.runSynchronously(on: executor) }
    }

    func enqueue<C: Clock>(
        _ job: consuming ExecutorJob, after delay: C.Duration, tolerance: C.Duration?, clock: C
    ) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        // ContinuousClock and SuspendingClock measure in Duration; another clock's delay cannot be converted and the
        // job runs at once (its sleep then checks the clock again).
        let nanoseconds = (delay as? Duration).map(Self.nanoseconds) ?? 0
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        if nanoseconds <= 0 {
            loop.execute { job.runSynchronously(on: executor) }
        } else {
            loop.scheduleTask(in: .nanoseconds(nanoseconds)) { job.runSynchronously(on: executor) }
        }
    }

    func enqueue<C: Clock>(
        _ job: consuming ExecutorJob, at instant: C.Instant, tolerance: C.Duration?, clock: C
    ) {
        enqueue(job, after: clock.now.duration(to: instant), tolerance: tolerance, clock: clock)
    }

    /// Clamped to about a century: a sleep meant to last forever must not overflow the nanosecond count.
    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        guard seconds < 3_155_760_000 else { return 3_155_760_000 * 1_000_000_000 }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
