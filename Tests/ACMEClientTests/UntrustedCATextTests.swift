import ACMEClient
import ACMECrypto
import ACMEModels
import Foundation
import Testing

/// Text a CA writes (problem details, error bodies) is bounded and free of control characters before it can
/// reach a log line, `status` or a hook's environment.
@Suite struct UntrustedCATextTests {
    /// 200 KiB of detail with ANSI escapes, newlines, NUL and a multi-byte character at the cut.
    static let hostileDetail =
        "line one\nline two\u{1B}[31mred\u{1B}[0m\r\u{7}\u{0}tab\t" + String(repeating: "é", count: 100 * 1024)

    static func isClean(_ text: String) -> Bool {
        !text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) }
    }

    @Test func aDecodedProblemDetailIsTruncatedAndStripped() throws {
        let body = try JSONSerialization.data(withJSONObject: [
            "type": "urn:ietf:params:acme:error:malformed", "detail": Self.hostileDetail,
            "subproblems": [
                [
                    "type": "urn:ietf:params:acme:error:caa", "detail": Self.hostileDetail,
                    "identifier": ["type": "dns", "value": "a.test\n\u{1B}[2J"],
                ]
            ],
        ])
        let problem = try ACMEJSON.decode(ACMEProblem.self, from: Array(body))
        let detail = try #require(problem.detail)
        #expect(detail.utf8.count <= 2048, "\(detail.utf8.count)")
        #expect(detail.hasPrefix("line one line two"), "\(detail.prefix(40))")
        #expect(Self.isClean(detail))
        let sub = try #require(problem.subproblems?.first)
        #expect((sub.detail?.utf8.count ?? 0) <= 2048)
        #expect(Self.isClean(sub.detail ?? ""))
        #expect(Self.isClean(problem.description))
        #expect(problem.description.utf8.count < 8 * 1024, "\(problem.description.utf8.count)")
    }

    @Test func aNonJSONErrorBodyIsStripped() async throws {
        let transport = ScriptedTransport { request, _ in
            HTTPResponseData(
                status: 502, headers: [("Content-Type", "text/html")],
                body: Array("<html>\u{1B}]0;pwned\u{7}\nbad gateway</html>".utf8))
        }
        let client = ACMEClient(
            directoryURL: "\(ScriptedTransport.base)/dir", transport: transport, sleeper: SleepRecorder().sleeper)
        do {
            _ = try await client.newAccount(key: try .generate(.ecdsaP256), contact: [])
            Issue.record("a 502 must fail")
        } catch {
            let text = "\(error)"
            #expect(Self.isClean(text), "\(text.debugDescription)")
            #expect(text.contains("bad gateway"), "\(text)")
        }
    }
}
