import ACMEClient
import CertStore
import CertkeeperConfig
import ChallengeSolvers
import Foundation
import HTTPTransportAHC
import Installer
import Logging
import Renewal
import SystemdSupport

/// The running daemon: the configuration in force, the scheduler, and what reload and the control socket do.
actor Daemon {
    let directories: Directories
    let logger: Logger
    let notifier: SystemdNotifier
    let scheduler: RenewalScheduler
    let accounts: AccountManager
    let stateStore: any CertificateStateStore
    let reloads: ReloadCoalescer
    let clock: any DaemonClock
    /// The HTTP transports to the CAs and the challenge responders, closed by ``shutdown()``.
    private let transports = TransportRegistry()
    private let httpPool: HTTP01ResponderPool
    private let tlsPool: TLSALPN01ResponderPool
    let profiles: ProfileValidator
    let clients: ACMEClientPool
    private(set) var configuration: Configuration
    private var rejectedSpecs: [String]
    private let statusSignal: AsyncStream<Void>.Continuation
    let statusUpdates: AsyncStream<Void>

    /// Builds every component from a loaded configuration. Nothing is sent to a CA here.
    init(directories: Directories, configuration: Configuration, rejectedSpecs: [String], logger: Logger) throws {
        self.directories = directories
        self.logger = logger
        self.configuration = configuration
        self.rejectedSpecs = rejectedSpecs
        self.notifier = SystemdNotifier()
        let clock = SystemClock()
        self.clock = clock
        let environment = ProcessInfo.processInfo.environment
        let faults = FaultPoints(environment: environment)
        let secrets = SecretReader(environment: environment)
        let stateStore = FileCertificateStateStore(stateDirectory: directories.state)
        let locks = ProcessLockManager(stateDirectory: directories.state)
        self.stateStore = stateStore
        let clients = ACMEClientPool(logger: logger) { [transports] ca in
            try transports.make(trustRootsPEMFile: ca.trustRootsFile)
        }
        let accounts = AccountManager(
            store: FileAccountStore(stateDirectory: directories.state), clients: clients, secrets: secrets,
            stateDirectory: directories.state, faults: faults, locks: locks, logger: logger)
        self.accounts = accounts
        self.clients = clients
        self.profiles = ProfileValidator(clients: clients, logger: logger)
        let httpPool = HTTP01ResponderPool()
        let tlsPool = TLSALPN01ResponderPool()
        self.httpPool = httpPool
        self.tlsPool = tlsPool
        let solvers = SolverFactory(httpPool: httpPool, tlsPool: tlsPool, secrets: secrets)
        let hooks = HookRunner()
        let reloads = ReloadCoalescer(journal: "\(directories.state)/pending-reloads.json") { units in
            await UnitReloader().reload(units: units, logger: logger)
        }
        self.reloads = reloads
        let worker = CertificateMaintainer(
            stateDirectory: directories.state, accounts: accounts, clients: clients,
            issuer: OrderIssuer(solvers: solvers, stateStore: stateStore, faults: faults, logger: logger),
            stateStore: stateStore, installer: CertificateInstaller(), hooks: hooks,
            reloads: reloads,
            clock: clock, random: SystemRandomSource(), locks: locks,
            jobTimeout: TimeInterval(configuration.defaults.jobTimeoutSeconds), logger: logger)
        self.scheduler = RenewalScheduler(
            worker: worker, clock: clock, maxConcurrent: configuration.defaults.maxConcurrentOrders, logger: logger)
        (statusUpdates, statusSignal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Schedules every spec and registers (or finds) every account in the background.
    func start() async {
        let signal = statusSignal
        await scheduler.onChange { signal.yield() }
        // Specs naming a profile start once their CA's directory confirms it (in the background, so a slow CA
        // does not delay READY=1); a profile the CA does not advertise rejects the spec, the others run.
        let profiled = configuration.certificates.values.filter { $0.profile != nil }
        await scheduler.apply(
            specs: configuration.certificates.values.filter { $0.profile == nil },
            maxConcurrent: configuration.defaults.maxConcurrentOrders)
        registerAccounts()
        // Units a previous run installed certificates for but died before reloading.
        Task { [reloads] in await reloads.recover() }
        if !profiled.isEmpty {
            profilesUnchecked = Set(profiled.map(\.name))
            let generation = reloadGeneration
            Task { await self.admitProfiled(Array(profiled), generation: generation) }
        }
    }

    /// Bumped by every reload, so a start-up check that finishes after a reload does not undo it.
    private var reloadGeneration = 0
    /// Specs whose profile the start-up check has not confirmed yet; a reload before it finishes checks them itself.
    private var profilesUnchecked: Set<String> = []

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

    /// Accounts are registered when the config is loaded, not at the first order (GTS expires unused EAB keys).
    private func registerAccounts() {
        for settings in configuration.accountsInUse {
            Task { [accounts, logger] in
                do {
                    _ = try await accounts.handle(for: settings)
                } catch {
                    logger.error(
                        "account '\(settings.name)' for \(settings.ca.directoryURL) is not usable: \(error)",
                        metadata: [
                            LogKey.account: .string(settings.name), LogKey.ca: .string(settings.ca.directoryURL),
                        ])
                }
            }
        }
    }

    /// The latest reload; each reload waits for the one before it.
    private var lastReload: Task<ControlResponse, Never>?

    /// Re-reads the configuration directory. A broken spec keeps its last good version; a broken certkeeper.toml
    /// keeps everything; either way the reload counts as failed. Never exits.
    ///
    /// Reloads (SIGHUP, `certkeeper reload`) run one at a time: the actor is reentrant at every await, and an earlier
    /// reload still waiting for a CA's directory must not overwrite what a later one loaded.
    func reload() async -> ControlResponse {
        let previous = lastReload
        let task = Task {
            _ = await previous?.value
            return await self.reloadNow()
        }
        lastReload = task
        return await task.value
    }

    private func reloadNow() async -> ControlResponse {
        _ = notifier.reloading(status: "Reloading configuration")
        reloadGeneration += 1
        await clients.reloaded()
        let result = ConfigLoader().load(configDirectory: directories.config)
        guard var outcome = ConfigMerge.merge(previous: configuration, result: result) else {
            _ = notifier.ready()
            return ControlResponse(ok: false, message: "no configuration")
        }
        // New and edited specs must name a profile their CA advertises; a rejected one keeps its last good version.
        let candidates = Set(outcome.added + outcome.changed).union(profilesUnchecked).sorted()
            .compactMap { outcome.configuration.certificates[$0] }
        profilesUnchecked = []
        outcome = ConfigMerge.rejecting(
            await profiles.rejections(for: candidates), in: outcome, previous: configuration)
        logRejected(outcome.diagnostics)
        let tomlRejected = result.configuration == nil
        configuration = outcome.configuration
        // A broken certkeeper.toml keeps everything, including which specs are still not running.
        if !tomlRejected { rejectedSpecs = outcome.rejectedNew + outcome.keptLastGood }
        await accounts.reloaded()
        await scheduler.apply(
            specs: Array(configuration.certificates.values), maxConcurrent: configuration.defaults.maxConcurrentOrders,
            replanWaiting: true)
        registerAccounts()
        var summary =
            "added \(outcome.added.count), removed \(outcome.removed.count), changed \(outcome.changed.count); \(configuration.certificates.count) certificate(s) in force"
        if tomlRejected { summary = "certkeeper.toml has errors: the previous configuration stays in force" }
        if !outcome.keptLastGood.isEmpty {
            summary += "; last good version kept for: \(outcome.keptLastGood.joined(separator: ", "))"
        }
        if !outcome.rejectedNew.isEmpty { summary += "; not started: \(outcome.rejectedNew.joined(separator: ", "))" }
        if outcome.failed {
            logger.error("reload failed: \(summary)", metadata: CertkeeperEvent.reloadRejectedSpec.metadata)
        } else {
            logger.notice("reload succeeded: \(summary)", metadata: CertkeeperEvent.reloadSucceeded.metadata)
        }
        _ = notifier.ready(status: outcome.failed ? "reload failed: \(summary)" : nil)
        statusSignal.yield()
        let details = outcome.diagnostics.map(\.description).joined(separator: "\n")
        return ControlResponse(
            ok: !outcome.failed,
            message: outcome.failed ? "reload failed: \(summary)\n\(details)" : "reload succeeded: \(summary)")
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

    /// Closes the CA connections (in-flight requests fail; an interrupted order resumes at the next start) and the
    /// challenge responders. Called once on SIGTERM, after the scheduler stopped.
    func shutdown() async {
        await transports.shutdownAll()
        await httpPool.shutdown()
        await tlsPool.shutdown()
    }

    /// Answers the control socket.
    func handle(_ request: ControlRequest) async -> ControlResponse {
        switch request.command {
        case "reload":
            return await reload()
        case "renew":
            guard let name = request.name else {
                return ControlResponse(ok: false, message: "renew needs a certificate name")
            }
            if await scheduler.renewNow(name, force: request.force ?? false) {
                return ControlResponse(
                    ok: true, message: "renewal of \(name) scheduled now\(request.force == true ? " (forced)" : "")")
            }
            return ControlResponse(ok: false, message: "no certificate named '\(name)' is configured")
        case "status":
            let report = await status()
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            let payload = (try? encoder.encode(report)).map { String(decoding: $0, as: UTF8.self) }
            return ControlResponse(ok: true, message: report.summaryLine(now: clock.now()), payload: payload)
        default:
            return ControlResponse(ok: false, message: "unknown command '\(request.command)'")
        }
    }

    func status() async -> StatusReport {
        await StatusReport.build(
            configuration: configuration, stateDirectory: directories.state, stateStore: stateStore,
            scheduler: await scheduler.snapshot(), rejectedSpecs: rejectedSpecs, now: clock.now())
    }

    /// Keeps systemd's STATUS= line current, at most once a second.
    func runStatusUpdates() async {
        for await _ in statusUpdates {
            let line = await status().summaryLine(now: clock.now())
            _ = notifier.status(line)
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
