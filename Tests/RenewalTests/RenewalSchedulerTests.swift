import CertkeeperConfig
import Foundation
import Logging
import Renewal
import TestSupport
import Testing

/// A worker that records calls and returns scripted due times; tests await its events instead of polling.
actor RecordingWorker: CertificateWorker {
    var firstDueTimes: [String: Date] = [:]
    var nextDue: @Sendable (String, Date) -> Date
    private(set) var processed: [(name: String, at: Date, force: Bool)] = []
    private(set) var concurrent = 0
    private(set) var maxConcurrentSeen = 0
    private(set) var batches = 0
    private(set) var left = 0
    private(set) var cancelledAtLeave: [String] = []
    let clock: ManualClock
    var gate: Bool = false
    private var gateWaiters: [CheckedContinuation<Void, Never>] = []
    private enum Counter { case started, ended }
    private var countWaiters: [(counter: Counter, count: Int, continuation: CheckedContinuation<Void, Never>)] = []

    init(clock: ManualClock, firstDue: [String: Date], nextDue: @escaping @Sendable (String, Date) -> Date) {
        self.clock = clock
        self.firstDueTimes = firstDue
        self.nextDue = nextDue
    }

    func closeGate() { gate = true }
    func openGate() {
        gate = false
        for waiter in gateWaiters { waiter.resume() }
        gateWaiters = []
    }

    /// Returns once `count` attempts have started.
    func waitForProcessed(_ count: Int) async { await waitUntil(.started, count) }
    /// Returns once `count` attempts have ended.
    func waitForLeft(_ count: Int) async { await waitUntil(.ended, count) }

    private func value(_ counter: Counter) -> Int { counter == .started ? processed.count : left }

    private func waitUntil(_ counter: Counter, _ count: Int) async {
        if value(counter) >= count { return }
        await withCheckedContinuation { countWaiters.append((counter, count, $0)) }
    }

    private func changed() {
        let ready = countWaiters.filter { value($0.counter) >= $0.count }
        countWaiters.removeAll { value($0.counter) >= $0.count }
        for waiter in ready { waiter.continuation.resume() }
    }

    nonisolated func firstDue(_ spec: CertificateSpec) async -> Date {
        await firstDueTimes[spec.name] ?? .distantFuture
    }

    nonisolated func process(_ spec: CertificateSpec, force: Bool) async -> Date {
        await enter(spec.name, force: force)
        await waitGate()
        return await leave(spec.name)
    }

    private func enter(_ name: String, force: Bool) {
        concurrent += 1
        maxConcurrentSeen = max(maxConcurrentSeen, concurrent)
        processed.append((name, clock.now(), force))
        changed()
    }
    private func waitGate() async {
        guard gate else { return }
        await withCheckedContinuation { gateWaiters.append($0) }
    }
    private func leave(_ name: String) -> Date {
        if Task.isCancelled { cancelledAtLeave.append(name) }
        concurrent -= 1
        left += 1
        changed()
        return nextDue(name, clock.now())
    }
    nonisolated func batchFinished() async { await countBatch() }
    private func countBatch() { batches += 1 }
    var processedCount: Int { processed.count }
}

/// The scheduler on a manual clock: time moves only when a test moves it, and every wait is for an event (a sleeper
/// on the clock, an attempt starting or ending, the scheduler going idle), never for time.
@Suite struct RenewalSchedulerTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func thousandSpecsWakeOncePerDistinctDueTime() async throws {
        let clock = ManualClock(now: start)
        // 1,000 certificates spread over 10 distinct due times, an hour apart.
        var first: [String: Date] = [:]
        for index in 0..<1000 { first["c\(index)"] = start.addingTimeInterval(Double(3600 * (1 + index % 10))) }
        let worker = RecordingWorker(clock: clock, firstDue: first) { _, now in now.addingTimeInterval(90 * 86_400) }
        let scheduler = RenewalScheduler(
            worker: worker, clock: clock, maxConcurrent: 1000, logger: Logger(label: "test"))
        await scheduler.apply(specs: (0..<1000).map { makeSpec("c\($0)") }, maxConcurrent: 1000)
        let runner = Task { await scheduler.run() }
        defer { runner.cancel() }

        await clock.waitForSleeper(until: start.addingTimeInterval(3600))
        #expect(clock.pendingDeadlines == [start.addingTimeInterval(3600)])
        #expect(await worker.processedCount == 0)
        for hour in 1...10 {
            clock.advance(to: start.addingTimeInterval(Double(3600 * hour)))
            await worker.waitForProcessed(hour * 100)
            await scheduler.waitUntilIdle()
            let next =
                hour < 10
                ? start.addingTimeInterval(Double(3600 * (hour + 1))) : start.addingTimeInterval(3600 + 90 * 86_400)
            await clock.waitForSleeper(until: next)
            #expect(await worker.processedCount == hour * 100)
            #expect(clock.pendingDeadlines == [next])
        }
        #expect(await scheduler.timerWakeups == 10)
        #expect(await worker.processedCount == 1000)
    }

    @Test func concurrencyIsBoundedAndOneCertificateIsNeverWorkedTwice() async throws {
        let clock = ManualClock(now: start)
        let first = Dictionary(uniqueKeysWithValues: (0..<20).map { ("c\($0)", start) })
        let worker = RecordingWorker(clock: clock, firstDue: first) { _, now in now.addingTimeInterval(86_400) }
        await worker.closeGate()
        let scheduler = RenewalScheduler(worker: worker, clock: clock, maxConcurrent: 3, logger: Logger(label: "test"))
        await scheduler.apply(specs: (0..<20).map { makeSpec("c\($0)") }, maxConcurrent: 3)
        let runner = Task { await scheduler.run() }
        defer { runner.cancel() }
        await worker.waitForProcessed(3)
        // At capacity the scheduler sleeps without a deadline until an attempt ends.
        await clock.waitForSleeper(until: .distantFuture)
        // A renew request for a certificate in flight does not start a second attempt.
        let inFlight = await worker.processed[0].name
        #expect(await scheduler.renewNow(inFlight, force: true))
        await clock.waitForSleeper(until: .distantFuture)
        #expect(await worker.processedCount == 3)
        await worker.openGate()
        await worker.waitForLeft(21)
        await scheduler.waitUntilIdle()
        #expect(await worker.processedCount == 21)
        #expect(await worker.maxConcurrentSeen == 3)
        let names = await worker.processed.map(\.name)
        // Every certificate once, plus one forced re-run of the one that was in flight.
        #expect(Set(names).count == 20)
        #expect(names.filter { $0 == inFlight }.count == 2)
        #expect(await worker.processed.last(where: { $0.name == inFlight })?.force == true)
        #expect(await worker.batches >= 1)
    }

    @Test func reloadAddsRemovesAndReplansWithoutTouchingOthers() async throws {
        let clock = ManualClock(now: start)
        let worker = RecordingWorker(
            clock: clock,
            firstDue: ["a": start.addingTimeInterval(100), "b": start.addingTimeInterval(200), "c": start]
        ) { _, now in now.addingTimeInterval(86_400) }
        let scheduler = RenewalScheduler(worker: worker, clock: clock, maxConcurrent: 8, logger: Logger(label: "test"))
        await scheduler.apply(specs: [makeSpec("a"), makeSpec("b")], maxConcurrent: 8)
        let runner = Task { await scheduler.run() }
        defer { runner.cancel() }
        await clock.waitForSleeper(until: start.addingTimeInterval(100))
        // Reload: drop a, keep b, add c (due now).
        await scheduler.apply(specs: [makeSpec("b"), makeSpec("c")], maxConcurrent: 8)
        await worker.waitForLeft(1)
        await scheduler.waitUntilIdle()
        await clock.waitForSleeper(until: start.addingTimeInterval(200))
        #expect(await worker.processed.map(\.name) == ["c"])
        #expect(clock.pendingDeadlines == [start.addingTimeInterval(200)])
        #expect(await scheduler.snapshot().map(\.spec.name) == ["b", "c"])
        #expect(await scheduler.renewNow("a", force: false) == false)
    }
}

@Suite struct RenewalSchedulerReloadRaceTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func specRemovedAndReAddedWhileInFlightStaysScheduled() async throws {
        let clock = ManualClock(now: start)
        let worker = RecordingWorker(clock: clock, firstDue: ["a": start]) { _, now in now.addingTimeInterval(86_400) }
        await worker.closeGate()
        let scheduler = RenewalScheduler(worker: worker, clock: clock, maxConcurrent: 8, logger: Logger(label: "test"))
        await scheduler.apply(specs: [makeSpec("a")], maxConcurrent: 8)
        let runner = Task { await scheduler.run() }
        defer { runner.cancel() }
        await worker.waitForProcessed(1)
        // Two reloads while `a` is in flight: its file is removed, then put back.
        await scheduler.apply(specs: [], maxConcurrent: 8)
        await scheduler.apply(specs: [makeSpec("a")], maxConcurrent: 8)
        await worker.openGate()
        await worker.waitForLeft(1)
        await scheduler.waitUntilIdle()
        #expect(await scheduler.snapshot().map(\.spec.name) == ["a"])
        #expect(await scheduler.renewNow("a", force: false))
    }

    @Test func renewRequestedWhileAReloadPlansTheSpecIsKept() async throws {
        let clock = ManualClock(now: start)
        let worker = GatedPlanningWorker(due: start.addingTimeInterval(30 * 86_400))
        let scheduler = RenewalScheduler(worker: worker, clock: clock, maxConcurrent: 8, logger: Logger(label: "test"))
        let reload = Task { await scheduler.apply(specs: [makeSpec("a")], maxConcurrent: 8) }
        await worker.planningStarted.wait()
        // `certkeeper renew a` arrives while the reload is still computing a's first due time.
        #expect(await scheduler.renewNow("a", force: false))
        await worker.release()
        await reload.value
        #expect(await scheduler.snapshot().first?.due == start)
    }

    @Test func stoppingTheSchedulerCancelsAttemptsInFlight() async throws {
        let clock = ManualClock(now: start)
        let worker = RecordingWorker(clock: clock, firstDue: ["a": start]) { _, now in now.addingTimeInterval(86_400) }
        await worker.closeGate()
        let scheduler = RenewalScheduler(worker: worker, clock: clock, maxConcurrent: 8, logger: Logger(label: "test"))
        await scheduler.apply(specs: [makeSpec("a")], maxConcurrent: 8)
        let runner = Task { await scheduler.run() }
        await worker.waitForProcessed(1)
        runner.cancel()
        await runner.value
        await worker.openGate()
        await worker.waitForLeft(1)
        #expect(await worker.cancelledAtLeave == ["a"])
    }
}

/// A worker whose `firstDue` waits until released, so a test can act while `apply` is planning.
actor GatedPlanningWorker: CertificateWorker {
    private var waiters: [CheckedContinuation<Void, Never>] = []
    nonisolated let planningStarted = OneShotSignal()
    private let due: Date
    init(due: Date) { self.due = due }
    func firstDue(_ spec: CertificateSpec) async -> Date {
        planningStarted.fire()
        await withCheckedContinuation { waiters.append($0) }
        return due
    }
    func release() {
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
    func process(_ spec: CertificateSpec, force: Bool) async -> Date { .distantFuture }
}

/// What the systemd watchdog asks before each WATCHDOG=1.
@Suite struct RenewalSchedulerLivenessTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aliveOnlyWhileTheLoopRunsAndNoAttemptIsStuck() async throws {
        let clock = ManualClock(now: start)
        let worker = RecordingWorker(clock: clock, firstDue: ["a": start]) { _, now in now.addingTimeInterval(86_400) }
        await worker.closeGate()
        let scheduler = RenewalScheduler(worker: worker, clock: clock, maxConcurrent: 4, logger: Logger(label: "t"))
        await scheduler.apply(specs: [makeSpec("a")], maxConcurrent: 4)
        #expect(await !scheduler.isAlive(now: start, stuckAfter: 1860))

        let runner = Task { await scheduler.run() }
        await scheduler.waitUntilRunning()
        await worker.waitForProcessed(1)
        #expect(await scheduler.isAlive(now: start.addingTimeInterval(1859), stuckAfter: 1860))
        // The attempt is still in flight long past its deadline: it ignores cancellation, the daemon is stuck.
        #expect(await !scheduler.isAlive(now: start.addingTimeInterval(1860), stuckAfter: 1860))

        await worker.openGate()
        await worker.waitForLeft(1)
        await scheduler.waitUntilIdle()
        #expect(await scheduler.isAlive(now: start.addingTimeInterval(1860), stuckAfter: 1860))
        runner.cancel()
        await runner.value
        #expect(await !scheduler.isAlive(now: start.addingTimeInterval(1860), stuckAfter: 1860))
    }
}
