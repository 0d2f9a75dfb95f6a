import CertkeeperConfig
import Foundation
import Logging

/// Keeps every certificate on schedule with one timer: it asks its ``SchedulePlan`` what is due, runs that in
/// parallel up to the limit through the ``CertificateWorker``, and sleeps on the clock until the plan's next wake.
///
/// Idle means asleep: there is no periodic polling. Changes (reload, `renew NAME`, a finished attempt) wake it early.
package actor RenewalScheduler {
    package typealias Entry = SchedulePlan.Entry

    private let worker: any CertificateWorker
    private let clock: any DaemonClock
    private let logger: Logger
    private var plan: SchedulePlan
    private var sleepTask: Task<Bool, Never>?
    /// The attempt in flight per certificate, cancelled when ``run()`` is (shutdown).
    private var jobs: [String: Task<Void, Never>] = [:]
    private var loop: LoopState = .notStarted
    /// Timer expiries that found work due; tests assert one per distinct due time.
    package private(set) var timerWakeups = 0
    private var changeCallbacks: [@Sendable () -> Void] = []
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// End-of-batch work in progress (``CertificateWorker/batchFinished()``): not idle yet.
    private var finishingBatches = 0
    /// Fires when ``run()`` starts looping.
    private let started = OneShotSignal()

    private enum LoopState { case notStarted, running, ended }

    package init(worker: any CertificateWorker, clock: any DaemonClock, maxConcurrent: Int, logger: Logger) {
        self.worker = worker
        self.clock = clock
        self.plan = SchedulePlan(maxConcurrent: maxConcurrent)
        self.logger = logger
    }

    /// Registers a callback run after every state change (for the status line).
    package func onChange(_ callback: @escaping @Sendable () -> Void) {
        changeCallbacks.append(callback)
    }

    /// Replaces the set of certificates (``SchedulePlan/apply(specs:maxConcurrent:replanWaiting:now:)``) and asks
    /// the worker when each new or changed one is first due.
    package func apply(specs: [CertificateSpec], maxConcurrent: Int, replanWaiting: Bool = false) async {
        let toPlan = plan.apply(
            specs: specs, maxConcurrent: maxConcurrent, replanWaiting: replanWaiting, now: clock.now())
        if !toPlan.isEmpty {
            let dues = await worker.firstDue(toPlan)
            // A worker answering fewer dates than asked must not leave specs unscheduled: those are looked at now.
            for (index, spec) in toPlan.enumerated() {
                plan.planned(spec, due: index < dues.count ? dues[index] : clock.now())
            }
        }
        wake()
    }

    /// Asks for work on `name` now. Returns false when there is no such certificate.
    package func renewNow(_ name: String, force: Bool) -> Bool {
        guard plan.renewNow(name, force: force, now: clock.now()) else { return false }
        wake()
        return true
    }

    /// A copy of every entry, for status output.
    package func snapshot() -> [Entry] { plan.snapshot }

    /// The earliest due time among certificates not in flight.
    package func nextDue() -> (name: String, due: Date)? { plan.nextDue }

    /// Whether an attempt for `name` is under way.
    package func isInFlight(_ name: String) -> Bool { plan.entries[name]?.inFlight ?? false }

    /// Number of certificates being worked on.
    package var inFlightCount: Int { plan.inFlightCount }

    /// Whether the daemon is making progress, for the systemd watchdog: ``run()`` is looping, this actor answers,
    /// and no attempt has been in flight for `stuckAfter` seconds or more (attempts are cancelled at their
    /// deadline, so one still running long after it is stuck beyond cancellation).
    package func isAlive(now: Date, stuckAfter: TimeInterval) -> Bool {
        loop == .running && !plan.hasStuckAttempt(now: now, stuckAfter: stuckAfter)
    }

    /// Returns once ``run()`` is looping (or the caller is cancelled).
    package nonisolated func waitUntilRunning() async { await started.wait() }

    /// Returns once no attempt is in flight and the end of the batch is handled (at once if so already).
    package func waitUntilIdle() async {
        if isIdle { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    /// Runs until the surrounding task is cancelled.
    package func run() async {
        loop = .running
        started.fire()
        defer { loop = .ended }
        while !Task.isCancelled {
            startDueWork()
            let deadline = plan.nextWake
            let timed = deadline.map { $0 > clock.now() } ?? false
            // The task's value: true when the timer ran out, false when a change woke it (cancelled) first.
            let task = Task<Bool, Never> { [clock] in
                // Nothing scheduled (or every slot taken): wait to be woken by a change.
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
        for start in plan.startDue(now: clock.now()) {
            let spec = start.spec
            jobs[spec.name] = Task { [worker] in
                let next = await worker.process(spec, force: start.force)
                await self.finished(spec, next: next)
            }
        }
    }

    private func finished(_ spec: CertificateSpec, next: Date) async {
        jobs[spec.name] = nil
        plan.finished(spec, next: next, now: clock.now())
        if plan.inFlightCount == 0 {
            finishingBatches += 1
            await worker.batchFinished()
            finishingBatches -= 1
        }
        wake()
        // After wake(): whoever waited for idle sees the loop's old sleep already cancelled.
        if isIdle {
            for waiter in idleWaiters { waiter.resume() }
            idleWaiters = []
        }
    }

    private var isIdle: Bool { plan.inFlightCount == 0 && finishingBatches == 0 }
}
