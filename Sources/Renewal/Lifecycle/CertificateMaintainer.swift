import ACMEClient
import ACMECrypto
import ACMEModels
import CertStore
import CertkeeperConfig
import CertkeeperLogging
import DaemonThreads
import Foundation
import Installer
import Logging
import SafeFiles

/// The daemon's ``CertificateWorker``: reconciles a spec with what is installed, orders when needed,
/// installs, runs hooks, and decides when the certificate next needs attention.
package struct CertificateMaintainer: CertificateWorker {
    package var stateDirectory: String
    package var accounts: AccountManager
    package var clients: ACMEClientPool
    package var issuer: OrderIssuer
    package var stateStore: any CertificateStateStore
    package var installer: CertificateInstaller
    package var hooks: HookRunner
    package var reloads: ReloadCoalescer
    package var clock: any DaemonClock
    package var random: any RandomSource
    package var logger: Logger
    /// What each attempt ends with, for the one-line status.
    package var facts: CertificateFactsBoard
    /// How long one attempt may take (``process(_:force:)``) before it is cancelled and counted as a failure.
    package var jobTimeout: TimeInterval
    /// Told how each renewal attempt ended (metrics).
    package var observer: (any RenewalObserver)?
    /// Told how each attempt advances (`renew --wait`).
    package var progress: AttemptProgressBoard?
    /// The fleet's certificates (PostgreSQL backend): what any node issued is installed here instead of ordered again.
    package var shared: (any SharedCertificateStore)?
    /// This node in what it publishes.
    package var nodeName: String
    /// Each node's view of each spec (PostgreSQL backend): a certificate whose spec differs between live nodes is
    /// reported, not ordered by both.
    package var specRegistry: (any FleetSpecRegistry)?

    package init(
        stateDirectory: String, accounts: AccountManager, clients: ACMEClientPool, issuer: OrderIssuer,
        stateStore: any CertificateStateStore, installer: CertificateInstaller, hooks: HookRunner,
        reloads: ReloadCoalescer, clock: any DaemonClock, random: any RandomSource,
        locks: any LockManager = MemoryLockManager(), jobTimeout: TimeInterval = 1800,
        facts: CertificateFactsBoard = CertificateFactsBoard(), observer: (any RenewalObserver)? = nil,
        progress: AttemptProgressBoard? = nil, shared: (any SharedCertificateStore)? = nil,
        nodeName: String = "local", specRegistry: (any FleetSpecRegistry)? = nil, logger: Logger
    ) {
        self.specRegistry = specRegistry
        self.shared = shared
        self.nodeName = nodeName
        self.progress = progress
        self.observer = observer
        self.locks = locks
        self.facts = facts
        self.jobTimeout = jobTimeout
        self.stateDirectory = stateDirectory
        self.accounts = accounts
        self.clients = clients
        self.issuer = issuer
        self.stateStore = stateStore
        self.installer = installer
        self.hooks = hooks
        self.reloads = reloads
        self.clock = clock
        self.random = random
        self.logger = logger
    }

    package func firstDue(_ spec: CertificateSpec) async -> Date {
        // Unreadable: due now, and the attempt reports it (``loadState(_:)``).
        let state = try? await stateStore.load(name: spec.name)
        return CertificateLifecycle(spec: spec, state: state).firstDue(now: clock.now())
    }

    /// One store call per 256 of them: scheduling a reload's 9,000 new certificates took 9,000 hops onto the state
    /// store's thread and back, one after another; in one call it would hold that thread (and the saves of attempts
    /// in flight) for all 9,000 reads.
    package func firstDue(_ specs: [CertificateSpec]) async -> [Date] {
        var dates: [Date] = []
        dates.reserveCapacity(specs.count)
        for start in stride(from: 0, to: specs.count, by: 256) {
            let chunk = specs[start..<min(start + 256, specs.count)]
            let states = await stateStore.loadEach(names: chunk.map(\.name))
            let now = clock.now()
            for (spec, state) in zip(chunk, states) {
                dates.append(CertificateLifecycle(spec: spec, state: state).firstDue(now: now))
            }
        }
        return dates
    }

    package func batchFinished() async {
        do {
            try await stateStore.flushRecomputable()
        } catch {
            // Not lost work: each of those states is found again at its certificate's next look.
            logger.warning(
                "cannot make the certificates' schedules durable (they are worked out again if lost): \(error)")
        }
        await reloads.flush()
        // The batch's memory (orders, parsed certificates, a reload's adoptions) is free now but would stay resident.
        HeapMemory.releaseFreePages()
    }

    /// Held per certificate while it is processed: another daemon on the same state directory waits its turn.
    package var locks: any LockManager

    package func process(_ spec: CertificateSpec, force: Bool) async -> Date {
        let started = clock.now()
        progress?.publish(spec.name, .started(forced: force))
        let outcome = await JobDeadline.run(clock: clock, deadline: started.addingTimeInterval(jobTimeout)) {
            await processUnderLock(spec, force: force)
        }
        let next: Date
        switch outcome {
        case .finished(let date): next = date
        case .expired:
            // The attempt was cancelled; whatever it left (a pending order, a staged key) is resumed next time.
            let error = JobTimeoutError(certificate: spec.name, timeout: jobTimeout)
            if shared != nil {
                // A fleet node's lease went with the attempt (and another node may hold it by now): nothing is
                // written without it. Looked at again soon, under the lease.
                next = CertificateLifecycle.afterLockHeldElsewhere(now: clock.now())
                logger.error("\(error); looking again at \(next)", metadata: Self.metadata(spec))
            } else {
                next = await failedOutsideAnAttempt(spec, error: error)
            }
        }
        progress?.publish(spec.name, .ended(next: next))
        return next
    }

    private func processUnderLock(_ spec: CertificateSpec, force: Bool) async -> Date {
        do {
            return try await locks.withLock(LeaseFence.certificateLockName(spec.name)) {
                await processLocked(spec, force: force)
            }
        } catch let error as LeaseLost {
            return leaseLost(spec, error, metadata: Self.metadata(spec))
        } catch let error as CertStoreError where error.isLockBusy {
            // Not a failure of this certificate, and its state belongs to the lock's holder: nothing is saved.
            let next = CertificateLifecycle.afterLockHeldElsewhere(now: clock.now())
            logger.warning(
                "another process holds this certificate's lock; trying again at \(next): \(error)",
                metadata: Self.metadata(spec))
            progress?.publish(spec.name, .failed(message: "another process holds this certificate's lock: \(error)"))
            return next
        } catch {
            let now = clock.now()
            if Task.isCancelled {
                logger.notice(
                    "attempt interrupted by shutdown while taking the lock: \(error)", metadata: Self.metadata(spec))
                progress?.publish(spec.name, .failed(message: "interrupted by shutdown"))
                return now
            }
            // Not another process's lock but an unusable state directory (read-only, full, not a directory,
            // permissions): a failure like any other, recorded, backed off and reported to on_failure hooks.
            return await failedOutsideAnAttempt(spec, error: error)
        }
    }

    /// Records a failure that ended an attempt from outside it (its deadline, its lock), as the attempt would have.
    private func failedOutsideAnAttempt(_ spec: CertificateSpec, error: any Error) async -> Date {
        let now = clock.now()
        let loaded = await loadState(spec)
        guard case .readable(let state) = loaded else {
            if case .unreadable(let next) = loaded { return next }
            return CertificateLifecycle.afterUnreadableState(now: now)
        }
        var machine = CertificateLifecycle(spec: spec, state: state)
        let installed = await InstalledCertificateReader.load(spec: spec, stateDirectory: stateDirectory)
        var generator = RandomSourceGenerator(random)
        let failure = Self.failure(error)
        let actions = machine.failedOutsideAnAttempt(
            failure, installed: installed.map(Self.facts), now: now, random: &generator)
        return await perform(
            actions, machine: &machine, failure: failure, notAfter: installed?.info.notAfter,
            chainRoot: installed?.chainRoot, metadata: Self.metadata(spec))
    }

    /// One attempt: the lifecycle decides, this carries its actions out and reports what happened, until it says
    /// when to look again. A failure is handed to the lifecycle with the time it happened, not the attempt's start:
    /// its back-off counts from then (an attempt that spent longer than its back-off failing, say a minute trying
    /// to reach the CA, was otherwise due again at once).
    private func processLocked(_ spec: CertificateSpec, force: Bool) async -> Date {
        let now = clock.now()
        var metadata = Self.metadata(spec)
        let loaded = await loadState(spec)
        guard case .readable(let state) = loaded else {
            if case .unreadable(let next) = loaded { return next }
            return CertificateLifecycle.afterUnreadableState(now: now)
        }
        var machine = CertificateLifecycle(spec: spec, state: state)
        var generator = RandomSourceGenerator(random)
        var installed = await InstalledCertificateReader.load(spec: spec, stateDirectory: stateDirectory)
        if shared != nil || specRegistry != nil {
            do {
                if let specRegistry {
                    let others = try await specRegistry.declare(
                        name: spec.name, fingerprint: CertificateLifecycle.fleetFingerprint(spec), node: nodeName)
                    if !others.isEmpty { throw FleetSpecConflict(certificate: spec.name, nodes: others) }
                }
                if let fleet = try await installPublished(
                    spec, installed: installed, machine: &machine, random: &generator, metadata: metadata)
                {
                    installed = fleet
                }
            } catch {
                guard !Task.isCancelled else { return interrupted(spec, by: error, now: now, metadata: metadata) }
                let failure = Self.failure(error)
                let actions = machine.handle(.failed(failure), now: clock.now(), random: &generator)
                return await perform(
                    actions, machine: &machine, failure: failure, notAfter: installed?.info.notAfter,
                    chainRoot: installed?.chainRoot, metadata: metadata)
            }
        }
        let mismatch = Reconciler.mismatch(spec: spec, installed: installed, state: machine.state)
        if let installed {
            metadata[LogKey.notAfter] = .string(ACMEJSON.formatRFC3339(installed.info.notAfter))
            if mismatch == nil, machine.state.issuer == nil {
                logger.notice(
                    "adopted the installed certificate (valid until \(installed.info.notAfter)); it is renewed on schedule",
                    metadata: metadata)
            }
        }
        let client = try? await clients.client(for: spec.ca)
        // Asked once per attempt (the directory is cached): it decides the ARI questions before and after an order
        // and whether an order may name the installed certificate in `replaces`.
        var ariOffered = false
        if let client { ariOffered = (try? await client.directory().renewalInfo) != nil }
        var issued: IssuedCertificate?
        var deployed: InstalledPaths?
        var lastFailure: CertificateLifecycle.Failure?
        var actions = machine.handle(
            .inspected(installed: installed.map(Self.facts), mismatch: mismatch, force: force, ariOffered: ariOffered),
            now: now, random: &generator)
        while let action = actions.first {
            actions.removeFirst()
            switch action {
            case .fetchARI(let certID):
                guard let client else {
                    actions = machine.handle(.ariFailed, now: now, random: &generator)
                    continue
                }
                do {
                    let (info, retryAfter) = try await client.renewalInfo(certID: certID)
                    let window = info.map {
                        RenewalPolicy.Window(start: $0.suggestedWindow.start, end: $0.suggestedWindow.end)
                    }
                    let before = machine.state.schedule
                    actions = machine.handle(
                        .ariAnswered(window: window, retryAfter: retryAfter.map { Double($0.components.seconds) }),
                        now: now, random: &generator)
                    if let window, let chosen = machine.state.schedule, chosen != before {
                        logger.info(
                            "ARI suggests renewing between \(window.start) and \(window.end); chose \(chosen.renewAt)",
                            metadata: metadata)
                    }
                } catch {
                    logger.warning("renewalInfo request failed, will ask again later: \(error)", metadata: metadata)
                    actions = machine.handle(.ariFailed, now: now, random: &generator)
                }
            case .order(let reason, let replaces), .continueOrder(_, let reason, let replaces):
                // For continueOrder the issuer looks at the order in flight first and opens a new one if the CA can no
                // longer complete it.
                logger.info("ordering: \(reason)", metadata: metadata)
                var continuing: PendingOrder?
                if case .continueOrder(let order, _, _) = action { continuing = order }
                do {
                    let certificate = try await order(
                        spec: spec, machine: &machine, installed: installed, continuing: continuing,
                        replaces: replaces, now: now)
                    issued = certificate
                    actions = machine.handle(.issued(Self.facts(certificate)), now: now, random: &generator)
                } catch {
                    guard !Task.isCancelled else { return interrupted(spec, by: error, now: now, metadata: metadata) }
                    if let lost = error as? LeaseLost { return leaseLost(spec, lost, metadata: metadata) }
                    let failure = Self.failure(error)
                    lastFailure = failure
                    actions = machine.handle(.failed(failure), now: clock.now(), random: &generator)
                }
            case .install:
                guard let certificate = issued else { continue }
                do {
                    let installStarted = ContinuousClock.now
                    // Published first: a crash before the local install leaves it where every node (this one after
                    // a restart included) installs it instead of ordering again.
                    if let shared {
                        try await shared.publish(
                            SharedCertificate(issued: certificate, name: spec.name, publishedBy: nodeName))
                    }
                    let paths = try await install(certificate, spec: spec)
                    var timings = certificate.timings
                    timings.add(.install, ContinuousClock.now - installStarted)
                    actions = machine.handle(.installed(Self.facts(certificate)), now: now, random: &generator)
                    // Saved before the hooks: a crash while they run does not order again.
                    machine.ended(nextCheck: now)
                    await save(machine.state, spec: spec)
                    metadata[LogKey.notAfter] = .string(
                        ACMEJSON.formatRFC3339(certificate.info.notAfter))
                    let event: CertkeeperEvent = installed == nil ? .issued : .renewed
                    logger.notice(
                        "certificate \(event == .issued ? "issued" : "renewed") for \(spec.domains.joined(separator: ", ")), valid until \(certificate.info.notAfter), installed at \(paths.fullchain)",
                        metadata: metadata.merging(event.metadata) { $1 })
                    deployed = paths
                    progress?.publish(
                        spec.name, .installed(notAfter: certificate.info.notAfter, fullchain: paths.fullchain))
                    logger.info("order timings: \(timings.summary)", metadata: metadata)
                } catch {
                    guard !Task.isCancelled else { return interrupted(spec, by: error, now: now, metadata: metadata) }
                    if let lost = error as? LeaseLost { return leaseLost(spec, lost, metadata: metadata) }
                    let failure = Self.failure(error)
                    lastFailure = failure
                    actions = machine.handle(.failed(failure), now: clock.now(), random: &generator)
                }
            case .runDeployHooks:
                if let paths = deployed, !spec.hooks.run.isEmpty {
                    _ = await hooks.runDeployHooks(
                        spec.hooks.run, certificate: spec.name, domains: spec.domains, paths: paths,
                        timeout: .seconds(spec.hooks.timeoutSeconds), logger: logger)
                }
                await reloads.add(spec.hooks.reloadUnits)
            case .runFailureHooks, .waitUntil, .backOff, .waitForReload:
                return await perform(
                    [action] + actions, machine: &machine, failure: lastFailure,
                    notAfter: (deployed != nil ? issued : nil)?.info.notAfter ?? installed?.info.notAfter,
                    chainRoot: deployed != nil ? issued?.chainRoot : installed?.chainRoot,
                    installed: deployed != nil, metadata: metadata)
            }
        }
        // The machine always ends an attempt with a wait; this is a safety net, not a path.
        return await perform(
            [.waitUntil(now)], machine: &machine, failure: nil,
            notAfter: (deployed != nil ? issued : nil)?.info.notAfter ?? installed?.info.notAfter,
            chainRoot: deployed != nil ? issued?.chainRoot : installed?.chainRoot,
            installed: deployed != nil, metadata: metadata)
    }
}
