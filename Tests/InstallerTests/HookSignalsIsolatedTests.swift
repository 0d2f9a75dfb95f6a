import Foundation
import Installer
import Logging
import TestSupport
import Testing

/// Hooks start with default signal dispositions and an empty mask; the test ignores SIGPIPE and blocks signals on
/// its thread first, as the daemon does: isolated.
@Suite(.serialized, .enabled(if: IsolatedTests.enabled, Comment(rawValue: IsolatedTests.reason)))
struct HookSignalsIsolatedTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }

    @Test func hookStartsWithNoBlockedOrIgnoredSignals() async throws {
        // The daemon ignores SIGPIPE and blocks SIGTERM/SIGHUP on its threads; none of that may reach a hook.
        signal(SIGPIPE, SIG_IGN)
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        sigaddset(&blocked, SIGHUP)
        pthread_sigmask(SIG_BLOCK, &blocked, nil)
        defer { pthread_sigmask(SIG_UNBLOCK, &blocked, nil) }
        let hook = try dir.script("signals.sh", "exec grep -E '^(SigBlk|SigIgn):' /proc/self/status")
        let outcomes = await HookRunner().runDeployHooks(
            [[hook]], certificate: "www", domains: ["www.example.org"], paths: HookRunnerTests.paths,
            timeout: .seconds(20),
            logger: LogRecorder().logger)
        let stdout = try #require(outcomes.first?.result?.stdout)
        var masks: [String: UInt64] = [:]
        for line in stdout.split(separator: "\n") {
            let parts = line.split(separator: ":")
            masks[String(parts[0])] = UInt64(parts[1].trimmingCharacters(in: .whitespaces), radix: 16)
        }
        #expect(masks["SigBlk"] == 0)
        // Signals 1-31 (glibc keeps its reserved real-time signals 32 and 33 to itself).
        let ignored = try #require(masks["SigIgn"])
        #expect(ignored & 0x7fff_ffff == 0)
    }
}
