import CertkeeperConfig
import Renewal

/// What one reload did, in the words the journal, `STATUS=` and `certkeeper reload` use.
package struct ReloadReport: Sendable, Hashable {
    /// False when any file was rejected (the exit status of `certkeeper reload` and `systemctl reload`).
    package var succeeded: Bool
    /// One line: counts, what kept its last good version, what did not start.
    package var summary: String
    /// Every diagnostic, `FILE:LINE:COLUMN: message`, one per line.
    package var details: String

    package init(outcome: ReloadOutcome, mainConfigRejected: Bool) {
        var summary =
            "added \(outcome.added.count), removed \(outcome.removed.count), changed \(outcome.changed.count); \(outcome.configuration.certificates.count) certificate(s) in force"
        if mainConfigRejected { summary = "certkeeper.toml has errors: the previous configuration stays in force" }
        if !outcome.keptLastGood.isEmpty {
            summary += "; last good version kept for: \(outcome.keptLastGood.joined(separator: ", "))"
        }
        if !outcome.rejectedNew.isEmpty { summary += "; not started: \(outcome.rejectedNew.joined(separator: ", "))" }
        self.succeeded = !outcome.failed
        self.summary = summary
        self.details = outcome.diagnostics.map(\.description).joined(separator: "\n")
    }

    /// The answer on the control socket.
    package var message: String {
        succeeded ? "reload succeeded: \(summary)" : "reload failed: \(summary)\n\(details)"
    }
}
