import Foundation
import Testing

@testable import SafeFiles

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
        #expect(throws: FileSystemError.self) {
            try AtomicFile.write(Array("x".utf8), to: dir.path + "/missing-dir/file", mode: 0o600)
        }
        #expect(dir.entries("") == [])
    }

    @Test(.enabled(if: geteuid() == 0, "chown to another user needs root"))
    func ownerAndGroupAreApplied() throws {
        // Another user and group than the process's: a new file would never get them by accident.
        let dir = try TemporaryDirectory()
        try AtomicFile.write(Array("k".utf8), to: dir.path + "/key", mode: 0o640, owner: 65534, group: 65533)
        var info = stat()
        stat(dir.path + "/key", &info)
        #expect(info.st_uid == 65534)
        #expect(info.st_gid == 65533)
        #expect(info.st_mode & 0o777 == 0o640)
    }

    @Test func ensureDirectoryRefusesAFile() throws {
        let dir = try TemporaryDirectory()
        try AtomicFile.write(Array("x".utf8), to: dir.path + "/file", mode: 0o600)
        #expect(throws: FileSystemError.self) { try AtomicFile.ensureDirectory(dir.path + "/file", mode: 0o700) }
    }

    @Test func resolvesUsersAndGroupsByNameOrNumber() throws {
        #expect(try SystemIdentity.uid(forUser: "root") == 0)
        #expect(try SystemIdentity.uid(forUser: "1234") == 1234)
        #expect(try SystemIdentity.gid(forGroup: "root") == 0)
        #expect(try SystemIdentity.gid(forGroup: "77") == 77)
        #expect(throws: FileSystemError.unknownUser("no-such-user-xyz")) {
            try SystemIdentity.uid(forUser: "no-such-user-xyz")
        }
        #expect(throws: FileSystemError.unknownGroup("no-such-group-xyz")) {
            try SystemIdentity.gid(forGroup: "no-such-group-xyz")
        }
    }
}
