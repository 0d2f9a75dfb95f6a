import Foundation
import SafeFiles

/// The in-memory twin of ``FileCertificateStateStore`` for tests.
public actor MemoryCertificateStateStore: CertificateStateStore {
    private var states: [String: CertificateState] = [:]
    private var pendingKeys: [String: String] = [:]

    public init() {}

    public func load(name: String) throws -> CertificateState? {
        try StateName.validate(name, kind: "certificate name")
        return states[name]
    }

    public func save(_ state: CertificateState) throws {
        try StateName.validate(state.name, kind: "certificate name")
        states[state.name] = state
    }

    public func savePendingKey(name: String, pem: String) throws {
        try StateName.validate(name, kind: "certificate name")
        pendingKeys[name] = pem
    }

    public func pendingKey(name: String) throws -> String? {
        try StateName.validate(name, kind: "certificate name")
        return pendingKeys[name]
    }

    public func clearPendingKey(name: String) throws {
        try StateName.validate(name, kind: "certificate name")
        pendingKeys[name] = nil
    }

    public func allNames() -> [String] {
        Set(states.keys).union(pendingKeys.keys).sorted()
    }
}
