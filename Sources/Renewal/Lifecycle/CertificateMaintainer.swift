import ACMEClient
import ACMECrypto
import ACMEModels
import CertStore
import CertkeeperConfig
import CertkeeperLogging
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
    /// How long one attempt may take (``process(_:force:)``) before it is cancelled and counted as a failure.
    package var jobTimeout: TimeInterval

    package init(
        stateDirectory: String, accounts: AccountManager, clients: ACMEClientPool, issuer: OrderIssuer,
        stateStore: any CertificateStateStore, installer: CertificateInstaller, hooks: HookRunner,
        reloads: ReloadCoalescer, clock: any DaemonClock, random: any RandomSource,
        locks: any LockManager = MemoryLockManager(), jobTimeout: TimeInterval = 1800, logger: Logger
    ) {
        self.locks = locks
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

    package func batchFinished() async {
        await reloads.flush()
    }

    /// Held per certificate while it is processed: another daemon on the same state directory waits its turn.
    package var locks: any LockManager

    package func process(_ spec: CertificateSpec, force: Bool) async -> Date {
        let started = clock.now()
        let outcome = await JobDeadline.run(clock: clock, deadline: started.addingTimeInterval(jobTimeout)) {
            await processUnderLock(spec, force: force)
        }
        switch outcome {
        case .finished(let next): return next
        case .expired:
            // The attempt was cancelled; whatever it left (a pending order, a staged key) is resumed next time.
            let error = JobTimeoutError(certificate: spec.name, timeout: jobTimeout)
            return await failedOutsideAnAttempt(spec, error: error)
        }
    }

    private func processUnderLock(_ spec: CertificateSpec, force: Bool) async -> Date {
        do {
            return try await locks.withLock("cert-\(spec.name)") { await processLocked(spec, force: force) }
        } catch let error as CertStoreError where error.isLockBusy {
            // Not a failure of this certificate, and its state belongs to the lock's holder: nothing is saved.
            let next = CertificateLifecycle.afterLockHeldElsewhere(now: clock.now())
            logger.warning(
                "another process holds this certificate's lock; trying again at \(next): \(error)",
                metadata: Self.metadata(spec))
            return next
        } catch {
            let now = clock.now()
            if Task.isCancelled {
                logger.notice(
                    "attempt interrupted by shutdown while taking the lock: \(error)", metadata: Self.metadata(spec))
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
        guard case .readable(let state) = await loadState(spec) else {
            return CertificateLifecycle.afterUnreadableState(now: now)
        }
        var machine = CertificateLifecycle(spec: spec, state: state)
        let installed = await InstalledCertificateReader.load(spec: spec, stateDirectory: stateDirectory)
        var generator = RandomSourceGenerator(random)
        let failure = Self.failure(error)
        let actions = machine.failedOutsideAnAttempt(
            failure, installed: installed.map(Self.facts), now: now, random: &generator)
        return await perform(actions, machine: &machine, failure: failure, metadata: Self.metadata(spec))
    }

    /// One attempt: the lifecycle decides, this carries its actions out and reports what happened, until it says
    /// when to look again.
    private func processLocked(_ spec: CertificateSpec, force: Bool) async -> Date {
        let now = clock.now()
        var metadata = Self.metadata(spec)
        guard case .readable(let state) = await loadState(spec) else {
            return CertificateLifecycle.afterUnreadableState(now: now)
        }
        var machine = CertificateLifecycle(spec: spec, state: state)
        var generator = RandomSourceGenerator(random)
        let installed = await InstalledCertificateReader.load(spec: spec, stateDirectory: stateDirectory)
        let mismatch = Reconciler.mismatch(spec: spec, installed: installed, state: machine.state)
        if let installed {
            metadata[LogKey.notAfter] = .string(ISO8601DateFormatter().string(from: installed.info.notAfter))
            if mismatch == nil, machine.state.issuer == nil {
                logger.notice(
                    "adopted the installed certificate (valid until \(installed.info.notAfter)); it is renewed on schedule",
                    metadata: metadata)
            }
        }
        let client = try? await clients.client(for: spec.ca)
        // Asked once per attempt: whether the CA offers renewalInfo decides both ARI checks and `replaces`.
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
                    guard !Task.isCancelled else { return interrupted(by: error, now: now, metadata: metadata) }
                    let failure = Self.failure(error)
                    lastFailure = failure
                    actions = machine.handle(.failed(failure), now: now, random: &generator)
                }
            case .install:
                guard let certificate = issued else { continue }
                do {
                    let paths = try await install(certificate, spec: spec)
                    actions = machine.handle(.installed(Self.facts(certificate)), now: now, random: &generator)
                    // Saved before the hooks: a crash while they run does not order again.
                    machine.ended(nextCheck: now)
                    await save(machine.state, spec: spec)
                    metadata[LogKey.notAfter] = .string(
                        ISO8601DateFormatter().string(from: certificate.info.notAfter))
                    let event: CertkeeperEvent = installed == nil ? .issued : .renewed
                    logger.notice(
                        "certificate \(event == .issued ? "issued" : "renewed") for \(spec.domains.joined(separator: ", ")), valid until \(certificate.info.notAfter), installed at \(paths.fullchain)",
                        metadata: metadata.merging(event.metadata) { $1 })
                    deployed = paths
                } catch {
                    guard !Task.isCancelled else { return interrupted(by: error, now: now, metadata: metadata) }
                    let failure = Self.failure(error)
                    lastFailure = failure
                    actions = machine.handle(.failed(failure), now: now, random: &generator)
                }
            case .runDeployHooks:
                if let paths = deployed, !spec.hooks.run.isEmpty {
                    _ = await hooks.runDeployHooks(
                        spec.hooks.run, certificate: spec.name, domains: spec.domains, paths: paths,
                        timeout: .seconds(spec.hooks.timeoutSeconds), logger: logger)
                }
                await reloads.add(spec.hooks.reloadUnits)
            case .runFailureHooks, .waitUntil, .backOff, .waitForReload:
                return await perform([action] + actions, machine: &machine, failure: lastFailure, metadata: metadata)
            }
        }
        // The machine always ends an attempt with a wait; this is a safety net, not a path.
        return await perform([.waitUntil(now)], machine: &machine, failure: nil, metadata: metadata)
    }

    private enum LoadedState {
        case readable(CertificateState?)
        case unreadable
    }

    /// The persisted state (nil when there is none yet). A file that cannot be read (corrupt, or written by a newer
    /// certkeeper) is reported and left alone: nothing is ordered or saved over it until the operator fixes it.
    private func loadState(_ spec: CertificateSpec) async -> LoadedState {
        do {
            return .readable(try await stateStore.load(name: spec.name))
        } catch {
            let next = CertificateLifecycle.afterUnreadableState(now: clock.now())
            logger.error(
                "cannot read this certificate's state: \(error); nothing is ordered or saved until the file is fixed or moved aside; looking again at \(next)",
                metadata: Self.metadata(spec).merging(CertkeeperEvent.renewalFailed.metadata) { $1 })
            return .unreadable
        }
    }

    /// Shutdown cancels the attempt and closes the CA connections under it: not a failure of the CA or the spec (no
    /// backoff, no on_failure hooks); the persisted order resumes at the next start.
    private func interrupted(by error: any Error, now: Date, metadata: Logger.Metadata) -> Date {
        logger.notice("attempt interrupted by shutdown (\(error)); it resumes at the next start", metadata: metadata)
        return now
    }

    /// Orders (or continues the order in flight) and returns the verified certificate. The order in flight is
    /// persisted by the issuer as it advances.
    private func order(
        spec: CertificateSpec, machine: inout CertificateLifecycle, installed: InstalledCertificate?,
        continuing: PendingOrder?, replaces: String?, now: Date
    ) async throws -> IssuedCertificate {
        let account = try await accounts.handle(for: spec.account)
        let client = try await clients.client(for: spec.ca)
        // reuse_key takes the installed key only when it is the installed certificate's own: a key someone put at
        // the install path (or a link to another key on the host) is never adopted for an order.
        let reusableKey = installed.flatMap { $0.keyMatches ? $0.keyPEM : nil }
        return try await issuer.issue(
            spec: spec, account: account, client: client, continuing: continuing, lifecycle: &machine,
            reuseKeyPEM: reusableKey, replaces: replaces, now: now)
    }

    /// Installs the key and chain atomically (the pending key is dropped once they are in place).
    private func install(_ issued: IssuedCertificate, spec: CertificateSpec) async throws -> InstalledPaths {
        let paths = try await BlockingIO.run { [installer, stateDirectory, issued] in
            try installer.install(
                name: spec.name, keyPEM: issued.keyPEM, fullchainPEM: issued.fullchainPEM, certPEM: issued.certPEM,
                chainPEM: issued.chainPEM, spec: spec.install.target, stateDirectory: stateDirectory)
        }
        try? await stateStore.clearPendingKey(name: spec.name)
        return paths
    }

    /// Carries out the end of an attempt: failure hooks, and the wait the machine chose, persisted.
    private func perform(
        _ actions: [CertificateLifecycle.Action], machine: inout CertificateLifecycle,
        failure: CertificateLifecycle.Failure?, metadata: Logger.Metadata
    ) async -> Date {
        let spec = machine.spec
        var next = clock.now()
        var hooksMessage: String?
        for action in actions {
            switch action {
            case .runFailureHooks(let message): hooksMessage = message
            case .waitUntil(let date), .backOff(let date): next = date
            case .waitForReload: next = .distantFuture
            case .fetchARI, .order, .continueOrder, .install, .runDeployHooks: continue
            }
        }
        if let failure, let backoff = machine.state.backoff {
            let kind: String
            switch failure.disposition {
            case .retryAttemptSoon: kind = "transient fault"
            case .waitForReload: kind = "waits for a configuration change and `systemctl reload certkeeper`"
            case .backOff, .retryRequestNow, .retryRequestAfter: kind = "refused"
            }
            var fields = metadata.merging(CertkeeperEvent.renewalFailed.metadata) { $1 }
            if let type = failure.problemType { fields[LogKey.problemType] = .string(type) }
            let when = next == .distantFuture ? "next try after a reload" : "next try \(next)"
            logger.log(
                level: hooksMessage != nil ? .error : .warning,
                "renewal failed (attempt \(backoff.failures), \(kind), \(when)): \(failure.message); the installed certificate, if any, stays in place",
                metadata: fields)
        }
        machine.ended(nextCheck: next)
        await save(machine.state, spec: spec)
        if let hooksMessage, !spec.hooks.onFailure.isEmpty {
            _ = await hooks.runFailureHooks(
                spec.hooks.onFailure, certificate: spec.name, domains: spec.domains, error: hooksMessage,
                timeout: .seconds(spec.hooks.timeoutSeconds), logger: logger)
        }
        return next
    }

    /// How `error` ended the attempt, for the lifecycle.
    static func failure(_ error: any Error) -> CertificateLifecycle.Failure {
        let problem = (error as? ACMEProblem) ?? (error as? IssueError)?.problem
        // The message may quote a CA: one line, bounded, for the state file, `status`, the log and the hooks.
        return CertificateLifecycle.Failure(
            disposition: FailureClassifier.attempt(error),
            message: UntrustedText.sanitized("\(error)", maxBytes: UntrustedText.messageLimit),
            problemType: problem?.type.rawValue,
            retryAfter: problem?.retryAfter.map { Double($0.components.seconds) })
    }

    static func facts(_ issued: IssuedCertificate) -> CertificateLifecycle.Installed {
        CertificateLifecycle.Installed(
            serial: issued.info.serialHex, notBefore: issued.info.notBefore, notAfter: issued.info.notAfter,
            ariCertID: issued.ariCertID)
    }

    static func facts(_ installed: InstalledCertificate) -> CertificateLifecycle.Installed {
        CertificateLifecycle.Installed(
            serial: installed.info.serialHex, notBefore: installed.info.notBefore, notAfter: installed.info.notAfter,
            ariCertID: installed.ariCertID)
    }

    private func save(_ state: CertificateState, spec: CertificateSpec) async {
        do {
            try await stateStore.save(state)
        } catch {
            logger.error("cannot save state: \(error)", metadata: Self.metadata(spec))
        }
    }

    static func metadata(_ spec: CertificateSpec) -> Logger.Metadata {
        [
            LogKey.cert: .string(spec.name), LogKey.domains: .string(spec.domains.joined(separator: " ")),
            LogKey.ca: .string(spec.ca.directoryURL), LogKey.account: .string(spec.account.name),
        ]
    }
}
