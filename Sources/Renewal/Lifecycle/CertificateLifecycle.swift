import ACMEClient
import ACMEModels
import CertStore
import CertkeeperConfig
import Foundation

/// One certificate's lifecycle as a value: events in, actions out. No I/O, no clock and no randomness of its own
/// (both are arguments), so every rule is a unit test.
///
/// An attempt starts with ``Event/inspected(installed:mismatch:force:ariOffered:)``; each event returns what to do
/// next, and the attempt ends with ``Action/waitUntil(_:)``, ``Action/backOff(until:)`` or ``Action/waitForReload``.
/// A reload that changed the spec is seen by ``firstDue(now:)`` (the spec's fingerprint differs). The persisted
/// ``CertificateState`` is this machine's state.
package struct CertificateLifecycle: Sendable {
    /// What the machine knows; saved after every event.
    package private(set) var state: CertificateState
    package let spec: CertificateSpec

    package init(spec: CertificateSpec, state: CertificateState?) {
        self.spec = spec
        self.state = state ?? CertificateState(name: spec.name)
    }

    /// The facts of an installed certificate that matter for its renewal.
    package struct Installed: Sendable, Hashable {
        package var serial: String
        package var notBefore: Date
        package var notAfter: Date
        /// Its RFC 9773 CertID, when it has an Authority Key Identifier.
        package var ariCertID: String?

        package init(serial: String, notBefore: Date, notAfter: Date, ariCertID: String?) {
            self.serial = serial
            self.notBefore = notBefore
            self.notAfter = notAfter
            self.ariCertID = ariCertID
        }
    }

    /// How an attempt failed, as the classifier sees it.
    package struct Failure: Sendable, Hashable {
        package var disposition: FailureDisposition
        /// One line, bounded, for the state file, `status`, the log and the hooks.
        package var message: String
        package var problemType: String?
        /// The CA's Retry-After, in seconds.
        package var retryAfter: TimeInterval?

        package init(disposition: FailureDisposition, message: String, problemType: String?, retryAfter: TimeInterval?)
        {
            self.disposition = disposition
            self.message = message
            self.problemType = problemType
            self.retryAfter = retryAfter
        }
    }

    package enum Event: Sendable, Hashable {
        /// An attempt began: what is installed (nil: nothing usable), why it does not fit the spec (nil: it fits),
        /// whether the operator forced a renewal and whether the CA offers renewalInfo.
        case inspected(installed: Installed?, mismatch: String?, force: Bool, ariOffered: Bool)
        /// renewalInfo answered, with a window (nil: none or an unusable one) and its Retry-After.
        case ariAnswered(window: RenewalPolicy.Window?, retryAfter: TimeInterval?)
        /// renewalInfo could not be fetched.
        case ariFailed
        /// The CA issued the certificate and it passed verification (names, key, chain).
        case issued(Installed)
        /// The new certificate is installed.
        case installed(Installed)
        /// The attempt failed.
        case failed(Failure)
    }

    package enum Action: Sendable, Hashable {
        /// Ask the CA's renewalInfo about the installed certificate, then report ``Event/ariAnswered(window:retryAfter:)``
        /// or ``Event/ariFailed``.
        case fetchARI(certID: String)
        /// Open a new order and see it through to a verified certificate, then report ``Event/issued(_:)`` or
        /// ``Event/failed(_:)``.
        case order(reason: String, replaces: String?)
        /// Continue the order in flight (the issuer looks at it first and opens a new one, with `replaces`, if the
        /// CA can no longer complete it), then as for ``order(reason:replaces:)``.
        case continueOrder(PendingOrder, reason: String, replaces: String?)
        /// Install the issued certificate and its key, then report ``Event/installed(_:)`` or ``Event/failed(_:)``.
        case install
        /// Run the spec's deploy hooks and queue its units for reload.
        case runDeployHooks
        /// Run the spec's `on_failure` hooks with this message.
        case runFailureHooks(message: String)
        /// The attempt is over; look again at this time.
        case waitUntil(Date)
        /// The attempt is over after a failure (or before its backoff ran out); try again at this time.
        case backOff(until: Date)
        /// The attempt is over; nothing happens until the configuration changes and is reloaded.
        case waitForReload
    }

    /// Consecutive transient faults after which they count as urgent (error level, `on_failure` hooks).
    package static let transientFailuresBeforeAlert = 3

    /// The certificate the attempt found installed and fitting the spec, if any.
    private var current: Installed?
    /// The certificate on disk, fitting or not: its validity paces the backoff and makes failures urgent near its end.
    private var onDisk: Installed?
    private var ariOffered = false
    /// Whether the attempt asks renewalInfo again whatever its last Retry-After said.
    private var refreshARI = false
    private var force = false
    private var replaces: String?

    /// When a certificate first needs attention after a start or a reload: its persisted next check, unless the
    /// spec changed meanwhile or it waits for a reload (a reload is what it waited for).
    package func firstDue(now: Date) -> Date {
        guard let next = state.nextCheck, state.specFingerprint == Self.fingerprint(spec), next != .distantFuture
        else { return now }
        return next
    }

    /// What happens to the order in flight while ``Action/order(reason:replaces:)`` runs; reported by the issuer
    /// (which saves the state at once, so a crash resumes the order).
    public enum OrderEvent: Sendable, Hashable {
        /// newOrder answered: the next attempt continues this order.
        case created(PendingOrder)
        /// The order can never be completed (invalid, wrong names, a certificate that fails verification): the next
        /// attempt opens a new one.
        case abandoned
    }

    /// Records an ``OrderEvent``; the attempt goes on (no action).
    public mutating func record(_ event: OrderEvent) {
        switch event {
        case .created(let order): state.order = order
        case .abandoned: state.order = nil
        }
    }

    /// Applies `event` and returns what to do next.
    package mutating func handle(_ event: Event, now: Date, random: inout some RandomNumberGenerator) -> [Action] {
        switch event {
        case .inspected(let installed, let mismatch, let force, let ariOffered):
            return inspected(
                installed: installed, mismatch: mismatch, force: force, ariOffered: ariOffered, now: now,
                random: &random)
        case .ariAnswered(let window, let retryAfter):
            guard let current else { return [] }
            let askAgainAt = now.addingTimeInterval(RenewalPolicy.ariRecheckDelay(retryAfter: retryAfter))
            var advice = ARIAdvice(
                windowStart: state.ari?.windowStart, windowEnd: state.ari?.windowEnd, askAgainAt: askAgainAt)
            if let window, window.isValid, advice.windowStart != window.start || advice.windowEnd != window.end {
                advice.windowStart = window.start
                advice.windowEnd = window.end
                state.schedule = RenewalSchedule(
                    serial: current.serial,
                    renewAt: RenewalPolicy.renewalTime(
                        notBefore: current.notBefore, notAfter: current.notAfter, renewBefore: spec.renewBefore,
                        ariWindow: window, random: &random))
            }
            state.ari = advice
            return decide(now: now)
        case .ariFailed:
            guard current != nil else { return [] }
            let askAgainAt = now.addingTimeInterval(RenewalPolicy.ariRecheckDelay(retryAfter: nil))
            state.ari = ARIAdvice(
                windowStart: state.ari?.windowStart, windowEnd: state.ari?.windowEnd, askAgainAt: askAgainAt)
            return decide(now: now)
        case .issued:
            return [.install]
        case .installed(let certificate):
            state.order = nil
            state.backoff = nil
            state.ari = nil
            state.issuer = IssuerRecord(
                directoryURL: spec.ca.directoryURL, accountName: spec.account.name, issuedAt: now)
            state.schedule = Self.schedule(for: certificate, spec: spec, random: &random)
            current = certificate
            onDisk = certificate
            refreshARI = true
            force = false
            return [.runDeployHooks] + afterInstalled(now: now)
        case .failed(let failure):
            return failed(failure, now: now, random: &random)
        }
    }

    private mutating func inspected(
        installed: Installed?, mismatch: String?, force: Bool, ariOffered: Bool, now: Date,
        random: inout some RandomNumberGenerator
    ) -> [Action] {
        self.force = force
        self.ariOffered = ariOffered
        onDisk = installed
        current = mismatch == nil ? installed : nil
        replaces = nil
        guard let current else {
            return [orderAction(reason: mismatch ?? "no certificate installed", replaces: nil)]
                .filter { _ in backoffAllows(now: now) } + backoffWait(now: now)
        }
        if state.issuer == nil {
            // First meeting with a fitting certificate (e.g. migrated from certbot): adopt it.
            state.issuer = IssuerRecord(
                directoryURL: spec.ca.directoryURL, accountName: spec.account.name, issuedAt: nil)
        }
        if state.schedule?.serial != current.serial {
            state.schedule = Self.schedule(for: current, spec: spec, random: &random)
            state.ari = nil
        }
        // Called before its planned check (`renew NAME`, a changed spec): ask ARI again now, whatever the cached
        // Retry-After says, so a window the CA just moved is seen.
        refreshARI = state.nextCheck.map { now < $0 } ?? true
        if ariOffered, current.ariCertID != nil { replaces = current.ariCertID }
        return afterInstalled(now: now)
    }

    /// With a fitting certificate installed: ask ARI, renew, or wait.
    private mutating func afterInstalled(now: Date) -> [Action] {
        guard let current else { return [] }
        if ariOffered, let certID = current.ariCertID, current.notAfter > now,
            refreshARI || (state.ari?.askAgainAt).map({ $0 <= now }) ?? true
        {
            refreshARI = false
            return [.fetchARI(certID: certID)]
        }
        return decide(now: now)
    }

    /// Renew now or wait, from the schedule, ARI's next question, a forced renewal and the backoff.
    private mutating func decide(now: Date) -> [Action] {
        guard let current, let renewAt = state.schedule?.renewAt else { return [] }
        let reason: String
        if force {
            reason = "renewal requested"
        } else if now >= renewAt {
            reason = "inside the renewal window"
        } else {
            let recheck = ariOffered && current.ariCertID != nil ? state.ari?.askAgainAt : nil
            return [.waitUntil(min(renewAt, recheck ?? .distantFuture))]
        }
        if !backoffAllows(now: now) { return backoffWait(now: now) }
        return [orderAction(reason: reason, replaces: replaces)]
    }

    /// Continues the order in flight when it was opened for what the spec asks now; otherwise a new order.
    private func orderAction(reason: String, replaces: String?) -> Action {
        if let order = state.order, order.domains.sorted() == spec.domains.sorted(),
            (order.keyType ?? spec.keyType) == spec.keyType
        {
            return .continueOrder(order, reason: reason, replaces: replaces)
        }
        return .order(reason: reason, replaces: replaces)
    }

    /// A forced attempt ignores the backoff; otherwise none starts before its retry time.
    private func backoffAllows(now: Date) -> Bool {
        force || (state.backoff?.retryAt).map { $0 <= now } ?? true
    }

    private func backoffWait(now: Date) -> [Action] {
        guard !backoffAllows(now: now), let retryAt = state.backoff?.retryAt else { return [] }
        return [.backOff(until: retryAt)]
    }

    private mutating func failed(_ failure: Failure, now: Date, random: inout some RandomNumberGenerator) -> [Action] {
        // The CA will not let this order replace the installed certificate (another order already did, or it
        // forgot the certificate): not a failure, order again without `replaces`.
        if failure.problemType == ProblemType.alreadyReplaced.rawValue, replaces != nil {
            replaces = nil
            return [orderAction(reason: "the CA refused the replacement of the installed certificate", replaces: nil)]
        }
        let previous = state.backoff
        let failures = (previous?.failures ?? 0) + 1
        // Each ladder climbs with its own count, so an hour of CA outage does not make the next refusal wait a day.
        let transient = (previous?.transientFailures ?? 0) + (failure.disposition == .retryAttemptSoon ? 1 : 0)
        let refusals = max(failures - transient, 1)
        let window = onDisk.map { ($0.notBefore, $0.notAfter) }
        let delay: TimeInterval
        switch failure.disposition {
        case .retryAttemptSoon:
            // A transient fault: soon, and the next attempt continues the same order (it stays in the state).
            delay = RenewalPolicy.transientRetryDelay(
                failureCount: transient, retryAfter: failure.retryAfter, installed: window, now: now, random: &random)
        case .waitForReload, .backOff, .retryRequestNow, .retryRequestAfter:
            delay = RenewalPolicy.nextAttemptDelay(
                failureCount: refusals, retryAfter: failure.retryAfter, installed: window, now: now, random: &random)
        }
        let parked = failure.disposition == .waitForReload
        state.backoff = Backoff(
            failures: failures, transientFailures: transient, lastError: failure.message,
            lastErrorType: failure.problemType, lastFailure: now, retryAt: parked ? nil : now.addingTimeInterval(delay))
        var actions: [Action] = []
        if isUrgent(failure, transientFailures: transient, now: now) {
            actions.append(.runFailureHooks(message: failure.message))
        }
        actions.append(parked ? .waitForReload : .backOff(until: now.addingTimeInterval(delay)))
        return actions
    }

    /// A transient fault is worth an operator's attention once it persists or the certificate nears its end; a
    /// single dropped connection is not. Every other failure is.
    private func isUrgent(_ failure: Failure, transientFailures: Int, now: Date) -> Bool {
        failure.disposition != .retryAttemptSoon || transientFailures >= Self.transientFailuresBeforeAlert
            || onDisk.map { now >= RenewalPolicy.lastTenthStart(notBefore: $0.notBefore, notAfter: $0.notAfter) }
                ?? false
    }

    /// A failure that ended an attempt from outside it (its deadline, its lock), judged as the attempt would have
    /// judged it, against the certificate installed now.
    package mutating func failedOutsideAnAttempt(
        _ failure: Failure, installed: Installed?, now: Date, random: inout some RandomNumberGenerator
    ) -> [Action] {
        onDisk = installed
        return failed(failure, now: now, random: &random)
    }

    /// When to try again after another process held the certificate's lock for the whole bounded wait: its turn
    /// ends soon, and nothing is recorded (the state is the holder's until it lets go).
    package static func afterLockHeldElsewhere(now: Date) -> Date {
        now.addingTimeInterval(RenewalPolicy.lockBusyRetryDelay)
    }

    /// When to look again at a certificate whose shared store (PostgreSQL) could not be reached.
    package static func afterStoreOutage(now: Date) -> Date {
        now.addingTimeInterval(RenewalPolicy.storeOutageRetryDelay)
    }

    /// When to look again at a certificate whose state file cannot be read (it is never overwritten).
    package static func afterUnreadableState(now: Date) -> Date {
        now.addingTimeInterval(RenewalPolicy.unreadableStateRetryDelay)
    }

    /// Records where the attempt ended, for `status` and the next start.
    package mutating func ended(nextCheck: Date) {
        state.nextCheck = nextCheck
        state.specFingerprint = Self.fingerprint(spec)
    }

    private static func schedule(
        for certificate: Installed, spec: CertificateSpec, random: inout some RandomNumberGenerator
    ) -> RenewalSchedule {
        RenewalSchedule(
            serial: certificate.serial,
            renewAt: RenewalPolicy.renewalTime(
                notBefore: certificate.notBefore, notAfter: certificate.notAfter, renewBefore: spec.renewBefore,
                ariWindow: nil, random: &random))
    }

    /// Identifies the parts of a spec that decide what to order, so an edit made while stopped is noticed.
    /// What every node of a fleet must agree on for one certificate: the names, CA, account, key type and profile
    /// (install paths, hooks and listeners are each node's own).
    package static func fleetFingerprint(_ spec: CertificateSpec) -> String {
        "\(spec.domains.sorted().joined(separator: ","))|\(spec.ca.directoryURL)|\(spec.account.name)|\(spec.keyType.rawValue)|\(spec.profile ?? "")"
    }

    package static func fingerprint(_ spec: CertificateSpec) -> String {
        "\(spec.domains.sorted().joined(separator: ","))|\(spec.keyType.rawValue)|\(spec.ca.directoryURL)|\(spec.account.name)|\(spec.renewBefore.map { "\($0)" } ?? "")|\(spec.install.fullchain ?? "")"
    }
}
