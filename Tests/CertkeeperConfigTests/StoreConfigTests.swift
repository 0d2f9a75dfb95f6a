import Testing

@testable import CertkeeperConfig

/// `[store]`: files by default; PostgreSQL with a URL, TLS, secrets from files or credentials; every mistake a `check`
/// error at FILE:LINE:COLUMN that says what to write instead.
@Suite struct StoreConfigTests {
    static func load(_ store: String) -> (store: StoreSettings?, diagnostics: [String]) {
        let result = ConfigLoader(environment: [:]).load(
            mainTOML: "[defaults]\nca = \"letsencrypt\"\n\n[store]\n" + store, specs: [], configDirectory: "/etc/ck")
        return (result.configuration?.store, result.allDiagnostics.map(\.description))
    }

    static let minimal = """
        backend = "postgresql"
        url = "postgresql://certkeeper@db.example.net/certkeeper"
        password_file = "/etc/certkeeper/db.password"
        encryption_key_file = "/etc/certkeeper/store.key"

        """

    @Test func theDefaultIsTheFileStore() {
        let none = ConfigLoader(environment: [:]).load(
            mainTOML: "[defaults]\nca = \"letsencrypt\"\n", specs: [], configDirectory: "/etc/ck")
        #expect(none.configuration?.store == .files)
        #expect(Self.load("backend = \"files\"\n").store == .files)
    }

    @Test func aPostgreSQLStoreWithDefaults() {
        let loaded = Self.load(Self.minimal)
        #expect(loaded.diagnostics.isEmpty, "\(loaded.diagnostics)")
        #expect(
            loaded.store
                == .postgresql(
                    PostgresStoreSettings(
                        host: "db.example.net", port: 5432, user: "certkeeper", database: "certkeeper",
                        schema: "certkeeper", tls: .verifyFull, tlsCAFile: nil,
                        password: .file("/etc/certkeeper/db.password"),
                        encryptionKey: .file("/etc/certkeeper/store.key"), leaseSeconds: 60)))
    }

    @Test func everySettingIsRead() {
        let loaded = Self.load(
            """
            backend = "postgresql"
            url = "postgresql://ck@[2001:db8::5]:6432/fleet"
            schema = "ck_fleet"
            tls_ca_file = "/etc/certkeeper/db-ca.pem"
            password_credential = "db-password"
            encryption_key_credential = "store-key"
            previous_encryption_key_files = ["/etc/certkeeper/store.key.2025"]
            node_name = "web-3"
            lease_time = "2m"
            http01_address = "0.0.0.0:80"

            """)
        #expect(loaded.diagnostics.isEmpty, "\(loaded.diagnostics)")
        guard case .postgresql(let settings) = loaded.store else {
            Issue.record("not a PostgreSQL store: \(String(describing: loaded.store))")
            return
        }
        #expect(settings.host == "2001:db8::5" && settings.port == 6432 && settings.database == "fleet")
        #expect(settings.displayURL == "postgresql://ck@[2001:db8::5]:6432/fleet")
        #expect(settings.schema == "ck_fleet" && settings.tlsCAFile == "/etc/certkeeper/db-ca.pem")
        #expect(settings.password == .credential("db-password") && settings.encryptionKey == .credential("store-key"))
        #expect(settings.previousEncryptionKeyFiles == ["/etc/certkeeper/store.key.2025"])
        #expect(settings.nodeName == "web-3" && settings.leaseSeconds == 120 && settings.http01Address == "0.0.0.0:80")
    }

    @Test(arguments: [
        (
            "backend = \"mysql\"\n", "certkeeper.toml:5:11: 'backend' in [store] must be \"files\" or \"postgresql\""
        ),
        (
            "url = \"postgresql://x@h/d\"\n",
            "certkeeper.toml:5:1: 'url' in [store] applies to backend = \"postgresql\" only"
        ),
        (
            minimal.replacingOccurrences(of: "certkeeper@db", with: "certkeeper:hunter2@db"),
            "certkeeper.toml:6:7: 'url' in [store]: the URL holds a password; remove it from the URL and put it in password_file"
        ),
        (
            minimal.replacingOccurrences(of: "certkeeper@db", with: "certkeeper:hunter2#x@db"),
            "certkeeper.toml:6:7: 'url' in [store]: this is not a URL of the form postgresql://USER@HOST"
        ),
        (
            minimal.replacingOccurrences(of: "postgresql://", with: "mysql://"),
            "certkeeper.toml:6:7: 'url' in [store]: must start with postgresql://"
        ),
        (
            minimal.replacingOccurrences(of: "/certkeeper\"", with: "\""),
            "certkeeper.toml:6:7: 'url' in [store]: name the database"
        ),
        (
            minimal.replacingOccurrences(of: "encryption_key_file = \"/etc/certkeeper/store.key\"\n", with: ""),
            "[store] with backend = \"postgresql\" needs encryption_key_file"
        ),
        (minimal + "tls = \"prefer\"\n", "certkeeper.toml:9:7: 'tls' in [store] must be \"verify-full\""),
        (minimal + "schema = \"Certs\"\n", "certkeeper.toml:9:10: 'schema' in [store] must be lower-case letters"),
        (minimal + "lease_time = \"5s\"\n", "certkeeper.toml:9:14: 'lease_time' in [store] must be at least 10s"),
        (minimal + "http01_address = \"web:80\"\n", "certkeeper.toml:9:18: 'http01_address' in [store] must be"),
        (
            minimal + "tls = \"disable\"\ntls_ca_file = \"/ca.pem\"\n",
            "certkeeper.toml:10:1: 'tls_ca_file' in [store] has no effect"
        ),
        (minimal + "password = \"hunter2\"\n", "certkeeper.toml:9:1: unknown key 'password' in [store]"),
    ])
    func mistakesAreReportedWhereTheyAre(_ text: String, _ expected: String) {
        let loaded = Self.load(text)
        #expect(loaded.diagnostics.contains { $0.contains(expected) }, "\(loaded.diagnostics)")
        #expect(loaded.diagnostics.allSatisfy { !$0.contains("hunter2") }, "a secret was echoed: \(loaded.diagnostics)")
    }
}
