import Foundation
import Logging
import PostgresNIO

/// Versioned schema migrations, applied in order at start (and by `certkeeper store migrate`).
///
/// Safe when several daemons start at once: the whole migration runs in one transaction that first takes a
/// transaction-scoped advisory lock on the schema's name, so one node migrates and the others wait, then find
/// nothing left to do. DDL is transactional in PostgreSQL: a failed step leaves the schema as it was. A schema at a
/// version newer than this binary knows is refused (``PostgresStoreError/schemaTooNew(url:schema:found:supported:)``),
/// never downgraded.
package struct SchemaMigrator: Sendable {
    /// One step: its version and its statements (`{schema}` stands for the quoted schema name).
    package struct Migration: Sendable {
        package let version: Int
        package let summary: String
        package let statements: [String]
    }

    /// Every migration, oldest first. Append only: a released step is never edited.
    package static let migrations: [Migration] = [
        Migration(
            version: 1, summary: "accounts, certificate state, leases",
            statements: [
                """
                CREATE TABLE {schema}.accounts (
                    id text PRIMARY KEY,
                    ca_directory_url text NOT NULL,
                    name text NOT NULL,
                    status text NOT NULL,
                    eab_key_id text,
                    record text NOT NULL,
                    key_sealed text NOT NULL,
                    staged_key_sealed text,
                    updated timestamptz NOT NULL DEFAULT now()
                )
                """,
                "CREATE INDEX accounts_eab ON {schema}.accounts (ca_directory_url, eab_key_id)",
                """
                CREATE TABLE {schema}.account_old_keys (
                    account_id text NOT NULL REFERENCES {schema}.accounts (id) ON UPDATE CASCADE,
                    replaced_at timestamptz NOT NULL DEFAULT now(),
                    key_sealed text NOT NULL
                )
                """,
                """
                CREATE TABLE {schema}.certificate_state (
                    name text PRIMARY KEY,
                    state text,
                    pending_key_sealed text,
                    updated timestamptz NOT NULL DEFAULT now()
                )
                """,
                """
                CREATE TABLE {schema}.leases (
                    name text PRIMARY KEY,
                    owner text NOT NULL,
                    acquired_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL
                )
                """,
            ]),
        Migration(
            version: 2, summary: "certificates shared by the fleet",
            statements: [
                """
                CREATE TABLE {schema}.certificates (
                    name text PRIMARY KEY,
                    serial text NOT NULL,
                    fullchain_pem text NOT NULL,
                    key_sealed text NOT NULL,
                    not_after timestamptz NOT NULL,
                    published_by text NOT NULL,
                    published_at timestamptz NOT NULL DEFAULT now()
                )
                """
            ]),
        Migration(
            version: 3, summary: "http-01 tokens answered by every node",
            statements: [
                """
                CREATE TABLE {schema}.http01_tokens (
                    token text PRIMARY KEY,
                    key_authorization text NOT NULL,
                    domain text NOT NULL,
                    address text NOT NULL,
                    node text NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now()
                )
                """
            ]),
        Migration(
            version: 4, summary: "live nodes and their acknowledgements of http-01 tokens",
            statements: [
                "CREATE TABLE {schema}.nodes (node text PRIMARY KEY, last_seen timestamptz NOT NULL)",
                """
                CREATE TABLE {schema}.http01_token_acks (
                    token text NOT NULL, node text NOT NULL, PRIMARY KEY (token, node))
                """,
            ]),
        Migration(
            version: 5, summary: "each node's view of each certificate's spec",
            statements: [
                """
                CREATE TABLE {schema}.specs (
                    name text NOT NULL, node text NOT NULL, fingerprint text NOT NULL,
                    updated timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (name, node))
                """
            ]),
    ]

    /// The newest version this binary knows.
    package static var latestVersion: Int { migrations.last?.version ?? 0 }

    let database: StoreDatabase

    package init(database: StoreDatabase) {
        self.database = database
    }

    /// Brings the schema to ``latestVersion``; returns the versions applied by this call (empty when another node
    /// had already done it).
    @discardableResult
    package func migrate() async throws -> [Int] {
        let schema = database.schema
        let settings = database.settings
        let lockKey = "certkeeper-migrate:" + settings.schema
        return try await database.transaction("migrate schema \(settings.schema)") { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(lockKey)))", logger: .quiet)
            // Created only when missing: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema
            // exists, and an operator may create the schema for certkeeper and grant nothing more (docs/fleet.md).
            var exists = false
            for try await found in try await connection.query(
                "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = \(settings.schema))", logger: .quiet
            ).decode(Bool.self) {
                exists = found
            }
            if !exists {
                try await connection.query("CREATE SCHEMA \(unescaped: schema)", logger: .quiet)
            }
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS \(unescaped: schema).schema_migrations (
                    version integer PRIMARY KEY, summary text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: .quiet)
            var current = 0
            for try await version in try await connection.query(
                "SELECT coalesce(max(version), 0) FROM \(unescaped: schema).schema_migrations", logger: .quiet
            ).decode(Int.self) {
                current = version
            }
            guard current <= Self.latestVersion else {
                throw PostgresStoreError.schemaTooNew(
                    url: settings.displayURL, schema: settings.schema, found: current, supported: Self.latestVersion)
            }
            var applied: [Int] = []
            for migration in Self.migrations where migration.version > current {
                for statement in migration.statements {
                    let sql = statement.replacingOccurrences(of: "{schema}", with: schema)
                    try await connection.query(PostgresQuery(unsafeSQL: sql), logger: .quiet)
                }
                try await connection.query(
                    """
                    INSERT INTO \(unescaped: schema).schema_migrations (version, summary)
                    VALUES (\(migration.version), \(migration.summary))
                    """, logger: .quiet)
                applied.append(migration.version)
            }
            return applied
        }
    }

    /// The schema's version (0 when certkeeper never migrated it).
    package func currentVersion() async throws -> Int {
        let schema = database.schema
        let name = database.settings.schema
        return try await database.withClient("read the schema version") { client in
            var exists = false
            for try await found in try await client.query(
                "SELECT to_regclass(\(name + ".schema_migrations")) IS NOT NULL"
            ).decode(Bool.self) {
                exists = found
            }
            guard exists else { return 0 }
            var version = 0
            for try await value in try await client.query(
                "SELECT coalesce(max(version), 0) FROM \(unescaped: schema).schema_migrations"
            ).decode(Int.self) {
                version = value
            }
            return version
        }
    }
}

extension Logger {
    /// A logger that drops everything: postgres-nio's per-query logs would carry statement parameters.
    static let quiet = Logger(label: "certkeeper.postgres.quiet", factory: { _ in SwiftLogNoOpLogHandler() })
}
