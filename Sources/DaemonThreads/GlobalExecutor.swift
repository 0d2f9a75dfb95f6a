import CDaemonThreads
import NIOCore
import NIOPosix

/// Runs Swift concurrency's global executor on SwiftNIO's event loops (`MultiThreadedEventLoopGroup.singleton`)
/// instead of libdispatch's worker pool.
///
/// Why: the first time a libdispatch worker thread runs, libdispatch on Linux arms a one-second timer that monitors
/// its pools (`_dispatch_workq_monitor_pools`) and never cancels it, so a daemon with nothing to do for weeks woke up
/// every second. NIO's loops wait in `epoll_wait` and wake only for I/O, a scheduled timer (`timerfd`) or work.
/// Task.sleep and every other delayed job become timers of the loop they were scheduled on; jobs run there as NIO
/// runs them when it is installed the same way (`NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAs
/// ConcurrencyGlobalExecutor`, which covers only immediate jobs and needs the runtime's symbols exported).
package enum GlobalExecutor {
    /// Installs the hooks; call once, first thing in `main`, before any task exists. Returns false (and changes
    /// nothing) when another hook was already installed.
    @discardableResult
    package static func install() -> Bool {
        certkeeper_install_global_executor { pointer, delay in
            guard let pointer else { return }
            GlobalExecutor.enqueue(unsafeBitCast(pointer, to: UnownedJob.self), delayNanoseconds: delay)
        } == 0
    }

    private static func enqueue(_ job: UnownedJob, delayNanoseconds: UInt64) {
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let executor = loop.executor.asUnownedSerialExecutor()
        if delayNanoseconds == 0 {
            loop.execute { job.runSynchronously(on: executor) }
        } else {
            let nanoseconds = Int64(clamping: delayNanoseconds)
            loop.scheduleTask(in: .nanoseconds(nanoseconds)) { job.runSynchronously(on: executor) }
        }
    }
}
