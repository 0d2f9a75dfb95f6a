import ACMEModels
import CertStore
import CertkeeperConfig
import Foundation

/// One certificate as `certkeeper status` shows it. Never contains secrets.
package struct CertificateStatus: Codable, Sendable, Hashable {
    package var name: String
    package var domains: [String]
    package var ca: String
    package var account: String
    package var notAfter: Date?
    /// The root the installed chain leads to (the topmost certificate's issuer Common Name).
    package var chainRoot: String?
    /// "order", "renew", "check ARI" (ask the CA's renewalInfo before the planned renewal), "retry",
    /// "wait for config change or reload", "renewing".
    package var nextAction: String
    package var nextActionAt: Date?
    /// The planned renewal time of the installed certificate; later than ``nextActionAt`` while ARI checks come
    /// first.
    package var renewAt: Date?
    package var lastError: String?
    package var failureCount: Int
    package var backoffUntil: Date?
    package var inFlight: Bool
}

/// Everything `status` prints.
package struct StatusReport: Codable, Sendable, Hashable {
    package var generated: Date
    package var live: Bool
    package var certificates: [CertificateStatus]
    package var rejectedSpecs: [String]
    /// The shared store (PostgreSQL) not answering, when it does not: what is installed stays, nothing is ordered.
    package var storeProblem: String?

    /// Builds the report from config, state files and installed certificates, plus the scheduler when live.
    package static func build(
        configuration: Configuration, stateDirectory: String, stateStore: (any CertificateStateStore)?,
        scheduler: [RenewalScheduler.Entry]? = nil, rejectedSpecs: [String] = [], now: Date,
        storeUp: @Sendable () -> Bool = { true }
    ) async -> StatusReport {
        let entries = Dictionary(uniqueKeysWithValues: (scheduler ?? []).map { ($0.spec.name, $0) })
        var rows: [CertificateStatus] = []
        for spec in configuration.certificates.values.sorted(by: { $0.name < $1.name }) {
            // Asked before every read: once one read finds the store down, the rest do not wait for it too.
            let facts = await readFacts(
                spec, stateDirectory: stateDirectory, stateStore: storeUp() ? stateStore : nil)
            rows.append(row(spec, facts: facts, entry: entries[spec.name], now: now))
        }
        return StatusReport(
            generated: now, live: scheduler != nil, certificates: rows, rejectedSpecs: rejectedSpecs)
    }

    /// The report behind the one-line status: like ``build(configuration:stateDirectory:stateStore:scheduler:rejectedSpecs:now:)``
    /// but from the facts the daemon remembers, reading from disk only certificates it has no facts for, and not
    /// even those while they wait for their first attempt (due now: that attempt records them). Such a row shows
    /// nothing installed until then.
    package static func live(
        configuration: Configuration, facts board: CertificateFactsBoard, stateDirectory: String,
        stateStore: (any CertificateStateStore)?, scheduler: [RenewalScheduler.Entry], rejectedSpecs: [String],
        now: Date
    ) async -> StatusReport {
        let entries = Dictionary(uniqueKeysWithValues: scheduler.map { ($0.spec.name, $0) })
        board.keep(only: Set(configuration.certificates.keys))
        var rows: [CertificateStatus] = []
        for spec in configuration.certificates.values.sorted(by: { $0.name < $1.name }) {
            let entry = entries[spec.name]
            var facts = board.facts(for: spec)
            if facts == nil, !(entry.map { $0.inFlight || ($0.due ?? now) <= now } ?? false) {
                let read = await readFacts(spec, stateDirectory: stateDirectory, stateStore: stateStore)
                // Facts read without the store lack the state: shown now, not remembered.
                if stateStore != nil { board.record(spec, read) }
                facts = read
            }
            rows.append(row(spec, facts: facts ?? CertificateFacts(notAfter: nil, state: nil), entry: entry, now: now))
        }
        return StatusReport(generated: now, live: true, certificates: rows, rejectedSpecs: rejectedSpecs)
    }

    /// A certificate's facts as its state file and installed files show them now.
    /// `stateStore` nil (a shared store that does not answer): from the installed files only, without state.
    static func readFacts(_ spec: CertificateSpec, stateDirectory: String, stateStore: (any CertificateStateStore)?)
        async -> CertificateFacts
    {
        let state = try? await stateStore?.load(name: spec.name)
        let installed = await InstalledCertificateReader.load(spec: spec, stateDirectory: stateDirectory)
        return CertificateFacts(notAfter: installed?.info.notAfter, chainRoot: installed?.chainRoot, state: state)
    }

    static func row(_ spec: CertificateSpec, facts: CertificateFacts, entry: RenewalScheduler.Entry?, now: Date)
        -> CertificateStatus
    {
        let nextAt = entry?.due ?? facts.nextCheck
        let installed = facts.notAfter != nil
        var action: String
        if entry?.inFlight == true {
            action = "renewing"
        } else if nextAt == .distantFuture {
            action = "wait for config change or reload"
        } else if let backoff = facts.retryAt, backoff > now {
            action = "retry"
        } else if !installed {
            action = "order"
        } else if facts.hasARIAdvice, let renewAt = facts.renewAt, let nextAt, nextAt < renewAt {
            // The next look is a renewalInfo question; the renewal itself is planned for later.
            action = "check ARI"
        } else {
            action = "renew"
        }
        if !installed, nextAt == nil { action = "order" }
        return CertificateStatus(
            name: spec.name, domains: spec.domains, ca: spec.ca.name, account: spec.account.name,
            notAfter: facts.notAfter, chainRoot: installed ? facts.chainRoot : nil, nextAction: action,
            nextActionAt: nextAt == .distantFuture ? nil : nextAt,
            renewAt: installed ? facts.renewAt : nil,
            lastError: facts.lastError, failureCount: facts.failureCount, backoffUntil: facts.retryAt,
            inFlight: entry?.inFlight ?? false)
    }

    /// A one-line summary for sd_notify STATUS=, e.g. "3 certificates valid, 1 renewing, next: www in 3d 4h".
    package func summaryLine(now: Date) -> String {
        let valid = certificates.filter { ($0.notAfter ?? .distantPast) > now }.count
        let renewing = certificates.filter(\.inFlight).count
        let failing = certificates.filter { $0.failureCount > 0 }.count
        var parts = ["\(valid) certificate\(valid == 1 ? "" : "s") valid"]
        if renewing > 0 { parts.append("\(renewing) renewing") }
        if failing > 0 { parts.append("\(failing) failing") }
        if !rejectedSpecs.isEmpty { parts.append("\(rejectedSpecs.count) spec(s) rejected") }
        if storeProblem != nil { parts.append("store unavailable") }
        if let next = certificates.filter({ !$0.inFlight && $0.nextActionAt != nil }).min(by: {
            $0.nextActionAt! < $1.nextActionAt!
        }) {
            parts.append("next: \(next.name) in \(Self.humanInterval(next.nextActionAt!.timeIntervalSince(now)))")
        }
        return parts.joined(separator: ", ")
    }

    /// "3d 4h", "5h 2m", "42s", "now".
    package static func humanInterval(_ seconds: TimeInterval) -> String {
        guard seconds > 0 else { return "now" }
        // Clamped (about 30 million years) so an absurd date cannot trap the conversion.
        let total = Int(min(seconds, 1e15))
        let days = total / 86_400
        let hours = (total % 86_400) / 3600
        let minutes = (total % 3600) / 60
        if days > 0 { return "\(days)d \(hours)h" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        if minutes > 0 { return "\(minutes)m \(total % 60)s" }
        return "\(total)s"
    }

    /// The table printed by `certkeeper status`.
    package func table(now: Date) -> String {
        var lines = [
            "NAME\tDOMAINS\tCA\tACCOUNT\tNOT AFTER\tCHAIN ROOT\tNEXT ACTION\tWHEN\tRENEW AT\tLAST ERROR"
        ]
        for row in certificates {
            let when =
                row.nextActionAt.map {
                    "\(ACMEJSON.formatRFC3339($0)) (in \(Self.humanInterval($0.timeIntervalSince(now))))"
                } ?? "-"
            var error = row.lastError.map { $0.count > 120 ? String($0.prefix(117)) + "..." : $0 } ?? "-"
            if row.failureCount > 0 { error = "[\(row.failureCount) failure(s)] " + error }
            lines.append(
                [
                    row.name, row.domains.joined(separator: ","), row.ca, row.account,
                    row.notAfter.map { ACMEJSON.formatRFC3339($0) } ?? "-", row.chainRoot ?? "-", row.nextAction, when,
                    row.renewAt.map { ACMEJSON.formatRFC3339($0) } ?? "-", error,
                ].joined(separator: "\t"))
        }
        for spec in rejectedSpecs { lines.append("\(spec)\t(rejected: see `certkeeper check`)") }
        return (storeProblem.map { "STORE: \($0)\n" } ?? "") + Self.align(lines)
    }

    private static func align(_ lines: [String]) -> String {
        let rows = lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        var widths: [Int] = []
        for row in rows {
            for (index, cell) in row.enumerated() {
                if index >= widths.count { widths.append(0) }
                widths[index] = max(widths[index], cell.count)
            }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
            }.joined()
        }.joined(separator: "\n")
    }
}
