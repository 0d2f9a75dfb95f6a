import ACMEClient
import ACMECrypto
import CertStore
import CertkeeperConfig
import Foundation
import Logging
import Renewal
import Testing

/// An AccountStore whose `crashAt`-th change never happens and ends the "process" (throws), as kill -9 there would.
actor CrashingAccountStore: AccountStore {
    struct SimulatedCrash: Error {}
    let inner: MemoryAccountStore
    var crashAt: Int?
    private(set) var changes = 0

    init(_ inner: MemoryAccountStore, crashAt: Int?) {
        self.inner = inner
        self.crashAt = crashAt
    }

    private func change() throws {
        changes += 1
        if changes == crashAt { throw SimulatedCrash() }
    }

    func activeRecord(caDirectoryURL: String, name: String) async throws -> AccountRecord? {
        try await inner.activeRecord(caDirectoryURL: caDirectoryURL, name: name)
    }
    func allRecords(includeArchived: Bool) async throws -> [AccountRecord] {
        await inner.allRecords(includeArchived: includeArchived)
    }
    func record(id: String) async throws -> AccountRecord? { try await inner.record(id: id) }
    func recordBound(toEABKeyID keyID: String, caDirectoryURL: String) async throws -> AccountRecord? {
        await inner.recordBound(toEABKeyID: keyID, caDirectoryURL: caDirectoryURL)
    }
    func keyPEM(id: String) async throws -> String { try await inner.keyPEM(id: id) }
    func stagedRolloverKey(id: String) async throws -> String? { try await inner.stagedRolloverKey(id: id) }
    func createPending(_ record: AccountRecord, keyPEM: String) async throws {
        try change()
        try await inner.createPending(record, keyPEM: keyPEM)
    }
    func update(_ record: AccountRecord) async throws {
        try change()
        try await inner.update(record)
    }
    func replaceKey(id: String, newKeyPEM: String, newKeyType: KeyType) async throws {
        try change()
        try await inner.replaceKey(id: id, newKeyPEM: newKeyPEM, newKeyType: newKeyType)
    }
    func stageRolloverKey(id: String, pem: String) async throws {
        try change()
        try await inner.stageRolloverKey(id: id, pem: pem)
    }
    func discardStagedRolloverKey(id: String) async throws {
        try change()
        try await inner.discardStagedRolloverKey(id: id)
    }
    func archive(id: String) async throws {
        try change()
        try await inner.archive(id: id)
    }
    func importRecord(_ record: AccountRecord, keyPEM: String) async throws {
        try change()
        try await inner.importRecord(record, keyPEM: keyPEM)
    }
}

/// Re-binding an account to a new `eab_kid`, with a crash before each of its store changes in turn, then a restart.
@Suite struct AccountRebindCrashTests {
    let hmacFile: String

    init() throws {
        hmacFile = NSTemporaryDirectory() + "certkeeper-eab-" + UUID().uuidString
        try Data("c2VjcmV0LWhtYWMta2V5LWZvci10ZXN0cw\n".utf8).write(to: URL(fileURLWithPath: hmacFile))
    }

    func settings(kid: String) -> AccountSettings {
        let eab = EABSettings(keyID: kid, hmacKey: .file(hmacFile))
        let ca = CASettings(name: "fake", directoryURL: FakeAccountCA.directory, eab: eab, requiresEAB: true)
        return AccountSettings(name: "default", ca: ca, contact: "ops@example.com", eab: eab, isDefault: true)
    }

    func manager(_ store: any AccountStore, _ ca: FakeAccountCA) -> AccountManager {
        AccountManager(
            store: store, clients: ACMEClientPool(logger: Logger(label: "test"), makeTransport: { _ in ca }),
            secrets: SecretReader(environment: [:]), stateDirectory: "/var/lib/certkeeper",
            logger: Logger(label: "test"))
    }

    /// A clean re-binding makes 6 changes: create the successor, mark its EAB sent, store its URL, archive the old
    /// account, import the successor under the name, archive the successor. 7 is no crash at all.
    @Test(arguments: 1...7)
    func aCrashBeforeAnyStepLeavesOneActiveAccountAndSpendsTheKeyOnce(crashAt: Int) async throws {
        let memory = MemoryAccountStore()
        let ca = FakeAccountCA()
        let oldKey = try SigningKey.generate(.ecdsaP256)
        var old = try AccountRecord.pending(
            caDirectoryURL: FakeAccountCA.directory, name: "default", contact: ["mailto:ops@example.com"],
            eabKeyID: "kid-1", keyType: .ecdsaP256, now: Date())
        old.accountURL = ca.register(oldKey, eabKeyID: "kid-1")
        old.status = .valid
        old.eabSent = true
        try await memory.importRecord(old, keyPEM: oldKey.pemRepresentation)

        let crashing = CrashingAccountStore(memory, crashAt: crashAt)
        _ = try? await manager(crashing, ca).handle(for: settings(kid: "kid-2"))
        #expect(await crashing.changes >= min(crashAt, 6))

        // The restarted daemon, same store, same configuration.
        let handle = try await manager(memory, ca).handle(for: settings(kid: "kid-2"))
        let active = await memory.allRecords(includeArchived: false)
        #expect(active.map(\.name) == ["default"], "active accounts: \(active.map(\.name))")
        #expect(active.first?.eabKeyID == "kid-2")
        #expect(active.first?.accountURL == handle.url)
        #expect(handle.url != old.accountURL)
        let kid2Sent = ca.posts.filter { $0.eabKeyID == "kid-2" && !$0.onlyReturnExisting }
        #expect(kid2Sent.count == 1)
        // The EAB key is bound to the key the store keeps for the active account.
        #expect(kid2Sent.first?.jwkThumbprint == handle.key.publicJWK.thumbprint())
        let archived = await memory.allRecords(includeArchived: true).filter { $0.status == .archived }
        #expect(archived.contains { $0.accountURL == old.accountURL })
    }
}
