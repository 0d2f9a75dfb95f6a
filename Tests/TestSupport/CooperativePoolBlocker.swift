import Dispatch
import Foundation
import SafeFiles

/// A global actor on a Dispatch thread of its own, so a test can keep running while the cooperative pool is blocked.
@globalActor
package actor OffPoolActor {
    package static let shared = OffPoolActor()
    private let executor = FileIOExecutor(label: "certkeeper.tests.off-pool")
    package nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
}

/// Runs work while every thread of Swift's cooperative pool is blocked, as a hung file system or a stuck library
/// call would block them, to prove that the work does not need the pool.
///
/// Blocking the pool stalls every other test of the process meanwhile and upsets the timing-sensitive ones, so the
/// suites that use it are ``IsolatedTests``.
package enum CooperativePoolBlocker {
    /// What happened to the work.
    package enum Outcome: Sendable, Equatable {
        case finished
        case failed(String)
        /// Still not done after the timeout: it waited for a pool thread.
        case stalled
        /// The pool could not be filled (it is wider than the machine's core count); the check proves nothing.
        case poolNotBlocked
    }

    /// Blocks one pool thread per core, runs `work` isolated to ``OffPoolActor``, waits for it at most `timeout`,
    /// then releases the pool. The caller's task is suspended meanwhile, so its thread is among those blocked.
    package static func run(
        timeout: DispatchTimeInterval = .seconds(10), _ work: @escaping @OffPoolActor @Sendable () async throws -> Void
    ) async -> Outcome {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: runBlocking(timeout: timeout, work)) }
        }
    }

    private static func runBlocking(
        timeout: DispatchTimeInterval, _ work: @escaping @OffPoolActor @Sendable () async throws -> Void
    ) -> Outcome {
        let width = ProcessInfo.processInfo.activeProcessorCount
        let gate = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        for _ in 0..<width {
            Task.detached {
                started.signal()
                gate.wait()
            }
        }
        defer { for _ in 0..<width { gate.signal() } }
        for _ in 0..<width where started.wait(timeout: .now() + .seconds(10)) == .timedOut {
            return .poolNotBlocked
        }
        // One more pool task must not start while the pool is full; if it does, the pool is wider than assumed.
        let extra = DispatchSemaphore(value: 0)
        Task.detached { extra.signal() }
        if extra.wait(timeout: .now() + .milliseconds(200)) == .success { return .poolNotBlocked }

        let done = DispatchSemaphore(value: 0)
        let outcome = OutcomeBox()
        Task { @OffPoolActor in
            do {
                try await work()
                outcome.set(.finished)
            } catch {
                outcome.set(.failed("\(error)"))
            }
            done.signal()
        }
        guard done.wait(timeout: .now() + timeout) == .success else { return .stalled }
        return outcome.get()
    }
}

private final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value = CooperativePoolBlocker.Outcome.stalled
    func set(_ outcome: CooperativePoolBlocker.Outcome) { lock.withLock { value = outcome } }
    func get() -> CooperativePoolBlocker.Outcome { lock.withLock { value } }
}
