import CertStore
import Foundation
import Logging
import Testing

@testable import PostgresStore

/// A schema of its own in the throw-away PostgreSQL cluster of `scripts/testenv/postgres.sh` (its `env` file sets
/// CERTKEEPER_TEST_POSTGRES_URL and CERTKEEPER_TEST_POSTGRES_PASSWORD_FILE), migrated, with the pool running.
///
/// Each test gets a fresh schema, so tests run in parallel without seeing each other's rows. The pool's connections
/// close after a second idle; the cluster is thrown away with its schemas.
struct PostgresTestDatabase: Sendable {
    static let environment = ProcessInfo.processInfo.environment
    static var isConfigured: Bool { environment["CERTKEEPER_TEST_POSTGRES_URL"] != nil }
    static let skipReason: Comment =
        "needs CERTKEEPER_TEST_POSTGRES_URL (scripts/testenv/postgres.sh start DIR PORT; source DIR/env)"

    let database: StoreDatabase
    let sealer: SecretSealer
    let settings: PostgresConnectionSettings

    /// The test cluster's settings with another schema.
    static func settings(schema: String) throws -> PostgresConnectionSettings {
        let url = try #require(environment["CERTKEEPER_TEST_POSTGRES_URL"], "\(skipReason)")
        let passwordFile = try #require(environment["CERTKEEPER_TEST_POSTGRES_PASSWORD_FILE"], "\(skipReason)")
        let password = try String(contentsOfFile: passwordFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // postgresql://USER@HOST:PORT/DATABASE, as the harness writes it.
        let components = try #require(URLComponents(string: url))
        return PostgresConnectionSettings(
            host: try #require(components.host), port: components.port ?? 5432,
            username: try #require(components.user), database: String(components.path.dropFirst()),
            password: password, tls: .disable, schema: schema)
    }

    static func uniqueSchema(_ prefix: String = "t") -> String {
        prefix + "_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }

    static func makeDatabase(schema: String, operationTimeout: Duration = .seconds(15)) throws -> StoreDatabase {
        let database = try StoreDatabase(
            settings: try settings(schema: schema), logger: Logger(label: "test.postgres"),
            operationTimeout: operationTimeout, maximumConnections: 2, connectionIdleTimeout: .seconds(1))
        Task { await database.run() }
        return database
    }

    static let sealingKey = try! SecretSealer.Key(bytes: Array(repeating: 7, count: 32))

    /// A migrated fresh schema.
    static func make(schema: String = uniqueSchema()) async throws -> PostgresTestDatabase {
        let database = try makeDatabase(schema: schema)
        try await SchemaMigrator(database: database).migrate()
        return PostgresTestDatabase(
            database: database, sealer: SecretSealer(current: sealingKey), settings: database.settings)
    }

    func accounts(now: @escaping @Sendable () -> Date = { Date() }) -> PostgresAccountStore {
        PostgresAccountStore(database: database, sealer: sealer, now: now)
    }

    func states() -> PostgresCertificateStateStore {
        PostgresCertificateStateStore(database: database, sealer: sealer)
    }

    /// Every value of one column of one table of this schema, for looking at what is stored (ordered).
    func column(_ column: String, of table: String) async throws -> [String?] {
        let sql = "SELECT \(column)::text FROM \(database.schema).\(table) ORDER BY 1"
        return try await database.withClient("test query") { client in
            var values: [String?] = []
            for try await value in try await client.query(.init(unsafeSQL: sql)).decode(String?.self) {
                values.append(value)
            }
            return values
        }
    }

    /// Runs one statement in this schema (tests stand in for another node or a hostile operator).
    func execute(_ sql: String) async throws {
        let statement = sql.replacingOccurrences(of: "{schema}", with: database.schema)
        try await database.withClient("test statement") { client in
            try await client.query(.init(unsafeSQL: statement))
        }
    }
}
