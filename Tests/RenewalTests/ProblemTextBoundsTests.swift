import ACMEClient
import ACMECrypto
import CertStore
import CertkeeperConfig
import Foundation
import Renewal
import Testing

/// What a CA writes in a problem reaches the state file, the log and hooks bounded and on one line.
@Suite struct ProblemTextBoundsTests {
    @Test func aHugeProblemDetailIsStoredBoundedAndOnOneLine() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        let detail = "boom\\u001b[2J\\nnext " + String(repeating: "y", count: 300 * 1024)
        h.server.scriptNewOrder { _ in
            HTTPResponseData(
                status: 400, headers: [("Content-Type", "application/problem+json")],
                body: Array(#"{"type":"urn:ietf:params:acme:error:malformed","detail":"\#(detail)"}"#.utf8))
        }
        _ = await h.maintainer.process(spec, force: false)
        let lastError = try #require(await h.state(spec)?.backoff?.lastError)
        #expect(lastError.utf8.count <= 4096, "\(lastError.utf8.count)")
        #expect(lastError.contains("boom [2J next yyy"), "\(lastError.prefix(80))")
        #expect(!lastError.unicodeScalars.contains { $0.value < 0x20 })
        #expect(h.logs.messages.allSatisfy { $0.utf8.count < 8192 })
    }
}
