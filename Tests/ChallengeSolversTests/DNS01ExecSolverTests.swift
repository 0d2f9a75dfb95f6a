import ChallengeSolvers
import Crypto
import Foundation
import Testing

@Suite struct DNS01ExecSolverTests {
    static let hook = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/dns01-exec-hook.sh").path

    let log = FileManager.default.temporaryDirectory.appendingPathComponent("dns01-hook-\(UUID().uuidString).log").path

    func task(_ domain: String, wildcard: Bool = false, keyAuthorization: String = "tok.thumb") -> ChallengeTask {
        ChallengeTask(
            domain: domain, wildcard: wildcard, type: "dns-01", token: "tok", keyAuthorization: keyAuthorization)
    }

    /// Independent of the solver: base64url without padding of SHA-256.
    func expectedValue(_ keyAuthorization: String) -> String {
        Data(SHA256.hash(data: Array(keyAuthorization.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    func recordedCalls() throws -> [[String]] {
        let text = try String(contentsOfFile: log, encoding: .utf8)
        return text.split(separator: "--\n", omittingEmptySubsequences: true).map {
            $0.split(separator: "\n").map(String.init)
        }
    }

    @Test func presentAndCleanupPassActionFQDNWithTrailingDotAndValue() async throws {
        defer { try? FileManager.default.removeItem(atPath: log) }
        let solver = ExecDNSSolver(
            command: [Self.hook, "--extra-arg"],
            propagationTimeout: .zero,
            environment: ["HOOK_ARGV_LOG": log]
        )
        let value = expectedValue("tok.thumb")
        #expect(value.count == 43)
        try await solver.present(task("www.example.test"))
        try await solver.waitUntilVisible(task("www.example.test"))
        try await solver.cleanUp(task("www.example.test"))
        #expect(
            try recordedCalls() == [
                ["--extra-arg", "present", "_acme-challenge.www.example.test.", value],
                ["--extra-arg", "cleanup", "_acme-challenge.www.example.test.", value],
            ]
        )
    }

    @Test func wildcardUsesTheBaseName() async throws {
        defer { try? FileManager.default.removeItem(atPath: log) }
        let solver = ExecDNSSolver(command: [Self.hook], propagationTimeout: .zero, environment: ["HOOK_ARGV_LOG": log])
        try await solver.present(task("example.test", wildcard: true, keyAuthorization: "w.thumb"))
        #expect(try recordedCalls() == [["present", "_acme-challenge.example.test.", expectedValue("w.thumb")]])
    }

    @Test func nonZeroExitCarriesStatusAndStderr() async throws {
        defer { try? FileManager.default.removeItem(atPath: log) }
        let solver = ExecDNSSolver(
            command: [Self.hook],
            propagationTimeout: .zero,
            environment: ["HOOK_ARGV_LOG": log, "HOOK_FAIL_ACTION": "cleanup"]
        )
        try await solver.present(task("example.test"))
        let error = try await #require(throws: ExecDNSSolverError.self) {
            try await solver.cleanUp(task("example.test"))
        }
        #expect(error.status == 3)
        #expect(error.action == "cleanup")
        #expect(error.stderr.contains("zone API said no to _acme-challenge.example.test."))
        #expect(error.description.contains("exited with status 3"))
        #expect(error.description.contains("example.test"))
    }

    @Test func missingCommandFailsWithTheDomain() async throws {
        let solver = ExecDNSSolver(command: ["/nonexistent/dns-hook"], propagationTimeout: .zero)
        let error = await #expect(throws: DNS01SolverError.self) { try await solver.present(task("example.test")) }
        #expect(error?.domain == "example.test")
        #expect(error?.solver == "exec")
        #expect(error?.description.contains("/nonexistent/dns-hook") == true, "\(String(describing: error))")
    }

    @Test func recordNameAndValueHelpers() throws {
        #expect(try DNS01Record.name(for: "*.Example.test").description == "_acme-challenge.Example.test.")
        #expect(DNS01Record.value(keyAuthorization: "a.b") == expectedValue("a.b"))
    }
}
