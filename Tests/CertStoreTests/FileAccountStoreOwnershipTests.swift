import ACMECrypto
import Foundation
import Testing

@testable import CertStore

/// `certkeeper account rollover|import|deactivate` run as root on a store that belongs to the service user: every
/// file and directory it creates belongs to the store's owner, so the daemon can still read them.
@Suite(.enabled(if: geteuid() == 0, "needs root writing into another user's store"))
struct FileAccountStoreOwnershipTests {
    static let ca = "https://127.0.0.1:14000/dir"
    static let serviceUser: uid_t = 65534
    static let serviceGroup: gid_t = 65533

    @Test func everythingRootWritesBelongsToTheStoresOwner() async throws {
        let dir = try TemporaryDirectory()
        chown(dir.path, Self.serviceUser, Self.serviceGroup)
        let store = FileAccountStore(stateDirectory: dir.path)
        var record = try AccountRecord.pending(
            caDirectoryURL: Self.ca, name: "default", contact: [], eabKeyID: nil, keyType: .ecdsaP256, now: Date())
        try await store.createPending(record, keyPEM: "KEY-1")
        record.status = .valid
        try await store.update(record)
        try await store.stageRolloverKey(id: record.id, pem: "KEY-NEXT")
        try await store.replaceKey(id: record.id, newKeyPEM: "KEY-2", newKeyType: .ecdsaP256)
        try await store.archive(id: record.id)
        var imported = try AccountRecord.pending(
            caDirectoryURL: Self.ca, name: "imported", contact: [], eabKeyID: nil, keyType: .ecdsaP256, now: Date())
        imported.status = .valid
        try await store.importRecord(imported, keyPEM: "KEY-3")

        let everything = try FileManager.default.subpathsOfDirectory(atPath: dir.path)
        #expect(everything.count >= 8)
        for relative in everything {
            var info = stat()
            lstat(dir.path + "/" + relative, &info)
            #expect(info.st_uid == Self.serviceUser, "\(relative) belongs to uid \(info.st_uid)")
            #expect(info.st_gid == Self.serviceGroup, "\(relative) belongs to gid \(info.st_gid)")
            #expect(info.st_mode & 0o077 == 0, "\(relative) has mode \(String(info.st_mode & 0o7777, radix: 8))")
        }
    }
}
