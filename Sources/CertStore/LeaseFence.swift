/// The leases the current task holds (lock name → owner), set by a fleet's ``LockManager`` around the work a lease
/// covers, so a store can refuse a write once the lease is gone: the write and the check that the lease is still this
/// node's are one transaction (a fence), not a hope that the work was cancelled in time.
///
/// Task-local: the work's child tasks see it, other tasks (another certificate, a command) do not. Empty on a single
/// host, where locks are the process's own.
package enum LeaseFence {
    @TaskLocal package static var held: [String: String] = [:]

    /// The lock (and lease) name covering the certificate `name`'s state, orders and publication.
    package static func certificateLockName(_ name: String) -> String { "cert-\(name)" }

    /// The owner the current task holds the certificate `name`'s lease as, if it holds it.
    package static func certificateOwner(_ name: String) -> (lease: String, owner: String)? {
        let lease = certificateLockName(name)
        return held[lease].map { (lease, $0) }
    }
}
