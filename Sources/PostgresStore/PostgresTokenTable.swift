import Foundation
import PostgresNIO

/// The fleet's live http-01 tokens (table `http01_tokens`) and their notifications (`add:TOKEN`, `del:TOKEN` on
/// ``channel``). A key authorization is not a secret (the CA publishes it to anyone who asks for the token), so it is
/// stored as it is.
package struct PostgresTokenTable: Sendable {
    /// One live token.
    package struct Token: Sendable, Hashable {
        package var token: String
        package var keyAuthorization: String
        package var domain: String
        package var address: String
        /// The node that placed it (it answers it itself).
        package var node: String

        package init(token: String, keyAuthorization: String, domain: String, address: String, node: String) {
            self.token = token
            self.keyAuthorization = keyAuthorization
            self.domain = domain
            self.address = address
            self.node = node
        }
    }

    /// What a notification says.
    package enum Change: Sendable, Hashable {
        case added(String)
        case withdrawn(String)
    }

    let database: StoreDatabase

    package init(database: StoreDatabase) {
        self.database = database
    }

    package var channel: String { "certkeeper_tokens_" + database.settings.schema }

    package func publish(_ token: Token) async throws {
        let schema = database.schema
        let channel = self.channel
        try await database.transaction("publish an http-01 token for \(token.domain)") { connection in
            try await connection.query(
                """
                INSERT INTO \(unescaped: schema).http01_tokens (token, key_authorization, domain, address, node)
                VALUES (\(token.token), \(token.keyAuthorization), \(token.domain), \(token.address), \(token.node))
                ON CONFLICT (token) DO UPDATE SET key_authorization = EXCLUDED.key_authorization,
                    domain = EXCLUDED.domain, address = EXCLUDED.address, node = EXCLUDED.node, created_at = now()
                """, logger: .quiet)
            try await connection.query("SELECT pg_notify(\(channel), \("add:" + token.token))", logger: .quiet)
        }
    }

    package func withdraw(_ token: String) async throws {
        let schema = database.schema
        let channel = self.channel
        try await database.transaction("withdraw an http-01 token") { connection in
            try await connection.query(
                "DELETE FROM \(unescaped: schema).http01_tokens WHERE token = \(token)", logger: .quiet)
            try await connection.query(
                "DELETE FROM \(unescaped: schema).http01_token_acks WHERE token = \(token)", logger: .quiet)
            try await connection.query("SELECT pg_notify(\(channel), \("del:" + token))", logger: .quiet)
        }
    }

    /// Every live token placed in the last `maxAge` (older ones belong to orders long over: a node that died without
    /// withdrawing them).
    package func all(maxAge: Duration = .seconds(3600)) async throws -> [Token] {
        let schema = database.schema
        let seconds = maxAge.components.seconds
        return try await database.withClient("list the fleet's http-01 tokens") { client in
            var tokens: [Token] = []
            for try await (token, keyAuthorization, domain, address, node) in try await client.query(
                """
                SELECT token, key_authorization, domain, address, node FROM \(unescaped: schema).http01_tokens
                WHERE created_at > now() - \(seconds) * interval '1 second'
                """
            ).decode((String, String, String, String, String).self) {
                tokens.append(
                    Token(
                        token: token, keyAuthorization: keyAuthorization, domain: domain, address: address, node: node))
            }
            return tokens
        }
    }

    /// Changes as they happen, until cancelled; `onConnected` runs once listening has started (re-read ``all(maxAge:)``
    /// there: nothing published before it was missed). Throws when the connection is lost.
    package func changes(
        onConnected: @escaping @Sendable () async -> Void, _ onChange: @escaping @Sendable (Change) async -> Void
    ) async throws {
        let channel = self.channel
        let client = database.client
        do {
            try await client.withConnection { connection in
                try await connection.listen(on: channel) { notifications in
                    await onConnected()
                    for try await notification in notifications {
                        let payload = notification.payload
                        if payload.hasPrefix("add:") {
                            await onChange(.added(String(payload.dropFirst(4))))
                        } else if payload.hasPrefix("del:") {
                            await onChange(.withdrawn(String(payload.dropFirst(4))))
                        }
                    }
                }
            }
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw PostgresStoreError.translate(
                error, url: database.settings.displayURL, operation: "listen for http-01 tokens")
        }
    }

    /// How long a node counts as live after its last heartbeat.
    package static let liveness: Duration = .seconds(30)

    /// Records that `node` is alive (every ``liveness``/3).
    package func heartbeat(node: String) async throws {
        let schema = database.schema
        try await database.withClient("record this node as live") { client in
            try await client.query(
                """
                INSERT INTO \(unescaped: schema).nodes (node, last_seen) VALUES (\(node), now())
                ON CONFLICT (node) DO UPDATE SET last_seen = now()
                """)
        }
    }

    /// Removes `node` from the live nodes (shutdown).
    package func leave(node: String) async throws {
        let schema = database.schema
        try await database.withClient("record this node as gone") { client in
            try await client.query("DELETE FROM \(unescaped: schema).nodes WHERE node = \(node)")
        }
    }

    /// Records that `node` answers `token` now.
    package func acknowledge(token: String, node: String) async throws {
        let schema = database.schema
        try await database.withClient("acknowledge an http-01 token") { client in
            try await client.query(
                """
                INSERT INTO \(unescaped: schema).http01_token_acks (token, node) VALUES (\(token), \(node))
                ON CONFLICT DO NOTHING
                """)
        }
    }

    /// Waits until every other live node answers `token` (it acknowledged it), at most `timeout`. Returns the nodes
    /// still missing when the time ran out (empty: all answer).
    package func waitForAcknowledgements(token: String, node: String, timeout: Duration) async throws -> [String] {
        let schema = database.schema
        let window = Self.liveness.components.seconds
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let missing = try await database.withClient("wait for the other nodes to answer an http-01 token") {
                client in
                var missing: [String] = []
                for try await other in try await client.query(
                    """
                    SELECT n.node FROM \(unescaped: schema).nodes n
                    WHERE n.node <> \(node) AND n.last_seen > now() - \(window) * interval '1 second'
                      AND NOT EXISTS (SELECT 1 FROM \(unescaped: schema).http01_token_acks a
                                      WHERE a.token = \(token) AND a.node = n.node)
                    ORDER BY n.node
                    """
                ).decode(String.self) {
                    missing.append(other)
                }
                return missing
            }
            if missing.isEmpty || clock.now >= deadline { return missing }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
