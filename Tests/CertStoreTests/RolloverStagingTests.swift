import Foundation
import Testing

@testable import CertStore

/// Rollover crash safety: the new key is staged durably before keyChange and cleared by replaceKey.
struct RolloverStagingTests {
    static let ca = "https://127.0.0.1:14000/dir"
    let dir: TemporaryDirectory

    init() throws { dir = try TemporaryDirectory() }

    func makeStore(_ kind: StoreKind) async throws -> any AccountStore {
        switch kind {
        case .file: return FileAccountStore(stateDirectory: dir.path)
        case .memory: return MemoryAccountStore()
        case .postgresql: return try await PostgresTestDatabase.make().accounts()
        }
    }

    func stored(_ store: any AccountStore) async throws -> AccountRecord {
        var record = try AccountRecord.pending(
            caDirectoryURL: Self.ca, name: "default", contact: ["mailto:ops@example.org"], eabKeyID: nil,
            keyType: .ecdsaP256, now: Date())
        try await store.createPending(record, keyPEM: "KEY-1")
        record.accountURL = "https://127.0.0.1:14000/my-account/1"
        record.status = .valid
        try await store.update(record)
        return record
    }

    @Test(arguments: StoreKind.allCases)
    func stagedKeyIsKeptUntilReplaceKey(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        let record = try await stored(store)
        #expect(try await store.stagedRolloverKey(id: record.id) == nil)
        try await store.stageRolloverKey(id: record.id, pem: "KEY-2")
        #expect(try await store.stagedRolloverKey(id: record.id) == "KEY-2")
        #expect(try await store.keyPEM(id: record.id) == "KEY-1")
        if kind == .file {
            #expect(dir.contents("accounts/\(record.id)/key.pem.next") == "KEY-2")
            #expect(dir.mode("accounts/\(record.id)/key.pem.next") == 0o600)
        }
        try await store.replaceKey(id: record.id, newKeyPEM: "KEY-2", newKeyType: .ecdsaP256)
        #expect(try await store.keyPEM(id: record.id) == "KEY-2")
        #expect(try await store.stagedRolloverKey(id: record.id) == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func discardForgetsTheStagedKey(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        let record = try await stored(store)
        try await store.stageRolloverKey(id: record.id, pem: "KEY-2")
        try await store.discardStagedRolloverKey(id: record.id)
        #expect(try await store.stagedRolloverKey(id: record.id) == nil)
        #expect(try await store.keyPEM(id: record.id) == "KEY-1")
        try await store.discardStagedRolloverKey(id: record.id)  // idempotent
    }

    @Test(arguments: StoreKind.allCases)
    func stagingNeedsAnActiveAccount(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        await #expect(throws: CertStoreError.self) {
            try await store.stageRolloverKey(id: "127.0.0.1_14000_dir--missing", pem: "KEY")
        }
    }
}
