import CertkeeperConfig
import Foundation

/// Does the work for one certificate when it is due; the scheduler knows nothing else about certificates.
package protocol CertificateWorker: Sendable {
    /// When `spec` first needs attention, judged from what is installed and what the state store remembers.
    func firstDue(_ spec: CertificateSpec) async -> Date
    /// ``firstDue(_:)`` of each of `specs`, in order (a reload adds thousands at once).
    func firstDue(_ specs: [CertificateSpec]) async -> [Date]
    /// Does what is due now (reconcile, order, install, back off) and returns when `spec` next needs attention.
    func process(_ spec: CertificateSpec, force: Bool) async -> Date
    /// Called when the scheduler has no certificate in flight any more: the end of a batch.
    func batchFinished() async
}

extension CertificateWorker {
    package func firstDue(_ specs: [CertificateSpec]) async -> [Date] {
        var dates: [Date] = []
        dates.reserveCapacity(specs.count)
        for spec in specs { dates.append(await firstDue(spec)) }
        return dates
    }

    package func batchFinished() async {}
}
