import ACMEModels
import Foundation

/// `certkeeper run --once` as decisions: which certificates get an attempt, how each one ended, what the run prints
/// and the status it exits with. No clock and no tasks (`now` is an argument); ``OneShotRunner`` carries it out.
///
/// The run succeeds only when no certificate is left failing: one attempted now that failed, one still waiting on
/// the back-off of earlier failures, and one whose spec was refused all make it exit 1, so a cron job or a systemd
/// timer reports a certificate in trouble on every run until it is fixed, not only on the run that first failed.
package enum OneShotPlan {
    /// How one certificate ended.
    package enum Result: Sendable, Hashable {
        /// Not due; next attention at `next`.
        case notDue(next: Date)
        /// Attempted and nothing is failing now; next attention at `next`.
        case succeeded(next: Date)
        /// Attempted and failed (`failures` in a row).
        case failed(failures: Int, lastError: String?)
        /// Not attempted: waiting until `until` after `failures` failures in a row (`--force` ignores it).
        case backingOff(until: Date, failures: Int, lastError: String?)
        /// Not attempted: the spec was refused (an unknown profile).
        case refused(reason: String)

        package var isFailure: Bool {
            switch self {
            case .notDue, .succeeded: false
            case .failed, .backingOff, .refused: true
            }
        }
    }

    /// What the state store says about a certificate's failures.
    package struct Failures: Sendable, Hashable {
        package var count: Int
        package var lastError: String?
        package var retryAt: Date?

        package init(count: Int, lastError: String? = nil, retryAt: Date? = nil) {
            self.count = count
            self.lastError = lastError
            self.retryAt = retryAt
        }

        package static let none = Failures(count: 0)
    }

    /// Whether a certificate first due at `due` gets an attempt in this run.
    package static func shouldAttempt(due: Date, now: Date, force: Bool) -> Bool {
        force || due <= now
    }

    /// The result of a certificate that was not attempted.
    package static func skipped(due: Date, failures: Failures) -> Result {
        failures.count > 0
            ? .backingOff(until: failures.retryAt ?? due, failures: failures.count, lastError: failures.lastError)
            : .notDue(next: due)
    }

    /// The result of an attempt, from the failures recorded after it and the next time it returned.
    package static func attempted(next: Date, failures: Failures) -> Result {
        failures.count > 0 ? .failed(failures: failures.count, lastError: failures.lastError) : .succeeded(next: next)
    }

    /// 0 when no certificate is failing, 1 otherwise.
    package static func exitStatus(_ results: [String: Result]) -> Int32 {
        results.values.contains(where: \.isFailure) ? 1 : 0
    }

    /// One line per certificate, sorted by name, then a count: what the run prints.
    package static func report(_ results: [String: Result]) -> [String] {
        var lines = results.keys.sorted().map { name in "\(name): \(describe(results[name]!))" }
        let attempted = results.values.filter {
            switch $0 {
            case .succeeded, .failed: true
            default: false
            }
        }.count
        let failing = results.values.filter(\.isFailure).count
        lines.append(
            "\(results.count) certificate(s): \(attempted) attempted, \(failing) failing"
                + (failing == 0 ? "" : "; see `journalctl -u certkeeper` or the log above"))
        return lines
    }

    private static func describe(_ result: Result) -> String {
        switch result {
        case .notDue(let next): "not due; next check \(timestamp(next))"
        case .succeeded(let next): "ok; next check \(timestamp(next))"
        case .failed(let failures, let error):
            "FAILED (\(failures) in a row): \(error ?? "no error recorded")"
        case .backingOff(let until, let failures, let error):
            "FAILING, not retried before \(timestamp(until)) (\(failures) in a row; --force retries now): "
                + (error ?? "no error recorded")
        case .refused(let reason): "REFUSED: \(reason)"
        }
    }

    private static func timestamp(_ date: Date) -> String {
        date == .distantFuture ? "after the next configuration change" : ACMEJSON.formatRFC3339(date)
    }
}
