import CertStore
import PostgresNIO

extension StoreDatabase {
    /// Runs `body` in a transaction that first checks, when the current task holds the certificate `name`'s lease
    /// (``LeaseFence``), that the lease is still this node's and unexpired, and keeps its row share-locked until the
    /// commit: another node cannot take the lease over between the check and the write, and a node whose lease is
    /// gone writes nothing (``LeaseLost``). Without a lease (commands, migrations) it is a plain transaction.
    @discardableResult
    func fencedTransaction<T: Sendable>(
        _ operation: String, certificate name: String,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let fence = LeaseFence.certificateOwner(name)
        let schema = self.schema
        return try await transaction(operation) { connection in
            if let (lease, owner) = fence {
                var held = false
                for try await _ in try await connection.query(
                    """
                    SELECT 1 FROM \(unescaped: schema).leases
                    WHERE name = \(lease) AND owner = \(owner) AND expires_at > now() FOR SHARE
                    """, logger: .quiet
                ).decode(Int.self) {
                    held = true
                }
                guard held else {
                    throw LeaseLost(name: lease, reason: "no longer this node's when it came to \(operation)")
                }
            }
            return try await body(connection)
        }
    }
}
