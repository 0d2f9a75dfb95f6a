import Foundation
import SafeFiles
import TestSupport
import Testing

@testable import ChallengeSolvers

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The webroot solver's modes whatever the umask; the test sets the process umask: isolated.
@Suite(.serialized, .enabled(if: IsolatedTests.enabled, Comment(rawValue: IsolatedTests.reason)))
struct WebrootUmaskIsolatedTests {
    @Test("present writes exactly the key authorization with mode 0644 even under umask 077; cleanUp removes it")
    func presentAndCleanUp() async throws {
        let root = try HTTP01WebrootTests.makeTemporaryDirectory()
        defer { _ = try? FileManager.default.removeItem(atPath: root) }
        let webroot = root + "/www/html"
        let solver = WebrootHTTP01Solver(webroot: webroot)
        let task = HTTP01WebrootTests.task(token: "tok_EN-123")

        let previous = umask(0o077)
        var presentError: (any Error)?
        do { try await solver.present(task) } catch { presentError = error }
        umask(previous)
        #expect(presentError == nil)

        let path = webroot + "/.well-known/acme-challenge/tok_EN-123"
        let contents = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(contents == Data("tok_EN-123.thumbprint_0123".utf8))
        #expect(try HTTP01WebrootTests.mode(of: path) == 0o644)
        #expect(try HTTP01WebrootTests.mode(of: webroot + "/.well-known/acme-challenge") == 0o755)
        #expect(try HTTP01WebrootTests.mode(of: webroot + "/.well-known") == 0o755)
        #expect(try HTTP01WebrootTests.mode(of: webroot) == 0o755)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: webroot + "/.well-known/acme-challenge")
        #expect(leftovers == ["tok_EN-123"])

        // An unrelated file in the same directory survives cleanUp.
        let other = webroot + "/.well-known/acme-challenge/other"
        try Data("keep".utf8).write(to: URL(fileURLWithPath: other))

        try await solver.cleanUp(task)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(FileManager.default.fileExists(atPath: other))
        // A second cleanUp (file already gone) is not an error.
        try await solver.cleanUp(task)
    }
}
