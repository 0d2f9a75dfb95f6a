import Foundation
import SafeFiles

#if canImport(Glibc)
    import Glibc
#endif

/// ``CertificateStateStore`` in the state directory:
/// `STATE_DIR/certs/<name>/state.json` and `STATE_DIR/certs/<name>/pending-key.pem`; directories 0700, files 0600.
///
/// Its methods run on a Dispatch thread of their own (``FileIOExecutor``), never on the cooperative pool.
package actor FileCertificateStateStore: CertificateStateStore {
    /// The state directory (`$STATE_DIRECTORY`).
    package nonisolated let stateDirectory: String
    private var certsDirectory: String { stateDirectory + "/certs" }
    private let executor = FileIOExecutor(label: "certkeeper.state-store")

    package nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    package init(stateDirectory: String) {
        self.stateDirectory = stateDirectory
    }

    package func load(name: String) throws -> CertificateState? {
        try StateJSON.load(CertificateState.self, at: directory(for: name) + "/state.json")
    }

    package func save(_ state: CertificateState) throws {
        let dir = try directory(for: state.name)
        try AtomicFile.ensureDirectory(dir, mode: 0o700)
        try AtomicFile.write(StateJSON.encode(state), to: dir + "/state.json", mode: 0o600)
    }

    package func savePendingKey(name: String, pem: String) throws {
        let dir = try directory(for: name)
        try AtomicFile.ensureDirectory(dir, mode: 0o700)
        try AtomicFile.write(Array(pem.utf8), to: dir + "/pending-key.pem", mode: 0o600)
    }

    package func pendingKey(name: String) throws -> String? {
        try AtomicFile.read(directory(for: name) + "/pending-key.pem").map { String(decoding: $0, as: UTF8.self) }
    }

    package func clearPendingKey(name: String) throws {
        let dir = try directory(for: name)
        if unlink(dir + "/pending-key.pem") != 0 {
            guard errno == ENOENT else {
                throw CertStoreError.io(operation: "remove", path: dir + "/pending-key.pem", errno: errno)
            }
            return
        }
        try AtomicFile.syncDirectory(dir)
    }

    package func allNames() throws -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: certsDirectory) else { return [] }
        return entries.filter { name in
            guard StateName.isValid(name) else { return false }
            let dir = certsDirectory + "/" + name
            return access(dir + "/state.json", F_OK) == 0 || access(dir + "/pending-key.pem", F_OK) == 0
        }.sorted()
    }

    private func directory(for name: String) throws -> String {
        try StateName.validate(name, kind: "certificate name")
        return certsDirectory + "/" + name
    }
}
