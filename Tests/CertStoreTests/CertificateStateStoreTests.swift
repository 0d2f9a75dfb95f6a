import Foundation
import SafeFiles
import Testing

@testable import CertStore

struct CertificateStateStoreTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }

    func makeStore(_ kind: StoreKind) -> any CertificateStateStore {
        switch kind {
        case .file: return FileCertificateStateStore(stateDirectory: dir.path)
        case .memory: return MemoryCertificateStateStore()
        }
    }

    static let sample = CertificateState(
        name: "www", orderURL: "https://ca.example/order/1", orderAccountURL: "https://ca.example/acct/1",
        orderDomains: ["www.example.org", "example.org"], orderKeyType: .rsa2048, failureCount: 2,
        lastError: "dns: NXDOMAIN", lastErrorType: "urn:ietf:params:acme:error:dns",
        lastFailure: Date(timeIntervalSince1970: 1_750_000_000),
        nextAttempt: Date(timeIntervalSince1970: 1_750_000_600),
        lastIssued: Date(timeIntervalSince1970: 1_740_000_000),
        ariRetryAfter: Date(timeIntervalSince1970: 1_750_021_600),
        ariWindowStart: Date(timeIntervalSince1970: 1_751_000_000),
        ariWindowEnd: Date(timeIntervalSince1970: 1_751_100_000),
        scheduledRenewal: Date(timeIntervalSince1970: 1_751_050_000),
        replacesCertID: "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
        eabRefusedAt: nil, issuerDirectoryURL: "https://ca.example/dir", accountName: "default",
        scheduledSerial: "0a1b", nextCheck: Date(timeIntervalSince1970: 1_750_003_600), specFingerprint: "fp")

    @Test(arguments: StoreKind.allCases)
    func stateRoundTrips(kind: StoreKind) async throws {
        let store = makeStore(kind)
        #expect(try await store.load(name: "www") == nil)
        try await store.save(Self.sample)
        #expect(try await store.load(name: "www") == Self.sample)
        var cleared = Self.sample
        cleared.orderURL = nil
        cleared.failureCount = 0
        try await store.save(cleared)
        #expect(try await store.load(name: "www") == cleared)
        #expect(try await store.allNames() == ["www"])
    }

    @Test(arguments: StoreKind.allCases)
    func pendingKeyLifecycle(kind: StoreKind) async throws {
        let store = makeStore(kind)
        #expect(try await store.pendingKey(name: "api") == nil)
        try await store.savePendingKey(name: "api", pem: "PENDING")
        #expect(try await store.pendingKey(name: "api") == "PENDING")
        #expect(try await store.allNames() == ["api"])
        try await store.clearPendingKey(name: "api")
        try await store.clearPendingKey(name: "api")
        #expect(try await store.pendingKey(name: "api") == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func rejectsUnsafeNames(kind: StoreKind) async throws {
        let store = makeStore(kind)
        await #expect(throws: StateNameError.self) { try await store.save(CertificateState(name: "../x")) }
        await #expect(throws: StateNameError.self) { try await store.savePendingKey(name: "a/b", pem: "K") }
    }

    @Test func fileLayoutAndModes() async throws {
        let store: any CertificateStateStore = FileCertificateStateStore(stateDirectory: dir.path)
        try await store.save(Self.sample)
        try await store.savePendingKey(name: "www", pem: "K")
        #expect(dir.entries("certs/www") == ["pending-key.pem", "state.json"])
        #expect(dir.mode("certs") == 0o700)
        #expect(dir.mode("certs/www") == 0o700)
        #expect(dir.mode("certs/www/state.json") == 0o600)
        #expect(dir.mode("certs/www/pending-key.pem") == 0o600)
        #expect(dir.contents("certs/www/state.json")?.contains("\"nextAttempt\" : \"2025-06-15T15:16:40Z\"") == true)
    }

    @Test func corruptStateNamesTheFile() async throws {
        let store: any CertificateStateStore = FileCertificateStateStore(stateDirectory: dir.path)
        try AtomicFile.ensureDirectory(dir.path + "/certs/bad", mode: 0o700)
        try AtomicFile.write(Array("{".utf8), to: dir.path + "/certs/bad/state.json", mode: 0o600)
        do {
            _ = try await store.load(name: "bad")
            Issue.record("expected an error")
        } catch let error as CertStoreError {
            #expect("\(error)".contains("certs/bad/state.json"))
        }
    }
}
