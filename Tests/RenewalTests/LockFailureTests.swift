import CertStore
import CertkeeperConfig
import Foundation
import Renewal
import Testing

/// A ``LockManager`` whose every lock fails with `error`, as a state directory the daemon cannot write would.
struct FailingLockManager: LockManager {
    var error: CertStoreError

    func withLock<T: Sendable>(_ name: String, _ body: @Sendable () async throws -> T) async throws -> T {
        throw self.error
    }
}

/// A lock error other than "held by another process" is a failure: recorded, backed off, `on_failure` run.
struct LockFailureTests {
    /// The harness's spec with an `on_failure` hook that writes `CERTKEEPER_ERROR` to `marker`.
    static func spec(_ h: MaintainerHarness, marker: String) -> CertificateSpec {
        var spec = h.spec()
        spec.hooks = HooksSpec(onFailure: [["/bin/sh", "-c", "printf '%s' \"$CERTKEEPER_ERROR\" > \"$0\"", marker]])
        return spec
    }

    /// Processes `spec` once and checks that the lock error `mentioning` was treated as a failure.
    static func expectFailure(_ h: MaintainerHarness, marker: String, mentioning text: String) async throws {
        let spec = Self.spec(h, marker: marker)
        let now = h.clock.now()
        let next = await h.maintainer.process(spec, force: false)
        let state = try #require(await h.state(spec), "no state recorded for a failed lock")
        #expect(state.failureCount == 1)
        #expect(state.backoff?.lastError.contains(text) == true, "lastError: \(state.backoff?.lastError ?? "nil")")
        #expect(state.backoff?.retryAt == next)
        // The first backoff is a minute with ±20 % jitter.
        #expect(next >= now.addingTimeInterval(48) && next <= now.addingTimeInterval(72))
        #expect(h.server.newOrders.isEmpty)
        let hookSaw = (try? String(contentsOfFile: marker, encoding: .utf8)) ?? "(on_failure did not run)"
        #expect(hookSaw.contains(text), "on_failure saw: \(hookSaw)")
        #expect(h.logs.contains("renewal failed (attempt 1"))
        #expect(!h.logs.contains("another process holds this certificate's lock"))
    }

    @Test func aPermissionErrorFromTheLockManagerIsAFailure() async throws {
        let path = "/var/lib/certkeeper/locks/names.lock"
        let error = CertStoreError.io(operation: "open lock file", path: path, errno: EACCES)
        let h = try MaintainerHarness(locks: FailingLockManager(error: error))
        try await Self.expectFailure(h, marker: h.stateDirectory + "/on_failure.out", mentioning: path)
    }

    @Test func aStateDirectoryThatCannotHoldLocksIsAFailure() async throws {
        // A regular file where the state directory should be: ENOTDIR, which root cannot bypass as it can modes.
        let notADirectory = NSTemporaryDirectory() + "certkeeper-not-a-directory-\(UUID().uuidString)"
        try Data("x".utf8).write(to: URL(fileURLWithPath: notADirectory))
        defer { try? FileManager.default.removeItem(atPath: notADirectory) }
        let locks = ProcessLockManager(
            stateDirectory: notADirectory, maxWait: .seconds(2), pollInterval: .milliseconds(10))
        let h = try MaintainerHarness(locks: locks)
        try await Self.expectFailure(h, marker: h.stateDirectory + "/on_failure.out", mentioning: notADirectory)
    }

    @Test func aLockHeldByAnotherProcessIsStillOnlyBusy() async throws {
        let error = CertStoreError.lockBusy(name: "cert-www", path: "/x/locks/names.lock", waited: .seconds(60))
        let h = try MaintainerHarness(locks: FailingLockManager(error: error))
        let marker = h.stateDirectory + "/on_failure.out"
        let spec = Self.spec(h, marker: marker)
        let now = h.clock.now()
        #expect(await h.maintainer.process(spec, force: false) == now.addingTimeInterval(60))
        #expect(await h.state(spec) == nil)
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(h.logs.contains("another process holds this certificate's lock"))
    }
}
