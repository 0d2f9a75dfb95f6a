import Foundation
import Installer
import Logging
import Testing

/// `CERTKEEPER_ERROR` carries text a CA wrote: bounded and single-line, so exec never fails with E2BIG.
struct FailureHookErrorTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }

    @Test func aHugeErrorWithControlCharactersReachesTheHookBoundedAndClean() async throws {
        let hook = try dir.script("fail.sh", #"printf '%s' "$CERTKEEPER_ERROR" > "$1""#)
        let seen = dir.path + "/seen-error"
        let error = "malformed: \u{1B}[31mboom\u{1B}[0m\nsecond line " + String(repeating: "x", count: 200 * 1024)
        let outcomes = await HookRunner().runFailureHooks(
            [[hook, seen]], certificate: "www", domains: ["www.example.org"], error: error, timeout: .seconds(20),
            logger: LogRecorder().logger)
        let outcome = try #require(outcomes.first)
        #expect(outcome.launchError == nil, "\(outcome.launchError ?? "")")
        #expect(outcome.succeeded)
        let received = try #require(FileManager.default.contents(atPath: seen))
        #expect(received.count > 0 && received.count <= 4096, "\(received.count) bytes")
        #expect(!received.contains { $0 < 0x20 || $0 == 0x7F }, "control characters reached the hook")
        #expect(String(decoding: received, as: UTF8.self).hasPrefix("malformed:  [31mboom [0m second line xxx"))
    }
}
