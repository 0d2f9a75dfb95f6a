import Foundation

/// Persistent per-certificate state and the pending private key of an in-flight order.
///
/// Absence is `nil`, never an error. Writes are durable when the method returns. Names must satisfy
/// ``StateName/isValid(_:)``. Callers take a ``LockManager`` lock per certificate around read-modify-write.
package protocol CertificateStateStore: Sendable {
    /// The stored state, or nil if none was ever saved.
    func load(name: String) async throws -> CertificateState?
    /// The stored state of each of `names`, in order: nil when none was saved or it cannot be read (what scheduling
    /// a reload's thousands of new certificates needs, in one call instead of one per name; the attempt that follows
    /// reads it again with ``load(name:)`` and reports what is wrong with it).
    func loadEach(names: [String]) async -> [CertificateState?]
    /// Replaces the state stored under `state.name`.
    func save(_ state: CertificateState) async throws
    /// Stores the PEM key generated for an order before the CSR is sent, so a restart can finish that order.
    func savePendingKey(name: String, pem: String) async throws
    /// The pending PEM key, or nil.
    func pendingKey(name: String) async throws -> String?
    /// Removes the pending key (after it was installed, or the order abandoned).
    func clearPendingKey(name: String) async throws
    /// Every certificate name with stored state or a pending key, sorted.
    func allNames() async throws -> [String]
    /// Removes everything stored for `name` (state and pending key); nothing stored is not an error.
    func remove(name: String) async throws
    /// Replaces the state like ``save(_:)`` when it is ``CertificateState/isRecomputable``, possibly without waiting
    /// for the disk: a store may batch such writes until ``flushRecomputable()`` (or a crash may lose them, which
    /// costs only the work of finding the same again). ``load(name:)`` in this process sees it at once.
    func saveRecomputable(_ state: CertificateState) async throws
    /// Makes every ``saveRecomputable(_:)`` so far durable.
    ///
    /// Each store implements both (no protocol extension default): a default would be picked over an actor's own
    /// method when called on the concrete type, silently turning write-behind off.
    func flushRecomputable() async throws
}

extension CertificateStateStore {
    package func loadEach(names: [String]) async -> [CertificateState?] {
        var states: [CertificateState?] = []
        states.reserveCapacity(names.count)
        for name in names { states.append(try? await load(name: name)) }
        return states
    }
}
