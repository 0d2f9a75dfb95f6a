import Synchronization

/// Where a solver put each domain's record, so `waitUntilVisible` and `cleanUp` use the name `present` chose: the
/// CNAME is looked up once per challenge, and a resolver that stops answering (or an alias changed meanwhile)
/// cannot make cleanUp look elsewhere and leave the record behind. Shared by copies of the solver value.
package final class LocatedRecords: Sendable {
    private let targets = Mutex<[String: ChallengeRecordLocator.Target]>([:])

    package init() {}

    /// The target recorded for `domain`, or the one `locate` finds (then recorded).
    package func target(
        for domain: String, locate: () async throws -> ChallengeRecordLocator.Target
    ) async throws -> ChallengeRecordLocator.Target {
        if let known = targets.withLock({ $0[domain] }) { return known }
        let found = try await locate()
        targets.withLock { $0[domain] = found }
        return found
    }
}
