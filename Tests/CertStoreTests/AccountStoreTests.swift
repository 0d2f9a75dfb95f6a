import ACMECrypto
import Foundation
import PostgresStore
import SafeFiles
import Testing

@testable import CertStore

/// Runs the same contract against the file store, its in-memory twin and, when the test cluster is there
/// (CERTKEEPER_TEST_POSTGRES_URL; CI always sets it and PostgresStoreTests fails the run when it does not), the
/// PostgreSQL store.
enum StoreKind: String, Sendable, CustomTestStringConvertible {
    case file, memory, postgresql
    var testDescription: String { rawValue }
    static var allCases: [StoreKind] { [.file, .memory] + (PostgresTestDatabase.isConfigured ? [.postgresql] : []) }
}

/// A fixed, settable wall clock.
final class TestClock: @unchecked Sendable {
    private var current: Date
    init(_ start: Date = Date(timeIntervalSince1970: 1_750_000_000)) { current = start }
    var now: Date { current }
    func advance(_ seconds: TimeInterval) { current += seconds }
}

struct AccountStoreTests {
    static let ca = "https://127.0.0.1:14000/dir"
    let dir: TemporaryDirectory
    let clock = TestClock()

    init() throws { dir = try TemporaryDirectory() }

    func makeStore(_ kind: StoreKind) async throws -> any AccountStore {
        let clock = self.clock
        switch kind {
        case .file: return FileAccountStore(stateDirectory: dir.path, now: { clock.now })
        case .memory: return MemoryAccountStore(now: { clock.now })
        case .postgresql: return try await PostgresTestDatabase.make().accounts(now: { clock.now })
        }
    }

    func pending(name: String = "default", eab: String? = nil) throws -> AccountRecord {
        try AccountRecord.pending(
            caDirectoryURL: Self.ca, name: name, contact: ["mailto:ops@example.org"], eabKeyID: eab,
            keyType: .ecdsaP256, now: clock.now)
    }

    @Test(arguments: StoreKind.allCases)
    func createPendingThenUpdateRoundTrips(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        var record = try pending()
        try await store.createPending(record, keyPEM: "KEY-1")
        #expect(try await store.activeRecord(caDirectoryURL: Self.ca, name: "default") == record)
        #expect(try await store.keyPEM(id: record.id) == "KEY-1")

        record.accountURL = "https://127.0.0.1:14000/my-account/1"
        record.status = .valid
        record.updated = clock.now.addingTimeInterval(5)
        try await store.update(record)
        #expect(try await store.record(id: "127.0.0.1_14000_dir--default") == record)
        #expect(try await store.allRecords(includeArchived: false) == [record])
    }

    @Test(arguments: StoreKind.allCases)
    func createPendingRefusesASecondActiveRecord(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.createPending(try pending(), keyPEM: "KEY-1")
        await #expect(throws: CertStoreError.self) { try await store.createPending(try pending(), keyPEM: "KEY-2") }
        #expect(try await store.keyPEM(id: try pending().id) == "KEY-1")
    }

    @Test(arguments: StoreKind.allCases)
    func createPendingRefusesAnIDThatDoesNotMatchCAAndName(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        var record = try pending()
        record.id = "../../etc"
        await #expect(throws: CertStoreError.self) { try await store.createPending(record, keyPEM: "K") }
        await #expect(throws: StateNameError.self) {
            try await store.createPending(try pending(name: "a/b"), keyPEM: "K")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func archiveMovesOutOfActiveSetWithoutDeleting(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        let record = try pending(eab: "kid-1")
        try await store.createPending(record, keyPEM: "KEY-1")
        try await store.archive(id: record.id)

        #expect(try await store.activeRecord(caDirectoryURL: Self.ca, name: "default") == nil)
        #expect(try await store.allRecords(includeArchived: false).isEmpty)
        let all = try await store.allRecords(includeArchived: true)
        let archived = try #require(all.first)
        #expect(all.count == 1)
        #expect(archived.status == .archived)
        #expect(archived.id == record.id + "-20250615T150640Z")
        #expect(try await store.keyPEM(id: archived.id) == "KEY-1")

        // A new account with the same name can now be created, and archiving it again keeps both.
        try await store.createPending(try pending(eab: "kid-2"), keyPEM: "KEY-2")
        try await store.archive(id: record.id)
        #expect(try await store.allRecords(includeArchived: true).count == 2)
        if kind == .file {
            #expect(dir.entries("accounts/archive").count == 2)
            #expect(dir.entries("accounts") == ["archive"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func eabLookupIncludesArchivedRecordsAndPrefersActive(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        var first = try pending(name: "first", eab: "kid-1")
        first.eabSent = true
        try await store.createPending(first, keyPEM: "K1")
        try await store.archive(id: first.id)

        let bound = try #require(try await store.recordBound(toEABKeyID: "kid-1", caDirectoryURL: Self.ca))
        #expect(bound.name == "first")
        #expect(bound.status == .archived)
        #expect(bound.eabSent)
        #expect(try await store.recordBound(toEABKeyID: "kid-1", caDirectoryURL: "https://other.example/dir") == nil)
        #expect(try await store.recordBound(toEABKeyID: "kid-2", caDirectoryURL: Self.ca) == nil)

        try await store.createPending(try pending(name: "second", eab: "kid-1"), keyPEM: "K2")
        #expect(try await store.recordBound(toEABKeyID: "kid-1", caDirectoryURL: Self.ca)?.name == "second")
    }

    @Test(arguments: StoreKind.allCases)
    func replaceKeyKeepsTheOldKey(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        let record = try pending()
        try await store.createPending(record, keyPEM: "OLD")
        clock.advance(60)
        try await store.replaceKey(id: record.id, newKeyPEM: "NEW", newKeyType: .ecdsaP384)
        #expect(try await store.keyPEM(id: record.id) == "NEW")
        let updated = try #require(try await store.record(id: record.id))
        #expect(updated.keyType == .ecdsaP384)
        #expect(updated.updated == clock.now)
        switch kind {
        case .file:
            let files = dir.entries("accounts/\(record.id)")
            #expect(files == ["account.json", "key.pem", "key.pem.old-20250615T150740Z"])
            #expect(dir.contents("accounts/\(record.id)/key.pem.old-20250615T150740Z") == "OLD")
            // What `store migrate` copies: the key and when rollover replaced it (from the file name).
            let old = try await (store as! FileAccountStore).oldKeys(id: record.id)
            #expect(old.map(\.pem) == ["OLD"])
            #expect(old.map(\.replacedAt) == [clock.now])
        case .memory:
            #expect(await (store as! MemoryAccountStore).oldKeys(id: record.id) == ["OLD"])
        case .postgresql:
            #expect(try await (store as! PostgresAccountStore).oldKeys(id: record.id) == ["OLD"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func updateRefusesArchivingAndUnknownIDs(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        var record = try pending()
        try await store.createPending(record, keyPEM: "K")
        record.status = .archived
        await #expect(throws: CertStoreError.self) { try await store.update(record) }
        var unknown = try pending(name: "other")
        unknown.status = .valid
        await #expect(throws: CertStoreError.self) { try await store.update(unknown) }
    }

    @Test(arguments: StoreKind.allCases)
    func importStoresActiveAndArchivedRecords(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        var active = try pending(name: "imported")
        active.status = .valid
        active.accountURL = "https://ca.example/acct/9"
        try await store.importRecord(active, keyPEM: "K9")
        var old = try pending(name: "old")
        old.id = old.id + "-20200101T000000Z"
        old.status = .archived
        try await store.importRecord(old, keyPEM: "K8")
        #expect(try await store.activeRecord(caDirectoryURL: Self.ca, name: "imported") == active)
        #expect(try await store.record(id: old.id) == old)
        await #expect(throws: CertStoreError.self) { try await store.importRecord(active, keyPEM: "K9") }
    }

    @Test func fileLayoutHasPrivateModesAndReadableJSON() async throws {
        let store = FileAccountStore(stateDirectory: dir.path, now: { [clock] in clock.now })
        let record = try pending()
        try await store.createPending(record, keyPEM: "K")
        #expect(dir.mode("accounts") == 0o700)
        #expect(dir.mode("accounts/\(record.id)") == 0o700)
        #expect(dir.mode("accounts/\(record.id)/key.pem") == 0o600)
        #expect(dir.mode("accounts/\(record.id)/account.json") == 0o600)
        let json = try #require(dir.contents("accounts/\(record.id)/account.json"))
        #expect(json.contains("\"created\" : \"2025-06-15T15:06:40Z\""))
        #expect(json.contains("\"keyType\" : \"ecdsa-p256\""))
        #expect(json.contains("\"status\" : \"pending\""))
        #expect(dir.entries("accounts") == [record.id])
    }

    @Test func fileStoreDetectsIDCollisionBetweenCAs() async throws {
        let store = FileAccountStore(stateDirectory: dir.path)
        let record = try AccountRecord.pending(
            caDirectoryURL: "https://ca.example/dir", name: "default", contact: [], eabKeyID: nil, keyType: .ecdsaP256,
            now: clock.now)
        try await store.createPending(record, keyPEM: "K")
        await #expect(throws: CertStoreError.self) {
            try await store.activeRecord(caDirectoryURL: "http://ca.example/dir", name: "default")
        }
    }
}
