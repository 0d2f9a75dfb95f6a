import Foundation
import SafeFiles
import Testing

@testable import CertStore

struct CertificateStateStoreTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }

    func makeStore(_ kind: StoreKind) async throws -> any CertificateStateStore {
        switch kind {
        case .file: return FileCertificateStateStore(stateDirectory: dir.path)
        case .memory: return MemoryCertificateStateStore()
        case .postgresql: return try await PostgresTestDatabase.make().states()
        }
    }

    static let sample = CertificateState(
        name: "www",
        order: PendingOrder(
            url: "https://ca.example/order/1", accountURL: "https://ca.example/acct/1",
            domains: ["www.example.org", "example.org"], keyType: .rsa2048),
        backoff: Backoff(
            failures: 2, transientFailures: 1, lastError: "dns: NXDOMAIN",
            lastErrorType: "urn:ietf:params:acme:error:dns", lastFailure: Date(timeIntervalSince1970: 1_750_000_000),
            retryAt: Date(timeIntervalSince1970: 1_750_000_600)),
        ari: ARIAdvice(
            windowStart: Date(timeIntervalSince1970: 1_751_000_000),
            windowEnd: Date(timeIntervalSince1970: 1_751_100_000),
            askAgainAt: Date(timeIntervalSince1970: 1_750_021_600)),
        schedule: RenewalSchedule(serial: "0a1b", renewAt: Date(timeIntervalSince1970: 1_751_050_000)),
        issuer: IssuerRecord(
            directoryURL: "https://ca.example/dir", accountName: "default",
            issuedAt: Date(timeIntervalSince1970: 1_740_000_000)),
        nextCheck: Date(timeIntervalSince1970: 1_750_003_600), specFingerprint: "fp")

    @Test(arguments: StoreKind.allCases)
    func stateRoundTrips(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        #expect(try await store.load(name: "www") == nil)
        try await store.save(Self.sample)
        #expect(try await store.load(name: "www") == Self.sample)
        var cleared = Self.sample
        cleared.order = nil
        cleared.backoff = nil
        try await store.save(cleared)
        #expect(try await store.load(name: "www") == cleared)
        var revoked = Self.sample
        revoked.revokedSerial = "0a1b"
        try await store.save(revoked)
        #expect(try await store.load(name: "www") == revoked)
        #expect(try await store.allNames() == ["www"])
    }

    /// An adopted certificate's schedule is written behind: seen at once in this process, on disk (with no temp file
    /// left) after the flush; a durable save or a removal in between wins over it.
    @Test(arguments: StoreKind.allCases)
    func recomputableStatesAreWrittenBehindAndFlushed(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        let adopted = CertificateState(
            name: "www", schedule: RenewalSchedule(serial: "0a1b", renewAt: Date(timeIntervalSince1970: 1_760_000_000)),
            nextCheck: Date(timeIntervalSince1970: 1_760_000_000), specFingerprint: "fp")
        #expect(adopted.isRecomputable && !Self.sample.isRecomputable)
        // Attributed to the spec's CA by an adoption: still recomputable; issued by certkeeper: not.
        var attributed = adopted
        attributed.issuer = IssuerRecord(directoryURL: "https://ca.example/dir", accountName: "default", issuedAt: nil)
        var issued = attributed
        issued.issuer?.issuedAt = Date(timeIntervalSince1970: 1_750_000_000)
        #expect(attributed.isRecomputable && !issued.isRecomputable)
        try await store.saveRecomputable(adopted)
        #expect(try await store.load(name: "www") == adopted)
        #expect(try await store.allNames() == ["www"])
        var gone = adopted
        gone.name = "gone"
        try await store.saveRecomputable(gone)
        try await store.remove(name: "gone")
        var overtaken = adopted
        overtaken.name = "api"
        try await store.saveRecomputable(overtaken)
        var durable = Self.sample
        durable.name = "api"
        try await store.save(durable)
        if kind == .file {
            // Not on disk yet: a restart now would find nothing for www and look at its certificate again.
            #expect(try await FileCertificateStateStore(stateDirectory: dir.path).load(name: "www") == nil)
        }
        try await store.flushRecomputable()
        #expect(try await store.load(name: "www") == adopted)
        #expect(try await store.load(name: "api") == durable)
        #expect(try await store.load(name: "gone") == nil)
        #expect(try await store.allNames() == ["api", "www"])
        if kind == .file {
            let reopened = FileCertificateStateStore(stateDirectory: dir.path)
            #expect(try await reopened.load(name: "www") == adopted)
            #expect(try await reopened.load(name: "api") == durable)
            #expect(dir.entries("certs/www") == ["state.json"])
            #expect(dir.entries("certs/api") == ["state.json"])
        }
        // A state that is not recomputable is saved durably at once, even through saveRecomputable.
        var failing = adopted
        failing.backoff = Self.sample.backoff
        try await store.saveRecomputable(failing)
        if kind == .file {
            #expect(try await FileCertificateStateStore(stateDirectory: dir.path).load(name: "www") == failing)
        }
    }

    /// More write-behind states than the limit flush themselves (the daemon's batch may be long): none is on disk
    /// before the limit, all are at it.
    @Test func theWriteBehindLimitFlushes() async throws {
        let store = FileCertificateStateStore(stateDirectory: dir.path)
        let limit = FileCertificateStateStore.writeBehindLimit
        for index in 0..<(limit - 1) {
            try await store.saveRecomputable(CertificateState(name: "c\(index)", specFingerprint: "fp"))
        }
        #expect(try await FileCertificateStateStore(stateDirectory: dir.path).allNames() == [])
        try await store.saveRecomputable(CertificateState(name: "last", specFingerprint: "fp"))
        #expect(try await FileCertificateStateStore(stateDirectory: dir.path).allNames().count == limit)
    }

    /// A state another process writes while the daemon's is pending (`certkeeper revoke`, `run --once`) is what the
    /// daemon reads, and the flush leaves it; a first state written behind only when none is on disk.
    @Test func anotherProcesssStateWinsOverAPendingOne() async throws {
        let daemon = FileCertificateStateStore(stateDirectory: dir.path)
        let command = FileCertificateStateStore(stateDirectory: dir.path)
        let adopted = CertificateState(name: "www", nextCheck: Date(timeIntervalSince1970: 1_760_000_000))
        try await daemon.saveRecomputable(adopted)
        var revoked = adopted
        revoked.revokedSerial = "0a1b"
        try await command.save(revoked)
        #expect(try await daemon.load(name: "www") == revoked)
        try await daemon.saveRecomputable(adopted)  // on disk already: saved durably, as before
        try await command.save(revoked)
        try await daemon.flushRecomputable()
        #expect(try await command.load(name: "www") == revoked)
        // Pending, then the other process writes, then the flush: the flush links nothing over it.
        var other = adopted
        other.name = "api"
        try await daemon.saveRecomputable(other)
        var written = other
        written.revokedSerial = "0c2d"
        try await command.save(written)
        try await daemon.flushRecomputable()
        #expect(try await command.load(name: "api") == written)
        #expect(dir.entries("certs/api") == ["state.json"])
    }

    /// A temp file a stop or a crash left (a write-behind not flushed) does not keep `delete` from removing the
    /// certificate's directory.
    @Test func removeTakesLeftoverTempFiles() async throws {
        let store = FileCertificateStateStore(stateDirectory: dir.path)
        try await store.save(CertificateState(name: "www"))
        try "{".write(
            toFile: dir.path + "/certs/www/.state.json.tmp-0123abcd", atomically: false, encoding: .utf8)
        try await store.remove(name: "www")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/certs/www"))
    }

    /// `certkeeper delete`: everything stored for one name goes (state and pending key, and the file store's
    /// directory), other names stay, and removing what is not there is not an error.
    @Test(arguments: StoreKind.allCases)
    func removeTakesStateAndPendingKeyOfOneName(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        try await store.save(Self.sample)
        try await store.savePendingKey(name: "www", pem: "KEY")
        var other = Self.sample
        other.name = "api"
        try await store.save(other)
        try await store.remove(name: "www")
        #expect(try await store.load(name: "www") == nil)
        #expect(try await store.pendingKey(name: "www") == nil)
        #expect(try await store.allNames() == ["api"])
        if kind == .file { #expect(!FileManager.default.fileExists(atPath: dir.path + "/certs/www")) }
        try await store.remove(name: "www")
        try await store.remove(name: "never")
        await #expect(throws: (any Error).self) { try await store.remove(name: "../etc") }
    }

    /// A state.json written by certkeeper before the lifecycle (flat fields, no version) reads as the same state,
    /// and is rewritten as version 2.
    @Test func versionOneStateFilesAreRead() async throws {
        let legacy = """
            {
              "accountName" : "default",
              "ariRetryAfter" : "2025-06-15T21:06:40Z",
              "ariWindowEnd" : "2025-06-28T08:40:00Z",
              "ariWindowStart" : "2025-06-27T04:53:20Z",
              "failureCount" : 2,
              "issuerDirectoryURL" : "https://ca.example/dir",
              "lastError" : "dns: NXDOMAIN",
              "lastErrorType" : "urn:ietf:params:acme:error:dns",
              "lastFailure" : "2025-06-15T15:06:40Z",
              "lastIssued" : "2025-02-19T21:20:00Z",
              "name" : "www",
              "nextAttempt" : "2025-06-15T15:16:40Z",
              "nextCheck" : "2025-06-15T16:06:40Z",
              "orderAccountURL" : "https://ca.example/acct/1",
              "orderDomains" : ["www.example.org", "example.org"],
              "orderKeyType" : "rsa-2048",
              "orderURL" : "https://ca.example/order/1",
              "replacesCertID" : "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
              "scheduledRenewal" : "2025-06-27T18:46:40Z",
              "scheduledSerial" : "0a1b",
              "specFingerprint" : "fp",
              "transientFailureCount" : 1
            }
            """
        let directory = dir.path + "/certs/www"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(legacy.utf8).write(to: URL(fileURLWithPath: directory + "/state.json"))
        let store = FileCertificateStateStore(stateDirectory: dir.path)
        #expect(try await store.load(name: "www") == Self.sample)
        try await store.save(try #require(try await store.load(name: "www")))
        let rewritten = try String(contentsOfFile: directory + "/state.json", encoding: .utf8)
        #expect(rewritten.contains("\"version\" : 2"))
        #expect(!rewritten.contains("orderURL"))
        #expect(try await store.load(name: "www") == Self.sample)
    }

    /// Version 1 files in the two other shapes that matter: parked (failures, no retry time) and healthy.
    @Test func versionOneParkedAndHealthyFilesAreRead() async throws {
        let directory = dir.path + "/certs"
        for name in ["parked", "healthy"] {
            try FileManager.default.createDirectory(atPath: directory + "/" + name, withIntermediateDirectories: true)
        }
        try Data(
            #"{"name": "parked", "failureCount": 1, "lastError": "EAB key refused", "lastFailure": "2025-06-15T15:06:40Z", "nextCheck": "4001-01-01T00:00:00Z"}"#
                .utf8
        ).write(to: URL(fileURLWithPath: directory + "/parked/state.json"))
        try Data(#"{"name": "healthy", "failureCount": 0, "lastError": null}"#.utf8)
            .write(to: URL(fileURLWithPath: directory + "/healthy/state.json"))
        let store = FileCertificateStateStore(stateDirectory: dir.path)
        let parked = try #require(try await store.load(name: "parked"))
        #expect(parked.backoff?.failures == 1 && parked.backoff?.retryAt == nil)
        #expect(parked.backoff?.lastError == "EAB key refused")
        let healthy = try #require(try await store.load(name: "healthy"))
        #expect(healthy.backoff == nil && healthy.order == nil && healthy.failureCount == 0)
    }

    /// A state file from a newer certkeeper is refused with a message, not misread.
    @Test func newerStateFormatIsRefused() async throws {
        let directory = dir.path + "/certs/www"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(#"{"version": 3, "name": "www"}"#.utf8).write(to: URL(fileURLWithPath: directory + "/state.json"))
        let store = FileCertificateStateStore(stateDirectory: dir.path)
        let error = await #expect(throws: CertStoreError.self) { try await store.load(name: "www") }
        #expect("\(error.map { "\($0)" } ?? "")".contains("upgrade certkeeper"))
    }

    @Test(arguments: StoreKind.allCases)
    func pendingKeyLifecycle(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
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
        let store = try await makeStore(kind)
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
        #expect(dir.contents("certs/www/state.json")?.contains("\"retryAt\" : \"2025-06-15T15:16:40Z\"") == true)
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

    /// Scheduling a reload reads many states in one call: each as load would, nil for none or an invalid name, and
    /// (file store) nil for an unreadable one, which the attempt reads again and reports.
    @Test(arguments: StoreKind.allCases)
    func loadEachReadsEveryNameInOrder(kind: StoreKind) async throws {
        let store = try await makeStore(kind)
        var other = Self.sample
        other.name = "api"
        other.order = nil
        try await store.save(Self.sample)
        try await store.save(other)
        #expect(await store.loadEach(names: ["api", "missing", "www", "../x"]) == [other, nil, Self.sample, nil])
        #expect(await store.loadEach(names: []) == [])
        guard kind == .file else { return }
        try AtomicFile.ensureDirectory(dir.path + "/certs/bad", mode: 0o700)
        try AtomicFile.write(Array("{".utf8), to: dir.path + "/certs/bad/state.json", mode: 0o600)
        #expect(await store.loadEach(names: ["bad", "www"]) == [nil, Self.sample])
    }
}
