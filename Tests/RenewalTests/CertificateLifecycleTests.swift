import ACMEClient
import CertStore
import CertkeeperConfig
import Foundation
import Renewal
import Testing

/// The certificate lifecycle on its own: events in, actions out, time stepped by hand (`now` is an argument), the
/// state carried across a restart by building a new machine from the persisted one.
@Suite struct CertificateLifecycleTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    let day: TimeInterval = 86_400
    let spec = makeSpec("www")

    func certificate(serial: String = "01", notBefore: Date? = nil, certID: String? = "aki.01")
        -> CertificateLifecycle.Installed
    {
        let notBefore = notBefore ?? start
        return CertificateLifecycle.Installed(
            serial: serial, notBefore: notBefore, notAfter: notBefore.addingTimeInterval(90 * day), ariCertID: certID)
    }

    func failure(_ disposition: FailureDisposition, _ message: String = "boom") -> CertificateLifecycle.Failure {
        CertificateLifecycle.Failure(disposition: disposition, message: message, problemType: nil, retryAfter: nil)
    }

    @Test func ordersInstallsAndRenewsInTheWindowAcrossARestart() {
        var random = RandomSourceGenerator(SeededRandom(seed: 1))
        var machine = CertificateLifecycle(spec: spec, state: nil)
        #expect(machine.firstDue(now: start) == start)
        #expect(
            machine.handle(
                .inspected(installed: nil, mismatch: "no certificate is installed", force: false, ariOffered: false),
                now: start, random: &random) == [.order(reason: "no certificate is installed", replaces: nil)])
        let order = PendingOrder(
            url: "https://ca/order/1", accountURL: "https://ca/acct/1", domains: spec.domains,
            keyType: spec.keyType)
        machine.record(.created(order))
        #expect(machine.state.order == order)

        let issued = certificate()
        #expect(machine.handle(.issued(issued), now: start, random: &random) == [.install])
        let actions = machine.handle(.installed(issued), now: start, random: &random)
        let renewAt = try! #require(machine.state.schedule?.renewAt)
        #expect(actions == [.runDeployHooks, .waitUntil(renewAt)])
        // Default window: the last third of the lifetime, moved earlier by up to a twentieth of it (at most a day).
        #expect(renewAt >= start.addingTimeInterval(59 * day) && renewAt <= start.addingTimeInterval(60 * day))
        #expect(machine.state.order == nil && machine.state.backoff == nil)
        #expect(
            machine.state.issuer
                == IssuerRecord(
                    directoryURL: spec.ca.directoryURL, accountName: "default",
                    issuedAt: start))
        machine.ended(nextCheck: renewAt)

        // A restart: the persisted state is the machine's state; the schedule is not re-rolled.
        var restarted = CertificateLifecycle(spec: spec, state: machine.state)
        #expect(restarted.firstDue(now: start.addingTimeInterval(day)) == renewAt)
        #expect(
            restarted.handle(
                .inspected(installed: issued, mismatch: nil, force: false, ariOffered: false),
                now: start.addingTimeInterval(10 * day), random: &random) == [.waitUntil(renewAt)])
        #expect(
            restarted.handle(
                .inspected(installed: issued, mismatch: nil, force: false, ariOffered: false), now: renewAt,
                random: &random) == [.order(reason: "inside the renewal window", replaces: nil)])
    }

    @Test func ariWindowDecidesAndTheCertificateIsReplaced() {
        var random = RandomSourceGenerator(SeededRandom(seed: 2))
        var machine = CertificateLifecycle(spec: spec, state: nil)
        _ = machine.handle(
            .inspected(installed: nil, mismatch: "no certificate is installed", force: false, ariOffered: true),
            now: start, random: &random)
        let issued = certificate()
        #expect(
            machine.handle(.installed(issued), now: start, random: &random) == [
                .runDeployHooks, .fetchARI(certID: "aki.01"),
            ])
        let window = RenewalPolicy.Window(
            start: start.addingTimeInterval(40 * day), end: start.addingTimeInterval(41 * day))
        let askAgain = start.addingTimeInterval(6 * 3600)
        #expect(
            machine.handle(.ariAnswered(window: window, retryAfter: 6 * 3600), now: start, random: &random)
                == [.waitUntil(askAgain)])
        let chosen = try! #require(machine.state.schedule?.renewAt)
        #expect(chosen >= window.start && chosen <= window.end)
        machine.ended(nextCheck: askAgain)

        // At the planned recheck: ask again; the same window keeps the chosen time.
        var next = CertificateLifecycle(spec: spec, state: machine.state)
        #expect(
            next.handle(
                .inspected(installed: issued, mismatch: nil, force: false, ariOffered: true), now: askAgain,
                random: &random) == [.fetchARI(certID: "aki.01")])
        #expect(
            next.handle(.ariAnswered(window: window, retryAfter: 6 * 3600), now: askAgain, random: &random)
                == [.waitUntil(askAgain.addingTimeInterval(6 * 3600))])
        #expect(next.state.schedule?.renewAt == chosen)

        // Inside the window: ask, then order with `replaces`; a CA that refuses the replacement gets a plain order.
        var due = CertificateLifecycle(spec: spec, state: next.state)
        #expect(
            due.handle(
                .inspected(installed: issued, mismatch: nil, force: false, ariOffered: true), now: chosen,
                random: &random) == [.fetchARI(certID: "aki.01")])
        #expect(
            due.handle(.ariAnswered(window: window, retryAfter: nil), now: chosen, random: &random)
                == [.order(reason: "inside the renewal window", replaces: "aki.01")])
        #expect(
            due.handle(
                .failed(
                    CertificateLifecycle.Failure(
                        disposition: .retryAttemptSoon, message: "alreadyReplaced",
                        problemType: "urn:ietf:params:acme:error:alreadyReplaced", retryAfter: nil)), now: chosen,
                random: &random)
                == [.order(reason: "the CA refused the replacement of the installed certificate", replaces: nil)])
    }

    @Test func aRenewBeforeThePlannedCheckAsksARIAgainAndForceOrdersAtOnce() {
        var random = RandomSourceGenerator(SeededRandom(seed: 3))
        let issued = certificate()
        let state = CertificateState(
            name: "www", ari: ARIAdvice(windowStart: nil, windowEnd: nil, askAgainAt: start.addingTimeInterval(day)),
            schedule: RenewalSchedule(serial: "01", renewAt: start.addingTimeInterval(60 * day)),
            issuer: IssuerRecord(directoryURL: spec.ca.directoryURL, accountName: "default", issuedAt: start),
            nextCheck: start.addingTimeInterval(day), specFingerprint: CertificateLifecycle.fingerprint(spec))
        var early = CertificateLifecycle(spec: spec, state: state)
        #expect(
            early.handle(
                .inspected(installed: issued, mismatch: nil, force: false, ariOffered: true),
                now: start.addingTimeInterval(3600), random: &random) == [.fetchARI(certID: "aki.01")])
        var forced = CertificateLifecycle(spec: spec, state: state)
        #expect(
            forced.handle(
                .inspected(installed: issued, mismatch: nil, force: true, ariOffered: false),
                now: start.addingTimeInterval(3600), random: &random)
                == [.order(reason: "renewal requested", replaces: nil)])
    }

    @Test func transientFaultsClimbTheShortLadderAndAlertOnTheThird() {
        var random = RandomSourceGenerator(SeededRandom(seed: 4))
        var machine = CertificateLifecycle(spec: spec, state: nil)
        let order = PendingOrder(url: "https://ca/order/1", accountURL: "a", domains: spec.domains, keyType: nil)
        var now = start
        var previousDelay: TimeInterval = 0
        for attempt in 1...3 {
            _ = machine.handle(
                .inspected(installed: nil, mismatch: "no certificate is installed", force: false, ariOffered: false),
                now: now, random: &random)
            if attempt == 1 { machine.record(.created(order)) }
            let actions = machine.handle(.failed(failure(.retryAttemptSoon)), now: now, random: &random)
            let retryAt = try! #require(machine.state.backoff?.retryAt)
            #expect(actions.last == .backOff(until: retryAt))
            // Only the third transient fault in a row is an operator's business (on_failure hooks).
            #expect(actions.contains(.runFailureHooks(message: "boom")) == (attempt == 3))
            #expect(retryAt.timeIntervalSince(now) > previousDelay)
            previousDelay = retryAt.timeIntervalSince(now)
            // The order is kept: the next attempt continues it.
            #expect(machine.state.order == order)
            // Before the retry time an attempt only waits; at it, it continues the order.
            #expect(
                machine.handle(
                    .inspected(
                        installed: nil, mismatch: "no certificate is installed", force: false, ariOffered: false),
                    now: retryAt.addingTimeInterval(-1), random: &random) == [.backOff(until: retryAt)])
            now = retryAt
        }
        #expect(machine.state.backoff?.failures == 3 && machine.state.backoff?.transientFailures == 3)
        #expect(
            machine.handle(
                .inspected(installed: nil, mismatch: "no certificate is installed", force: false, ariOffered: false),
                now: now, random: &random)
                == [.continueOrder(order, reason: "no certificate is installed", replaces: nil)])
        // A refusal takes the long ladder from its own first step, and always alerts.
        let refused = machine.handle(.failed(failure(.backOff, "rejectedIdentifier")), now: now, random: &random)
        #expect(refused.first == .runFailureHooks(message: "rejectedIdentifier"))
        #expect(machine.state.backoff?.failures == 4 && machine.state.backoff?.transientFailures == 3)
        #expect(machine.state.backoff?.lastError == "rejectedIdentifier")
    }

    @Test func aFailureThatNeedsTheOperatorWaitsForAReload() {
        var random = RandomSourceGenerator(SeededRandom(seed: 5))
        var machine = CertificateLifecycle(spec: spec, state: nil)
        _ = machine.handle(
            .inspected(installed: nil, mismatch: "no certificate is installed", force: false, ariOffered: false),
            now: start, random: &random)
        #expect(
            machine.handle(.failed(failure(.waitForReload, "EAB key refused")), now: start, random: &random)
                == [.runFailureHooks(message: "EAB key refused"), .waitForReload])
        #expect(machine.state.backoff?.retryAt == nil)
        machine.ended(nextCheck: .distantFuture)
        // A start or a reload is what it waited for: it is due at once.
        let later = start.addingTimeInterval(7 * day)
        #expect(CertificateLifecycle(spec: spec, state: machine.state).firstDue(now: later) == later)
    }

    @Test func aTransientFaultNearTheEndOfTheInstalledCertificateAlertsAtOnce() {
        var random = RandomSourceGenerator(SeededRandom(seed: 6))
        let old = certificate(notBefore: start.addingTimeInterval(-85 * day))
        var machine = CertificateLifecycle(spec: spec, state: nil)
        #expect(
            machine.handle(
                .inspected(installed: old, mismatch: nil, force: false, ariOffered: false), now: start,
                random: &random) == [.order(reason: "inside the renewal window", replaces: nil)])
        // Adopted: a fitting certificate certkeeper did not issue.
        #expect(machine.state.issuer?.issuedAt == nil && machine.state.issuer?.directoryURL == spec.ca.directoryURL)
        let actions = machine.handle(.failed(failure(.retryAttemptSoon)), now: start, random: &random)
        #expect(actions.first == .runFailureHooks(message: "boom"))
    }

    @Test func anEditedSpecOrAnAbandonedOrderStartsOver() {
        var random = RandomSourceGenerator(SeededRandom(seed: 7))
        var machine = CertificateLifecycle(spec: spec, state: nil)
        machine.ended(nextCheck: start.addingTimeInterval(30 * day))
        #expect(machine.firstDue(now: start) == start.addingTimeInterval(30 * day))
        let edited = makeSpec("www", domains: ["www.example.test", "api.example.test"])
        #expect(CertificateLifecycle(spec: edited, state: machine.state).firstDue(now: start) == start)

        let order = PendingOrder(url: "u", accountURL: "a", domains: spec.domains, keyType: nil)
        machine.record(.created(order))
        let inspect = CertificateLifecycle.Event.inspected(
            installed: nil, mismatch: "no certificate is installed", force: false, ariOffered: false)
        #expect(
            machine.handle(inspect, now: start, random: &random)
                == [.continueOrder(order, reason: "no certificate is installed", replaces: nil)])
        machine.record(.abandoned)
        #expect(machine.state.order == nil)
        #expect(
            machine.handle(inspect, now: start, random: &random) == [
                .order(reason: "no certificate is installed", replaces: nil)
            ])
        // An order opened for other names is not continued after the spec changed.
        var changed = CertificateLifecycle(spec: edited, state: machine.state)
        changed.record(.created(order))
        #expect(
            changed.handle(inspect, now: start, random: &random)
                == [.order(reason: "no certificate is installed", replaces: nil)])
    }
}
