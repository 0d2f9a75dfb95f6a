import Foundation
import Testing

@testable import CertStore

struct AtomicFileTests {
    @Test func replacesContentAndLeavesNoTempFiles() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/file"
        try AtomicFile.write(Array("one".utf8), to: path, mode: 0o600)
        try AtomicFile.write(Array("two".utf8), to: path, mode: 0o600)
        #expect(dir.contents("file") == "two")
        #expect(dir.entries("") == ["file"])
    }

    @Test func failureBeforeRenameKeepsOldContentAndRemovesTemp() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/key.pem"
        try AtomicFile.write(Array("old".utf8), to: path, mode: 0o600)
        #expect(throws: InjectedFault.self) {
            try AtomicFile.write(Array("new".utf8), to: path, mode: 0o600, beforeRename: { throw InjectedFault() })
        }
        #expect(dir.contents("key.pem") == "old")
        #expect(dir.entries("") == ["key.pem"])
    }

    @Test func failureToCreateTempKeepsOldContent() throws {
        let dir = try TemporaryDirectory()
        #expect(throws: CertStoreError.self) {
            try AtomicFile.write(Array("x".utf8), to: dir.path + "/missing-dir/file", mode: 0o600)
        }
        #expect(dir.entries("") == [])
    }

    @Test func modesAreExactRegardlessOfUmask() throws {
        let dir = try TemporaryDirectory()
        try withUmask(0) {
            try AtomicFile.write(Array("k".utf8), to: dir.path + "/key", mode: 0o600)
            try AtomicFile.ensureDirectory(dir.path + "/a/b", mode: 0o700)
        }
        try withUmask(0o077) {
            try AtomicFile.write(Array("c".utf8), to: dir.path + "/cert", mode: 0o644)
        }
        #expect(dir.mode("key") == 0o600)
        #expect(dir.mode("cert") == 0o644)
        #expect(dir.mode("a") == 0o700)
        #expect(dir.mode("a/b") == 0o700)
    }

    @Test func ownerAndGroupAreApplied() throws {
        let dir = try TemporaryDirectory()
        let gid = getegid()
        try AtomicFile.write(Array("k".utf8), to: dir.path + "/key", mode: 0o640, owner: geteuid(), group: gid)
        var info = stat()
        stat(dir.path + "/key", &info)
        #expect(info.st_gid == gid)
        #expect(info.st_uid == geteuid())
        #expect(info.st_mode & 0o777 == 0o640)
    }

    @Test func ensureDirectoryRefusesAFile() throws {
        let dir = try TemporaryDirectory()
        try AtomicFile.write(Array("x".utf8), to: dir.path + "/file", mode: 0o600)
        #expect(throws: CertStoreError.self) { try AtomicFile.ensureDirectory(dir.path + "/file", mode: 0o700) }
    }

    @Test func resolvesUsersAndGroupsByNameOrNumber() throws {
        #expect(try SystemIdentity.uid(forUser: "root") == 0)
        #expect(try SystemIdentity.uid(forUser: "1234") == 1234)
        #expect(try SystemIdentity.gid(forGroup: "root") == 0)
        #expect(try SystemIdentity.gid(forGroup: "77") == 77)
        #expect(throws: CertStoreError.unknownUser("no-such-user-xyz")) {
            try SystemIdentity.uid(forUser: "no-such-user-xyz")
        }
        #expect(throws: CertStoreError.unknownGroup("no-such-group-xyz")) {
            try SystemIdentity.gid(forGroup: "no-such-group-xyz")
        }
    }
}
