import Foundation
import Synchronization

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
private final class ResumeOnce<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, Never>?
        var pending: T?
        var done = false
    }
    private let state = Mutex(State())

    func set(_ continuation: CheckedContinuation<T, Never>) {
        let pending: T? = state.withLock { state in
            if let pending = state.pending { return pending }
            state.continuation = continuation
            return nil
        }
        if let pending { continuation.resume(returning: pending) }
    }

    func resume(_ value: T) {
        let waiting: CheckedContinuation<T, Never>? = state.withLock { state in
            guard !state.done else { return nil }
            state.done = true
            guard let continuation = state.continuation else {
                state.pending = value
                return nil
            }
            state.continuation = nil
            return continuation
        }
        waiting?.resume(returning: value)
    }
}
