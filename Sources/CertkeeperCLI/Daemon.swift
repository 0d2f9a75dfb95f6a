import ACMEClient
import CertStore
import CertkeeperConfig
import ChallengeSolvers
import ControlSocket
import DaemonControl
import DaemonMetrics
import Foundation
import Installer
import Logging
import Metrics
import Prometheus
import Renewal
import ServiceLifecycle
import SystemdSupport

/// The composition root: builds the production parts, hands them to the ``DaemonController`` and the services,
/// and runs those in a `ServiceGroup` until SIGTERM or SIGINT. No decisions are made here.
struct Daemon {
    let directories: Directories
    let logger: Logger
    let notifier = SystemdNotifier()
    let clock: any DaemonClock = SystemClock()
    let controller: DaemonController
    let scheduler: RenewalScheduler
    let reloads: ReloadCoalescer
    let jobTimeout: TimeInterval
    let configuration: Configuration
    let worker: CertificateMaintainer
    let stateStore: any CertificateStateStore
    /// `[store]`: the state directory, or PostgreSQL shared by a fleet.
    let store: StoreBackend
    let profiles: ProfileValidator
    /// Present when `metrics_listen` or `metrics_textfile` is set.
    let metrics: CertkeeperMetrics?
    /// The HTTP transports to the CAs and the challenge responders, closed by ``shutdown()``.
    private let transports = TransportRegistry()
    private let httpPool = HTTP01ResponderPool()
    private let tlsPool = TLSALPN01ResponderPool()

    /// Builds every component from a loaded configuration. Nothing is sent to a CA here.
    init(
        directories: Directories, source: DirectoryConfigurationSource, configuration: Configuration,
        rejectedSpecs: [String], logger: Logger
    ) throws {
        self.directories = directories
        self.logger = logger
        self.jobTimeout = TimeInterval(configuration.defaults.jobTimeoutSeconds)
        self.configuration = configuration
        let environment = ProcessInfo.processInfo.environment
        let crashPoints = CertkeeperCommand.crashPoints.withLock { $0 }
        let secrets = SecretReader(environment: environment)
        let store = try StoreBackend.open(
            configuration.store, stateDirectory: directories.state, secrets: secrets, logger: logger)
        self.store = store
        let stateStore = store.states
        self.stateStore = stateStore
        let locks = store.locks
        let metrics = Self.makeMetrics(configuration.defaults)
        self.metrics = metrics
        var requestObserver: (@Sendable (CASettings) -> (any ACMERequestObserver)?)?
        if let metrics {
            requestObserver = { ca in CARequestMetrics(metrics: metrics, ca: ca.name) }
        }
        let proxies = ProxyPolicy(defaultProxy: configuration.defaults.proxy, environment: environment)
        if let problem = proxies.environmentProblem { logger.warning("\(problem)") }
        let clients = ACMEClientPool(logger: logger, observer: requestObserver) { [transports] ca in
            try transports.make(for: ca, policy: proxies)
        }
        let accounts = AccountManager(
            store: store.accounts, clients: clients, secrets: secrets,
            stateDirectory: directories.state, crashPoints: crashPoints, locks: locks, logger: logger)
        let solvers = SolverFactory(
            httpPool: httpPool, tlsPool: tlsPool, secrets: secrets, relay: store.relay,
            apiTransport: transports.sharedAPITransport(), environment: environment)
        let facts = CertificateFactsBoard()
        let progress = AttemptProgressBoard()
        let reloads = ReloadCoalescer(journal: "\(directories.state)/pending-reloads.json") { units in
            await UnitReloader().reload(units: units, logger: logger)
        }
        self.reloads = reloads
        let worker = CertificateMaintainer(
            stateDirectory: directories.state, accounts: accounts, clients: clients,
            issuer: OrderIssuer(
                solvers: solvers, stateStore: stateStore, crashPoints: crashPoints, progress: progress, logger: logger),
            stateStore: stateStore, installer: CertificateInstaller(), hooks: HookRunner(), reloads: reloads,
            clock: clock, random: SystemRandomSource(), locks: locks, jobTimeout: jobTimeout,
            facts: facts, observer: metrics, progress: progress, shared: store.shared, nodeName: store.nodeName,
            specRegistry: store.specs,
            logger: logger)
        self.worker = worker
        let profiles = ProfileValidator(clients: clients, logger: logger)
        self.profiles = profiles
        let scheduler = RenewalScheduler(
            worker: worker, clock: clock, maxConcurrent: configuration.defaults.maxConcurrentOrders, logger: logger)
        self.scheduler = scheduler
        self.controller = DaemonController(
            source: source, configuration: configuration,
            rejectedSpecs: rejectedSpecs, scheduler: scheduler,
            profiles: profiles,
            accounts: ManagedAccountRegistry(accounts: accounts, clients: clients, logger: logger),
            notifier: notifier, stateStore: stateStore, stateDirectory: directories.state, clock: clock,
            facts: facts, progress: progress, storeHealth: store.database == nil ? nil : store.health,
            fleetSpecs: store.specs.map { ($0, store.nodeName) }, logger: logger)
    }

    /// Runs until the first element of `stopSignals` (SIGTERM or SIGINT), then closes the CA connections and the
    /// challenge responders; reloads at each element of `reloadSignals` (SIGHUP).
    func run(reloadSignals: AsyncStream<Void>, stopSignals: AsyncStream<Void>, certificateCount: Int) async {
        await controller.start()
        // Units a previous run installed certificates for but died before reloading.
        Task { [reloads] in await reloads.recover() }
        let readiness = OneShotSignal()
        let server = ControlServer(
            configuration: .init(path: ControlSocketPath.default(environment: ProcessInfo.processInfo.environment)),
            logger: logger
        ) { [controller] command, progress in await controller.handle(command, progress: progress) }
        let control = ControlSocketService(server: server, logger: logger) {
            [controller, notifier, clock, logger, directories] in
            logger.notice(
                "certkeeper \(CertkeeperVersion.string) started: \(certificateCount) certificate(s), config \(directories.config), state \(directories.state)"
            )
            _ = notifier.ready(status: await controller.status().summaryLine(now: clock.now()))
            readiness.fire()
        }
        let stuckAfter = jobTimeout + Self.stuckMargin
        var onReport: (@Sendable (StatusReport) -> Void)?
        if let metrics {
            let fleet = store.database != nil
            onReport = { report in
                metrics.update(certificates: report.certificates)
                if fleet { metrics.update(storeUp: report.storeProblem == nil) }
            }
        }
        // Shut down in reverse order: stop announcing and scheduling first, the control socket last. Every service
        // is named: without a name ServiceLifecycle names it "\(service)", a reflection dump of everything the
        // service holds (10% of the instructions of a start that issued ten certificates).
        var configuration = ServiceGroupConfiguration(
            services: [
                .init(
                    service: control, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore,
                    serviceName: "control socket"),
                .init(
                    service: SchedulerService(scheduler: scheduler, readiness: readiness), serviceName: "scheduler"),
                .init(
                    service: StatusLineService(
                        controller: controller, notifier: notifier, clock: clock, onReport: onReport),
                    successTerminationBehavior: .ignore, serviceName: "status line"),
                .init(
                    service: WatchdogService(
                        scheduler: scheduler, notifier: notifier, clock: clock, stuckAfter: stuckAfter,
                        logger: logger),
                    successTerminationBehavior: .ignore, serviceName: "watchdog"),
                .init(
                    service: ReloadSignalService(signals: reloadSignals, controller: controller),
                    serviceName: "SIGHUP"),
                .init(service: ShutdownAnnouncer(notifier: notifier, logger: logger), serviceName: "shutdown"),
            ],
            logger: logger.withLevel(.warning))
        configuration.services += metricsServices()
        if let shared = store.shared {
            let watcher = FleetWatcher(
                serials: { try await shared.publishedSerials() }, listen: { try await shared.changes($0) },
                check: { [scheduler] name in _ = await scheduler.renewNow(name, force: false) },
                installedSerials: { [scheduler, directories, store, logger] in
                    await scheduler.waitUntilRunning()
                    // A spec this node no longer has is no longer its view of that certificate (no stale conflicts).
                    if let specs = store.specs {
                        let names = Set(await scheduler.snapshot().map(\.spec.name))
                        do {
                            try await specs.retain(names: names, node: store.nodeName)
                        } catch {
                            logger.warning("cannot update this node's specs in the store: \(error)")
                        }
                    }
                    var serials: [String: String?] = [:]
                    for entry in await scheduler.snapshot() {
                        // updateValue: `serials[name] = nil` would drop the name instead of recording "none".
                        let installed = await InstalledCertificateReader.load(
                            spec: entry.spec, stateDirectory: directories.state)
                        serials.updateValue(installed?.info.serialHex, forKey: entry.spec.name)
                    }
                    return serials
                }, clock: clock, logger: logger)
            configuration.services.append(.init(service: FleetWatcherService(watcher: watcher), serviceName: "fleet"))
            configuration.services.append(
                .init(
                    service: TaskService { [store, httpPool, scheduler, clock, logger] in
                        await store.mirrorTokens(
                            pool: httpPool,
                            ownAddresses: {
                                await scheduler.snapshot().reduce(into: Set<String>()) {
                                    $0.formUnion($1.spec.challenge.http01ListenAddresses)
                                }
                            }, clock: clock, logger: logger)
                    }, serviceName: "fleet http-01 tokens"))
        }
        // Bounded inside the stop deadline's grace (RunCommand.stopGracePeriod, 5 s), which stays as the last resort for a
        // set of event loops too blocked to run any of this.
        configuration.maximumGracefulShutdownDuration = .seconds(3)
        configuration.maximumCancellationDuration = .seconds(1)
        let group = ServiceGroup(configuration: configuration)
        // The stop signals come from ProcessSignals' thread, not from ServiceLifecycle's UnixSignals (a Dispatch
        // signal source, whose first event would start libdispatch's once-a-second worker monitor).
        let stopper = Task {
            for await _ in stopSignals {
                await group.triggerGracefulShutdown()
                return
            }
        }
        do {
            try await group.run()
        } catch {
            logger.error("a service stopped with an error: \(error)")
        }
        stopper.cancel()
        // Always: an HTTP client released without shutdown() traps.
        await shutdown()
    }

    /// Opens the store (PostgreSQL: runs the pool and migrates the schema, waiting for the database while it is
    /// unreachable and telling systemd so); returns the pool's task, cancelled after ``run(reloadSignals:stopSignals:certificateCount:)``.
    func startStore() async throws -> Task<Void, Never>? {
        try await store.start { [logger, notifier] error in
            logger.warning("waiting for the store: \(error)")
            _ = notifier.status("waiting for the store: \(error)")
            _ = notifier.extendTimeout(by: .seconds(90))
        }
    }

    /// `certkeeper run --once`: one attempt for every certificate due (every one, with `force`), units reloaded,
    /// then the report on standard output. Returns the exit status (``OneShotPlan/exitStatus(_:)``).
    func runOnce(force: Bool) async -> Int32 {
        await reloads.recover()
        let specs = Array(configuration.certificates.values)
        let profiled = specs.filter { $0.profile != nil }
        let refused = profiled.isEmpty ? [:] : await profiles.rejections(for: profiled)
        let runner = OneShotRunner(
            worker: worker, clock: clock, maxConcurrent: configuration.defaults.maxConcurrentOrders
        ) { [stateStore] spec in
            let state: CertificateState?
            do {
                state = try await stateStore.load(name: spec.name)
            } catch {
                return OneShotPlan.Failures(count: 1, lastError: "cannot read this certificate's state: \(error)")
            }
            guard let backoff = state?.backoff else { return .none }
            return OneShotPlan.Failures(
                count: backoff.failures, lastError: backoff.lastError, retryAt: backoff.retryAt)
        }
        var results = await runner.run(specs.filter { refused[$0.name] == nil }, force: force)
        for (name, diagnostic) in refused {
            results[name] = .refused(reason: "\(diagnostic)")
        }
        if let metrics, let path = configuration.defaults.metricsTextfile {
            metrics.update(certificates: await controller.liveStatus().certificates)
            await MetricsTextfile(metrics: metrics, path: path, logger: logger).write()
        }
        await shutdown()
        for line in OneShotPlan.report(results) { print(line) }
        return OneShotPlan.exitStatus(results)
    }

    /// Closes the CA connections (in-flight requests fail; an interrupted order resumes at the next start) and the
    /// challenge responders. Called once, after every service stopped.
    private func shutdown() async {
        // Adopted certificates' schedules still written behind (a stop in the middle of a batch).
        do {
            try await stateStore.flushRecomputable()
        } catch {
            logger.warning(
                "cannot make the certificates' schedules durable (they are worked out again if lost): \(error)")
        }
        await transports.shutdownAll()
        await httpPool.shutdown()
        await tlsPool.shutdown()
    }

    /// The registry when metrics are configured; swift-metrics is bootstrapped to the same registry, so a library
    /// that reports through swift-metrics lands in the same exposition.
    private static func makeMetrics(_ defaults: DaemonDefaults) -> CertkeeperMetrics? {
        guard defaults.metricsListen != nil || defaults.metricsTextfile != nil else { return nil }
        let metrics = CertkeeperMetrics(version: CertkeeperVersion.string)
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
        return metrics
    }

    /// The metrics endpoint and textfile writer that `metrics_listen` and `metrics_textfile` ask for.
    private func metricsServices() -> [ServiceGroupConfiguration.ServiceConfiguration] {
        guard let metrics else { return [] }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let listen = configuration.defaults.metricsListen {
            services.append(
                .init(
                    service: MetricsEndpoint(metrics: metrics, host: listen.host, port: listen.port, logger: logger),
                    successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore,
                    serviceName: "metrics endpoint"))
        }
        if let path = configuration.defaults.metricsTextfile {
            services.append(
                .init(
                    service: MetricsTextfile(metrics: metrics, path: path, logger: logger),
                    successTerminationBehavior: .ignore, serviceName: "metrics textfile"))
        }
        return services
    }

    /// How long an attempt may run past `job_timeout` before the watchdog calls the daemon stuck.
    static let stuckMargin: TimeInterval = 120
}

extension Logger {
    /// A copy that logs at `level` and above (ServiceLifecycle's own start/stop lines are debug noise here).
    func withLevel(_ level: Logger.Level) -> Logger {
        var copy = self
        copy.logLevel = max(copy.logLevel, level)
        return copy
    }
}
