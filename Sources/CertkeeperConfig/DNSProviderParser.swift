import ACMECrypto
import Foundation

/// Validates the settings of `provider = "powerdns"`, `"route53"` and `"cloudflare"` in a dns-01 solver table.
struct DNSProviderParser {
    let diagnostics: DiagnosticCollector

    /// The keys each API provider accepts (besides `provider` and the propagation keys).
    static let keys: [String: [String]] = [
        "powerdns": ["api_url", "server_id", "api_key_file", "api_key_credential", "zone"],
        "route53": [
            "api_url", "hosted_zone_id", "region", "access_key_id_file", "access_key_id_credential",
            "secret_access_key_file", "secret_access_key_credential",
        ],
        "cloudflare": ["api_url", "zone_id", "api_token_file", "api_token_credential"],
    ]

    /// Every key any API provider accepts.
    static var allKeys: [String] { Array(Set(keys.values.flatMap { $0 })).sorted() }

    func parse(_ provider: String, _ table: TableReader) -> DNSProviderSettings? {
        let before = diagnostics.diagnostics.count
        let settings: DNSProviderSettings?
        switch provider {
        case "powerdns": settings = parsePowerDNS(table).map(DNSProviderSettings.powerDNS)
        case "route53": settings = parseRoute53(table).map(DNSProviderSettings.route53)
        default: settings = parseCloudflare(table).map(DNSProviderSettings.cloudflare)
        }
        return diagnostics.diagnostics.count == before ? settings : nil
    }

    private func parsePowerDNS(_ table: TableReader) -> PowerDNSSettings? {
        let url = apiURL(table, required: true, example: "http://127.0.0.1:8081")
        var serverID = "localhost"
        if let (text, node) = table.string("server_id") {
            if text.isEmpty || !text.unicodeScalars.allSatisfy({ Self.isPlain($0) }) {
                diagnostics.error(
                    "'server_id' in \(table.displayName) must be the server's id in the API (usually \"localhost\"); got '\(text)'",
                    atValueOf: node)
            }
            serverID = text
        }
        let key = secret(
            table, prefix: "api_key", provider: "powerdns",
            example: "api_key_file = \"/etc/certkeeper/powerdns.key\" (the server's api-key)")
        let zone = SolverParser(diagnostics: diagnostics).zoneName(table, "zone")
        guard let url, let key else { return nil }
        return PowerDNSSettings(apiURL: url, serverID: serverID, apiKey: key, zone: zone)
    }

    private func parseRoute53(_ table: TableReader) -> Route53Settings? {
        let url = apiURL(table, required: false, example: "https://route53.amazonaws.com")
        var zoneID: String?
        if let (text, node) = table.string("hosted_zone_id") {
            var id = text
            if id.hasPrefix("/hostedzone/") { id.removeFirst("/hostedzone/".count) }
            if id.isEmpty || id.count > 32 || !id.unicodeScalars.allSatisfy({ Self.isPlain($0) }) {
                diagnostics.error(
                    "'hosted_zone_id' in \(table.displayName) must be a Route 53 hosted zone ID like \"Z0123456789ABCDEFGHIJ\"; got '\(text)'",
                    atValueOf: node)
            }
            zoneID = id
        }
        var region = "us-east-1"
        if let (text, node) = table.string("region") {
            if text.isEmpty || text.count > 32
                || !text.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
                )
            {
                diagnostics.error(
                    "'region' in \(table.displayName) must be an AWS region like \"us-east-1\"; got '\(text)'",
                    atValueOf: node)
            }
            region = text
        }
        let (keyID, keyIDOK) = table.secretSource(filePrefix: "access_key_id")
        let (secretKey, secretOK) = table.secretSource(filePrefix: "secret_access_key")
        if keyIDOK && secretOK {
            if keyID != nil && secretKey == nil {
                let node = table["access_key_id_file"] ?? table["access_key_id_credential"]!
                diagnostics.error(
                    "'\(node.key)' in \(table.displayName) needs its secret: add secret_access_key_file = \"/etc/certkeeper/aws-secret\" or secret_access_key_credential = \"NAME\"",
                    atKeyOf: node)
            } else if keyID == nil && secretKey != nil {
                let node = table["secret_access_key_file"] ?? table["secret_access_key_credential"]!
                diagnostics.error(
                    "'\(node.key)' in \(table.displayName) needs the key's id: add access_key_id_file = \"/etc/certkeeper/aws-key-id\" or access_key_id_credential = \"NAME\"",
                    atKeyOf: node)
            }
        }
        for key in ["access_key_id_file", "secret_access_key_file"] { readable(table, key) }
        guard keyIDOK, secretOK else { return nil }
        return Route53Settings(
            hostedZoneID: zoneID, region: region, accessKeyID: keyID, secretAccessKey: secretKey, apiURL: url)
    }

    private func parseCloudflare(_ table: TableReader) -> CloudflareSettings? {
        let url = apiURL(table, required: false, example: CloudflareSettings.defaultAPIURL)
        var zoneID: String?
        if let (text, node) = table.string("zone_id") {
            if text.isEmpty || text.count > 64 || !text.unicodeScalars.allSatisfy({ Self.isPlain($0) }) {
                diagnostics.error(
                    "'zone_id' in \(table.displayName) must be the zone's ID from the Cloudflare dashboard (32 hex digits); got '\(text)'",
                    atValueOf: node)
            }
            zoneID = text
        }
        let token = secret(
            table, prefix: "api_token", provider: "cloudflare",
            example: "api_token_file = \"/etc/certkeeper/cloudflare.token\" (a token with Zone:DNS:Edit)")
        guard let token else { return nil }
        return CloudflareSettings(
            apiToken: token, zoneID: zoneID, apiURL: url ?? CloudflareSettings.defaultAPIURL)
    }

    /// `api_url`: https, or plain http to a loopback address only (the key would cross the network in clear text).
    private func apiURL(_ table: TableReader, required: Bool, example: String) -> String? {
        guard let (text, node) = table.string("api_url") else {
            if required && !table.has("api_url") {
                let provider = table.string("provider")?.value ?? ""
                diagnostics.error(
                    "provider = \"\(provider)\" in \(table.displayName) needs api_url = \"\(example)\"",
                    atKeyOf: table.node)
            }
            return nil
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty, components.query == nil, components.fragment == nil,
            components.user == nil, components.password == nil
        else {
            diagnostics.error(
                "'api_url' in \(table.displayName) must be a URL like \"\(example)\" (no credentials, query or fragment); got '\(text)'",
                atValueOf: node)
            return nil
        }
        let address = IPAddressText.bytes(host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host)
        let loopback =
            host.lowercased() == "localhost" || address == [UInt8](repeating: 0, count: 15) + [1]
            || (address?.count == 4 && address?.first == 127)
        guard scheme == "https" || (scheme == "http" && loopback) else {
            diagnostics.error(
                "'api_url' in \(table.displayName) must use https:// (plain http:// only to a loopback address: the API key would cross the network unencrypted); got '\(text)'",
                atValueOf: node)
            return nil
        }
        var trimmed = text
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }

    /// A required secret `PREFIX_file` or `PREFIX_credential`; a file must be readable now.
    private func secret(_ table: TableReader, prefix: String, provider: String, example: String) -> SecretSource? {
        let (source, ok) = table.secretSource(filePrefix: prefix)
        guard ok else { return nil }
        guard let source else {
            diagnostics.error(
                "provider = \"\(provider)\" in \(table.displayName) needs \(example), or \(prefix)_credential = \"NAME\" (a systemd credential)",
                atKeyOf: table.node)
            return nil
        }
        readable(table, "\(prefix)_file")
        return source
    }

    /// Reports a secret file that this process cannot open for reading (the daemon would fail at the first order).
    private func readable(_ table: TableReader, _ key: String) {
        guard let (path, node) = table.string(key), path.hasPrefix("/") else { return }
        var status = stat()
        if stat(path, &status) != 0 {
            diagnostics.error(
                "'\(key)' in \(table.displayName): \(path) does not exist; create it (mode 0600) or fix the path",
                atValueOf: node)
        } else if (status.st_mode & S_IFMT) != S_IFREG {
            diagnostics.error("'\(key)' in \(table.displayName): \(path) is not a regular file", atValueOf: node)
        } else if access(path, R_OK) != 0 {
            diagnostics.error(
                "'\(key)' in \(table.displayName): \(path) is not readable by uid \(getuid()); make it readable by the user certkeeper runs as (mode 0600, owned by it)",
                atValueOf: node)
        }
    }

    private static func isPlain(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII
            && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.".unicodeScalars.contains(scalar))
    }
}
