import Foundation
import SafeFiles
import Testing

@testable import ChallengeSolvers

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite("http-01 webroot solver and token validation")
struct HTTP01WebrootTests {
    static func makeTemporaryDirectory() throws -> String {
        var base = NSTemporaryDirectory()
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        var template = Array((base + "/certkeeper-webroot-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(cString: try #require(made))
    }

    static func mode(of path: String) throws -> mode_t {
        var info = stat()
        try #require(stat(path, &info) == 0)
        return info.st_mode & 0o7777
    }

    static func task(token: String, keyAuthorization: String? = nil) -> ChallengeTask {
        ChallengeTask(
            domain: "www.example.test",
            wildcard: false,
            type: "http-01",
            token: token,
            keyAuthorization: keyAuthorization ?? token + ".thumbprint_0123"
        )
    }

    @Test("tokens of 1...256 base64url characters are accepted")
    func acceptsBase64URLTokens() throws {
        #expect(try ChallengeToken("a", domain: "d").value == "a")
        #expect(try ChallengeToken("AZaz09-_", domain: "d").value == "AZaz09-_")
        #expect(try ChallengeToken(String(repeating: "x", count: 256), domain: "d").value.count == 256)
    }

    @Test(
        "tokens that could escape the challenge directory or are malformed are rejected",
        arguments: [
            "", "../../etc/passwd", "a/b", "a.b", "abc=", "a b", "tok\n", "é", String(repeating: "x", count: 257),
        ]
    )
    func rejectsBadTokens(_ token: String) throws {
        let error = try #require(throws: InvalidChallengeTokenError.self) {
            try ChallengeToken(token, domain: "bad.example.test")
        }
        #expect(error.domain == "bad.example.test")
        #expect(error.description.contains("bad.example.test"))
        #expect(!error.description.contains("\n"))
    }

    @Test("present replaces an existing token file atomically")
    func presentOverwrites() async throws {
        let root = try Self.makeTemporaryDirectory()
        defer { _ = try? FileManager.default.removeItem(atPath: root) }
        let solver = WebrootHTTP01Solver(webroot: root)
        try await solver.present(Self.task(token: "t1", keyAuthorization: "old"))
        try await solver.present(Self.task(token: "t1", keyAuthorization: "new"))
        let contents = try String(contentsOfFile: root + "/.well-known/acme-challenge/t1", encoding: .utf8)
        #expect(contents == "new")
    }

    @Test("a bad token is rejected before anything is written")
    func presentRejectsBadToken() async throws {
        let root = try Self.makeTemporaryDirectory()
        defer { _ = try? FileManager.default.removeItem(atPath: root) }
        let solver = WebrootHTTP01Solver(webroot: root)
        await #expect(throws: InvalidChallengeTokenError.self) {
            try await solver.present(Self.task(token: "../escape"))
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/.well-known"))
    }

    @Test("a webroot below a regular file fails with an error naming the path")
    func presentReportsPath() async throws {
        let root = try Self.makeTemporaryDirectory()
        defer { _ = try? FileManager.default.removeItem(atPath: root) }
        try Data().write(to: URL(fileURLWithPath: root + "/file"))
        let solver = WebrootHTTP01Solver(webroot: root + "/file/www")
        let error = try await #require(throws: WebrootHTTP01Error.self) {
            try await solver.present(Self.task(token: "abc"))
        }
        #expect(error.description.contains(root + "/file"))
        #expect(error.description.contains("www.example.test"))
    }

    @Test("permission errors mention ReadWritePaths")
    func permissionHint() {
        let error = WebrootHTTP01Error(
            domain: "a.test", failure: .io(operation: "create", path: "/var/www/x", errno: EACCES))
        #expect(error.description.contains("/var/www/x"))
        #expect(error.description.contains("ReadWritePaths"))
    }
}
