import ACMEClient
import CertkeeperConfig
import Foundation
import Prometheus
import Renewal
import Synchronization

/// The daemon's Prometheus metrics, kept in a swift-prometheus registry that writes the exposition format
/// (``exposition()``): per certificate (labels `name`, `ca`) its expiry, next action, consecutive failures, last
/// success and renewal attempts by result; per CA and ACME resource the requests by status class and their duration;
/// account registrations; the build.
///
/// Families are declared through the registry with help text (`promtool check metrics` requires it, and swift-metrics'
/// API has none). No label holds a URL, an error text or anything else unbounded: certificate and CA names come from
/// the configuration, resources from ``ACMEEndpoint``.
package final class CertkeeperMetrics: Sendable {
    package let registry: PrometheusCollectorRegistry
    /// What is registered per certificate, to replace or remove it when the certificate changes or goes.
    private let perCertificate = Mutex<[String: Series]>([:])
    private let changed = Mutex<[AsyncStream<Void>.Continuation]>([])

    private struct Series {
        var ca: String
        var action: String?
        /// The gauges ``update(certificates:)`` sets.
        var gauges: [Gauge] = []
        /// Set by ``renewalAttempt(_:succeeded:at:)`` only.
        var lastSuccess: Gauge?
        /// The attempt counters (by result), removed with the certificate.
        var counters: [Counter] = []

        var all: [Gauge] { gauges + (lastSuccess.map { [$0] } ?? []) }
    }

    static var notAfter: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "certkeeper", metricName: "certificate_not_after", unitName: "timestamp_seconds",
            helpText: "Expiry (notAfter) of the installed certificate, Unix time.")
    }
    static var nextAction: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "certkeeper", metricName: "certificate_next_action", unitName: "timestamp_seconds",
            helpText:
                "When the daemon next acts on the certificate, Unix time; label action: order, renew, ari_check, retry, renewing."
        )
    }
    static var failures: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "certkeeper", metricName: "certificate_consecutive", unitName: "failures",
            helpText: "Failed renewal attempts in a row (0 after a success).")
    }
    static var lastSuccess: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "certkeeper", metricName: "certificate_last_success", unitName: "timestamp_seconds",
            helpText: "When this daemon last installed a certificate for this spec, Unix time.")
    }
    static var attempts: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "certkeeper", metricName: "renewal_attempts", unitName: "total",
            helpText: "Renewal attempts that installed a certificate (result=success) or failed (result=failure).")
    }
    static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "certkeeper", metricName: "acme_requests", unitName: "total",
            helpText: "HTTP requests to ACME servers by CA, resource and status class (error: no response).")
    }
    static var requestDuration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "certkeeper", metricName: "acme_request_duration", unitName: "seconds",
            helpText: "Duration of HTTP requests to ACME servers by CA and resource.")
    }
    static var registrations: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "certkeeper", metricName: "account_registrations", unitName: "total",
            helpText: "ACME accounts this daemon registered (newAccount answered 201 Created).")
    }
    static var storeUp: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "certkeeper", metricName: "store", unitName: "up",
            helpText: "1 while the shared store (PostgreSQL) answers, 0 while it does not; absent with the file store.")
    }
    static var buildInfo: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "certkeeper", metricName: "build", unitName: "info", helpText: "Always 1; label version.")
    }
    static let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        .seconds(30),
    ]

    package init(version: String, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        registry.makeGauge(descriptor: Self.buildInfo, labels: [("version", version)]).set(1.0)
    }

    /// The exposition (Prometheus text format 0.0.4).
    package func exposition() -> [UInt8] { registry.emitToBuffer() }

    /// A stream that yields after changes (at most one pending), for the textfile writer.
    package func changes() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        changed.withLock { $0.append(continuation) }
        return stream
    }

    private func didChange() {
        for continuation in changed.withLock({ $0 }) { continuation.yield() }
    }

    /// Whether the shared store answers (PostgreSQL backend only).
    package func update(storeUp: Bool) {
        registry.makeGauge(descriptor: Self.storeUp).set(storeUp ? 1.0 : 0.0)
        didChange()
    }

    /// Sets every certificate's gauges from a status report and removes those of certificates no longer in it.
    package func update(certificates: [CertificateStatus]) {
        var removed: [Gauge] = []
        var removedCounters: [Counter] = []
        perCertificate.withLock { known in
            var seen = Set<String>()
            for row in certificates {
                seen.insert(row.name)
                let labels = [("name", row.name), ("ca", row.ca)]
                var series = known[row.name] ?? Series(ca: row.ca)
                if series.ca != row.ca {
                    removed += series.all
                    removedCounters += series.counters
                    series = Series(ca: row.ca)
                }
                let action = Self.actionLabel(row.nextAction)
                if let old = series.action, old != action {
                    removed.append(
                        registry.makeGauge(
                            descriptor: Self.nextAction, labels: [("name", row.name), ("ca", row.ca), ("action", old)]))
                }
                var gauges: [Gauge] = []
                let failures = registry.makeGauge(descriptor: Self.failures, labels: labels)
                failures.set(Double(row.failureCount))
                gauges.append(failures)
                if let notAfter = row.notAfter {
                    let gauge = registry.makeGauge(descriptor: Self.notAfter, labels: labels)
                    gauge.set(notAfter.timeIntervalSince1970)
                    gauges.append(gauge)
                }
                if let next = row.nextActionAt {
                    let gauge = registry.makeGauge(descriptor: Self.nextAction, labels: labels + [("action", action)])
                    gauge.set(next.timeIntervalSince1970)
                    gauges.append(gauge)
                    series.action = action
                } else {
                    series.action = nil
                }
                // A value that went away (no installed certificate any more, no next action) takes its series along.
                removed += series.gauges.filter { old in !gauges.contains { $0 === old } }
                series.gauges = gauges
                known[row.name] = series
            }
            for (name, series) in known where !seen.contains(name) {
                removed += series.all
                removedCounters += series.counters
                if let action = series.action {
                    removed.append(
                        registry.makeGauge(
                            descriptor: Self.nextAction,
                            labels: [("name", name), ("ca", series.ca), ("action", action)]))
                }
                known[name] = nil
            }
        }
        for gauge in removed { registry.unregisterGauge(gauge) }
        for counter in removedCounters { registry.unregisterCounter(counter) }
        didChange()
    }

    /// The label value for a status row's next action.
    static func actionLabel(_ nextAction: String) -> String {
        switch nextAction {
        case "renewing", "retry", "order", "renew": nextAction
        case "check ARI": "ari_check"
        default: "wait_for_reload"
        }
    }
}

extension CertkeeperMetrics: RenewalObserver {
    package func renewalAttempt(_ spec: CertificateSpec, succeeded: Bool, at date: Date) {
        let labels = [("name", spec.name), ("ca", spec.ca.name)]
        let counter = registry.makeCounter(
            descriptor: Self.attempts, labels: labels + [("result", succeeded ? "success" : "failure")])
        counter.increment()
        perCertificate.withLock { known in
            var series = known[spec.name] ?? Series(ca: spec.ca.name)
            if !series.counters.contains(where: { $0 === counter }) { series.counters.append(counter) }
            known[spec.name] = series
        }
        if succeeded {
            let gauge = registry.makeGauge(descriptor: Self.lastSuccess, labels: labels)
            gauge.set(date.timeIntervalSince1970)
            perCertificate.withLock { known in
                var series = known[spec.name] ?? Series(ca: spec.ca.name)
                series.lastSuccess = gauge
                known[spec.name] = series
            }
        }
        didChange()
    }
}

/// The requests of one CA's client, labelled with the CA's name.
package struct CARequestMetrics: ACMERequestObserver {
    package var metrics: CertkeeperMetrics
    package var ca: String

    package init(metrics: CertkeeperMetrics, ca: String) {
        self.metrics = metrics
        self.ca = ca
    }

    package func observe(endpoint: ACMEEndpoint, status: Int?, duration: Duration) {
        let statusClass = status.map { "\($0 / 100)xx" } ?? "error"
        let registry = metrics.registry
        registry.makeCounter(
            descriptor: CertkeeperMetrics.requests,
            labels: [("ca", ca), ("endpoint", endpoint.rawValue), ("status_class", statusClass)]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: CertkeeperMetrics.requestDuration, labels: [("ca", ca), ("endpoint", endpoint.rawValue)],
            buckets: CertkeeperMetrics.durationBuckets
        ).record(duration)
        if endpoint == .newAccount, status == 201 {
            registry.makeCounter(descriptor: CertkeeperMetrics.registrations, labels: [("ca", ca)]).increment()
        }
    }
}
