import Dispatch

/// Runs blocking file system work on threads of its own, never on Swift's cooperative pool.
///
/// The cooperative pool has one thread per core: a read that blocks there (a slow or hung file system, a FIFO
/// opened without `O_NONBLOCK`) stalls every task, the control socket and signal handling included. Work handed
/// to ``run(_:)`` blocks only a Dispatch thread, and the awaiting task is suspended meanwhile.
package enum BlockingIO {
    private static let queue = DispatchQueue(label: "certkeeper.blocking-io", attributes: .concurrent)

    /// Runs `body` on a Dispatch thread and returns its result.
    package static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result(catching: body)) }
        }
    }

    /// Runs non-throwing `body` on a Dispatch thread and returns its result.
    package static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }
}
