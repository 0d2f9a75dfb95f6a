import CertkeeperConfig
import Foundation

/// Carries out ``OneShotPlan``: asks the worker when each certificate is due, gives each one due (or every one, with
/// `force`) one attempt, at most `maxConcurrent` at a time, and reads back what the state store recorded.
package struct OneShotRunner: Sendable {
    package var worker: any CertificateWorker
    package var clock: any DaemonClock
    package var maxConcurrent: Int
    /// The failures the state store holds for a certificate (after its attempt, if it had one).
    package var failures: @Sendable (CertificateSpec) async -> OneShotPlan.Failures

    package init(
        worker: any CertificateWorker, clock: any DaemonClock, maxConcurrent: Int,
        failures: @escaping @Sendable (CertificateSpec) async -> OneShotPlan.Failures
    ) {
        self.worker = worker
        self.clock = clock
        self.maxConcurrent = max(1, maxConcurrent)
        self.failures = failures
    }

    /// One attempt for each of `specs` that is due, then the batch's end (units to reload); the result per name.
    package func run(_ specs: [CertificateSpec], force: Bool) async -> [String: OneShotPlan.Result] {
        var results: [String: OneShotPlan.Result] = [:]
        var due: [CertificateSpec] = []
        var firstDue: [(spec: CertificateSpec, due: Date)] = []
        for spec in specs.sorted(by: { $0.name < $1.name }) {
            firstDue.append((spec, await worker.firstDue(spec)))
        }
        // Read after every first due time: one that is "now" for the worker is not in the future of this run.
        let now = clock.now()
        for (spec, first) in firstDue {
            if OneShotPlan.shouldAttempt(due: first, now: now, force: force) {
                due.append(spec)
            } else {
                results[spec.name] = OneShotPlan.skipped(due: first, failures: await failures(spec))
            }
        }
        await withTaskGroup(of: (String, OneShotPlan.Result).self) { group in
            var pending = due[...]
            func startNext() {
                guard let spec = pending.popFirst() else { return }
                group.addTask { [worker, failures] in
                    let next = await worker.process(spec, force: force)
                    return (spec.name, OneShotPlan.attempted(next: next, failures: await failures(spec)))
                }
            }
            for _ in 0..<maxConcurrent { startNext() }
            for await (name, result) in group {
                results[name] = result
                startNext()
            }
        }
        if !due.isEmpty { await worker.batchFinished() }
        return results
    }
}
