import CertStore
import CertkeeperConfig
import CertkeeperLogging
import ControlSocket
import Foundation
import Logging
import Renewal

/// The configuration in force and what `reload`, `renew` and `status` do to it; the daemon's only stateful
/// decision-maker outside the scheduler.
///
/// Reload rules:
/// - reloads (SIGHUP, `certkeeper reload`) run one at a time, in the order they arrived;
/// - a spec with errors keeps its last good version (or, if new, does not start) and the reload reports failure;
/// - a broken certkeeper.toml keeps everything in force, including which specs are not running;
/// - a new or edited spec naming a profile its CA does not advertise counts as a spec with errors.
package actor DaemonController {
    private let source: any ConfigurationSource
    private let scheduler: RenewalScheduler
    private let profiles: any ProfileChecking
    private let accounts: any AccountRegistry
    private let notifier: any ServiceNotifier
    private let stateStore: any CertificateStateStore
    private let stateDirectory: String
    private let clock: any DaemonClock
    private let facts: CertificateFactsBoard
    private let progress: AttemptProgressBoard
    private let logger: Logger
    private(set) var configuration: Configuration
    /// Specs with errors that are not running (new ones) or run their last good version.
    private(set) var rejectedSpecs: [String]
    private let statusSignal: AsyncStream<Void>.Continuation
    /// Yields after every change worth a new status line (coalesced: at most one pending).
    package nonisolated let statusChanges: AsyncStream<Void>

    package init(
        source: any ConfigurationSource, configuration: Configuration, rejectedSpecs: [String],
        scheduler: RenewalScheduler, profiles: any ProfileChecking, accounts: any AccountRegistry,
        notifier: any ServiceNotifier, stateStore: any CertificateStateStore, stateDirectory: String,
        clock: any DaemonClock, facts: CertificateFactsBoard = CertificateFactsBoard(),
        progress: AttemptProgressBoard = AttemptProgressBoard(), storeHealth: StoreHealth? = nil,
        fleetSpecs: (registry: any FleetSpecRegistry, node: String)? = nil, logger: Logger
    ) {
        self.fleetSpecs = fleetSpecs
        self.storeHealth = storeHealth
        self.progress = progress
        self.facts = facts
        self.source = source
        self.configuration = configuration
        self.rejectedSpecs = rejectedSpecs
        self.scheduler = scheduler
        self.profiles = profiles
        self.accounts = accounts
        self.notifier = notifier
        self.stateStore = stateStore
        self.stateDirectory = stateDirectory
        self.clock = clock
        self.logger = logger
        (statusChanges, statusSignal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Bumped by every reload, so a start-up check that finishes after a reload does not undo it.
    private var reloadGeneration = 0
    /// Specs whose profile the start-up check has not confirmed yet; a reload before it finishes checks them itself.
    private var profilesUnchecked: Set<String> = []
    /// The background start-up profile check, for tests that wait for it.
    private var admission: Task<Void, Never>?

    /// Schedules every spec and registers (or finds) every account in the background.
    ///
    /// Specs naming a profile start once their CA's directory confirms it (in the background, so a slow CA does not
    /// delay READY=1); a profile the CA does not advertise rejects the spec, the others run.
    package func start() async {
        let signal = statusSignal
        await scheduler.onChange { signal.yield() }
        let profiled = configuration.certificates.values.filter { $0.profile != nil }
        await scheduler.apply(
            specs: configuration.certificates.values.filter { $0.profile == nil },
            maxConcurrent: configuration.defaults.maxConcurrentOrders)
        await accounts.register(configuration.accountsInUse)
        if !profiled.isEmpty {
            profilesUnchecked = Set(profiled.map(\.name))
            let generation = reloadGeneration
            admission = Task { await self.admitProfiled(Array(profiled), generation: generation) }
        }
    }

    /// Waits for the start-up profile check, if one runs.
    package func startupChecked() async { await admission?.value }

    private func admitProfiled(_ specs: [CertificateSpec], generation: Int) async {
        let rejections = await profiles.rejections(for: specs)
        guard generation == reloadGeneration else { return }
        profilesUnchecked = []
        if !rejections.isEmpty {
            let outcome = ConfigMerge.rejecting(rejections, in: ConfigMerge.initial(configuration), previous: nil)
            logRejected(outcome.diagnostics)
            configuration = outcome.configuration
            rejectedSpecs = Array(Set(rejectedSpecs + outcome.rejectedNew)).sorted()
        }
        await scheduler.apply(
            specs: Array(configuration.certificates.values), maxConcurrent: configuration.defaults.maxConcurrentOrders)
    }

    /// The latest reload; each reload waits for the one before it.
    private var lastReload: Task<ReloadReport?, Never>?

    /// Re-reads the configuration. Never throws: a broken file is reported and the last good version stays.
    ///
    /// The actor is reentrant at every await, and an earlier reload still waiting for a CA's directory must not
    /// overwrite what a later one loaded: each reload waits for the one before it.
    @discardableResult
    package func reload() async -> ReloadReport? {
        let previous = lastReload
        let task = Task {
            _ = await previous?.value
            return await self.reloadNow()
        }
        lastReload = task
        queuedReloads += 1
        resumeQueueWatchers()
        defer { queuedReloads -= 1 }
        return await task.value
    }

    /// Reloads asked for and not yet answered (running or waiting for an earlier one).
    private var queuedReloads = 0
    private var queueWatchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []

    /// Returns once `count` reloads are queued at the same time: a test knows a reload arrived while another runs.
    package func waitForQueuedReloads(_ count: Int) async {
        if queuedReloads >= count { return }
        await withCheckedContinuation { queueWatchers.append((count, $0)) }
    }

    private func resumeQueueWatchers() {
        let ready = queueWatchers.filter { $0.count <= queuedReloads }
        queueWatchers.removeAll { $0.count <= queuedReloads }
        for watcher in ready { watcher.continuation.resume() }
    }

    private func reloadNow() async -> ReloadReport? {
        _ = notifier.reloading(status: "Reloading configuration")
        reloadGeneration += 1
        await accounts.forgetDirectories()
        let result = source.load()
        guard var outcome = ConfigMerge.merge(previous: configuration, result: result) else {
            _ = notifier.ready(status: nil)
            return nil
        }
        // New and edited specs must name a profile their CA advertises; a rejected one keeps its last good version.
        let candidates = Set(outcome.added + outcome.changed).union(profilesUnchecked).sorted()
            .compactMap { outcome.configuration.certificates[$0] }
        profilesUnchecked = []
        outcome = ConfigMerge.rejecting(
            await profiles.rejections(for: candidates), in: outcome, previous: configuration)
        await accounts.reloaded()
        logRejected(outcome.diagnostics)
        let mainConfigRejected = result.configuration == nil
        let before = Set(configuration.certificates.keys)
        configuration = outcome.configuration
        // Whoever waits for an attempt of a certificate that is gone (`renew --wait`) hears about it.
        for name in before.subtracting(configuration.certificates.keys) { progress.publish(name, .removed) }
        // A broken certkeeper.toml keeps everything, including which specs are still not running.
        if !mainConfigRejected { rejectedSpecs = outcome.rejectedNew + outcome.keptLastGood }
        await scheduler.apply(
            specs: Array(configuration.certificates.values), maxConcurrent: configuration.defaults.maxConcurrentOrders,
            replanWaiting: true)
        await accounts.register(configuration.accountsInUse)
        await declareSpecNames()
        let report = ReloadReport(outcome: outcome, mainConfigRejected: mainConfigRejected)
        if report.succeeded {
            logger.notice("reload succeeded: \(report.summary)", metadata: CertkeeperEvent.reloadSucceeded.metadata)
        } else {
            logger.error("reload failed: \(report.summary)", metadata: CertkeeperEvent.reloadRejectedSpec.metadata)
        }
        _ = notifier.ready(status: report.succeeded ? nil : "reload failed: \(report.summary)")
        statusSignal.yield()
        return report
    }

    private func logRejected(_ diagnostics: [ConfigDiagnostic]) {
        for diagnostic in diagnostics {
            logger.error(
                "reload rejected: \(diagnostic)",
                metadata: CertkeeperEvent.reloadRejectedSpec.metadata.merging([
                    "file": .string(diagnostic.file), "line": .stringConvertible(diagnostic.line),
                    "column": .stringConvertible(diagnostic.column),
                ]) { $1 })
        }
    }

    /// Answers one control-socket command.
    package func handle(
        _ command: ControlCommand, progress report: @escaping @Sendable (String) async -> Void = { _ in }
    ) async -> ControlResponse {
        switch command {
        case .renewWaiting(let name, let force):
            return await renewWaiting(name, force: force, report: report)
        case .reload:
            guard let report = await reload() else { return ControlResponse(ok: false, message: "no configuration") }
            return ControlResponse(ok: report.succeeded, message: report.message)
        case .renew(let name, let force):
            guard await scheduler.renewNow(name, force: force) else {
                return ControlResponse(ok: false, message: "no certificate named '\(name)' is configured")
            }
            return ControlResponse(ok: true, message: "renewal of \(name) scheduled now\(force ? " (forced)" : "")")
        case .status:
            let report = await status()
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            let payload = (try? encoder.encode(report)).map { String(decoding: $0, as: UTF8.self) }
            return ControlResponse(ok: true, message: report.summaryLine(now: clock.now()), payload: payload)
        }
    }

    /// `renew NAME --wait`: asks for the attempt, then reports its events until it is over. Events of an attempt
    /// already in flight when the request came are skipped: the answer is about an attempt that started after it.
    private func renewWaiting(_ name: String, force: Bool, report: @Sendable (String) async -> Void) async
        -> ControlResponse
    {
        let (events, stop) = progress.watch(name)
        defer { stop() }
        // Not forced and already in flight: the attempt under way is the check asked for (a second one would not
        // start); forced: the attempt to report is the one that starts forced.
        let inFlight = await scheduler.isInFlight(name)
        guard await scheduler.renewNow(name, force: force) else {
            return ControlResponse(ok: false, message: "no certificate named '\(name)' is configured")
        }
        await report("renewal of \(name) scheduled now\(force ? " (forced)" : "")")
        var started = !force && inFlight
        var failure: String?
        var installed: String?
        for await event in events {
            if case .started(let forced) = event, forced || !force { started = true }
            if case .removed = event {
                return ControlResponse(ok: false, message: "\(name) was removed from the configuration by a reload")
            }
            guard started else { continue }
            await report(event.line)
            switch event {
            case .failed(let message): failure = message
            case .installed: installed = event.line
            case .ended(let next):
                if let failure { return ControlResponse(ok: false, message: "\(name): renewal failed: \(failure)") }
                if let installed { return ControlResponse(ok: true, message: "\(name): \(installed)") }
                return ControlResponse(
                    ok: true, message: "\(name): nothing was due; \(AttemptEvent.ended(next: next).line)")
            default: continue
            }
        }
        return ControlResponse(ok: false, message: "\(name): the daemon stopped before the attempt ended")
    }

    /// Every certificate as `certkeeper status` shows it, with the scheduler's live view.
    ///
    /// While the shared store does not answer, the states come from what the daemon remembers and the installed
    /// files, not from the store: every read would wait for the database's timeout, longer than `status` waits
    /// for the daemon.
    package func status() async -> StatusReport {
        let storeProblem = storeHealth?.problem
        var report: StatusReport
        if storeProblem != nil {
            report = await StatusReport.live(
                configuration: configuration, facts: facts, stateDirectory: stateDirectory, stateStore: nil,
                scheduler: await scheduler.snapshot(), rejectedSpecs: rejectedSpecs, now: clock.now())
        } else {
            report = await StatusReport.build(
                configuration: configuration, stateDirectory: stateDirectory, stateStore: stateStore,
                scheduler: await scheduler.snapshot(), rejectedSpecs: rejectedSpecs, now: clock.now(),
                storeUp: { [storeHealth] in storeHealth?.isUp ?? true })
        }
        report.storeProblem = storeHealth?.problem ?? storeProblem
        return report
    }

    /// Whether the shared store answers (PostgreSQL backend only).
    private let storeHealth: StoreHealth?
    /// A fleet's record of which node has which spec, told after every reload which specs this node has now (so a
    /// removed spec is no longer this node's at once: `certkeeper delete` and the conflict check rely on it).
    private let fleetSpecs: (registry: any FleetSpecRegistry, node: String)?

    private func declareSpecNames() async {
        guard let fleetSpecs else { return }
        do {
            try await fleetSpecs.registry.retain(names: Set(configuration.certificates.keys), node: fleetSpecs.node)
        } catch {
            // The fleet watcher says it again within minutes.
            logger.warning("cannot update this node's specs in the store: \(error)")
        }
    }

    /// The one-line status (`STATUS=`): from what the daemon remembers of each certificate, not from every file on
    /// disk (``StatusReport/live(configuration:facts:stateDirectory:stateStore:scheduler:rejectedSpecs:now:)``).
    package func statusLine() async -> String {
        await liveStatus().summaryLine(now: clock.now())
    }

    /// Every certificate from what the daemon remembers (the status line, metrics).
    package func liveStatus() async -> StatusReport {
        let storeProblem = storeHealth?.problem
        var report = await StatusReport.live(
            configuration: configuration, facts: facts, stateDirectory: stateDirectory,
            stateStore: storeProblem == nil ? stateStore : nil,
            scheduler: await scheduler.snapshot(), rejectedSpecs: rejectedSpecs, now: clock.now())
        report.storeProblem = storeProblem
        return report
    }

    /// The names of the specs in force.
    package var certificateNames: [String] { configuration.certificates.keys.sorted() }
}
