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

/// The steps an attempt carries out for the lifecycle, and how it reports them.
extension CertificateMaintainer {
    enum LoadedState {
        case readable(CertificateState?)
        /// Not read; look again at `next`.
        case unreadable(next: Date)
    }

    /// The persisted state (nil when there is none yet). A file that cannot be read (corrupt, or written by a newer
    /// certkeeper) is reported and left alone: nothing is ordered or saved over it until the operator fixes it.
    func loadState(_ spec: CertificateSpec) async -> LoadedState {
        do {
            return .readable(try await stateStore.load(name: spec.name))
        } catch {
            if isStoreOutage(error) {
                // The shared store is unreachable: what is installed stays; nothing is decided without the state.
                let next = CertificateLifecycle.afterStoreOutage(now: clock.now())
                logger.warning(
                    "cannot read this certificate's state: \(error); looking again at \(next)",
                    metadata: Self.metadata(spec))
                progress?.publish(spec.name, .failed(message: "the store is unavailable: \(error)"))
                return .unreadable(next: next)
            }
            let next = CertificateLifecycle.afterUnreadableState(now: clock.now())
            logger.error(
                "cannot read this certificate's state: \(error); nothing is ordered or saved until the file is fixed or moved aside; looking again at \(next)",
                metadata: Self.metadata(spec).merging(CertkeeperEvent.renewalFailed.metadata) { $1 })
            progress?.publish(spec.name, .failed(message: "cannot read this certificate's state: \(error)"))
            return .unreadable(next: next)
        }
    }

    /// Shutdown cancels the attempt and closes the CA connections under it: not a failure of the CA or the spec (no
    /// backoff, no on_failure hooks); the persisted order resumes at the next start.
    func interrupted(_ spec: CertificateSpec, by error: any Error, now: Date, metadata: Logger.Metadata) -> Date {
        logger.notice("attempt interrupted by shutdown (\(error)); it resumes at the next start", metadata: metadata)
        progress?.publish(spec.name, .failed(message: "interrupted by shutdown; it resumes at the next start"))
        return now
    }

    /// Another node may hold this certificate now (its lease was lost, or a write found it gone): nothing more is
    /// written, no hooks, no backoff; looked at again soon, under the lease.
    func leaseLost(_ spec: CertificateSpec, _ error: LeaseLost, metadata: Logger.Metadata) -> Date {
        let next = CertificateLifecycle.afterLockHeldElsewhere(now: clock.now())
        logger.warning("\(error); looking again at \(next)", metadata: metadata)
        progress?.publish(spec.name, .failed(message: "\(error)"))
        return next
    }

    /// Orders (or continues the order in flight) and returns the verified certificate. The order in flight is
    /// persisted by the issuer as it advances.
    func order(
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
    func install(_ issued: IssuedCertificate, spec: CertificateSpec) async throws -> InstalledPaths {
        let paths = try await BlockingIO.run { [installer, stateDirectory, issued] in
            try installer.install(
                name: spec.name, keyPEM: issued.keyPEM, fullchainPEM: issued.fullchainPEM, certPEM: issued.certPEM,
                chainPEM: issued.chainPEM, spec: spec.install.target, stateDirectory: stateDirectory)
        }
        try? await stateStore.clearPendingKey(name: spec.name)
        return paths
    }

    /// Carries out the end of an attempt: failure hooks, and the wait the machine chose, persisted and recorded
    /// with the expiry of what is installed now (`notAfter`) for the status line; `installed` when this attempt
    /// installed a certificate.
    func perform(
        _ actions: [CertificateLifecycle.Action], machine: inout CertificateLifecycle,
        failure: CertificateLifecycle.Failure?, notAfter: Date?, chainRoot: String? = nil, installed: Bool = false,
        metadata: Logger.Metadata
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
        facts.record(spec, CertificateFacts(notAfter: notAfter, chainRoot: chainRoot, state: machine.state))
        if failure != nil || installed {
            observer?.renewalAttempt(spec, succeeded: failure == nil, at: clock.now())
        }
        if let failure { progress?.publish(spec.name, .failed(message: failure.message)) }
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
        // The store's database unreachable: nothing is wrong with the certificate, the next attempt soon.
        let outage = isStoreOutage(error)
        return CertificateLifecycle.Failure(
            disposition: outage ? .retryAttemptSoon : FailureClassifier.attempt(error),
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

    func save(_ state: CertificateState, spec: CertificateSpec) async {
        do {
            // A schedule the installed certificate would give again is written behind (flushed at the batch's end).
            if state.isRecomputable {
                try await stateStore.saveRecomputable(state)
            } else {
                try await stateStore.save(state)
            }
        } catch let error as LeaseLost {
            logger.warning("state not saved: \(error)", metadata: Self.metadata(spec))
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
