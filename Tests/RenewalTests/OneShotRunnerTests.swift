import CertkeeperConfig
import Foundation
import Renewal
import Synchronization
import TestSupport
import Testing

/// `run --once`: which certificates get an attempt, at most how many at a time, and how the run's result and exit
/// status follow from what the state store recorded.
@Suite struct OneShotRunnerTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// Failures per certificate as a state store would hold them after the attempts.
    final class FailureBook: Sendable {
        let entries = Mutex<[String: OneShotPlan.Failures]>([:])
        func set(_ name: String, _ failures: OneShotPlan.Failures) { entries.withLock { $0[name] = failures } }
        func get(_ name: String) -> OneShotPlan.Failures { entries.withLock { $0[name] } ?? .none }
    }

    func runner(_ worker: RecordingWorker, _ clock: ManualClock, _ book: FailureBook, max: Int = 2) -> OneShotRunner {
        OneShotRunner(worker: worker, clock: clock, maxConcurrent: max) { spec in book.get(spec.name) }
    }

    @Test func attemptsOnlyWhatIsDueAtMostMaxConcurrentAtOnceThenEndsTheBatch() async {
        let clock = ManualClock(now: start)
        let later = start.addingTimeInterval(86_400)
        var first: [String: Date] = [:]
        for index in 0..<5 { first["due\(index)"] = start }
        first["later"] = later
        let worker = RecordingWorker(clock: clock, firstDue: first) { _, now in now.addingTimeInterval(60 * 86_400) }
        let book = FailureBook()
        // Attempts block until the gate opens: with two in flight a third may start only when one ends.
        await worker.closeGate()
        let run = Task { [self] in await runner(worker, clock, book).run(first.keys.map { makeSpec($0) }, force: false)
        }
        await worker.waitForProcessed(2)
        #expect(await worker.maxConcurrentSeen == 2)
        await worker.openGate()
        let results = await run.value
        #expect(await worker.processed.map(\.name).sorted() == (0..<5).map { "due\($0)" })
        #expect(await worker.maxConcurrentSeen == 2)
        #expect(await worker.batches == 1)
        #expect(results["later"] == .notDue(next: later))
        #expect(results["due3"] == .succeeded(next: start.addingTimeInterval(60 * 86_400)))
        #expect(OneShotPlan.exitStatus(results) == 0)
        let report = OneShotPlan.report(results)
        #expect(report.count == 7)
        #expect(report.last == "6 certificate(s): 5 attempted, 0 failing")
    }

    @Test func forceAttemptsEveryCertificateAndNothingDueMeansNoBatch() async {
        let clock = ManualClock(now: start)
        let first = ["a": start.addingTimeInterval(3600), "b": start.addingTimeInterval(7200)]
        let worker = RecordingWorker(clock: clock, firstDue: first) { _, now in now.addingTimeInterval(3600) }
        let book = FailureBook()
        let idle = await runner(worker, clock, book).run(first.keys.map { makeSpec($0) }, force: false)
        #expect(await worker.processed.isEmpty)
        #expect(await worker.batches == 0)
        #expect(OneShotPlan.exitStatus(idle) == 0)

        let forced = await runner(worker, clock, book).run(first.keys.map { makeSpec($0) }, force: true)
        #expect(await worker.processed.map(\.name).sorted() == ["a", "b"])
        #expect(await worker.processed.allSatisfy(\.force))
        #expect(forced.values.allSatisfy { if case .succeeded = $0 { true } else { false } })
    }

    @Test func aFailedAttemptOrABackOffFromEarlierRunsFailsTheRun() async {
        let clock = ManualClock(now: start)
        let retry = start.addingTimeInterval(240)
        let first = ["broken": start, "waiting": retry, "fine": start.addingTimeInterval(86_400)]
        let worker = RecordingWorker(clock: clock, firstDue: first) { _, now in now.addingTimeInterval(10) }
        let book = FailureBook()
        book.set("broken", .init(count: 1, lastError: "urn:ietf:params:acme:error:unauthorized: 404"))
        book.set("waiting", .init(count: 3, lastError: "rateLimited", retryAt: retry))
        let results = await runner(worker, clock, book).run(first.keys.map { makeSpec($0) }, force: false)
        #expect(await worker.processed.map(\.name) == ["broken"])
        #expect(results["broken"] == .failed(failures: 1, lastError: "urn:ietf:params:acme:error:unauthorized: 404"))
        #expect(results["waiting"] == .backingOff(until: retry, failures: 3, lastError: "rateLimited"))
        #expect(results["fine"] == .notDue(next: start.addingTimeInterval(86_400)))
        #expect(OneShotPlan.exitStatus(results) == 1)
        let report = OneShotPlan.report(results)
        #expect(
            report.contains { $0.hasPrefix("broken: FAILED (1 in a row): urn:ietf:params:acme:error:unauthorized") })
        #expect(report.contains { $0.hasPrefix("waiting: FAILING, not retried before 2027-01-15T08:04:00Z") })
        #expect(report.last?.hasPrefix("3 certificate(s): 1 attempted, 2 failing") == true)
    }

    @Test func aRefusedSpecFailsTheRun() {
        let results: [String: OneShotPlan.Result] = [
            "ok": .succeeded(next: start), "odd": .refused(reason: "certs.d/odd.toml:3:11: unknown profile"),
        ]
        #expect(OneShotPlan.exitStatus(results) == 1)
        #expect(OneShotPlan.report(results).first == "odd: REFUSED: certs.d/odd.toml:3:11: unknown profile")
    }
}
