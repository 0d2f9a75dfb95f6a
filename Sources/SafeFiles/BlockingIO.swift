import DaemonThreads

/// Runs blocking file system and socket work on threads of its own, never on the event loops that run Swift
/// concurrency's global executor (``GlobalExecutor``).
///
/// Those loops are one thread per core: a read that blocks there (a slow or hung file system, a FIFO opened without
/// `O_NONBLOCK`) stalls every task and all network I/O, the control socket and the graceful shutdown included. Work
/// handed to ``run(_:)`` blocks only one of these threads, and the awaiting task is suspended meanwhile.
package enum BlockingIO {
    /// Eight: reading thousands of installed certificates after a reload keeps both cores busy while some reads
    /// wait for the disk, and a few hung reads still leave threads for the rest. Idle threads cost no CPU.
    private static let threads = WorkerThreads(name: "certkeeper-io", count: 8)

    /// Runs `body` on one of the I/O threads and returns its result.
    package static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            threads.submit { continuation.resume(with: Result(catching: body)) }
        }
    }

    /// Runs non-throwing `body` on one of the I/O threads and returns its result.
    package static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            threads.submit { continuation.resume(returning: body()) }
        }
    }
}
