import Dispatch

/// A serial executor on a Dispatch queue of its own, for actors whose methods do blocking file I/O.
///
/// An actor that returns this from `unownedExecutor` runs every isolated method on a Dispatch thread, never on
/// Swift's cooperative pool (one thread per core): a state directory on a hung file system then stalls only that
/// actor's callers, while the control socket, the scheduler and signal handling keep running. Isolation is unchanged:
/// the queue is serial, so the actor's methods still run one at a time.
package final class FileIOExecutor: SerialExecutor, @unchecked Sendable {
    /// Serial; immutable after init.
    private let queue: DispatchQueue

    /// - Parameter label: names the queue in debuggers and thread listings.
    package init(label: String) {
        queue = DispatchQueue(label: label)
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { unowned.runSynchronously(on: executor) }
    }

    package func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
