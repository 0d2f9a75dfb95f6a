import DaemonThreads

/// A serial executor on a thread of its own, for actors whose methods do blocking file I/O.
///
/// An actor that returns this from `unownedExecutor` runs every isolated method on that thread, never on the event
/// loops that run Swift concurrency's global executor (``GlobalExecutor``): a state directory on a hung file system
/// then stalls only that actor's callers, while the control socket, the scheduler and signal handling keep running.
/// Isolation is unchanged: one thread, so the actor's methods still run one at a time. The thread waits on a
/// condition variable when idle (no timer), and ends when the executor is released.
package final class FileIOExecutor: SerialExecutor, Sendable {
    private let thread: WorkerThreads

    /// - Parameter label: names the thread in `ps -L`, `top -H` and debuggers.
    package init(label: String) {
        thread = WorkerThreads(name: label, count: 1)
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        thread.submit { unowned.runSynchronously(on: executor) }
    }

    package func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
