import Foundation
import Synchronization

/// Whether the shared store (PostgreSQL) answered the last time a fleet duty asked it, for `status`, the status line
/// and metrics. A single host's file store has none.
package final class StoreHealth: Sendable {
    private struct State {
        var problem: String?
        var since: Date?
    }
    private let state = Mutex(State())

    package init() {}

    /// The store answered.
    package func answered() {
        state.withLock { $0 = State() }
    }

    /// The store did not answer (`error`, one line) at `now`.
    package func failed(_ error: any Error, now: Date) {
        state.withLock { state in
            if state.since == nil { state.since = now }
            state.problem = "\(error)"
        }
    }

    /// "unavailable since DATE: ERROR", or nil while it answers.
    package var problem: String? {
        state.withLock { state in
            guard let problem = state.problem, let since = state.since else { return nil }
            return "the store is unavailable since \(ISO8601DateFormatter().string(from: since)): \(problem)"
        }
    }

    package var isUp: Bool { state.withLock { $0.problem == nil } }
}
