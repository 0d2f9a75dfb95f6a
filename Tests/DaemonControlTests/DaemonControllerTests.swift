import CertStore
import CertkeeperConfig
import ControlSocket
import DaemonControl
import Foundation
import Logging
import Renewal
import Synchronization
import TestSupport
import Testing

/// The reload rules, with the real scheduler and config loader and in-memory configuration, state and CA answers.
@Suite struct DaemonControllerTests {
    static let main = """
        [defaults]
        ca = "https://127.0.0.1:14000/dir"
        contact = "ops@example.com"
        """

    static func spec(_ domain: String, profile: String? = nil) -> String {
        """
        domains = ["\(domain)"]
        \(profile.map { "profile = \"\($0)\"" } ?? "")

        [challenge]
        type = "http-01"
        webroot = "/var/www/html"
        """
    }

    /// A controller over `source`, started, with everything it talks to recorded.
    struct Harness {
        let source: MemoryConfigurationSource
        let controller: DaemonController
        let scheduler: RenewalScheduler
        let notifier = RecordingNotifier()
        let accounts = RecordingAccounts()
        let clock = ManualClock(now: Date(timeIntervalSince1970: 1_800_000_000))

        init(
            _ source: MemoryConfigurationSource, profiles: any ProfileChecking = OfferedProfiles(["tlsserver"]),
            worker: any CertificateWorker = IdleWorker(), progress: AttemptProgressBoard = AttemptProgressBoard(),
            fleetSpecs: (any FleetSpecRegistry)? = nil,
            stateStore: any CertificateStateStore = MemoryCertificateStateStore(), storeHealth: StoreHealth? = nil
        ) async throws {
            self.source = source
            let result = source.load()
            let configuration = try #require(result.configuration)
            scheduler = RenewalScheduler(
                worker: worker, clock: clock, maxConcurrent: 4, logger: Logger(label: "test"))
            controller = DaemonController(
                source: source, configuration: configuration, rejectedSpecs: result.specDiagnostics.keys.sorted(),
                scheduler: scheduler, profiles: profiles, accounts: accounts, notifier: notifier,
                stateStore: stateStore, stateDirectory: "/nonexistent/certkeeper-state",
                clock: clock, progress: progress, storeHealth: storeHealth,
                fleetSpecs: fleetSpecs.map { ($0, "node-a") },
                logger: Logger(label: "test"))
            await controller.start()
            await controller.startupChecked()
        }

        /// What the scheduler runs: certificate name -> domains.
        func scheduled() async -> [String: [String]] {
            Dictionary(uniqueKeysWithValues: await scheduler.snapshot().map { ($0.spec.name, $0.spec.domains) })
        }
    }

    @Test func goodReloadAddsChangesAndRemoves() async throws {
        let source = MemoryConfigurationSource(
            main: Self.main, specs: ["a": Self.spec("a.example.test"), "b": Self.spec("b.example.test")])
        let harness = try await Harness(source)
        #expect(await harness.scheduled() == ["a": ["a.example.test"], "b": ["b.example.test"]])

        source.setSpec("a", Self.spec("a2.example.test"))
        source.setSpec("b", nil)
        source.setSpec("c", Self.spec("c.example.test"))
        let response = await harness.controller.handle(.reload)
        #expect(response.ok)
        #expect(response.message == "reload succeeded: added 1, removed 1, changed 1; 2 certificate(s) in force")
        #expect(await harness.scheduled() == ["a": ["a2.example.test"], "c": ["c.example.test"]])
        #expect(harness.notifier.calls == ["RELOADING=1", "READY=1"])
        #expect(harness.accounts.reloads == 1 && harness.accounts.directories == 1)
        // Accounts are registered at start and again after every reload (a new CA or EAB key may be in use).
        #expect(harness.accounts.registrations == 2)
        #expect(await harness.controller.status().rejectedSpecs == [])
    }

    @Test func aFleetNodeForgetsARemovedSpecAtTheReload() async throws {
        let source = MemoryConfigurationSource(
            main: Self.main, specs: ["a": Self.spec("a.example.test"), "b": Self.spec("b.example.test")])
        let registry = MemoryFleetSpecRegistry()
        let harness = try await Harness(source, fleetSpecs: registry)
        _ = await registry.declare(name: "a", fingerprint: "fa", node: "node-a")
        _ = await registry.declare(name: "b", fingerprint: "fb", node: "node-a")
        _ = await registry.declare(name: "b", fingerprint: "fb", node: "node-b")
        source.setSpec("b", nil)
        #expect(await harness.controller.handle(.reload).ok)
        // Not this node's any more, at once (`certkeeper delete` asks); node-b's view is its own.
        #expect(await registry.nodesHaving(name: "b").map(\.node) == ["node-b"])
        #expect(await registry.nodesHaving(name: "a").map(\.node) == ["node-a"])
    }

    @Test func brokenSpecKeepsItsLastGoodVersionAndTheReloadFails() async throws {
        let source = MemoryConfigurationSource(
            main: Self.main, specs: ["a": Self.spec("a.example.test"), "b": Self.spec("b.example.test")])
        let harness = try await Harness(source)

        source.setSpec("a", "domains = [\"a2.example.test\"\n")  // unterminated array
        source.setSpec("b", Self.spec("b2.example.test"))
        let response = await harness.controller.handle(.reload)
        #expect(!response.ok)
        #expect(response.message.hasPrefix("reload failed: added 0, removed 0, changed 1; 2 certificate(s) in force"))
        #expect(response.message.contains("last good version kept for: a"))
        // The diagnostic names the file, line and column.
        #expect(response.message.contains("/etc/certkeeper/certs.d/a.toml:"))
        // a keeps running its last good version; b's good edit is applied.
        #expect(await harness.scheduled() == ["a": ["a.example.test"], "b": ["b2.example.test"]])
        #expect(await harness.controller.status().rejectedSpecs == ["a"])
        #expect(harness.notifier.calls.last?.hasPrefix("READY=1 STATUS=reload failed: ") == true)

        // Fixed: the next reload succeeds and the spec is no longer listed as rejected.
        source.setSpec("a", Self.spec("a2.example.test"))
        #expect(await harness.controller.handle(.reload).ok)
        #expect(await harness.scheduled() == ["a": ["a2.example.test"], "b": ["b2.example.test"]])
        #expect(await harness.controller.status().rejectedSpecs == [])
    }

    @Test func newBrokenSpecDoesNotStart() async throws {
        let source = MemoryConfigurationSource(main: Self.main, specs: ["a": Self.spec("a.example.test")])
        let harness = try await Harness(source)

        source.setSpec("n", Self.spec("n.example.test") + "\nunknown_key = 1\n")
        let response = await harness.controller.handle(.reload)
        #expect(!response.ok)
        #expect(response.message.contains("not started: n"))
        #expect(await harness.scheduled() == ["a": ["a.example.test"]])
        #expect(await harness.controller.status().rejectedSpecs == ["n"])
        let renew = await harness.controller.handle(.renew(name: "n", force: false))
        #expect(renew == ControlResponse(ok: false, message: "no certificate named 'n' is configured"))
    }

    @Test func brokenMainConfigKeepsEverythingInForce() async throws {
        let source = MemoryConfigurationSource(
            main: Self.main, specs: ["a": Self.spec("a.example.test"), "n": "domains = 3\n"])
        let harness = try await Harness(source)
        #expect(await harness.controller.status().rejectedSpecs == ["n"])

        source.setMain("[defaults\n")
        source.setSpec("a", Self.spec("a2.example.test"))
        source.setSpec("n", Self.spec("n.example.test"))
        let response = await harness.controller.handle(.reload)
        #expect(!response.ok)
        #expect(response.message.contains("certkeeper.toml has errors: the previous configuration stays in force"))
        #expect(response.message.contains("/etc/certkeeper/certkeeper.toml:1:"))
        // Nothing changes: not a's edit, not n's fix, and n is still reported as not running.
        #expect(await harness.scheduled() == ["a": ["a.example.test"]])
        #expect(await harness.controller.status().rejectedSpecs == ["n"])

        source.setMain(Self.main)
        #expect(await harness.controller.handle(.reload).ok)
        #expect(await harness.scheduled() == ["a": ["a2.example.test"], "n": ["n.example.test"]])
    }

    @Test func profileTheCADoesNotOfferRejectsTheSpec() async throws {
        let source = MemoryConfigurationSource(
            main: Self.main,
            specs: [
                "a": Self.spec("a.example.test", profile: "tlsserver"),
                "x": Self.spec("x.example.test", profile: "nope"),
            ])
        let harness = try await Harness(source)
        // At start: x names a profile the CA does not advertise and does not start; a does once confirmed.
        #expect(await harness.scheduled() == ["a": ["a.example.test"]])
        #expect(await harness.controller.status().rejectedSpecs == ["x"])

        // An edit to a profile the CA does not offer keeps a's last good version.
        source.setSpec("a", Self.spec("a2.example.test", profile: "nope"))
        let response = await harness.controller.handle(.reload)
        #expect(!response.ok)
        #expect(response.message.contains("last good version kept for: a"))
        #expect(await harness.scheduled() == ["a": ["a.example.test"]])
    }

    @Test func reloadsRunOneAtATimeAndTheLastOneWins() async throws {
        let profiles = GatedProfiles()
        let source = MemoryConfigurationSource(main: Self.main, specs: ["a": Self.spec("a.example.test")])
        let harness = try await Harness(source, profiles: profiles)

        // The first reload adds a spec with a profile and stops in the CA directory check.
        source.setSpec("p", Self.spec("p.example.test", profile: "tlsserver"))
        let first = Task { await harness.controller.reload() }
        await profiles.entered()
        #expect(source.loadCount == 2)
        // A second reload arrives meanwhile, with p removed again.
        source.setSpec("p", nil)
        let second = Task { await harness.controller.reload() }
        await harness.controller.waitForQueuedReloads(2)
        // It waits for the first: it has not read the configuration yet.
        #expect(source.loadCount == 2)
        profiles.release()
        let firstReport = try #require(await first.value)
        let secondReport = try #require(await second.value)
        #expect(firstReport.summary.hasPrefix("added 1, removed 0"))
        #expect(secondReport.summary.hasPrefix("added 0, removed 1"))
        #expect(source.loadCount == 3)
        // What the later reload loaded is what runs.
        #expect(await harness.scheduled() == ["a": ["a.example.test"]])
    }

    @Test func aReloadRetriesAtOnceWhatWaitedForIt() async throws {
        let source = MemoryConfigurationSource(main: Self.main, specs: ["a": Self.spec("a.example.test")])
        let harness = try await Harness(source)
        // The worker parks every certificate until a configuration change (as after an EAB refusal).
        #expect(await harness.scheduler.snapshot().first?.due == .distantFuture)
        harness.clock.advance(by: 86_400)
        #expect(await harness.controller.handle(.reload).ok)
        let entry = try #require(await harness.scheduler.snapshot().first)
        #expect(entry.due == harness.clock.now() && entry.force)
        #expect(await harness.controller.status().generated == harness.clock.now())
    }

    @Test func renewAndStatusCommands() async throws {
        let source = MemoryConfigurationSource(main: Self.main, specs: ["a": Self.spec("a.example.test")])
        let harness = try await Harness(source)
        #expect(
            await harness.controller.handle(.renew(name: "a", force: true))
                == ControlResponse(ok: true, message: "renewal of a scheduled now (forced)"))
        let entry = try #require(await harness.scheduler.snapshot().first)
        #expect(entry.force && entry.due == harness.clock.now())
        let status = await harness.controller.handle(.status)
        #expect(status.ok)
        let payload = try #require(status.payload)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let report = try decoder.decode(StatusReport.self, from: Data(payload.utf8))
        #expect(report.certificates.map(\.name) == ["a"])
    }
}

/// A state store that counts `load` calls.
private actor CountingStateStore: CertificateStateStore {
    let inner = MemoryCertificateStateStore()
    var loads = 0
    func load(name: String) async throws -> CertificateState? {
        loads += 1
        return try await inner.load(name: name)
    }
    func save(_ state: CertificateState) async throws { try await inner.save(state) }
    func savePendingKey(name: String, pem: String) async throws { try await inner.savePendingKey(name: name, pem: pem) }
    func pendingKey(name: String) async throws -> String? { try await inner.pendingKey(name: name) }
    func clearPendingKey(name: String) async throws { try await inner.clearPendingKey(name: name) }
    func allNames() async throws -> [String] { await inner.allNames() }
    func remove(name: String) async throws { try await inner.remove(name: name) }
    func saveRecomputable(_ state: CertificateState) async throws { try await inner.saveRecomputable(state) }
    func flushRecomputable() async throws { await inner.flushRecomputable() }
}

extension DaemonControllerTests {
    /// While the shared store does not answer, `status` does not ask it (each read would wait for the database's
    /// timeout, longer than the client waits): the rows come from memory and the installed files, with the problem.
    @Test func statusDoesNotReadTheStoreWhileItIsDown() async throws {
        let source = MemoryConfigurationSource(
            main: Self.main, specs: ["a": Self.spec("a.example.test"), "b": Self.spec("b.example.test")])
        let store = CountingStateStore()
        let health = StoreHealth()
        let harness = try await Harness(source, stateStore: store, storeHealth: health)
        let before = await store.loads
        _ = await harness.controller.status()
        #expect(await store.loads == before + 2)

        struct Outage: Error, CustomStringConvertible { var description: String { "connection refused" } }
        health.failed(Outage(), now: harness.clock.now())
        let down = await harness.controller.status()
        #expect(await store.loads == before + 2)
        #expect(down.storeProblem?.contains("connection refused") == true)
        #expect(down.certificates.map(\.name) == ["a", "b"])
        _ = await harness.controller.liveStatus()
        #expect(await store.loads == before + 2)
    }

    /// `renew NAME --wait`: every event of the attempt it asked for comes back as a progress line, and the answer
    /// says how the attempt ended (installed: ok; failed: not ok, with the error).
    @Test(arguments: [true, false])
    func renewWaitingReportsTheAttemptAndItsOutcome(succeeds: Bool) async throws {
        let source = MemoryConfigurationSource(main: Self.main, specs: ["a": Self.spec("a.example.test")])
        let board = AttemptProgressBoard()
        let worker = ScriptedProgressWorker(board: board, succeeds: succeeds)
        let harness = try await Harness(source, worker: worker, progress: board)
        let running = Task { await harness.scheduler.run() }
        defer { running.cancel() }
        let lines = ProgressLines()
        let response = await harness.controller.handle(.renewWaiting(name: "a", force: true)) { lines.append($0) }
        let expected = [
            "renewal of a scheduled now (forced)", "attempt started (forced)",
            "order created: https://ca.example/order/1", "authorizations valid (1)",
        ]
        #expect(Array(lines.all.prefix(4)) == expected)
        if succeeds {
            #expect(response.ok)
            #expect(response.message == "a: installed at /live/a/fullchain.pem, valid until 2027-04-15T16:00:00Z")
            #expect(lines.all.contains("order finalized, certificate issued"))
        } else {
            #expect(!response.ok)
            #expect(response.message == "a: renewal failed: newOrder: rateLimited")
        }
        #expect(lines.all.last?.hasPrefix("attempt over; next check ") == true)
        let unknown = await harness.controller.handle(.renewWaiting(name: "zz", force: false)) { _ in }
        #expect(unknown == ControlResponse(ok: false, message: "no certificate named 'zz' is configured"))
    }
}

/// Publishes the events of a short order, ending installed or failed.
struct ScriptedProgressWorker: CertificateWorker {
    let board: AttemptProgressBoard
    let succeeds: Bool
    func firstDue(_ spec: CertificateSpec) async -> Date { .distantFuture }
    func process(_ spec: CertificateSpec, force: Bool) async -> Date {
        board.publish(spec.name, .started(forced: force))
        board.publish(spec.name, .orderCreated(url: "https://ca.example/order/1"))
        board.publish(spec.name, .authorizationsValid(count: 1))
        if succeeds {
            board.publish(spec.name, .finalized)
            board.publish(
                spec.name,
                .installed(notAfter: Date(timeIntervalSince1970: 1_807_804_800), fullchain: "/live/a/fullchain.pem"))
        } else {
            board.publish(spec.name, .failed(message: "newOrder: rateLimited"))
        }
        let next = Date(timeIntervalSince1970: 1_805_000_000)
        board.publish(spec.name, .ended(next: next))
        return next
    }
}

/// Progress lines from a `@Sendable` callback.
final class ProgressLines: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var all: [String] { storage.withLock { $0 } }
}

/// A worker that never needs to do anything: these tests are about configuration, not certificates.
struct IdleWorker: CertificateWorker {
    func firstDue(_ spec: CertificateSpec) async -> Date { .distantFuture }
    func process(_ spec: CertificateSpec, force: Bool) async -> Date { .distantFuture }
}

/// Records what the controller tells the service manager, as sd_notify assignments.
final class RecordingNotifier: ServiceNotifier {
    private let log = Mutex<[String]>([])
    var calls: [String] { log.withLock { $0 } }
    var watchdogInterval: Duration? { nil }

    private func record(_ assignment: String, _ status: String?) -> Bool {
        log.withLock { $0.append(assignment + (status.map { " STATUS=\($0)" } ?? "")) }
        return true
    }
    func ready(status: String?) -> Bool { record("READY=1", status) }
    func reloading(status: String?) -> Bool { record("RELOADING=1", nil) }
    func stopping(status: String?) -> Bool { record("STOPPING=1", nil) }
    func status(_ line: String) -> Bool { record("STATUS", line) }
    func watchdog() -> Bool { record("WATCHDOG=1", nil) }
}

/// Counts reload notifications and registrations instead of talking to a CA.
final class RecordingAccounts: AccountRegistry {
    private let counts = Mutex((directories: 0, reloads: 0, registrations: 0))
    var directories: Int { counts.withLock { $0.directories } }
    var reloads: Int { counts.withLock { $0.reloads } }
    var registrations: Int { counts.withLock { $0.registrations } }
    func forgetDirectories() async { counts.withLock { $0.directories += 1 } }
    func reloaded() async { counts.withLock { $0.reloads += 1 } }
    func register(_ accounts: [AccountSettings]) async { counts.withLock { $0.registrations += 1 } }
}

/// A CA directory that advertises `offered` profiles.
struct OfferedProfiles: ProfileChecking {
    var offered: Set<String>
    init(_ offered: Set<String>) { self.offered = offered }
    func rejections(for specs: [CertificateSpec]) async -> [String: ConfigDiagnostic] {
        var result: [String: ConfigDiagnostic] = [:]
        for spec in specs {
            guard let profile = spec.profile, !offered.contains(profile) else { continue }
            result[spec.name] = ConfigDiagnostic(
                file: spec.file, line: 1, column: 1, message: "profile '\(profile)' is not offered")
        }
        return result
    }
}

/// A CA directory check that stops at the first spec with a profile until released.
final class GatedProfiles: ProfileChecking {
    private let state = Mutex<
        (
            open: Bool, entered: Bool, waiters: [CheckedContinuation<Void, Never>],
            watchers: [CheckedContinuation<Void, Never>]
        )
    >(
        (false, false, [], []))

    func rejections(for specs: [CertificateSpec]) async -> [String: ConfigDiagnostic] {
        guard specs.contains(where: { $0.profile != nil }) else { return [:] }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (resumeNow, watchers) = state.withLock { state in
                state.entered = true
                let watchers = state.watchers
                state.watchers = []
                if state.open { return (true, watchers) }
                state.waiters.append(continuation)
                return (false, watchers)
            }
            for watcher in watchers { watcher.resume() }
            if resumeNow { continuation.resume() }
        }
        return [:]
    }

    /// Returns once a check is waiting at the gate.
    func entered() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if state.entered { return true }
                state.watchers.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func release() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
