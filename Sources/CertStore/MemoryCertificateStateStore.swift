import Foundation
import SafeFiles

/// The in-memory twin of ``FileCertificateStateStore`` for tests.
package actor MemoryCertificateStateStore: CertificateStateStore {
    private var states: [String: CertificateState] = [:]
    private var pendingKeys: [String: String] = [:]

    package init() {}

    package func load(name: String) throws -> CertificateState? {
        try StateName.validate(name, kind: "certificate name")
        return states[name]
    }

    package func loadEach(names: [String]) -> [CertificateState?] {
        names.map { try? load(name: $0) }
    }

    package func save(_ state: CertificateState) throws {
        try StateName.validate(state.name, kind: "certificate name")
        states[state.name] = state
    }

    /// Nothing to write behind in memory.
    package func saveRecomputable(_ state: CertificateState) throws { try save(state) }
    package func flushRecomputable() {}

    package func savePendingKey(name: String, pem: String) throws {
        try StateName.validate(name, kind: "certificate name")
        pendingKeys[name] = pem
    }

    package func pendingKey(name: String) throws -> String? {
        try StateName.validate(name, kind: "certificate name")
        return pendingKeys[name]
    }

    package func clearPendingKey(name: String) throws {
        try StateName.validate(name, kind: "certificate name")
        pendingKeys[name] = nil
    }

    package func remove(name: String) throws {
        try StateName.validate(name, kind: "certificate name")
        states[name] = nil
        pendingKeys[name] = nil
    }

    package func allNames() -> [String] {
        Set(states.keys).union(pendingKeys.keys).sorted()
    }
}
