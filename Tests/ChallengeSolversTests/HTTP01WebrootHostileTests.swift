import Foundation
import SafeFiles
import Testing

@testable import ChallengeSolvers

/// A webroot that belongs to a site owner (another user) while certkeeper runs as root: whatever the owner plants
/// there, certkeeper writes nothing outside it and names the path it refused.
@Suite(.enabled(if: geteuid() == 0, "needs root to play a site owner with another uid"))
struct HTTP01WebrootHostileTests {
    static let siteOwner: uid_t = 65534

    /// `<tmp>/webroot` owned by the site owner, and `<tmp>/elsewhere`, a root-owned directory with a canary file.
    final class Host: @unchecked Sendable {
        let base: String
        var webroot: String { base + "/webroot" }
        var elsewhere: String { base + "/elsewhere" }

        init() throws {
            var template = Array("/tmp/certkeeper-hostile-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
            base = String(cString: made)
            chmod(base, 0o755)
            mkdir(webroot, 0o755)
            chown(webroot, siteOwner, siteOwner)
            mkdir(elsewhere, 0o700)
            _ = FileManager.default.createFile(atPath: elsewhere + "/canary", contents: Data("canary".utf8))
            chmod(elsewhere + "/canary", 0o600)
        }

        deinit { try? FileManager.default.removeItem(atPath: base) }

        /// The canary keeps its content, owner and mode, and nothing new appeared beside it.
        func expectElsewhereUntouched(sourceLocation: SourceLocation = #_sourceLocation) {
            var info = stat()
            lstat(elsewhere + "/canary", &info)
            #expect(info.st_mode & 0o7777 == 0o600, sourceLocation: sourceLocation)
            #expect(info.st_uid == 0, sourceLocation: sourceLocation)
            #expect(
                FileManager.default.contents(atPath: elsewhere + "/canary") == Data("canary".utf8),
                sourceLocation: sourceLocation)
            #expect(
                (try? FileManager.default.contentsOfDirectory(atPath: elsewhere)) == ["canary"],
                sourceLocation: sourceLocation)
        }
    }

    static func task(_ token: String) -> ChallengeTask {
        ChallengeTask(
            domain: "site.test", wildcard: false, type: "http-01", token: token, keyAuthorization: token + ".t")
    }

    @Test func wellKnownSwappedForALinkIsRefused() async throws {
        let host = try Host()
        symlink(host.elsewhere, host.webroot + "/.well-known")
        let solver = WebrootHTTP01Solver(webroot: host.webroot)
        let error = try await #require(throws: WebrootHTTP01Error.self) { try await solver.present(Self.task("tok")) }
        #expect(error.failure == .symlinkRefused(path: host.webroot + "/.well-known", directory: host.webroot))
        #expect(error.description.contains("site.test"))
        host.expectElsewhereUntouched()
    }

    @Test func acmeChallengeSwappedForALinkIsRefused() async throws {
        let host = try Host()
        mkdir(host.webroot + "/.well-known", 0o755)
        chown(host.webroot + "/.well-known", Self.siteOwner, Self.siteOwner)
        symlink(host.elsewhere, host.webroot + "/.well-known/acme-challenge")
        let solver = WebrootHTTP01Solver(webroot: host.webroot)
        await #expect(throws: WebrootHTTP01Error.self) { try await solver.present(Self.task("tok")) }
        await #expect(throws: WebrootHTTP01Error.self) { try await solver.cleanUp(Self.task("canary")) }
        host.expectElsewhereUntouched()
    }

    @Test func aTokenFileSwappedForALinkOrFIFOIsRefused() async throws {
        let host = try Host()
        let solver = WebrootHTTP01Solver(webroot: host.webroot)
        try await solver.present(Self.task("first"))
        let directory = host.webroot + "/.well-known/acme-challenge"
        // Created directories belong to the site owner, like the rest of their webroot.
        var info = stat()
        stat(directory, &info)
        #expect(info.st_uid == Self.siteOwner)
        #expect(info.st_mode & 0o7777 == 0o755)

        symlink(host.elsewhere + "/canary", directory + "/linked")
        let linked = try await #require(throws: WebrootHTTP01Error.self) {
            try await solver.present(Self.task("linked"))
        }
        #expect(linked.failure == .symlinkRefused(path: directory + "/linked", directory: directory))
        mkfifo(directory + "/fifo", 0o666)
        let fifo = try await #require(throws: WebrootHTTP01Error.self) { try await solver.present(Self.task("fifo")) }
        #expect(fifo.failure == .notRegularFile(path: directory + "/fifo", kind: "FIFO"))
        host.expectElsewhereUntouched()
    }

    @Test func aLinkTheAdministratorMadeInARootOwnedWebrootIsFollowed() async throws {
        let host = try Host()
        // A shared ACME directory for several vhosts, linked from a root-owned webroot.
        let rootOwned = host.base + "/vhost"
        mkdir(rootOwned, 0o755)
        mkdir(host.base + "/shared", 0o755)
        symlink(host.base + "/shared", rootOwned + "/.well-known")
        try await WebrootHTTP01Solver(webroot: rootOwned).present(Self.task("tok"))
        #expect(FileManager.default.contents(atPath: host.base + "/shared/acme-challenge/tok") == Data("tok.t".utf8))
    }
}
