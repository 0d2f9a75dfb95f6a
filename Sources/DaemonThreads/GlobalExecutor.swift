import CDaemonThreads
import NIOCore
import NIOPosix

/// Runs the jobs of Swift concurrency's global executor on SwiftNIO's event loops
/// (`MultiThreadedEventLoopGroup.singleton`) instead of libdispatch's worker pool.
///
/// Why: the first time a libdispatch worker thread runs, libdispatch on Linux arms a one-second timer that monitors
/// its pools (`_dispatch_workq_monitor_pools`) and never cancels it, so a daemon with nothing to do for weeks woke up
/// every second. NIO's loops wait in `epoll_wait` and wake only for I/O, a timer (`timerfd`) or work. Jobs run there
/// as NIO runs them when it is installed the same way (`NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAs
/// ConcurrencyGlobalExecutor`, which finds the hook with `dlsym`: that fails in the release binary, whose symbols are
/// not exported).
///
/// Not covered: in Swift 6.3 `Task.sleep` asks the default executor's scheduling side (libdispatch's `dispatch_after`)
/// for its timer, not this hook, so a `Task.sleep` (an order's polling, a retry's back-off) still starts libdispatch's
/// pool; so does SwiftNIO's `getaddrinfo` resolver (a connection to a host name). The daemon's own waits (its clock,
/// subprocess timeouts) do not use either.
package enum GlobalExecutor {
    /// Installs the hook; call once, first thing in `main`, before any task exists. Returns false (and changes
    /// nothing) when another hook was already installed.
    @discardableResult
    package static func install() -> Bool {
        certkeeper_install_global_executor { pointer in
            guard let pointer else { return }
            GlobalExecutor.enqueue(unsafeBitCast(pointer, to: UnownedJob.self))
        } == 0
    }

    private static func enqueue(_ job: UnownedJob) {
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let executor = loop.executor.asUnownedSerialExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}
