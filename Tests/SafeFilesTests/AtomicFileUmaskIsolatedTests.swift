import Foundation
import TestSupport
import Testing

@testable import SafeFiles

/// Modes are exact whatever the umask; these tests set the process umask: isolated.
@Suite(.serialized, .enabled(if: IsolatedTests.enabled, Comment(rawValue: IsolatedTests.reason)))
struct AtomicFileUmaskIsolatedTests {
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
}
