import Foundation

/// Validates `[store]` of certkeeper.toml into ``StoreSettings``, every problem at its FILE:LINE:COLUMN.
struct StoreSettingsParser {
    let diagnostics: DiagnosticCollector

    static let keys = [
        "backend", "url", "schema", "tls", "tls_ca_file", "password_file", "password_credential",
        "encryption_key_file", "encryption_key_credential", "previous_encryption_key_files", "node_name", "lease_time",
        "http01_address",
    ]
    static let backends = ["files", "postgresql"]
    /// Lease times: long enough to renew a few times per order step, short enough that a dead node's work resumes.
    static let leaseRange: ClosedRange<Int64> = 10...3600

    func parse(_ table: TableReader) -> StoreSettings? {
        table.rejectUnknownKeys(known: Self.keys)
        let before = diagnostics.diagnostics.count
        let backend = table.string("backend")
        switch backend?.value {
        case nil, "files":
            let postgresOnly = Self.keys.filter { $0 != "backend" }.compactMap { table.node[$0] }
            for node in postgresOnly {
                diagnostics.error(
                    "'\(node.key)' in [store] applies to backend = \"postgresql\" only; remove it or set the backend",
                    atKeyOf: node)
            }
            return diagnostics.diagnostics.count == before ? .files : nil
        case "postgresql":
            return parsePostgres(table, before: before).map { .postgresql($0) }
        case let other?:
            diagnostics.error(
                "'backend' in [store] must be \"files\" or \"postgresql\", not '\(other)'", atValueOf: backend!.node)
            return nil
        }
    }

    private func parsePostgres(_ table: TableReader, before: Int) -> PostgresStoreSettings? {
        var endpoint: (host: String, port: Int, user: String, database: String)?
        if let (text, node) = table.string("url") {
            switch Self.parseURL(text) {
            case .success(let parsed): endpoint = parsed
            case .failure(let problem): diagnostics.error("'url' in [store]: \(problem.message)", atValueOf: node)
            }
        } else {
            diagnostics.error(
                "[store] with backend = \"postgresql\" needs url = \"postgresql://USER@HOST:5432/DATABASE\"",
                atKeyOf: table.node)
        }
        var schema = "certkeeper"
        if let (text, node) = table.string("schema") {
            if Self.isValidSchema(text) {
                schema = text
            } else {
                diagnostics.error(
                    "'schema' in [store] must be lower-case letters, digits and _, starting with a letter or _, at most 63 characters; got '\(text)'",
                    atValueOf: node)
            }
        }
        var tls = PostgresStoreSettings.TLS.verifyFull
        if let (text, node) = table.string("tls") {
            if let mode = PostgresStoreSettings.TLS(rawValue: text) {
                tls = mode
            } else {
                diagnostics.error(
                    "'tls' in [store] must be \"verify-full\" (the default) or \"disable\", not '\(text)'",
                    atValueOf: node)
            }
        }
        let caFile = table.absolutePath("tls_ca_file")
        if tls == .disable, let node = table.node["tls_ca_file"] {
            diagnostics.error("'tls_ca_file' in [store] has no effect with tls = \"disable\"", atKeyOf: node)
        }
        let (password, _) = table.secretSource(filePrefix: "password")
        let (key, keyOK) = table.secretSource(filePrefix: "encryption_key")
        if keyOK, key == nil {
            diagnostics.error(
                "[store] with backend = \"postgresql\" needs encryption_key_file = \"/etc/certkeeper/store.key\" (or encryption_key_credential): private keys are sealed with it; make one with `head -c 32 /dev/urandom | base64`",
                atKeyOf: table.node)
        }
        var previous: [String] = []
        if let (paths, _) = table.stringArray("previous_encryption_key_files") {
            for (path, node) in paths {
                if path.hasPrefix("/") {
                    previous.append(path)
                } else {
                    diagnostics.error(
                        "'previous_encryption_key_files' in [store] must hold absolute paths; got '\(path)'",
                        atValueOf: node)
                }
            }
        }
        var nodeName: String?
        if let (text, node) = table.string("node_name") {
            if NameSyntax.isValidName(text) {
                nodeName = text
            } else {
                diagnostics.error(
                    "'node_name' in [store] is not valid; use \(NameSyntax.nameRule)", atValueOf: node)
            }
        }
        var lease: Int64 = 60
        if let seconds = table.duration("lease_time", allowZero: false, maximum: Self.leaseRange.upperBound) {
            if seconds < Self.leaseRange.lowerBound, let node = table.node["lease_time"] {
                diagnostics.error(
                    "'lease_time' in [store] must be at least \(Self.leaseRange.lowerBound)s", atValueOf: node)
            } else {
                lease = seconds
            }
        }
        var http01Address: String?
        if let (text, node) = table.string("http01_address") {
            if MainConfigParser.listenEndpoint(text) != nil {
                http01Address = text
            } else {
                diagnostics.error(
                    "'http01_address' in [store] must be an IP address and port, e.g. \"0.0.0.0:80\" or \"[::]:80\"; got '\(text)'",
                    atValueOf: node)
            }
        }
        guard diagnostics.diagnostics.count == before, let endpoint, let key else { return nil }
        return PostgresStoreSettings(
            host: endpoint.host, port: endpoint.port, user: endpoint.user, database: endpoint.database, schema: schema,
            tls: tls, tlsCAFile: caFile, password: password, encryptionKey: key,
            previousEncryptionKeyFiles: previous, nodeName: nodeName, leaseSeconds: lease,
            http01Address: http01Address)
    }

    struct URLProblem: Error { var message: String }

    /// `postgresql://USER@HOST[:PORT]/DATABASE` (also `postgres://`); a password in the URL is refused.
    static func parseURL(_ text: String) -> Result<
        (host: String, port: Int, user: String, database: String), URLProblem
    > {
        guard text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") else {
            return .failure(
                URLProblem(
                    message:
                        "must start with postgresql://, e.g. \"postgresql://certkeeper@db.example.net:5432/certkeeper\""
                ))
        }
        guard let components = URLComponents(string: text) else {
            // Never quoted: what sits between :// and the last @ may be a password.
            return .failure(
                URLProblem(
                    message:
                        "this is not a URL of the form postgresql://USER@HOST[:PORT]/DATABASE (a password does not belong in it: use password_file)"
                ))
        }
        if components.password != nil {
            return .failure(
                URLProblem(
                    message:
                        "the URL holds a password; remove it from the URL and put it in password_file (or password_credential)"
                ))
        }
        if components.query != nil || components.fragment != nil {
            return .failure(URLProblem(message: "query parameters are not read; use the tls and tls_ca_file keys"))
        }
        guard let user = components.user, !user.isEmpty else {
            return .failure(URLProblem(message: "name the role: postgresql://USER@HOST/DATABASE"))
        }
        guard let host = components.host, !host.isEmpty else {
            return .failure(URLProblem(message: "name the host: postgresql://USER@HOST/DATABASE"))
        }
        let database = String(components.path.dropFirst())
        guard !database.isEmpty, !database.contains("/") else {
            return .failure(URLProblem(message: "name the database: postgresql://USER@HOST/DATABASE"))
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { return .failure(URLProblem(message: "port \(port) is out of range")) }
        let bareHost = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        return .success((bareHost, port, user.removingPercentEncoding ?? user, database))
    }

    static func isValidSchema(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.utf8.count <= 63 else { return false }
        guard ("a"..."z").contains(first) || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
