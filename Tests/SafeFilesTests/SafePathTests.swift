import Foundation
import Testing

@testable import SafeFiles

/// A site owner (another user) controls a directory certkeeper, running as root, writes into or reads from: no
/// symbolic link or special file they plant redirects or blocks certkeeper.
@Suite(.enabled(if: geteuid() == 0, "needs root to play a site owner with another uid"))
struct HostileDirectoryTests {
    @Test func aLinkPlantedInAnotherUsersDirectoryIsNotFollowedToCreateDirectories() throws {
        let dir = try TemporaryDirectory()
        let webroot = dir.makeDirectory("webroot", owner: siteOwner)
        let elsewhere = dir.makeDirectory("root-owned")
        symlink(elsewhere, webroot + "/.well-known")
        let error = #expect(throws: FileSystemError.self) {
            try SafePath.openDirectory(webroot + "/.well-known/acme-challenge", create: DirectoryCreation(mode: 0o755))
        }
        #expect(error == .symlinkRefused(path: webroot + "/.well-known", directory: webroot))
        #expect(dir.entries("root-owned") == [])
        #expect("\(error!)".contains("\(webroot)/.well-known is a symbolic link"))
    }

    @Test func aLinkInARootOwnedDirectoryIsFollowed() throws {
        let dir = try TemporaryDirectory()
        let real = dir.makeDirectory("real")
        symlink(real, dir.path + "/alias")
        let handle = try SafePath.openDirectory(dir.path + "/alias/sub", create: DirectoryCreation(mode: 0o750))
        #expect(try handle.status().st_ino == dir.status("real/sub").st_ino)
        #expect(dir.mode("real/sub") == 0o750)
    }

    @Test func aGroupWritableDirectoryIsNotTrusted() throws {
        let dir = try TemporaryDirectory()
        let shared = dir.makeDirectory("shared", mode: 0o775)
        chown(shared, 0, siteOwner)
        dir.makeDirectory("target")
        symlink(dir.path + "/target", shared + "/link")
        #expect(throws: FileSystemError.symlinkRefused(path: shared + "/link", directory: shared)) {
            try SafePath.openDirectory(shared + "/link")
        }
    }

    @Test func writingOverAPlantedLinkIsRefusedAndTheCanaryKeepsContentOwnerAndMode() throws {
        let dir = try TemporaryDirectory()
        let install = dir.makeDirectory("install", owner: siteOwner)
        dir.write("canary", "canary", mode: 0o600)
        symlink(dir.path + "/canary", install + "/privkey.pem")
        #expect(throws: FileSystemError.symlinkRefused(path: install + "/privkey.pem", directory: install)) {
            try AtomicFile.write(Array("KEY".utf8), to: install + "/privkey.pem", mode: 0o640, owner: 0, group: 33)
        }
        #expect(dir.contents("canary") == "canary")
        #expect(dir.status("canary").st_uid == 0)
        #expect(dir.status("canary").st_gid == 0)
        #expect(dir.mode("canary") == 0o600)
        #expect(dir.entries("install") == ["privkey.pem"])
    }

    @Test func aLinkInOurOwnDirectoryIsReplacedNotWrittenThrough() throws {
        let dir = try TemporaryDirectory()
        let install = dir.makeDirectory("install")
        dir.write("canary", "canary", mode: 0o600)
        symlink(dir.path + "/canary", install + "/fullchain.pem")
        try AtomicFile.write(Array("CHAIN".utf8), to: install + "/fullchain.pem", mode: 0o644)
        #expect(dir.contents("canary") == "canary")
        #expect(dir.mode("canary") == 0o600)
        #expect(dir.status("install/fullchain.pem").st_mode & S_IFMT == S_IFREG)
        #expect(dir.contents("install/fullchain.pem") == "CHAIN")
    }

    @Test func aFIFOIsNeitherReadNorReplaced() throws {
        let dir = try TemporaryDirectory()
        let install = dir.makeDirectory("install", owner: siteOwner)
        mkfifo(install + "/privkey.pem", 0o666)
        // O_NONBLOCK: without it this read would block forever (no writer).
        #expect(throws: FileSystemError.notRegularFile(path: install + "/privkey.pem", kind: "FIFO")) {
            try SafePath.readFile(install + "/privkey.pem", maxSize: 1 << 20)
        }
        #expect(throws: FileSystemError.notRegularFile(path: install + "/privkey.pem", kind: "FIFO")) {
            try AtomicFile.write(Array("KEY".utf8), to: install + "/privkey.pem", mode: 0o600)
        }
        #expect(dir.entries("install") == ["privkey.pem"])
    }

    /// Reading a certificate and its key walks to their directory once, with the rules of single reads: a link is
    /// followed only where trusted, a missing file or directory reads as nil.
    @Test func readingSeveralFilesKeepsTheRulesOfOneRead() throws {
        let dir = try TemporaryDirectory()
        dir.makeDirectory("archive")
        dir.write("archive/privkey1.pem", "KEY1")
        let live = dir.makeDirectory("live")
        dir.write("live/fullchain.pem", "CHAIN")
        symlink("../archive/privkey1.pem", live + "/privkey.pem")
        #expect(
            try SafePath.readFiles(
                [live + "/fullchain.pem", live + "/privkey.pem", live + "/missing.pem", dir.path + "/nowhere/x"],
                maxSize: 1 << 20) == [Array("CHAIN".utf8), Array("KEY1".utf8), nil, nil])
        dir.write("secret", "another key on the host")
        let hostile = dir.makeDirectory("hostile", owner: siteOwner)
        dir.write("hostile/fullchain.pem", "CHAIN")
        symlink(dir.path + "/secret", hostile + "/privkey.pem")
        #expect(throws: FileSystemError.symlinkRefused(path: hostile + "/privkey.pem", directory: hostile)) {
            try SafePath.readFiles([hostile + "/fullchain.pem", hostile + "/privkey.pem"], maxSize: 1 << 20)
        }
    }

    /// A directory held open serves while its path names it, and is walked again (with the same rules) once the path
    /// names something else: a write never lands in a directory that was moved away.
    @Test func aHeldDirectoryIsReopenedWhenItsPathNamesAnotherDirectory() throws {
        let dir = try TemporaryDirectory()
        let certs = CachedDirectory(dir.path + "/state/certs", create: DirectoryCreation(mode: 0o700))
        let first = try certs.open()
        #expect(dir.mode("state/certs") == 0o700)
        #expect(try certs.open() === first, "same directory, same handle")
        try first.write(Array("one".utf8), as: "a", mode: 0o600)
        #expect(rename(dir.path + "/state/certs", dir.path + "/state/moved") == 0)
        let second = try certs.open()
        #expect(second !== first)
        #expect(dir.mode("state/certs") == 0o700, "created again, with its mode")
        try second.write(Array("two".utf8), as: "a", mode: 0o600)
        #expect(dir.contents("state/certs/a") == "two")
        #expect(dir.contents("state/moved/a") == "one")
        // Replaced by a link in a directory someone else can write to: refused, not followed.
        let elsewhere = dir.makeDirectory("elsewhere")
        let shared = dir.makeDirectory("shared", owner: siteOwner)
        symlink(elsewhere, shared + "/certs")
        let planted = CachedDirectory(shared + "/certs")
        #expect(throws: FileSystemError.symlinkRefused(path: shared + "/certs", directory: shared)) {
            try planted.open()
        }
        // Missing and not to be created: nil for a subdirectory, nothing created.
        let absent = CachedDirectory(dir.path + "/absent")
        #expect(try absent.subdirectory("www") == nil)
        #expect(dir.entries("").contains("absent") == false)
    }

    @Test func readingFollowsLinksOnlyWhereTrusted() throws {
        let dir = try TemporaryDirectory()
        dir.write("secret", "another key on the host")
        let hostile = dir.makeDirectory("hostile", owner: siteOwner)
        symlink(dir.path + "/secret", hostile + "/privkey.pem")
        #expect(throws: FileSystemError.symlinkRefused(path: hostile + "/privkey.pem", directory: hostile)) {
            try SafePath.readFile(hostile + "/privkey.pem", maxSize: 1 << 20)
        }
        // certbot's live/ layout: relative links in root-owned directories.
        dir.makeDirectory("archive")
        dir.write("archive/privkey1.pem", "KEY1")
        let live = dir.makeDirectory("live")
        symlink("../archive/privkey1.pem", live + "/privkey.pem")
        #expect(try SafePath.readFile(live + "/privkey.pem", maxSize: 1 << 20) == Array("KEY1".utf8))
        #expect(try SafePath.readFile(live + "/missing.pem", maxSize: 1 << 20) == nil)
        #expect(try SafePath.readFile(dir.path + "/no-such-dir/x", maxSize: 1 << 20) == nil)
    }

    @Test func readsAreCappedInSize() throws {
        let dir = try TemporaryDirectory()
        dir.write("big", String(repeating: "x", count: 4096))
        #expect(throws: FileSystemError.tooLarge(path: dir.path + "/big", limit: 1024)) {
            try SafePath.readFile(dir.path + "/big", maxSize: 1024)
        }
    }

    @Test func aLinkLoopEnds() throws {
        let dir = try TemporaryDirectory()
        symlink(dir.path + "/b", dir.path + "/a")
        symlink(dir.path + "/a", dir.path + "/b")
        #expect(throws: FileSystemError.self) { try SafePath.openDirectory(dir.path + "/a") }
        #expect(throws: FileSystemError.tooManySymlinks(path: dir.path + "/a")) {
            try SafePath.readFile(dir.path + "/a", maxSize: 10)
        }
    }

    @Test func createdDirectoriesCanTakeTheParentsOwner() throws {
        let dir = try TemporaryDirectory()
        let webroot = dir.makeDirectory("webroot", owner: siteOwner)
        _ = try SafePath.openDirectory(
            webroot + "/.well-known/acme-challenge",
            create: DirectoryCreation(mode: 0o755, ownership: .inheritFromParent))
        #expect(dir.status("webroot/.well-known").st_uid == siteOwner)
        #expect(dir.status("webroot/.well-known/acme-challenge").st_uid == siteOwner)
        #expect(dir.mode("webroot/.well-known/acme-challenge") == 0o755)
    }

    @Test func aFileInPlaceOfADirectoryIsNamed() throws {
        let dir = try TemporaryDirectory()
        dir.write("file", "x")
        #expect(throws: FileSystemError.notDirectory(path: dir.path + "/file")) {
            try SafePath.openDirectory(dir.path + "/file/sub", create: DirectoryCreation(mode: 0o755))
        }
    }
}

struct SafePathSplitTests {
    @Test func splitsPaths() {
        #expect(SafePath.split("/a/b") == ("/a", "b"))
        #expect(SafePath.split("/b") == ("/", "b"))
        #expect(SafePath.split("b") == (".", "b"))
        #expect(SafePath.split("/a/b/") == ("/a", "b"))
    }
}
