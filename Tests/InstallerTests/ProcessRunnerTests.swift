import Foundation
import Subprocess
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("ProcessRunner")
struct ProcessRunnerTests {
    static func count(_ directory: String) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: directory).count
    }

    /// Pipes among this process's descriptors (what a runner leaks); sockets other suites open are not counted.
    static func openPipes() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count { entry in
            let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + entry)
            return target?.hasPrefix("pipe:") == true
        }
    }

    @Test("a hook that leaves a background child holding its output returns promptly and leaks no fd or thread")
    func backgroundChildHoldingThePipes() async throws {
        let runner = ProcessRunner(outputGrace: .milliseconds(200))
        // `$$` is the shell's PID, which is also its process group: the background sleep is in it.
        let hook = ["/bin/sh", "-c", "sleep 300 & echo $$"]
        var groups: [pid_t] = []
        defer { for group in groups { kill(-group, SIGKILL) } }
        func runOnce() async throws -> Duration {
            let clock = ContinuousClock()
            let start = clock.now
            let result = try await runner.run(hook, timeout: .seconds(30))
            let elapsed = clock.now - start
            #expect(result.succeeded)
            let group = try #require(pid_t(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            groups.append(group)
            return elapsed
        }
        // A first run lets the runtime and dispatch make their lazily created descriptors and threads.
        _ = try await runOnce()
        let pipes = try Self.openPipes()
        let threads = try Self.count("/proc/self/task")
        for run in 1...20 {
            let elapsed = try await runOnce()
            // Far below the 300 s the child holds the pipes: it proves no wait for the child, not a speed.
            #expect(elapsed < .seconds(30), "run \(run) took \(elapsed) while a background child held its pipes")
        }
        // A small allowance for other suites running alongside; a leak is two pipe descriptors (and a thread) per run.
        let leakedPipes = try Self.openPipes() - pipes
        let extraThreads = try Self.count("/proc/self/task") - threads
        #expect(leakedPipes <= 4, "\(leakedPipes) pipe descriptors more after 20 runs")
        #expect(extraThreads <= 8, "\(extraThreads) threads more after 20 runs")
    }
}
