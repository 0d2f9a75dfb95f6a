import CertStore
import Foundation
import Installer
import Logging
import SafeFiles

/// Collects units to reload while a batch of certificates is being installed, then reloads each once.
///
/// With a `journal` path the pending set is written to disk as soon as a unit is added and removed once the reloads
/// ran, so a crash between installing a certificate and the end of its batch does not lose the reload: the next
/// start finds the file and reloads those units (``recover()``). The journal is written from a thread of its
/// own (``FileIOExecutor``), never from the event loops that run Swift concurrency.
package actor ReloadCoalescer {
    private var pending: Set<String> = []
    private let reloader: @Sendable (Set<String>) async -> Void
    private let journal: String?
    private let executor = FileIOExecutor(label: "certkeeper.reload-journal")

    package nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    package init(journal: String? = nil, reloader: @escaping @Sendable (Set<String>) async -> Void) {
        self.journal = journal
        self.reloader = reloader
    }

    /// Remembers `units` for the end of the current batch.
    package func add(_ units: [String]) {
        let before = pending.count
        pending.formUnion(units)
        if pending.count != before { persist() }
    }

    /// Reloads every collected unit once and forgets them.
    package func flush() async {
        guard !pending.isEmpty else { return }
        let units = pending
        await reloader(units)
        pending.subtract(units)
        persist()
    }

    /// Reloads what a previous run left pending (called once at start-up).
    package func recover() async {
        guard let journal, let bytes = try? AtomicFile.read(journal),
            let units = try? JSONDecoder().decode([String].self, from: Data(bytes))
        else { return }
        pending.formUnion(units)
        await flush()
    }

    private func persist() {
        guard let journal else { return }
        if pending.isEmpty {
            unlink(journal)
        } else if let data = try? JSONEncoder().encode(pending.sorted()) {
            try? AtomicFile.write(Array(data), to: journal, mode: 0o600)
        }
    }
}
