import CertkeeperConfig
import Foundation
import HeapModule

/// The scheduler's decisions as a value: which certificates there are, when each is next due, which are in flight.
/// No clock and no tasks (`now` is an argument), so every scheduling rule is a unit test; ``RenewalScheduler``
/// carries the decisions out.
///
/// Indexed for thousands of certificates: due times sit in a min-heap (stale keys are dropped lazily) and the
/// certificates in flight in a set, so starting the next due attempt and finding the next wake cost O(log n), not a
/// scan and sort of every entry (which made a reload adding 9,000 specs quadratic).
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

    /// A due time in the heap; it counts only while its entry still has that due time and is not in flight.
    private struct DueKey: Comparable, Sendable {
        var due: Date
        var name: String
        static func < (lhs: DueKey, rhs: DueKey) -> Bool { (lhs.due, lhs.name) < (rhs.due, rhs.name) }
    }

    package private(set) var entries: [String: Entry] = [:]
    package private(set) var maxConcurrent: Int
    private var queue = Heap<DueKey>()
    private var inFlight: Set<String> = []
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
                queue.insert(DueKey(due: now, name: name))
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
        dropStaleKeys()
        return toPlan
    }

    /// Records the first due time computed for `spec`, unless the spec changed or started meanwhile; a `renew`
    /// that arrived while it was computed asked for an earlier time and keeps it.
    package mutating func planned(_ spec: CertificateSpec, due: Date) {
        guard let entry = entries[spec.name], entry.spec == spec, !entry.inFlight else { return }
        let chosen = entry.due.map { min($0, due) } ?? due
        entries[spec.name]?.due = chosen
        queue.insert(DueKey(due: chosen, name: spec.name))
        dropStaleKeys()
    }

    /// Asks for work on `name` now. False when there is no such certificate.
    package mutating func renewNow(_ name: String, force: Bool, now: Date) -> Bool {
        guard let entry = entries[name] else { return false }
        entries[name]?.due = now
        if force { entries[name]?.force = true }
        if !entry.inFlight { queue.insert(DueKey(due: now, name: name)) }
        dropStaleKeys()
        return true
    }

    /// Marks what is due by `now` as in flight, earliest first, up to the concurrency limit, and returns it.
    package mutating func startDue(now: Date) -> [Start] {
        var started: [Start] = []
        while inFlight.count < maxConcurrent, let top = queue.min, top.due <= now {
            queue.removeMin()
            guard isCurrent(top), var entry = entries[top.name] else { continue }
            started.append(Start(spec: entry.spec, force: entry.force))
            entry.inFlight = true
            entry.force = false
            entry.startedAt = now
            entries[top.name] = entry
            inFlight.insert(top.name)
        }
        dropStaleKeys()
        return started
    }

    /// Records the end of an attempt on `spec` and when the certificate next needs attention.
    package mutating func finished(_ spec: CertificateSpec, next: Date, now: Date) {
        let name = spec.name
        inFlight.remove(name)
        if removedWhileInFlight.remove(name) != nil {
            entries.removeValue(forKey: name)
            dropStaleKeys()
            return
        }
        guard var entry = entries[name] else { return }
        entry.inFlight = false
        entry.startedAt = nil
        // A forced renew that arrived meanwhile, or a spec changed during the attempt: again now.
        let due = entry.force || entry.spec != spec ? now : next
        entry.due = due
        entries[name] = entry
        queue.insert(DueKey(due: due, name: name))
        dropStaleKeys()
    }

    /// When something next falls due, while there is room for it; nil when nothing is scheduled or every slot is
    /// taken (a finishing attempt wakes the scheduler).
    package var nextWake: Date? {
        guard inFlightCount < maxConcurrent else { return nil }
        return nextDue?.due
    }

    /// The earliest due time among certificates not in flight.
    package var nextDue: (name: String, due: Date)? {
        queue.min.map { ($0.name, $0.due) }
    }

    package var inFlightCount: Int { inFlight.count }

    /// True when an attempt has been in flight for `stuckAfter` or more.
    package func hasStuckAttempt(now: Date, stuckAfter: TimeInterval) -> Bool {
        inFlight.contains { entries[$0]?.startedAt.map { now.timeIntervalSince($0) >= stuckAfter } ?? false }
    }

    /// Whether `key` is the entry's current due time (not replaced, not started, not removed).
    private func isCurrent(_ key: DueKey) -> Bool {
        guard let entry = entries[key.name] else { return false }
        return !entry.inFlight && entry.due == key.due
    }

    /// Keeps the heap's top a current key (so ``nextDue`` is a peek), and rebuilds the heap when stale keys
    /// outnumber the entries (each change of a due time leaves one behind).
    private mutating func dropStaleKeys() {
        if queue.count > 2 * entries.count + 64 {
            queue = Heap(
                entries.compactMap { name, entry in
                    entry.inFlight ? nil : entry.due.map { DueKey(due: $0, name: name) }
                })
            return
        }
        while let top = queue.min, !isCurrent(top) { queue.removeMin() }
    }

    /// Every entry, by name.
    package var snapshot: [Entry] { entries.values.sorted { $0.spec.name < $1.spec.name } }
}
