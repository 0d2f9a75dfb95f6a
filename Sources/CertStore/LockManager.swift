/// Mutual exclusion per name ("account-<id>", "cert-<name>") across tasks and, for the file implementation,
/// across processes sharing one state directory.
///
/// Locks are not reentrant: taking a name already held by the same task waits forever. Take at most one lock
/// at a time, or always in the same order.
package protocol LockManager: Sendable {
    /// Runs `body` while holding the lock `name` (validated with ``StateName/isValid(_:)``).
    func withLock<T: Sendable>(_ name: String, _ body: @Sendable () async throws -> T) async throws -> T
}
