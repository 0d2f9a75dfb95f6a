import CertStore
import Foundation
import Logging
import PostgresNIO
import SafeFiles

/// ``LockManager`` for a fleet: a lease row per name in `leases` (owner, expiry on the database's clock), so one node
/// at a time works on an account or a certificate, and a node that dies mid-order loses its lease when it expires and
/// another node takes the work over.
///
/// Within one process an async mutex per name serialises tasks first. The lease is taken with one
/// `INSERT ... ON CONFLICT DO UPDATE ... WHERE expired`, renewed every `ttl / 3` while the body runs, and deleted when
/// it ends. When the lease cannot be renewed before it would expire (the database unreachable, or another node took
/// it), the body is cancelled: this node must stop before anyone else may start.
/// The body runs with the lease in ``LeaseFence/held``, so the stores' writes for it check in their own transaction
/// that it is still this node's (a fence for work that outlives its lease despite the cancellation).
package struct LeaseLockManager: LockManager {
    let database: StoreDatabase
    /// This node, as written in the `owner` column (host name, PID and a random suffix).
    package let owner: String
    package let ttl: Duration
    package let maxWait: Duration
    package let pollInterval: Duration
    private let logger: Logger
    private let mutex = NamedAsyncMutex()

    package init(
        database: StoreDatabase, owner: String, ttl: Duration = .seconds(60), maxWait: Duration = .seconds(60),
        pollInterval: Duration = .milliseconds(500), logger: Logger
    ) {
        self.database = database
        self.owner = owner
        self.ttl = ttl
        self.maxWait = maxWait
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// `HOSTNAME:PID:RANDOM`: unique per daemon start, readable in the `leases` table.
    package static func makeOwner(nodeName: String? = nil) -> String {
        let host = nodeName ?? ProcessInfo.processInfo.hostName
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(host):\(getpid()):\(suffix)"
    }

    private var ttlMilliseconds: Int64 {
        let (seconds, attoseconds) = ttl.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    package func withLock<T: Sendable>(_ name: String, _ body: @Sendable () async throws -> T) async throws -> T {
        try StateName.validate(name, kind: "lock name")
        await mutex.acquire(name)
        do {
            let result = try await holdingLease(name, body)
            await mutex.release(name)
            return result
        } catch {
            await mutex.release(name)
            throw error
        }
    }

    private func holdingLease<T: Sendable>(_ name: String, _ body: @Sendable () async throws -> T) async throws -> T {
        let acquired = try await acquire(name)
        do {
            let fence = LeaseFence.held.merging([name: owner]) { $1 }
            let result = try await withoutActuallyEscaping(body) { body in
                try await LeaseFence.$held.withValue(fence) {
                    try await whileRenewing(name, since: acquired, body)
                }
            }
            await release(name)
            return result
        } catch {
            await release(name)
            throw error
        }
    }

    /// Takes the lease, polling while another node holds an unexpired one, up to `maxWait`. Returns when the
    /// statement that took it was sent: the lease is ours for `ttl` from then at most.
    private func acquire(_ name: String) async throws -> ContinuousClock.Instant {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: maxWait)
        while true {
            let attempt = clock.now
            if let previous = try await tryAcquire(name) {
                if let previous, previous != owner {
                    logger.notice(
                        "took over the expired lease \(name) of node \(previous)",
                        metadata: ["lease": "\(name)", "previous_owner": "\(previous)"])
                }
                return attempt
            }
            guard clock.now < deadline else {
                throw CertStoreError.lockBusy(
                    name: name, path: database.settings.displayURL + "#leases/" + name, waited: maxWait)
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    /// nil when another node holds the lease; otherwise `.some(previous owner of an expired lease, or nil)`.
    private func tryAcquire(_ name: String) async throws -> String?? {
        let schema = database.schema
        let owner = self.owner
        let milliseconds = ttlMilliseconds
        return try await database.withClient("take the lease \(name)") { client in
            var result: String??
            for try await previous in try await client.query(
                """
                WITH previous AS (SELECT owner FROM \(unescaped: schema).leases WHERE name = \(name))
                INSERT INTO \(unescaped: schema).leases AS l (name, owner, acquired_at, expires_at)
                VALUES (\(name), \(owner), now(), now() + \(milliseconds) * interval '1 millisecond')
                ON CONFLICT (name) DO UPDATE
                    SET owner = EXCLUDED.owner, acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at
                    WHERE l.expires_at < now() OR l.owner = EXCLUDED.owner
                RETURNING (SELECT owner FROM previous)
                """
            ).decode(String?.self) {
                result = .some(previous)
            }
            return result
        }
    }

    /// Runs `body` while a second task renews the lease; cancels `body` when the lease is lost or about to expire
    /// unrenewed.
    private func whileRenewing<T: Sendable>(
        _ name: String, since acquired: ContinuousClock.Instant, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await self.renewUntilCancelled(name, since: acquired)
                return nil
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let value = next { return value }
            }
            throw CancellationError()
        }
    }

    /// Renews every `ttl / 3`. Each renewal may take only the time left before the lease would expire less a margin
    /// (`ttl / 6`), so the work is cancelled before the lease can lapse, whatever the database does.
    private func renewUntilCancelled(_ name: String, since acquired: ContinuousClock.Instant) async throws {
        let clock = ContinuousClock()
        let interval = ttl / 3
        let margin = ttl / 6
        // Ours until then at most (measured from before the statement that took or renewed it).
        var validUntil = acquired.advanced(by: ttl)
        while true {
            try await Task.sleep(until: min(clock.now.advanced(by: interval), validUntil.advanced(by: .zero - margin)))
            let attempt = clock.now
            let budget = attempt.duration(to: validUntil) - margin
            guard budget > .zero else {
                logger.error(
                    "cannot renew lease \(name) before it expires; stopping the work it covered",
                    metadata: ["lease": "\(name)"])
                throw LeaseLost(name: name, reason: "not renewed in time")
            }
            let renewed: Bool
            do {
                renewed = try await renew(name, timeout: min(database.operationTimeout, budget))
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("renewing lease \(name) failed, retrying: \(error)", metadata: ["lease": "\(name)"])
                continue
            }
            guard renewed else {
                logger.error(
                    "lease \(name) was taken by another node; stopping the work it covered",
                    metadata: ["lease": "\(name)"])
                throw LeaseLost(name: name, reason: "taken by another node")
            }
            validUntil = attempt.advanced(by: ttl)
        }
    }

    private func renew(_ name: String, timeout: Duration) async throws -> Bool {
        let schema = database.schema
        let owner = self.owner
        let milliseconds = ttlMilliseconds
        return try await database.withClient("renew the lease \(name)", timeout: timeout) { client in
            var renewed = false
            for try await _ in try await client.query(
                """
                UPDATE \(unescaped: schema).leases
                SET expires_at = now() + \(milliseconds) * interval '1 millisecond'
                WHERE name = \(name) AND owner = \(owner) RETURNING 1
                """
            ).decode(Int.self) {
                renewed = true
            }
            return renewed
        }
    }

    /// Best effort: a lease not deleted (database unreachable) simply expires.
    private func release(_ name: String) async {
        let schema = database.schema
        let owner = self.owner
        do {
            try await database.withClient("release the lease \(name)") { client in
                try await client.query(
                    "DELETE FROM \(unescaped: schema).leases WHERE name = \(name) AND owner = \(owner)")
            }
        } catch {
            logger.warning("could not release lease \(name) (it expires by itself): \(error)")
        }
    }
}
