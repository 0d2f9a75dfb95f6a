import Installer
import Logging

/// Collects units to reload while a batch of certificates is being installed, then reloads each once.
public actor ReloadCoalescer {
    private var pending: Set<String> = []
    private let reloader: @Sendable (Set<String>) async -> Void

    public init(reloader: @escaping @Sendable (Set<String>) async -> Void) {
        self.reloader = reloader
    }

    /// Remembers `units` for the end of the current batch.
    public func add(_ units: [String]) {
        pending.formUnion(units)
    }

    /// Reloads every collected unit once and forgets them.
    public func flush() async {
        guard !pending.isEmpty else { return }
        let units = pending
        pending = []
        await reloader(units)
    }
}
