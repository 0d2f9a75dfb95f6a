import CertStore
import Foundation
import PostgresNIO

/// ``FleetSpecRegistry`` on PostgreSQL: table `specs`, one row per (certificate, node); a node counts while it is live
/// (table `nodes`, ``PostgresTokenTable/liveness``).
package struct PostgresFleetSpecRegistry: FleetSpecRegistry {
    let database: StoreDatabase

    package init(database: StoreDatabase) {
        self.database = database
    }

    package func declare(name: String, fingerprint: String, node: String) async throws -> [String] {
        let schema = database.schema
        let window = PostgresTokenTable.liveness.components.seconds
        return try await database.transaction("compare the spec of \(name) with the other nodes") { connection in
            try await connection.query(
                """
                INSERT INTO \(unescaped: schema).specs (name, node, fingerprint) VALUES (\(name), \(node), \(fingerprint))
                ON CONFLICT (name, node) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, updated = now()
                """, logger: .quiet)
            var others: [String] = []
            for try await other in try await connection.query(
                """
                SELECT s.node FROM \(unescaped: schema).specs s JOIN \(unescaped: schema).nodes n ON n.node = s.node
                WHERE s.name = \(name) AND s.node <> \(node) AND s.fingerprint <> \(fingerprint)
                  AND n.last_seen > now() - \(window) * interval '1 second'
                ORDER BY s.node
                """, logger: .quiet
            ).decode(String.self) {
                others.append(other)
            }
            return others
        }
    }

    package func nodesHaving(name: String) async throws -> [FleetSpecHolder] {
        let schema = database.schema
        let window = PostgresTokenTable.liveness.components.seconds
        return try await database.withClient("list the nodes with a spec of \(name)") { client in
            var holders: [FleetSpecHolder] = []
            for try await (node, live) in try await client.query(
                """
                SELECT s.node, coalesce(n.last_seen > now() - \(window) * interval '1 second', false)
                FROM \(unescaped: schema).specs s LEFT JOIN \(unescaped: schema).nodes n ON n.node = s.node
                WHERE s.name = \(name) ORDER BY s.node
                """
            ).decode((String, Bool).self) {
                holders.append(FleetSpecHolder(node: node, live: live))
            }
            return holders
        }
    }

    /// Also forgets the views of this node's earlier runs (the same node name, another process: see
    /// ``LeaseLockManager/makeOwner(nodeName:)``), so a node not heard from lately is one that is really away.
    package func retain(names: Set<String>, node: String) async throws {
        let schema = database.schema
        let kept = names.sorted()
        let run = Self.runSuffix
        try await database.withClient("forget specs this node no longer has") { client in
            try await client.query(
                """
                DELETE FROM \(unescaped: schema).specs
                WHERE (node = \(node) AND NOT (name = ANY(\(kept))))
                   OR (node <> \(node) AND regexp_replace(node, \(run), '') = regexp_replace(\(node), \(run), ''))
                """)
        }
    }

    /// What ``LeaseLockManager/makeOwner(nodeName:)`` appends to the node name: `:PID:RANDOM`.
    static let runSuffix = ":[0-9]+:[0-9a-f]+$"
}
