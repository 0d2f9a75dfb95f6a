import CertkeeperConfig
import Foundation

/// The scheduler's decisions as a value: which certificates there are, when each is next due, which are in flight.
/// No clock and no tasks (`now` is an argument), so every scheduling rule is a unit test; ``RenewalScheduler``
/// carries the decisions out.
package struct SchedulePlan: Sendable {
    /// What the plan knows of one certificate.
    package struct Entry: Sendable {
        package var spec: CertificateSpec
        /// When it next needs attention; nil while its first due time is being computed.
        package var due: Date?
        package var inFlight: Bool
        /// Set by a forced `renew` and consumed by the next attempt.
        package var force: Bool
        /// When the attempt in flight started.
        package var startedAt: Date?

        package init(spec: CertificateSpec, due: Date?, inFlight: Bool = false, force: Bool = false) {
            self.spec = spec
            self.due = due
            self.inFlight = inFlight
            self.force = force
        }
    }

    /// An attempt to start now.
    package struct Start: Sendable {
        package var spec: CertificateSpec
        package var force: Bool
    }

    package private(set) var entries: [String: Entry] = [:]
    package private(set) var maxConcurrent: Int
    /// Removed by a reload while in flight: dropped when the attempt ends (unless a later reload brought it back).
    private var removedWhileInFlight: Set<String> = []

    package init(maxConcurrent: Int) {
        self.maxConcurrent = max(1, maxConcurrent)
    }

    /// Replaces the set of certificates: new ones are added, removed ones dropped (their files stay on disk), changed
    /// ones re-planned; one in flight finishes its attempt first. Returns the specs whose first due time is needed
    /// (``planned(_:due:)``).
    ///
    /// With `replanWaiting` (a reload), certificates parked until a configuration change are tried again at once.
    package mutating func apply(specs: [CertificateSpec], maxConcurrent: Int, replanWaiting: Bool, now: Date)
        -> [CertificateSpec]
    {
        self.maxConcurrent = max(1, maxConcurrent)
        if replanWaiting {
            for (name, entry) in entries where !entry.inFlight && entry.due == .distantFuture {
                entries[name]?.due = now
                entries[name]?.force = true
            }
        }
        let wanted = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })
        for (name, entry) in entries where wanted[name] == nil && !entry.inFlight {
            entries.removeValue(forKey: name)
        }
        var toPlan: [CertificateSpec] = []
        for spec in specs {
            if var entry = entries[spec.name] {
                guard entry.spec != spec else { continue }
                entry.spec = spec
                if !entry.inFlight {
                    entry.due = nil
                    toPlan.append(spec)
                }
                entries[spec.name] = entry
            } else {
                entries[spec.name] = Entry(spec: spec, due: nil)
                toPlan.append(spec)
            }
        }
        // A spec removed by an earlier reload while in flight and now back must not be dropped when it finishes.
        removedWhileInFlight.subtract(wanted.keys)
        for name in entries.keys where wanted[name] == nil {
            removedWhileInFlight.insert(name)
        }
        return toPlan
    }

    /// Records the first due time computed for `spec`, unless the spec changed or started meanwhile; a `renew`
    /// that arrived while it was computed asked for an earlier time and keeps it.
    package mutating func planned(_ spec: CertificateSpec, due: Date) {
        guard let entry = entries[spec.name], entry.spec == spec, !entry.inFlight else { return }
        entries[spec.name]?.due = entry.due.map { min($0, due) } ?? due
    }

    /// Asks for work on `name` now. False when there is no such certificate.
    package mutating func renewNow(_ name: String, force: Bool, now: Date) -> Bool {
        guard entries[name] != nil else { return false }
        entries[name]?.due = now
        if force { entries[name]?.force = true }
        return true
    }

    /// Marks what is due by `now` as in flight, earliest first, up to the concurrency limit, and returns it.
    package mutating func startDue(now: Date) -> [Start] {
        let due = entries.values
            .filter { !$0.inFlight && ($0.due.map { $0 <= now } ?? false) }
            .sorted { ($0.due!, $0.spec.name) < ($1.due!, $1.spec.name) }
        var started: [Start] = []
        for entry in due.prefix(max(0, maxConcurrent - inFlightCount)) {
            let name = entry.spec.name
            entries[name]?.inFlight = true
            entries[name]?.force = false
            entries[name]?.startedAt = now
            started.append(Start(spec: entry.spec, force: entry.force))
        }
        return started
    }

    /// Records the end of an attempt on `spec` and when the certificate next needs attention.
    package mutating func finished(_ spec: CertificateSpec, next: Date, now: Date) {
        let name = spec.name
        if removedWhileInFlight.remove(name) != nil {
            entries.removeValue(forKey: name)
            return
        }
        guard var entry = entries[name] else { return }
        entry.inFlight = false
        entry.startedAt = nil
        // A forced renew that arrived meanwhile, or a spec changed during the attempt: again now.
        entry.due = entry.force || entry.spec != spec ? now : next
        entries[name] = entry
    }

    /// When something next falls due, while there is room for it; nil when nothing is scheduled or every slot is
    /// taken (a finishing attempt wakes the scheduler).
    package var nextWake: Date? {
        guard inFlightCount < maxConcurrent else { return nil }
        return nextDue?.due
    }

    /// The earliest due time among certificates not in flight.
    package var nextDue: (name: String, due: Date)? {
        entries.values.filter { !$0.inFlight && $0.due != nil }
            .min { ($0.due!, $0.spec.name) < ($1.due!, $1.spec.name) }
            .map { ($0.spec.name, $0.due!) }
    }

    package var inFlightCount: Int { entries.values.count(where: \.inFlight) }

    /// True when an attempt has been in flight for `stuckAfter` or more.
    package func hasStuckAttempt(now: Date, stuckAfter: TimeInterval) -> Bool {
        entries.values.contains { $0.startedAt.map { now.timeIntervalSince($0) >= stuckAfter } ?? false }
    }

    /// Every entry, by name.
    package var snapshot: [Entry] { entries.values.sorted { $0.spec.name < $1.spec.name } }
}
