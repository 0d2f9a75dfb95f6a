import ChallengeSolvers
import Foundation
import Testing

/// The exec hook only ever sees a valid DNS name: anything else is refused before the program is spawned.
@Suite struct DNS01ExecNameTests {
    static let hook = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/dns01-exec-hook.sh").path

    @Test func anInvalidDomainIsRefusedBeforeTheCommandRuns() async throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("dns01-name-\(UUID().uuidString).log")
            .path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let solver = ExecDNSSolver(
            command: [Self.hook], propagationTimeout: .zero, environment: ["HOOK_ARGV_LOG": log])
        for domain in [
            "$(touch${IFS}/tmp/x).example", "a;b.example", "-rf.example", "a_b.example", "*.*.example", "..example",
        ] {
            let task = ChallengeTask(
                domain: domain, wildcard: false, type: "dns-01", token: "tok", keyAuthorization: "tok.thumb")
            await #expect(throws: (any Error).self, "\(domain)") { try await solver.present(task) }
            await #expect(throws: (any Error).self, "\(domain)") { try await solver.cleanUp(task) }
        }
        #expect(!FileManager.default.fileExists(atPath: log), "the hook ran")
        // A valid name still runs the hook.
        try await solver.present(
            ChallengeTask(
                domain: "www.example.test", wildcard: false, type: "dns-01", token: "t", keyAuthorization: "t.k"))
        #expect(FileManager.default.fileExists(atPath: log))
    }
}
