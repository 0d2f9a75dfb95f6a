import ACMEClient
import ACMECrypto
import CertStore
import CertkeeperConfig
import Foundation
import Logging
import Renewal
import SafeFiles
import Testing

/// AccountManager's decisions against a MemoryAccountStore and a scripted CA: what is sent, and what never is.
@Suite struct AccountManagerTests {
    let hmacFile: String

    init() throws {
        hmacFile = NSTemporaryDirectory() + "certkeeper-eab-" + UUID().uuidString
        try Data("c2VjcmV0LWhtYWMta2V5LWZvci10ZXN0cw\n".utf8).write(to: URL(fileURLWithPath: hmacFile))
    }

    private func settings(name: String = "default", contact: String? = "ops@example.com", kid: String? = "kid-1")
        -> AccountSettings
    {
        let eab = kid.map { EABSettings(keyID: $0, hmacKey: .file(hmacFile)) }
        let ca = CASettings(name: "fake", directoryURL: FakeAccountCA.directory, eab: eab, requiresEAB: eab != nil)
        return AccountSettings(name: name, ca: ca, contact: contact, eab: eab, isDefault: name == "default")
    }

    private func manager(_ store: any AccountStore, _ ca: FakeAccountCA) -> AccountManager {
        AccountManager(
            store: store, clients: ACMEClientPool(logger: Logger(label: "test"), makeTransport: { _ in ca }),
            secrets: SecretReader(environment: [:]), stateDirectory: "/var/lib/certkeeper",
            logger: Logger(label: "test"))
    }

    /// A valid stored account for `settings`, known to the CA.
    private func storeValid(_ settings: AccountSettings, in store: MemoryAccountStore, ca: FakeAccountCA) async throws
        -> SigningKey
    {
        let key = try SigningKey.generate(.ecdsaP256)
        var record = try AccountRecord.pending(
            caDirectoryURL: FakeAccountCA.directory, name: settings.name, contact: ["mailto:ops@example.com"],
            eabKeyID: settings.eab?.keyID, keyType: .ecdsaP256, now: Date())
        record.accountURL = ca.register(key, eabKeyID: settings.eab?.keyID)
        record.status = .valid
        record.eabSent = settings.eab != nil
        try await store.importRecord(record, keyPEM: key.pemRepresentation)
        return key
    }

    @Test func aKeyRolledOverOutsideTheDaemonIsPickedUp() async throws {
        let store = MemoryAccountStore()
        let ca = FakeAccountCA()
        let oldKey = try await storeValid(settings(), in: store, ca: ca)
        let accounts = manager(store, ca)
        let first = try await accounts.handle(for: settings())
        #expect(first.key.publicJWK == oldKey.publicJWK)
        // `certkeeper account rollover` replaces the stored key while the daemon runs.
        let newKey = try SigningKey.generate(.ecdsaP256)
        try await store.replaceKey(id: first.record.id, newKeyPEM: newKey.pemRepresentation, newKeyType: .ecdsaP256)
        let second = try await accounts.handle(for: settings())
        #expect(second.key.publicJWK == newKey.publicJWK)
        #expect(second.url == first.url)
    }

    @Test func storedAccountWithSameEABSendsNothing() async throws {
        let store = MemoryAccountStore()
        let ca = FakeAccountCA()
        let key = try await storeValid(settings(), in: store, ca: ca)
        let accounts = manager(store, ca)
        let handle = try await accounts.handle(for: settings())
        await accounts.reloaded()
        let again = try await accounts.handle(for: settings())
        #expect(handle.key.publicJWK == key.publicJWK)
        #expect(again.url == handle.url)
        #expect(ca.posts.isEmpty)
    }

    @Test func newAccountIsStoredPendingBeforeItIsSent() async throws {
        let store = MemoryAccountStore()
        let ca = FakeAccountCA()
        let seen = LockedBox<AccountRecord?>(nil)
        ca.beforeNewAccount = {
            seen.value = try? await store.activeRecord(caDirectoryURL: FakeAccountCA.directory, name: "default")
        }
        let handle = try await manager(store, ca).handle(for: settings())
        let pending = try #require(seen.value)
        #expect(pending.status == .pending)
        #expect(pending.eabSent)
        #expect(pending.eabKeyID == "kid-1")
        #expect(try await store.keyPEM(id: pending.id) == handle.key.pemRepresentation)
        let newAccounts = ca.posts.filter { $0.url.hasSuffix("/new-acct") }
        #expect(newAccounts.count == 1)
        #expect(newAccounts.first?.eabKeyID == "kid-1")
        let stored = try #require(
            try await store.activeRecord(caDirectoryURL: FakeAccountCA.directory, name: "default"))
        #expect(stored.status == .valid)
        #expect(stored.accountURL == handle.url)
    }

    @Test func pendingRecordIsRecoveredWithOnlyReturnExistingAndTheStoredKey() async throws {
        let store = MemoryAccountStore()
        let ca = FakeAccountCA()
        // The crash: the CA registered the key, the store still says pending.
        let key = try SigningKey.generate(.ecdsaP256)
        let url = ca.register(key, eabKeyID: "kid-1")
        var record = try AccountRecord.pending(
            caDirectoryURL: FakeAccountCA.directory, name: "default", contact: ["mailto:ops@example.com"],
            eabKeyID: "kid-1", keyType: .ecdsaP256, now: Date())
        record.eabSent = true
        try await store.createPending(record, keyPEM: key.pemRepresentation)

        let handle = try await manager(store, ca).handle(for: settings())
        #expect(handle.url == url)
        #expect(handle.key.publicJWK == key.publicJWK)
        let posts = ca.posts
        #expect(posts.count == 1)
        #expect(posts.first?.onlyReturnExisting == true)
        #expect(posts.first?.jwkThumbprint == key.publicJWK.thumbprint())
        #expect(posts.first?.eabKeyID == nil)
        let stored = try #require(
            try await store.activeRecord(caDirectoryURL: FakeAccountCA.directory, name: "default"))
        #expect(stored.status == .valid)
        #expect(stored.accountURL == url)
    }

    @Test func pendingRecordUnknownToTheCAIsSentAgainWithTheSameKeyAndEAB() async throws {
        let store = MemoryAccountStore()
        let ca = FakeAccountCA()
        let key = try SigningKey.generate(.ecdsaP256)
        var record = try AccountRecord.pending(
            caDirectoryURL: FakeAccountCA.directory, name: "default", contact: ["mailto:ops@example.com"],
            eabKeyID: "kid-1", keyType: .ecdsaP256, now: Date())
        record.eabSent = true
        try await store.createPending(record, keyPEM: key.pemRepresentation)

        let handle = try await manager(store, ca).handle(for: settings())
        #expect(handle.key.publicJWK == key.publicJWK)
        let posts = ca.posts
        #expect(posts.map(\.onlyReturnExisting) == [true, false])
        #expect(posts.allSatisfy { $0.jwkThumbprint == key.publicJWK.thumbprint() })
        #expect(posts.last?.eabKeyID == "kid-1")
    }

    @Test func eabKeyIDBoundLocallyFailsBeforeSending() async throws {
        let store = MemoryAccountStore()
        let ca = FakeAccountCA()
        _ = try await storeValid(settings(), in: store, ca: ca)
        let requestsBefore = ca.requestCount
        let error = try await #require(throws: AccountError.self) {
            try await manager(store, ca).handle(for: settings(name: "second", contact: "second@example.com"))
        }
        guard case .eabKeyAlreadyBound(let keyID, _, let existing, let contact, let path) = error else {
            Issue.record("unexpected error \(error)")
            return
        }
        #expect(keyID == "kid-1")
        #expect(existing == "default")
        #expect(contact == ["mailto:ops@example.com"])
        #expect(path.hasPrefix("/var/lib/certkeeper/accounts/"))
        #expect(error.description.contains("request a new EAB key"))
        #expect(ca.requestCount == requestsBefore)
        #expect(try await store.activeRecord(caDirectoryURL: FakeAccountCA.directory, name: "second") == nil)
    }

    @Test func eabRequiredWithoutContactFailsBeforeSending() async throws {
        let store = MemoryAccountStore()
        let ca = FakeAccountCA()
        let error = try await #require(throws: AccountError.self) {
            try await manager(store, ca).handle(for: settings(contact: nil))
        }
        guard case .contactRequired = error else {
            Issue.record("unexpected error \(error)")
            return
        }
        #expect(ca.requestCount == 0)
        #expect(await store.allRecords(includeArchived: true).isEmpty)
    }

    @Test func refusedEABIsNotRetriedUntilReload() async throws {
        let store = MemoryAccountStore()
        let ca = FakeAccountCA()
        // kid-1 was spent by some other key (e.g. an account store that was lost).
        ca.register(try SigningKey.generate(.ecdsaP256), eabKeyID: "kid-1")
        let accounts = manager(store, ca)
        for _ in 0..<3 {
            let error = try await #require(throws: AccountError.self) { try await accounts.handle(for: settings()) }
            guard case .eabRefused(_, _, let keyID, _, let backupPath) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(keyID == "kid-1")
            #expect(backupPath.hasPrefix("/var/lib/certkeeper/accounts/"))
            #expect(error.description.contains("probably already spent"))
            #expect(error.description.contains("certkeeper account import"))
        }
        #expect(ca.posts.filter { $0.url.hasSuffix("/new-acct") }.count == 1)
        await accounts.reloaded()
        _ = try? await accounts.handle(for: settings())
        // After a reload: one lookup with the stored key, then one more newAccount with it; no new key.
        let newAccounts = ca.posts.filter { $0.url.hasSuffix("/new-acct") }
        #expect(newAccounts.count == 3)
        #expect(Set(newAccounts.compactMap(\.jwkThumbprint)).count == 1)
    }

    @Test func contactChangeUpdatesTheAccount() async throws {
        let store = MemoryAccountStore()
        let ca = FakeAccountCA()
        _ = try await storeValid(settings(), in: store, ca: ca)
        let handle = try await manager(store, ca).handle(for: settings(contact: "new@example.com"))
        let posts = ca.posts
        #expect(posts.count == 1)
        #expect(posts.first?.url == handle.url)
        #expect(posts.first?.payload["contact"] as? [String] == ["mailto:new@example.com"])
        let stored = try #require(
            try await store.activeRecord(caDirectoryURL: FakeAccountCA.directory, name: "default"))
        #expect(stored.contact == ["mailto:new@example.com"])
    }

    @Test func interruptedRolloverThatReachedTheCAIsCompletedWithTheStagedKey() async throws {
        let store = MemoryAccountStore()
        let ca = FakeAccountCA()
        _ = try await storeValid(settings(), in: store, ca: ca)
        let id = try StateName.accountID(caDirectoryURL: FakeAccountCA.directory, name: "default")
        let url = try #require(try await store.record(id: id)?.accountURL)
        let staged = try SigningKey.generate(.ecdsaP256)
        try await store.stageRolloverKey(id: id, pem: staged.pemRepresentation)
        ca.rekey(url, to: staged)  // the CA accepted keyChange, then the process died before replaceKey

        let handle = try await manager(store, ca).handle(for: settings())
        #expect(handle.key.publicJWK == staged.publicJWK)
        #expect(handle.url == url)
        #expect(try await store.keyPEM(id: id) == staged.pemRepresentation)
        #expect(try await store.stagedRolloverKey(id: id) == nil)
        #expect(ca.posts.map(\.onlyReturnExisting) == [true, true])
        #expect(!ca.posts.contains { $0.eabKeyID != nil })
    }

    @Test func interruptedRolloverThatNeverReachedTheCAKeepsTheOldKey() async throws {
        let store = MemoryAccountStore()
        let ca = FakeAccountCA()
        let key = try await storeValid(settings(), in: store, ca: ca)
        let id = try StateName.accountID(caDirectoryURL: FakeAccountCA.directory, name: "default")
        try await store.stageRolloverKey(id: id, pem: try SigningKey.generate(.ecdsaP256).pemRepresentation)

        let handle = try await manager(store, ca).handle(for: settings())
        #expect(handle.key.publicJWK == key.publicJWK)
        #expect(try await store.keyPEM(id: id) == key.pemRepresentation)
        #expect(try await store.stagedRolloverKey(id: id) == nil)
        #expect(ca.posts.count == 1)
    }

    @Test func hmacKeyAcceptsBase64URLAndStandardBase64() throws {
        // 0xfb 0xff 0xbf makes "+/+/" in standard base64 and "-_-_" in base64url.
        let raw: [UInt8] = [0xfb, 0xff, 0xbf, 0xfb, 0xff, 0xbf, 0x01]
        let forms = [
            "-_-_-_-_AQ", "-_-_-_-_AQ==", "+/+/+/+/AQ==", "+/+/+/+/AQ", "  -_-_-_-_AQ\n", "+/+/\n+/+/AQ==\r\n",
        ]
        let reader = SecretReader(environment: [:])
        for form in forms {
            let file = NSTemporaryDirectory() + "certkeeper-hmac-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: file) }
            try Data(form.utf8).write(to: URL(fileURLWithPath: file))
            #expect(try reader.hmacKey(.file(file), what: "test key") == raw, "form \(form.debugDescription)")
        }
        let file = NSTemporaryDirectory() + "certkeeper-hmac-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data("not base64 at all!".utf8).write(to: URL(fileURLWithPath: file))
        let error = try #require(throws: AccountError.self) { try reader.hmacKey(.file(file), what: "test key") }
        #expect(!error.description.contains("not base64 at all"))
    }
}

/// A value shared with a @Sendable closure in tests.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: Value
    init(_ value: Value) { _value = value }
    var value: Value {
        get { lock.withLock { _value } }
        set { lock.withLock { _value = newValue } }
    }
}

extension AccountManagerTests {
    @Test func refusedRebindIsTriedOnceUntilReload() async throws {
        let store = MemoryAccountStore()
        let ca = FakeAccountCA()
        let oldKey = try await storeValid(settings(kid: "kid-1"), in: store, ca: ca)
        // kid-2 is already spent elsewhere: the re-binding the operator asked for is refused.
        ca.register(try SigningKey.generate(.ecdsaP256), eabKeyID: "kid-2")
        let accounts = manager(store, ca)
        for _ in 0..<3 {
            let handle = try await accounts.handle(for: settings(kid: "kid-2"))
            #expect(handle.key.publicJWK == oldKey.publicJWK)
        }
        let sent = { ca.posts.filter { $0.url.hasSuffix("/new-acct") && !$0.onlyReturnExisting }.count }
        #expect(sent() == 1)
        await accounts.reloaded()
        _ = try await accounts.handle(for: settings(kid: "kid-2"))
        #expect(sent() == 2)
    }
}
