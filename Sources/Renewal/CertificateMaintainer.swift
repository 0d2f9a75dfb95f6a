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
public struct CertificateMaintainer: CertificateWorker {
    public var stateDirectory: String
    public var accounts: AccountManager
    public var clients: ACMEClientPool
    public var issuer: OrderIssuer
    public var stateStore: any CertificateStateStore
    public var installer: CertificateInstaller
    public var hooks: HookRunner
    public var reloads: ReloadCoalescer
    public var clock: any DaemonClock
    public var random: any RandomSource
    public var logger: Logger
    /// How long one attempt may take (``process(_:force:)``) before it is cancelled and counted as a failure.
    public var jobTimeout: TimeInterval

    public init(
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

    public func firstDue(_ spec: CertificateSpec) async -> Date {
        let now = clock.now()
        guard let state = try? await stateStore.load(name: spec.name), let next = state.nextCheck else { return now }
        // A spec edited while the daemon was down is reconciled at once.
        if state.specFingerprint != Self.fingerprint(spec) { return now }
        // Parked until the configuration changes: a start or a reload re-reads it, so try again now (the operator
        // may have fixed the spec, the account settings or the EAB key in any file).
        if next == .distantFuture { return now }
        return next
    }

    public func batchFinished() async {
        await reloads.flush()
    }

    /// Consecutive transient faults after which they are logged as errors and `on_failure` hooks run.
    public static let transientFailuresBeforeAlert = 3

    /// Held per certificate while it is processed: another daemon on the same state directory waits its turn.
    public var locks: any LockManager

    public func process(_ spec: CertificateSpec, force: Bool) async -> Date {
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
            logger.warning(
                "another process holds this certificate's lock; trying again in a minute: \(error)",
                metadata: Self.metadata(spec))
            return clock.now().addingTimeInterval(60)
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
        var state = (try? await stateStore.load(name: spec.name)) ?? CertificateState(name: spec.name)
        let installed = await InstalledCertificateReader.load(spec: spec, stateDirectory: stateDirectory)
        return await failed(
            spec: spec, state: &state, error: error, installed: installed?.info, now: clock.now(),
            metadata: Self.metadata(spec))
    }

    private func processLocked(_ spec: CertificateSpec, force: Bool) async -> Date {
        let now = clock.now()
        var metadata = Self.metadata(spec)
        var state = (try? await stateStore.load(name: spec.name)) ?? CertificateState(name: spec.name)
        let installed = await InstalledCertificateReader.load(spec: spec, stateDirectory: stateDirectory)
        var reason = Reconciler.mismatch(spec: spec, installed: installed, state: state)
        if let installed {
            metadata[LogKey.notAfter] = .string(ISO8601DateFormatter().string(from: installed.info.notAfter))
        }
        if reason == nil, let installed {
            if state.issuerDirectoryURL == nil {
                // First meeting with a matching certificate (e.g. migrated from certbot): adopt it.
                state.issuerDirectoryURL = spec.ca.directoryURL
                state.accountName = spec.account.name
                logger.notice(
                    "adopted the installed certificate (valid until \(installed.info.notAfter)); it is renewed on schedule",
                    metadata: metadata)
            }
            // Called before its planned check (`renew NAME`, a changed spec): ask ARI again now, whatever the
            // cached Retry-After says, so a window the CA just moved is seen.
            let outOfSchedule = state.nextCheck.map { now < $0 } ?? true
            let (renewAt, recheck) = await renewalTime(
                spec: spec, installed: installed, state: &state, now: now, refreshARI: outOfSchedule)
            if force {
                reason = "renewal requested"
            } else if now >= renewAt {
                reason = "inside the renewal window"
            } else {
                let next = min(renewAt, recheck ?? .distantFuture)
                await save(&state, spec: spec, next: next)
                return next
            }
        }
        if !force, let next = state.nextAttempt, next > now {
            await save(&state, spec: spec, next: next)
            return next
        }
        logger.info("ordering: \(reason ?? "due")", metadata: metadata)
        do {
            let account = try await accounts.handle(for: spec.account)
            let client = try await clients.client(for: spec.ca)
            var replaces: String?
            if let installed, Reconciler.mismatch(spec: spec, installed: installed, state: state) == nil,
                (try? await client.directory().renewalInfo) != nil
            {
                replaces = installed.ariCertID
            }
            // reuse_key takes the installed key only when it is the installed certificate's own: a key someone put
            // at the install path (or a link to another key on the host) is never adopted for an order.
            let reusableKey = installed.flatMap { $0.keyMatches ? $0.keyPEM : nil }
            var issued: IssuedCertificate
            do {
                issued = try await issuer.issue(
                    spec: spec, account: account, client: client, state: &state, reuseKeyPEM: reusableKey,
                    replaces: replaces, now: now)
            } catch let problem as ACMEProblem where problem.type == .alreadyReplaced && replaces != nil {
                issued = try await issuer.issue(
                    spec: spec, account: account, client: client, state: &state, reuseKeyPEM: reusableKey,
                    replaces: nil, now: now)
            }
            let paths = try await BlockingIO.run { [installer, stateDirectory, issued] in
                try installer.install(
                    name: spec.name, keyPEM: issued.keyPEM, fullchainPEM: issued.fullchainPEM,
                    certPEM: issued.certPEM, chainPEM: issued.chainPEM, spec: spec.install.target,
                    stateDirectory: stateDirectory)
            }
            try? await stateStore.clearPendingKey(name: spec.name)
            state.orderURL = nil
            state.orderAccountURL = nil
            state.orderDomains = nil
            state.orderKeyType = nil
            state.failureCount = 0
            state.transientFailureCount = nil
            state.lastError = nil
            state.lastErrorType = nil
            state.nextAttempt = nil
            state.lastIssued = now
            state.issuerDirectoryURL = spec.ca.directoryURL
            state.accountName = spec.account.name
            state.scheduledRenewal = nil
            state.scheduledSerial = nil
            state.ariRetryAfter = nil
            state.ariWindowStart = nil
            state.ariWindowEnd = nil
            metadata[LogKey.notAfter] = .string(ISO8601DateFormatter().string(from: issued.info.notAfter))
            let event: CertkeeperEvent = installed == nil ? .issued : .renewed
            logger.notice(
                "certificate \(event == .issued ? "issued" : "renewed") for \(spec.domains.joined(separator: ", ")), valid until \(issued.info.notAfter), installed at \(paths.fullchain)",
                metadata: metadata.merging(event.metadata) { $1 })
            await save(&state, spec: spec, next: now)
            if !spec.hooks.run.isEmpty {
                _ = await hooks.runDeployHooks(
                    spec.hooks.run, certificate: spec.name, domains: spec.domains, paths: paths,
                    timeout: .seconds(spec.hooks.timeoutSeconds), logger: logger)
            }
            await reloads.add(spec.hooks.reloadUnits)
            let newInstalled = InstalledCertificate(
                info: issued.info, keyPEM: issued.keyPEM, keyType: spec.keyType, keyMatches: true,
                ariCertID: issued.ariCertID)
            let (renewAt, recheck) = await renewalTime(spec: spec, installed: newInstalled, state: &state, now: now)
            let next = min(renewAt, recheck ?? .distantFuture)
            await save(&state, spec: spec, next: next)
            return next
        } catch {
            // Shutdown cancels the attempt and closes the CA connections under it: not a failure of the CA or the
            // spec (no backoff, no on_failure hooks); the persisted order resumes at the next start.
            if Task.isCancelled {
                logger.notice(
                    "attempt interrupted by shutdown (\(error)); it resumes at the next start", metadata: metadata)
                return now
            }
            return await failed(
                spec: spec, state: &state, error: error, installed: installed?.info, now: now, metadata: metadata)
        }
    }

    private func failed(
        spec: CertificateSpec, state: inout CertificateState, error: any Error, installed: CertificateInfo?, now: Date,
        metadata: Logger.Metadata
    ) async -> Date {
        let problem = (error as? ACMEProblem) ?? (error as? IssueError)?.problem
        state.failureCount += 1
        // The message may quote a CA: one line, bounded, for the state file, `status`, the log and the hooks.
        let message = UntrustedText.sanitized("\(error)", maxBytes: UntrustedText.messageLimit)
        state.lastError = message
        state.lastErrorType = problem?.type.rawValue
        state.lastFailure = now
        var generator = RandomSourceGenerator(random)
        let retryAfter = problem?.retryAfter.map { Double($0.components.seconds) }
        let window = installed.map { ($0.notBefore, $0.notAfter) }
        let disposition = FailureClassifier.attempt(error)
        // Each ladder climbs with its own count, so an hour of CA outage does not make the next refusal wait a day.
        let transient = (state.transientFailureCount ?? 0) + (disposition == .retryAttemptSoon ? 1 : 0)
        state.transientFailureCount = transient
        let refusals = max(state.failureCount - transient, 1)
        let delay: TimeInterval
        let kind: String
        switch disposition {
        case .retryAttemptSoon:
            // A transient fault: soon, and the next attempt continues the same order (it stays in the state).
            delay = RenewalPolicy.transientRetryDelay(
                failureCount: transient, retryAfter: retryAfter, installed: window, now: now, random: &generator)
            kind = "transient fault"
        case .waitForReload:
            delay = RenewalPolicy.nextAttemptDelay(
                failureCount: refusals, retryAfter: retryAfter, installed: window, now: now, random: &generator)
            kind = "waits for a configuration change and `systemctl reload certkeeper`"
        case .backOff, .retryRequestNow, .retryRequestAfter:
            delay = RenewalPolicy.nextAttemptDelay(
                failureCount: refusals, retryAfter: retryAfter, installed: window, now: now, random: &generator)
            kind = "refused"
        }
        let waitsForReload = disposition == .waitForReload
        let next = now.addingTimeInterval(delay)
        // Parked: no backoff time; the next start or reload tries again (firstDue), whatever the ladder says.
        state.nextAttempt = waitsForReload ? nil : next
        // A transient fault is worth an operator's attention (error level, on_failure hooks) once it persists or the
        // certificate nears its end; a single dropped connection is not.
        let urgent =
            disposition != .retryAttemptSoon || transient >= Self.transientFailuresBeforeAlert
            || installed.map { now >= RenewalPolicy.lastTenthStart(notBefore: $0.notBefore, notAfter: $0.notAfter) }
                ?? false
        var fields = metadata.merging(CertkeeperEvent.renewalFailed.metadata) { $1 }
        if let problem { fields[LogKey.problemType] = .string(problem.type.rawValue) }
        let when = waitsForReload ? "next try after a reload" : "next try \(next)"
        logger.log(
            level: urgent ? .error : .warning,
            "renewal failed (attempt \(state.failureCount), \(kind), \(when)): \(message); the installed certificate, if any, stays in place",
            metadata: fields)
        await save(&state, spec: spec, next: waitsForReload ? .distantFuture : next)
        if urgent, !spec.hooks.onFailure.isEmpty {
            _ = await hooks.runFailureHooks(
                spec.hooks.onFailure, certificate: spec.name, domains: spec.domains, error: message,
                timeout: .seconds(spec.hooks.timeoutSeconds), logger: logger)
        }
        return waitsForReload ? .distantFuture : next
    }

    /// The renewal time of `installed` and, when the CA offers ARI, when to ask it again.
    private func renewalTime(
        spec: CertificateSpec, installed: InstalledCertificate, state: inout CertificateState, now: Date,
        refreshARI: Bool = false
    ) async -> (Date, Date?) {
        var generator = RandomSourceGenerator(random)
        let serial = installed.info.serialHex
        if state.scheduledSerial != serial || state.scheduledRenewal == nil {
            state.scheduledRenewal = RenewalPolicy.renewalTime(
                notBefore: installed.info.notBefore, notAfter: installed.info.notAfter, renewBefore: spec.renewBefore,
                ariWindow: nil, random: &generator)
            state.scheduledSerial = serial
            state.ariWindowStart = nil
            state.ariWindowEnd = nil
            state.ariRetryAfter = nil
        }
        guard let certID = installed.ariCertID, installed.info.notAfter > now,
            let client = try? await clients.client(for: spec.ca),
            (try? await client.directory().renewalInfo) != nil
        else { return (state.scheduledRenewal!, nil) }
        if !refreshARI, let retry = state.ariRetryAfter, retry > now { return (state.scheduledRenewal!, retry) }
        do {
            let (info, retryAfter) = try await client.renewalInfo(certID: certID)
            let retrySeconds = retryAfter.map { Double($0.components.seconds) }
            state.ariRetryAfter = now.addingTimeInterval(RenewalPolicy.ariRecheckDelay(retryAfter: retrySeconds))
            if let info {
                let window = RenewalPolicy.Window(start: info.suggestedWindow.start, end: info.suggestedWindow.end)
                if window.isValid, state.ariWindowStart != window.start || state.ariWindowEnd != window.end {
                    state.ariWindowStart = window.start
                    state.ariWindowEnd = window.end
                    state.scheduledRenewal = RenewalPolicy.renewalTime(
                        notBefore: installed.info.notBefore, notAfter: installed.info.notAfter,
                        renewBefore: spec.renewBefore, ariWindow: window, random: &generator)
                    logger.info(
                        "ARI suggests renewing between \(window.start) and \(window.end); chose \(state.scheduledRenewal!)",
                        metadata: Self.metadata(spec))
                }
            }
        } catch {
            state.ariRetryAfter = now.addingTimeInterval(RenewalPolicy.ariRecheckDelay(retryAfter: nil))
            logger.warning("renewalInfo request failed, will ask again later: \(error)", metadata: Self.metadata(spec))
        }
        return (state.scheduledRenewal!, state.ariRetryAfter)
    }

    private func save(_ state: inout CertificateState, spec: CertificateSpec, next: Date) async {
        state.nextCheck = next
        state.specFingerprint = Self.fingerprint(spec)
        do {
            try await stateStore.save(state)
        } catch {
            logger.error("cannot save state: \(error)", metadata: Self.metadata(spec))
        }
    }

    /// Identifies the parts of a spec that decide what to order, so an edit made while stopped is noticed.
    static func fingerprint(_ spec: CertificateSpec) -> String {
        "\(spec.domains.sorted().joined(separator: ","))|\(spec.keyType.rawValue)|\(spec.ca.directoryURL)|\(spec.account.name)|\(spec.renewBefore.map { "\($0)" } ?? "")|\(spec.install.fullchain ?? "")"
    }

    static func metadata(_ spec: CertificateSpec) -> Logger.Metadata {
        [
            LogKey.cert: .string(spec.name), LogKey.domains: .string(spec.domains.joined(separator: " ")),
            LogKey.ca: .string(spec.ca.directoryURL), LogKey.account: .string(spec.account.name),
        ]
    }
}
