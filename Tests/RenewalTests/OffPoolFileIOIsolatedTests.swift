import ACMECrypto
import CertStore
import Foundation
import Renewal
import TestSupport
import Testing

/// The state directory's file I/O runs on Dispatch threads, never on the cooperative pool: with every pool thread
/// blocked (as a hung file system would block them), the stores still read and write. Before the stores had
/// executors of their own, each of these stalled until the pool was released.
@Suite(.serialized, .enabled(if: IsolatedTests.enabled, Comment(rawValue: IsolatedTests.reason)))
struct OffPoolFileIOIsolatedTests {
    private func tempDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("offpool-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func theAccountStoreWorksWhileThePoolIsBlocked() async throws {
        let store = FileAccountStore(stateDirectory: try tempDirectory())
        let key = try SigningKey.generate(.ecdsaP256)
        let record = try AccountRecord.pending(
            caDirectoryURL: "https://ca.example/directory", name: "default", contact: [], eabKeyID: nil,
            keyType: .ecdsaP256, now: Date())
        let outcome = await CooperativePoolBlocker.run {
            try await store.createPending(record, keyPEM: key.pemRepresentation)
            let stored = try await store.activeRecord(caDirectoryURL: "https://ca.example/directory", name: "default")
            guard stored?.id == record.id else { throw CocoaError(.fileReadCorruptFile) }
        }
        #expect(outcome == .finished)
    }

    @Test func theCertificateStateStoreWorksWhileThePoolIsBlocked() async throws {
        // Through the protocol, as the daemon calls it.
        let store: any CertificateStateStore = FileCertificateStateStore(stateDirectory: try tempDirectory())
        let outcome = await CooperativePoolBlocker.run {
            try await store.save(CertificateState(name: "www"))
            guard try await store.load(name: "www")?.name == "www" else { throw CocoaError(.fileReadCorruptFile) }
            try await store.savePendingKey(name: "www", pem: "-----BEGIN PRIVATE KEY-----\n")
            guard try await store.allNames() == ["www"] else { throw CocoaError(.fileReadCorruptFile) }
        }
        #expect(outcome == .finished)
    }

    @Test func theReloadJournalIsWrittenWhileThePoolIsBlocked() async throws {
        let journal = try tempDirectory() + "/pending-reloads.json"
        let coalescer = ReloadCoalescer(journal: journal) { _ in }
        let outcome = await CooperativePoolBlocker.run {
            await coalescer.add(["nginx.service"])
        }
        #expect(outcome == .finished)
        #expect(FileManager.default.fileExists(atPath: journal))
    }
}
