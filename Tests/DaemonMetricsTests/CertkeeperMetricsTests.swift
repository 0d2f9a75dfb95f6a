import ACMEClient
import CertkeeperConfig
import DaemonMetrics
import Foundation
import Testing

@testable import Renewal

/// The metrics as Prometheus reads them: what each update leaves in the exposition, and what it takes away.
@Suite struct CertkeeperMetricsTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func row(_ name: String, ca: String = "le", action: String = "renew", failures: Int = 0, notAfter: Date? = nil)
        -> CertificateStatus
    {
        CertificateStatus(
            name: name, domains: ["\(name).example"], ca: ca, account: "default",
            notAfter: notAfter ?? now.addingTimeInterval(90 * 86_400), nextAction: action,
            nextActionAt: action == "wait for config change or reload" ? nil : now.addingTimeInterval(60 * 86_400),
            renewAt: nil, lastError: nil, failureCount: failures, backoffUntil: nil, inFlight: false)
    }

    func lines(_ metrics: CertkeeperMetrics, _ prefix: String) -> [String] {
        String(decoding: metrics.exposition(), as: UTF8.self).split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix(prefix) }.sorted()
    }

    @Test func everyCertificateGetsItsGaugesAndARemovedOneLosesThem() {
        let metrics = CertkeeperMetrics(version: "9.9")
        metrics.update(certificates: [row("a"), row("b", failures: 2)])
        #expect(
            lines(metrics, "certkeeper_certificate_not_after_timestamp_seconds{") == [
                "certkeeper_certificate_not_after_timestamp_seconds{name=\"a\",ca=\"le\"} 1807776000.0",
                "certkeeper_certificate_not_after_timestamp_seconds{name=\"b\",ca=\"le\"} 1807776000.0",
            ])
        #expect(
            lines(metrics, "certkeeper_certificate_consecutive_failures{").contains(
                "certkeeper_certificate_consecutive_failures{name=\"b\",ca=\"le\"} 2.0"))
        #expect(lines(metrics, "certkeeper_build_info{") == ["certkeeper_build_info{version=\"9.9\"} 1.0"])

        metrics.update(certificates: [row("a")])
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(!text.contains("name=\"b\""), "\(text)")
        #expect(text.contains("name=\"a\""))
    }

    @Test func aChangedNextActionReplacesTheSeriesAndAWaitRemovesIt() {
        let metrics = CertkeeperMetrics(version: "1")
        metrics.update(certificates: [row("a", action: "renew")])
        metrics.update(certificates: [row("a", action: "retry")])
        #expect(
            lines(metrics, "certkeeper_certificate_next_action_timestamp_seconds{") == [
                "certkeeper_certificate_next_action_timestamp_seconds{name=\"a\",ca=\"le\",action=\"retry\"} 1805184000.0"
            ])
        metrics.update(certificates: [row("a", action: "wait for config change or reload")])
        #expect(lines(metrics, "certkeeper_certificate_next_action_timestamp_seconds{").isEmpty)
    }

    @Test func attemptsCountByResultAndOnlySuccessSetsTheLastSuccessWhichARefreshKeeps() {
        let metrics = CertkeeperMetrics(version: "1")
        let ca = CASettings(name: "le", directoryURL: "https://acme.example/dir")
        let spec = CertificateSpec(
            name: "a", file: "/etc/ck/certs.d/a.toml", domains: ["a.example"],
            account: AccountSettings(name: "default", ca: ca, contact: nil, eab: nil, isDefault: true),
            keyType: .ecdsaP256, challenge: ChallengeSpec(defaultSolver: .http01Webroot(path: "/w")))
        metrics.renewalAttempt(spec, succeeded: false, at: now)
        metrics.renewalAttempt(spec, succeeded: false, at: now)
        metrics.renewalAttempt(spec, succeeded: true, at: now)
        #expect(
            lines(metrics, "certkeeper_renewal_attempts_total{") == [
                "certkeeper_renewal_attempts_total{name=\"a\",ca=\"le\",result=\"failure\"} 2",
                "certkeeper_renewal_attempts_total{name=\"a\",ca=\"le\",result=\"success\"} 1",
            ])
        metrics.update(certificates: [row("a")])
        #expect(
            lines(metrics, "certkeeper_certificate_last_success_timestamp_seconds{") == [
                "certkeeper_certificate_last_success_timestamp_seconds{name=\"a\",ca=\"le\"} 1800000000.0"
            ])
        metrics.update(certificates: [])
        #expect(lines(metrics, "certkeeper_certificate_last_success_timestamp_seconds{").isEmpty)
        #expect(lines(metrics, "certkeeper_renewal_attempts_total{").isEmpty)
    }

    @Test func requestsCountByStatusClassAndOnlyACreatedAccountCountsAsARegistration() {
        let metrics = CertkeeperMetrics(version: "1")
        let observer = CARequestMetrics(metrics: metrics, ca: "le")
        observer.observe(endpoint: .newAccount, status: 200, duration: .milliseconds(3))
        observer.observe(endpoint: .newAccount, status: 201, duration: .milliseconds(3))
        observer.observe(endpoint: .newOrder, status: 503, duration: .milliseconds(40))
        observer.observe(endpoint: .newOrder, status: nil, duration: .seconds(2))
        #expect(
            lines(metrics, "certkeeper_acme_requests_total{") == [
                "certkeeper_acme_requests_total{ca=\"le\",endpoint=\"newAccount\",status_class=\"2xx\"} 2",
                "certkeeper_acme_requests_total{ca=\"le\",endpoint=\"newOrder\",status_class=\"5xx\"} 1",
                "certkeeper_acme_requests_total{ca=\"le\",endpoint=\"newOrder\",status_class=\"error\"} 1",
            ])
        #expect(
            lines(metrics, "certkeeper_account_registrations_total{") == [
                "certkeeper_account_registrations_total{ca=\"le\"} 1"
            ])
        #expect(
            lines(metrics, "certkeeper_acme_request_duration_seconds_count{").contains(
                "certkeeper_acme_request_duration_seconds_count{ca=\"le\",endpoint=\"newOrder\"} 2"))
    }
}
