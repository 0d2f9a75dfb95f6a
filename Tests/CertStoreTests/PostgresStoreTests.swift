import CertStore
import Crypto
import Foundation
import Logging
import Synchronization
import Testing
import X509

@testable import PostgresStore

/// What only the PostgreSQL store has: migrations under concurrent starts, keys sealed at rest, leases between nodes,
/// an unreachable database. The store contract itself runs in AccountStoreTests, CertificateStateStoreTests,
/// RolloverStagingTests and LockManagerTests against every backend.
@Suite(.enabled(if: PostgresTestDatabase.isConfigured, PostgresTestDatabase.skipReason))
struct PostgresStoreTests {
    static let ca = "https://127.0.0.1:14000/dir"

    func pending(name: String = "default") throws -> AccountRecord {
        try AccountRecord.pending(
            caDirectoryURL: Self.ca, name: name, contact: [], eabKeyID: "kid-1", keyType: .ecdsaP256, now: Date())
    }

    @Test func concurrentStartsMigrateOnce() async throws {
        let schema = PostgresTestDatabase.uniqueSchema("m")
        let nodes = try (0..<5).map { _ in try PostgresTestDatabase.makeDatabase(schema: schema) }
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for node in nodes { group.addTask { try await SchemaMigrator(database: node).migrate() } }
            return try await group.reduce(into: [[Int]]()) { $0.append($1) }
        }
        let latest = SchemaMigrator.latestVersion
        #expect(applied.filter { !$0.isEmpty } == [Array(1...latest)])
        #expect(applied.filter(\.isEmpty).count == 4)
        #expect(try await SchemaMigrator(database: nodes[0]).currentVersion() == latest)
        // A second start applies nothing.
        #expect(try await SchemaMigrator(database: nodes[1]).migrate() == [])
    }

    @Test func aSchemaFromANewerCertkeeperIsRefused() async throws {
        let test = try await PostgresTestDatabase.make()
        try await test.execute("INSERT INTO {schema}.schema_migrations (version, summary) VALUES (999, 'future')")
        await #expect(
            throws: PostgresStoreError.schemaTooNew(
                url: test.settings.displayURL, schema: test.settings.schema, found: 999,
                supported: SchemaMigrator.latestVersion)
        ) {
            try await SchemaMigrator(database: test.database).migrate()
        }
    }

    @Test func keysAreSealedAtRestAndBoundToTheirRow() async throws {
        let test = try await PostgresTestDatabase.make()
        let store = test.accounts()
        let pem = "-----BEGIN PRIVATE KEY-----\nSECRET-MATERIAL\n-----END PRIVATE KEY-----\n"
        let first = try pending(name: "first")
        let second = try pending(name: "second")
        try await store.createPending(first, keyPEM: pem)
        try await store.createPending(second, keyPEM: "OTHER")
        try await test.states().savePendingKey(name: "www", pem: pem)

        // Nothing stored contains the key's text; every sealed value names the key that sealed it.
        for table in ["accounts", "certificate_state"] {
            let rows = try await test.column("\(table)::text", of: table)
            #expect(!rows.isEmpty)
            #expect(rows.allSatisfy { !($0 ?? "").contains("SECRET-MATERIAL") })
        }
        let sealed = try await test.column("key_sealed", of: "accounts").compactMap { $0 }
        #expect(sealed.allSatisfy { SecretSealer.keyID(of: $0) == PostgresTestDatabase.sealingKey.id })

        // A sealed key copied onto another account's row does not open there.
        try await test.execute(
            "UPDATE {schema}.accounts SET key_sealed = (SELECT key_sealed FROM {schema}.accounts WHERE id = '\(first.id)') WHERE id = '\(second.id)'"
        )
        await #expect(throws: SealingError.self) { try await store.keyPEM(id: second.id) }
        #expect(try await store.keyPEM(id: first.id) == pem)

        // Another key opens nothing; after rotation the old key still opens what it sealed.
        let otherKey = try SecretSealer.Key(bytes: Array(repeating: 9, count: 32))
        let wrong = PostgresAccountStore(database: test.database, sealer: SecretSealer(current: otherKey))
        await #expect(
            throws: SealingError.unknownKey(
                keyID: PostgresTestDatabase.sealingKey.id, context: PostgresAccountStore.keyContext(first, "key"))
        ) { try await wrong.keyPEM(id: first.id) }
        let rotated = PostgresAccountStore(
            database: test.database,
            sealer: SecretSealer(current: otherKey, previous: [PostgresTestDatabase.sealingKey]))
        #expect(try await rotated.keyPEM(id: first.id) == pem)
    }

    @Test func keysReplacedElsewhereAreCopiedInTheirOrder() async throws {
        let test = try await PostgresTestDatabase.make()
        let accounts = test.accounts()
        let record = try pending()
        try await accounts.createPending(record, keyPEM: "CURRENT")
        try await accounts.importOldKeys(
            id: record.id,
            [
                (Date(timeIntervalSince1970: 1_700_000_000), "FIRST"),
                (Date(timeIntervalSince1970: 1_750_000_000), "SECOND"),
            ])
        #expect(try await accounts.oldKeys(id: record.id) == ["FIRST", "SECOND"])
        #expect(
            try await test.column("key_sealed", of: "account_old_keys").allSatisfy { !($0 ?? "").contains("FIRST") })
        await #expect(throws: CertStoreError.self) { try await accounts.importOldKeys(id: "nobody", [(nil, "X")]) }
    }

    @Test func aKeyFileMustHold32Base64Bytes() throws {
        let good = Data(repeating: 1, count: 32).base64EncodedString()
        #expect(throws: Never.self) { try SecretSealer.Key(fileContents: Array((good + "\n").utf8), path: "/k") }
        #expect(throws: SealingError.badKeyFile(path: "/k")) {
            try SecretSealer.Key(fileContents: Array("short".utf8), path: "/k")
        }
        #expect("\(SealingError.badKeyFile(path: "/k"))".contains("head -c 32 /dev/urandom | base64"))
    }

    @Test func twoNodesCreatingTheSameAccountGetOneRecord() async throws {
        let test = try await PostgresTestDatabase.make()
        let other = PostgresAccountStore(
            database: try PostgresTestDatabase.makeDatabase(schema: test.settings.schema), sealer: test.sealer)
        let stores = [test.accounts(), other, test.accounts(), other]
        let record = try pending()
        let results = await withTaskGroup(of: Bool.self) { group in
            for (index, store) in stores.enumerated() {
                group.addTask { (try? await store.createPending(record, keyPEM: "KEY-\(index)")) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 1)
        #expect(try await test.column("id", of: "accounts") == [record.id])
    }

    @Test func anotherNodesLiveLeaseIsBusyAndAnExpiredOneIsTakenOver() async throws {
        let test = try await PostgresTestDatabase.make()
        let node = LeaseLockManager(
            database: test.database, owner: "node-b", maxWait: .zero, logger: Logger(label: "test.lease"))
        // node-a holds cert-www for another minute; node-a's cert-old expired a second ago (node-a died).
        try await test.execute(
            """
            INSERT INTO {schema}.leases (name, owner, acquired_at, expires_at) VALUES
                ('cert-www', 'node-a', now(), now() + interval '1 minute'),
                ('cert-old', 'node-a', now() - interval '2 minutes', now() - interval '1 second')
            """)
        await #expect(throws: CertStoreError.self) { try await node.withLock("cert-www") { "ran" } }
        #expect(try await node.withLock("cert-old") { "ran" } == "ran")
        // Released when the body ended; node-a's live lease untouched.
        #expect(try await test.column("name || '=' || owner", of: "leases") == ["cert-www=node-a"])
    }

    @Test func workIsCancelledWhenTheLeaseIsTakenAway() async throws {
        let test = try await PostgresTestDatabase.make()
        let node = LeaseLockManager(
            database: test.database, owner: "node-a", ttl: .milliseconds(300), maxWait: .zero,
            logger: Logger(label: "test.lease"))
        await #expect(throws: LeaseLost.self) {
            try await node.withLock("cert-www") {
                try await test.execute("UPDATE {schema}.leases SET owner = 'node-b' WHERE name = 'cert-www'")
                // The renewal (every ttl/3) finds the lease gone and cancels this body; bounded at 30 s.
                try await Task.sleep(for: .seconds(30))
            }
        }
        #expect(try await test.column("owner", of: "leases") == ["node-b"])
    }

    @Test func aNodeWhoseLeaseWasTakenOverWritesNothingMore() async throws {
        let test = try await PostgresTestDatabase.make()
        let states = PostgresCertificateStateStore(database: test.database, sealer: test.sealer)
        let shared = PostgresSharedCertificateStore(database: test.database, sealer: test.sealer)
        // A minute's lease: no renewal runs during the test, so only the fence can stop the writes.
        let node = LeaseLockManager(
            database: test.database, owner: "node-a", ttl: .seconds(60), maxWait: .zero,
            logger: Logger(label: "test.lease"))
        let first = CertificateState(name: "www", nextCheck: Date(timeIntervalSince1970: 1_800_000_000))
        let later = CertificateState(name: "www", nextCheck: Date(timeIntervalSince1970: 1_900_000_000))
        let certificate = SharedCertificate(
            name: "www", serial: "0a1b", fullchainPEM: "CHAIN", keyPEM: "KEY",
            notAfter: Date(timeIntervalSince1970: 1_800_000_000), publishedBy: "node-a")
        try await node.withLock(LeaseFence.certificateLockName("www")) {
            try await states.save(first)
            try await states.savePendingKey(name: "www", pem: "PENDING-1")
            // node-b takes the lease over (as it would once node-a's had expired): every write of node-a's is refused.
            try await test.execute("UPDATE {schema}.leases SET owner = 'node-b' WHERE name = 'cert-www'")
            await #expect(throws: LeaseLost.self) { try await states.save(later) }
            await #expect(throws: LeaseLost.self) { try await states.savePendingKey(name: "www", pem: "PENDING-2") }
            await #expect(throws: LeaseLost.self) { try await states.clearPendingKey(name: "www") }
            await #expect(throws: LeaseLost.self) { try await shared.publish(certificate) }
            await #expect(throws: LeaseLost.self) { try await states.remove(name: "www") }
            // Another certificate's state is not this lease's business.
            try await states.save(CertificateState(name: "api"))
        }
        #expect(try await states.load(name: "www") == first)
        #expect(try await states.pendingKey(name: "www") == "PENDING-1")
        #expect(try await shared.latest(name: "www") == nil)
        // An expired lease of this node's own fences too.
        try await test.execute("DELETE FROM {schema}.leases")
        try await node.withLock("cert-www") {
            try await test.execute("UPDATE {schema}.leases SET expires_at = now() - interval '1 second'")
            await #expect(throws: LeaseLost.self) { try await states.save(later) }
        }
        // Outside any lease (commands, migrations) nothing is fenced.
        try await states.save(later)
        #expect(try await states.load(name: "www") == later)
    }

    @Test func anUnreachableDatabaseIsAnOutageNamingTheURLAndNotThePassword() async throws {
        var settings = try PostgresTestDatabase.settings(schema: "unused")
        settings.port = 1
        let database = try StoreDatabase(
            settings: settings, logger: Logger(label: "test.postgres"), operationTimeout: .seconds(3))
        let pool = Task { await database.run() }
        defer { pool.cancel() }
        let store = PostgresCertificateStateStore(
            database: database, sealer: SecretSealer(current: PostgresTestDatabase.sealingKey))
        do {
            _ = try await store.load(name: "www")
            Issue.record("a load from a closed port succeeded")
        } catch let error as PostgresStoreError {
            #expect(error.isOutage)
            let text = "\(error)"
            #expect(text.contains("postgresql://certkeeper@127.0.0.1:1/certkeeper"))
            #expect(text.contains("read the state of www"))
            #expect(text.contains("Connection refused"))
            #expect(!text.contains(try #require(settings.password)))
        }
    }

    @Test func aPublishedCertificateIsReadBackAndAnnounced() async throws {
        let test = try await PostgresTestDatabase.make()
        let shared = PostgresSharedCertificateStore(database: test.database, sealer: test.sealer)
        #expect(try await shared.latest(name: "www") == nil)
        let heard = HeardNames()
        let listener = Task {
            try await shared.changes { name in heard.add(name) }
        }
        defer { listener.cancel() }
        let certificate = SharedCertificate(
            name: "www", serial: "0a1b", fullchainPEM: "CHAIN", keyPEM: "SECRET-KEY",
            notAfter: Date(timeIntervalSince1970: 1_800_000_000), publishedBy: "node-a")
        // Published again until the listener (it connects asynchronously) hears it: at most 50 rounds of 100 ms.
        var announced: String?
        for _ in 0..<50 where announced == nil {
            try await shared.publish(certificate)
            try await Task.sleep(for: .milliseconds(100))
            announced = heard.names.first
        }
        #expect(announced == "www")
        #expect(try await shared.latest(name: "www") == certificate)
        #expect(try await shared.publishedSerials() == ["www": "0a1b"])
        #expect(try await test.column("key_sealed", of: "certificates").allSatisfy { !($0 ?? "").contains("SECRET") })
        var renewed = certificate
        renewed.serial = "0c2d"
        renewed.publishedBy = "node-b"
        try await shared.publish(renewed)
        #expect(try await shared.latest(name: "www") == renewed)
        #expect(try await shared.remove(name: "www"))
        #expect(try await shared.latest(name: "www") == nil)
        #expect(try await !shared.remove(name: "www"))
    }

    @Test func nodesWithASpecAreNamedLiveOrNot() async throws {
        let test = try await PostgresTestDatabase.make()
        let specs = PostgresFleetSpecRegistry(database: test.database)
        let tokens = PostgresTokenTable(database: test.database)
        for node in ["a:1:aa", "b:2:bb", "c:3:cc"] {
            try await tokens.heartbeat(node: node)
            _ = try await specs.declare(name: "www", fingerprint: "f1", node: node)
        }
        // c died long ago; b removed the spec and reloaded.
        try await test.execute("UPDATE {schema}.nodes SET last_seen = now() - interval '1 hour' WHERE node = 'c:3:cc'")
        try await specs.retain(names: ["api"], node: "b:2:bb")
        #expect(
            try await specs.nodesHaving(name: "www") == [
                FleetSpecHolder(node: "a:1:aa", live: true), FleetSpecHolder(node: "c:3:cc", live: false),
            ])
        // c starts again (another PID): its earlier run's view goes with its first retain.
        try await tokens.heartbeat(node: "c:4:dd")
        try await specs.retain(names: [], node: "c:4:dd")
        try await specs.retain(names: [], node: "a:1:aa")
        #expect(try await specs.nodesHaving(name: "www") == [])
    }

    @Test func aTokenWaitsForEveryLiveNodesAcknowledgement() async throws {
        let test = try await PostgresTestDatabase.make()
        let tokens = PostgresTokenTable(database: test.database)
        for node in ["node-a", "node-b", "node-c"] { try await tokens.heartbeat(node: node) }
        // node-c has not been heard from for a minute: it is not waited for.
        try await test.execute(
            "UPDATE {schema}.nodes SET last_seen = now() - interval '1 minute' WHERE node = 'node-c'")
        let token = PostgresTokenTable.Token(
            token: "tok-1", keyAuthorization: "tok-1.thumb", domain: "www.example.org", address: "0.0.0.0:80",
            node: "node-a")
        try await tokens.publish(token)
        #expect(try await tokens.all() == [token])
        #expect(
            try await tokens.waitForAcknowledgements(token: "tok-1", node: "node-a", timeout: .zero) == ["node-b"])
        try await tokens.acknowledge(token: "tok-1", node: "node-b")
        #expect(try await tokens.waitForAcknowledgements(token: "tok-1", node: "node-a", timeout: .zero) == [])
        try await tokens.withdraw("tok-1")
        #expect(try await tokens.all().isEmpty)
        #expect(try await test.column("token", of: "http01_token_acks").isEmpty)
        try await tokens.leave(node: "node-b")
        #expect(try await test.column("node", of: "nodes") == ["node-a", "node-c"])
    }
}

extension PostgresStoreTests {
    /// Key rotation: with the new key current and the old one previous, `reseal` rewrites every sealed value; then the
    /// new key alone opens everything, and a second run has nothing to do.
    @Test func resealMovesEveryKeyToTheCurrentKey() async throws {
        let test = try await PostgresTestDatabase.make()
        let record = try pending()
        try await test.accounts().createPending(record, keyPEM: "ACCOUNT-KEY")
        try await test.accounts().stageRolloverKey(id: record.id, pem: "STAGED-KEY")
        try await test.accounts().replaceKey(id: record.id, newKeyPEM: "NEW-ACCOUNT-KEY", newKeyType: .ecdsaP256)
        try await test.accounts().stageRolloverKey(id: record.id, pem: "NEXT-KEY")
        try await test.states().savePendingKey(name: "www", pem: "PENDING-KEY")
        try await PostgresSharedCertificateStore(database: test.database, sealer: test.sealer).publish(
            SharedCertificate(
                name: "www", serial: "01", fullchainPEM: "CHAIN", keyPEM: "CERT-KEY", notAfter: Date(),
                publishedBy: "node-a"))
        let newKey = try SecretSealer.Key(bytes: Array(repeating: 3, count: 32))
        let rotated = SecretSealer(current: newKey, previous: [PostgresTestDatabase.sealingKey])
        // account key, its staged key, its old (rolled over) key, the pending key, the certificate's key
        #expect(try await StoreResealer(database: test.database, sealer: rotated).reseal() == 5)
        #expect(try await StoreResealer(database: test.database, sealer: rotated).reseal() == 0)
        let onlyNew = SecretSealer(current: newKey)
        #expect(
            try await PostgresAccountStore(database: test.database, sealer: onlyNew).keyPEM(id: record.id)
                == "NEW-ACCOUNT-KEY")
        #expect(
            try await PostgresAccountStore(database: test.database, sealer: onlyNew).oldKeys(id: record.id)
                == ["ACCOUNT-KEY"])
        #expect(
            try await PostgresAccountStore(database: test.database, sealer: onlyNew).stagedRolloverKey(id: record.id)
                == "NEXT-KEY")
        #expect(
            try await PostgresCertificateStateStore(database: test.database, sealer: onlyNew).pendingKey(name: "www")
                == "PENDING-KEY")
        #expect(
            try await PostgresSharedCertificateStore(database: test.database, sealer: onlyNew).latest(name: "www")?
                .keyPEM == "CERT-KEY")
    }
}

extension PostgresStoreTests {
    /// `tls = "verify-full"`: the connection is encrypted and the server's certificate must chain to `tls_ca_file`;
    /// a server whose certificate another CA signed is refused before any statement.
    @Test func verifyFullConnectsOnlyToTheServerItsCAVouchesFor() async throws {
        let caFile = try #require(
            PostgresTestDatabase.environment["CERTKEEPER_TEST_POSTGRES_CA_FILE"], "\(PostgresTestDatabase.skipReason)")
        func encrypted(host: String, caFile: String) async throws -> Bool {
            var settings = try PostgresTestDatabase.settings(schema: PostgresTestDatabase.uniqueSchema("tls"))
            settings.host = host
            settings.tls = .verifyFull(caFile: caFile)
            let database = try StoreDatabase(
                settings: settings, logger: Logger(label: "test.postgres"), operationTimeout: .seconds(5),
                maximumConnections: 1, connectionIdleTimeout: .seconds(1))
            let pool = Task { await database.run() }
            defer { pool.cancel() }
            return try await database.withClient("ask whether this connection is encrypted") { client in
                var ssl = false
                for try await value in try await client.query(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
                ).decode(Bool.self) {
                    ssl = value
                }
                return ssl
            }
        }
        #expect(try await encrypted(host: "localhost", caFile: caFile))
        // By address: checked against the certificate's IP addresses (it has 127.0.0.1).
        #expect(try await encrypted(host: "127.0.0.1", caFile: caFile))
        // A CA that did not sign the server's certificate.
        let dir = try TemporaryDirectory()
        let otherCA = dir.path + "/other-ca.pem"
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("not the test CA") }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-60), notValidAfter: Date().addingTimeInterval(3600),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
            },
            issuerPrivateKey: .init(key))
        try certificate.serializeAsPEM().pemString.write(toFile: otherCA, atomically: true, encoding: .utf8)
        let refused = await #expect(throws: PostgresStoreError.self) {
            _ = try await encrypted(host: "localhost", caFile: otherCA)
        }
        // Not just "no answer": the pool's reason, and what to check.
        #expect("\(try #require(refused))".contains("CERTIFICATE_VERIFY_FAILED"))
        #expect("\(try #require(refused))".contains("check tls_ca_file"))
    }

    @Test func onlyThePoolsConnectionFailuresAreRecordedAndOnlyRecentOnes() throws {
        let failures = ConnectionFailureLog()
        let before = ContinuousClock.now
        let logger = failures.recording(into: Logger(label: "test.postgres"))
        // Another message's error (it could quote a statement's parameters) is passed on, not recorded.
        logger.info("Query failed", metadata: ["psql_error": "PSQLError(query: SELECT 'secret')"])
        #expect(failures.cause(since: before) == nil)
        logger.info(
            "Connection creation failed",
            metadata: ["psql_error": "NIOSSLExtraError.failedToValidateHostname: Couldn't find db in certificate"])
        let cause = try #require(failures.cause(since: before))
        #expect(ConnectionFailureLog.explain(cause).contains("does not name the host in url"))
        // Older than the operation that timed out: not its cause.
        #expect(failures.cause(since: ContinuousClock.now) == nil)
        failures.clear()
        #expect(failures.cause(since: before) == nil)
    }
}

/// Names a listener heard, read by the test.
final class HeardNames: Sendable {
    private let storage = Mutex<[String]>([])
    func add(_ name: String) { storage.withLock { $0.append(name) } }
    var names: [String] { storage.withLock { $0 } }
}
