import CertkeeperConfig
import Foundation
import Logging

/// Keeps every certificate on schedule with one timer: it sleeps until the earliest due item, runs due items
/// in parallel up to `maxConcurrent`, and never works on one certificate twice at once.
///
/// Idle means asleep: there is no periodic polling. Changes (reload, `renew NAME`, a finished job) wake it early.
public actor RenewalScheduler {
    /// What the scheduler knows of one certificate.
    public struct Entry: Sendable {
        public var spec: CertificateSpec
        /// When it next needs attention; nil while its first due time is being computed.
        public var due: Date?
        public var inFlight: Bool
        /// Set by `renewNow(force: true)` and consumed by the next run.
        public var force: Bool

        public init(spec: CertificateSpec, due: Date?, inFlight: Bool = false, force: Bool = false) {
            self.spec = spec
            self.due = due
            self.inFlight = inFlight
            self.force = force
        }
    }

    private let worker: any CertificateWorker
    private let clock: any DaemonClock
    private let logger: Logger
    private var maxConcurrent: Int
    private var entries: [String: Entry] = [:]
    private var sleepTask: Task<Bool, Never>?
    private var running = 0
    /// The attempt in flight per certificate, cancelled when ``run()`` is (shutdown).
    private var jobs: [String: Task<Void, Never>] = [:]
    /// When each attempt in flight started, for ``isAlive(now:stuckAfter:)``.
    private var jobStarted: [String: Date] = [:]
    /// True while ``run()`` is looping.
    private var loopRunning = false
    /// Timer expiries that found work due; tests assert one per distinct due time.
    public private(set) var timerWakeups = 0
    private var changeCallbacks: [@Sendable () -> Void] = []

    public init(worker: any CertificateWorker, clock: any DaemonClock, maxConcurrent: Int, logger: Logger) {
        self.worker = worker
        self.clock = clock
        self.maxConcurrent = max(1, maxConcurrent)
        self.logger = logger
    }

    /// Registers a callback run after every state change (for the status line).
    public func onChange(_ callback: @escaping @Sendable () -> Void) {
        changeCallbacks.append(callback)
    }

    /// Replaces the set of certificates: new ones are added, removed ones dropped (their files stay on disk),
    /// changed ones re-planned. A certificate in flight finishes its current attempt first.
    ///
    /// With `replanWaiting` (a reload), certificates parked until a config change (e.g. after an EAB refusal)
    /// are tried again at once.
    public func apply(specs: [CertificateSpec], maxConcurrent: Int, replanWaiting: Bool = false) async {
        self.maxConcurrent = max(1, maxConcurrent)
        if replanWaiting {
            for (name, entry) in entries where !entry.inFlight && entry.due == .distantFuture {
                entries[name]?.due = clock.now()
                entries[name]?.force = true
            }
        }
        let wanted = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })
        for name in entries.keys where wanted[name] == nil && entries[name]?.inFlight == false {
            entries.removeValue(forKey: name)
        }
        var toPlan: [CertificateSpec] = []
        for spec in specs {
            if var entry = entries[spec.name] {
                if entry.spec != spec {
                    entry.spec = spec
                    if !entry.inFlight { entry.due = nil }
                    entries[spec.name] = entry
                    if !entry.inFlight { toPlan.append(spec) }
                }
            } else {
                entries[spec.name] = Entry(spec: spec, due: nil, inFlight: false, force: false)
                toPlan.append(spec)
            }
        }
        for spec in toPlan {
            let due = await worker.firstDue(spec)
            if entries[spec.name]?.spec == spec, entries[spec.name]?.inFlight == false {
                // A `renew NAME` that arrived while this was being computed asked for an earlier time: keep it.
                let requested = entries[spec.name]?.due
                entries[spec.name]?.due = requested.map { min($0, due) } ?? due
            }
        }
        pruneRemoved(keeping: Set(wanted.keys))
        wake()
    }

    private var removedWhileInFlight: Set<String> = []

    private func pruneRemoved(keeping names: Set<String>) {
        // A spec removed by an earlier reload while in flight and now back must not be dropped when it finishes.
        removedWhileInFlight.subtract(names)
        for name in entries.keys where !names.contains(name) {
            removedWhileInFlight.insert(name)
        }
    }

    /// Asks for work on `name` now. Returns false when there is no such certificate.
    public func renewNow(_ name: String, force: Bool) -> Bool {
        guard entries[name] != nil else { return false }
        entries[name]?.due = clock.now()
        if force { entries[name]?.force = true }
        wake()
        return true
    }

    /// A copy of every entry, for status output.
    public func snapshot() -> [Entry] {
        entries.values.sorted { $0.spec.name < $1.spec.name }
    }

    /// The earliest due time among certificates not in flight.
    public func nextDue() -> (name: String, due: Date)? {
        entries.values.filter { !$0.inFlight && $0.due != nil }
            .min { $0.due! < $1.due! }
            .map { ($0.spec.name, $0.due!) }
    }

    /// Number of certificates being worked on.
    public var inFlightCount: Int { running }

    /// Whether the daemon is making progress, for the systemd watchdog: ``run()`` is looping, this actor answers,
    /// and no attempt has been in flight for `stuckAfter` seconds or more (attempts are cancelled at their
    /// deadline, so one still running long after it is stuck beyond cancellation).
    public func isAlive(now: Date, stuckAfter: TimeInterval) -> Bool {
        loopRunning && jobStarted.values.allSatisfy { now.timeIntervalSince($0) < stuckAfter }
    }

    /// Runs until the surrounding task is cancelled.
    public func run() async {
        loopRunning = true
        defer { loopRunning = false }
        while !Task.isCancelled {
            startDueWork()
            // At capacity, wait for a job to finish (it wakes us); otherwise sleep to the earliest due item.
            let deadline = running >= maxConcurrent ? nil : nextDue()?.due
            let timed = deadline.map { $0 > clock.now() } ?? false
            // The task's value: true when the timer ran out, false when a change woke it (cancelled) first.
            let task = Task<Bool, Never> { [clock] in
                // Nothing scheduled: wait to be woken by a change.
                (try? await clock.sleep(until: deadline ?? .distantFuture)) != nil
            }
            sleepTask = task
            // The sleep is an unstructured task: cancelling run() must cancel it, or shutdown waits forever.
            let fired = await withTaskCancellationHandler {
                await task.value
            } onCancel: {
                task.cancel()
            }
            sleepTask = nil
            // Judged by how the sleep ended, not by a cancellation that may arrive after it ended.
            if timed, fired, let deadline, clock.now() >= deadline {
                timerWakeups += 1
            }
        }
        sleepTask?.cancel()
        for job in jobs.values { job.cancel() }
    }

    private func wake() {
        sleepTask?.cancel()
        for callback in changeCallbacks { callback() }
    }

    private func startDueWork() {
        let now = clock.now()
        let due = entries.values
            .filter { !$0.inFlight && ($0.due.map { $0 <= now } ?? false) }
            .sorted { ($0.due!, $0.spec.name) < ($1.due!, $1.spec.name) }
        for entry in due {
            guard running < maxConcurrent else { break }
            let name = entry.spec.name
            let force = entry.force
            entries[name]?.inFlight = true
            entries[name]?.force = false
            running += 1
            jobStarted[name] = now
            let spec = entry.spec
            jobs[name] = Task { [worker] in
                let next = await worker.process(spec, force: force)
                await self.finished(name: name, spec: spec, next: next)
            }
        }
    }

    private func finished(name: String, spec: CertificateSpec, next: Date) async {
        running -= 1
        jobs[name] = nil
        jobStarted[name] = nil
        if removedWhileInFlight.remove(name) != nil {
            entries.removeValue(forKey: name)
        } else if var entry = entries[name] {
            entry.inFlight = false
            if entry.spec == spec {
                entry.due = entry.force ? clock.now() : next
            } else {
                // The spec changed during the attempt: re-plan the new version now.
                entry.due = clock.now()
            }
            entries[name] = entry
        }
        if running == 0 {
            await worker.batchFinished()
        }
        wake()
    }
}
