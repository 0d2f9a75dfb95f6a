import ACMEModels
import Foundation
import Synchronization

/// What one certificate's attempt reports as it advances, for `certkeeper renew NAME --wait`.
package enum AttemptEvent: Sendable, Hashable {
    /// An attempt began; `forced` when it was asked for with `renew --force` (or a reload retrying a parked one).
    case started(forced: Bool)
    case orderCreated(url: String)
    case orderContinued(url: String)
    case authorizationsValid(count: Int)
    case finalized
    case installed(notAfter: Date, fullchain: String)
    /// The attempt failed with this (one-line, bounded) message.
    case failed(message: String)
    /// The attempt is over; the certificate is next looked at `next`.
    case ended(next: Date)
    /// A reload removed the certificate's spec.
    case removed

    /// One line for the operator.
    package var line: String {
        switch self {
        case .started(let forced): forced ? "attempt started (forced)" : "attempt started"
        case .orderCreated(let url): "order created: \(url)"
        case .orderContinued(let url): "continuing order \(url)"
        case .authorizationsValid(let count): "authorizations valid (\(count))"
        case .finalized: "order finalized, certificate issued"
        case .installed(let notAfter, let fullchain):
            "installed at \(fullchain), valid until \(ACMEJSON.formatRFC3339(notAfter))"
        case .failed(let message): "failed: \(message)"
        case .removed: "removed from the configuration"
        case .ended(let next):
            next == .distantFuture
                ? "attempt over; waiting for a configuration change"
                : "attempt over; next check \(ACMEJSON.formatRFC3339(next))"
        }
    }
}

/// Hands each certificate's ``AttemptEvent``s to whoever watches that certificate (the control socket's
/// `renew --wait`). Publishing to a certificate nobody watches costs one dictionary lookup.
package final class AttemptProgressBoard: Sendable {
    private struct Watchers {
        var next = 0
        var byName: [String: [Int: AsyncStream<AttemptEvent>.Continuation]] = [:]
    }
    private let watchers = Mutex(Watchers())

    package init() {}

    /// The events of `name` from now on; `stop()` ends the stream.
    package func watch(_ name: String) -> (events: AsyncStream<AttemptEvent>, stop: @Sendable () -> Void) {
        let (stream, continuation) = AsyncStream.makeStream(of: AttemptEvent.self)
        let id = watchers.withLock { state in
            defer { state.next += 1 }
            state.byName[name, default: [:]][state.next] = continuation
            return state.next
        }
        let stop: @Sendable () -> Void = { [weak self] in
            let removed = self?.watchers.withLock { state in state.byName[name]?.removeValue(forKey: id) }
            removed?.finish()
        }
        continuation.onTermination = { _ in stop() }
        return (stream, stop)
    }

    /// Tells every watcher of `name`.
    package func publish(_ name: String, _ event: AttemptEvent) {
        let targets = watchers.withLock { state in state.byName[name].map { Array($0.values) } ?? [] }
        for continuation in targets { continuation.yield(event) }
    }
}
