import Foundation

/// Runs one certificate's attempt with a deadline on the daemon's clock.
///
/// The attempt runs as a task of its own: when the deadline passes first, it is cancelled and the caller gets
/// ``Outcome/expired`` at once, without waiting for work that ignores cancellation (a CA that never answers, a
/// file system that hangs). Cancelling the caller cancels the attempt.
enum JobDeadline {
    enum Outcome<T: Sendable>: Sendable {
        case finished(T)
        case expired
    }

    static func run<T: Sendable>(
        clock: any DaemonClock, deadline: Date, _ body: @escaping @Sendable () async -> T
    ) async -> Outcome<T> {
        let job = Task { await body() }
        let gate = ResumeOnce<Outcome<T>>()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                gate.set(continuation)
                let timer = Task {
                    guard (try? await clock.sleep(until: deadline)) != nil else { return }
                    job.cancel()
                    gate.resume(.expired)
                }
                Task {
                    let value = await job.value
                    timer.cancel()
                    gate.resume(.finished(value))
                }
            }
        } onCancel: {
            job.cancel()
        }
    }
}

/// Resumes a continuation with the first value offered; later ones are dropped.
private final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Never>?
    private var pending: T?
    private var done = false

    func set(_ continuation: CheckedContinuation<T, Never>) {
        lock.lock()
        if let pending {
            lock.unlock()
            continuation.resume(returning: pending)
            return
        }
        self.continuation = continuation
        lock.unlock()
    }

    func resume(_ value: T) {
        lock.lock()
        guard !done else {
            lock.unlock()
            return
        }
        done = true
        if let continuation {
            self.continuation = nil
            lock.unlock()
            continuation.resume(returning: value)
        } else {
            pending = value
            lock.unlock()
        }
    }
}
