/// Validates `[challenge]` and `[challenge.domains."NAME"]` tables into `SolverSpec`s.
struct SolverParser {
    let diagnostics: DiagnosticCollector

    static let types = ["http-01", "dns-01", "tls-alpn-01"]
    static let providers = ["rfc2136", "exec", "powerdns", "route53", "cloudflare"]
    static let providerList = "\"rfc2136\", \"exec\", \"powerdns\", \"route53\" or \"cloudflare\""
    static let solverKeys =
        [
            "type", "webroot", "listen", "provider", "server", "zone", "tsig_key_name", "tsig_algorithm",
            "tsig_secret_file",
            "tsig_secret_credential", "command", "propagation_servers", "propagation_timeout", "resolver",
            "delegated_zone",
        ] + DNSProviderParser.allKeys.filter { $0 != "zone" }
    static let dnsCommonKeys = ["provider", "propagation_servers", "propagation_timeout", "resolver"]
    static let rfc2136Keys = [
        "server", "zone", "tsig_key_name", "tsig_algorithm", "tsig_secret_file", "tsig_secret_credential",
        "delegated_zone",
    ]

    /// Parses one solver table. `allowDomains` is true for `[challenge]` (which may hold per-name overrides).
    func parse(_ table: TableReader, allowDomains: Bool) -> SolverSpec? {
        let before = diagnostics.diagnostics.count
        table.rejectUnknownKeys(known: Self.solverKeys + (allowDomains ? ["domains"] : [])) { key in
            key == "domains"
                ? "per-name overrides go in [challenge.domains.\"NAME\"], not inside another override" : nil
        }
        guard let (type, typeNode) = table.string("type") else {
            if !table.has("type") {
                diagnostics.error(
                    "\(table.displayName) needs type = \"http-01\", \"dns-01\" or \"tls-alpn-01\"", atKeyOf: table.node)
            }
            return nil
        }
        guard Self.types.contains(type) else {
            var message = "'type' in \(table.displayName) is '\(type)'; use \"http-01\", \"dns-01\" or \"tls-alpn-01\""
            if let suggestion = Suggestion.closest(to: type, in: Self.types) {
                message += " (did you mean '\(suggestion)'?)"
            }
            diagnostics.error(message, atValueOf: typeNode)
            return nil
        }
        var applicable: [String]
        switch type {
        case "http-01": applicable = ["webroot", "listen"]
        case "tls-alpn-01": applicable = ["listen"]
        default:
            applicable = Self.dnsCommonKeys
            switch table.string("provider")?.value {
            case "rfc2136": applicable += Self.rfc2136Keys
            case "exec": applicable += ["command"]
            case let provider? where DNSProviderParser.keys[provider] != nil:
                applicable += DNSProviderParser.keys[provider]!
            default: applicable += Self.rfc2136Keys + ["command"] + DNSProviderParser.allKeys
            }
        }
        for (key, child) in table.node.entries ?? [] where Self.solverKeys.contains(key) && key != "type" {
            guard !applicable.contains(key) else { continue }
            let provider = table.string("provider")?.value
            let detail =
                type == "dns-01" && provider != nil
                ? "type = \"dns-01\" with provider = \"\(provider!)\"" : "type = \"\(type)\""
            diagnostics.error("'\(key)' in \(table.displayName) does not apply to \(detail); remove it", atKeyOf: child)
        }
        let solver: SolverSpec?
        switch type {
        case "http-01": solver = parseHTTP01(table)
        case "tls-alpn-01": solver = parseTLSALPN01(table)
        default: solver = parseDNS01(table)
        }
        return diagnostics.diagnostics.count == before ? solver : nil
    }

    private func listen(_ table: TableReader) -> String? {
        guard let (text, node) = table.string("listen") else { return nil }
        guard let address = NameSyntax.hostPort(text, defaultPort: nil) else {
            diagnostics.error(
                "'listen' in \(table.displayName) must be host:port, e.g. \"127.0.0.1:5002\" or \"[::1]:5002\"; got '\(text)'",
                atValueOf: node)
            return nil
        }
        return address
    }

    private func parseHTTP01(_ table: TableReader) -> SolverSpec? {
        let webroot = table.absolutePath("webroot")
        let address = listen(table)
        if let webrootNode = table["webroot"], let listenNode = table["listen"] {
            let later = webrootNode.keyPosition > listenNode.keyPosition ? webrootNode : listenNode
            diagnostics.error(
                "\(table.displayName) sets both 'webroot' and 'listen'; http-01 uses exactly one of them",
                atKeyOf: later)
            return nil
        }
        if let webroot { return .http01Webroot(path: webroot) }
        if let address { return .http01Listen(address: address) }
        if !table.has("webroot") && !table.has("listen") {
            diagnostics.error(
                "http-01 in \(table.displayName) needs webroot = \"/var/www/html\" or listen = \"127.0.0.1:5002\"",
                atKeyOf: table.node)
        }
        return nil
    }

    private func parseTLSALPN01(_ table: TableReader) -> SolverSpec? {
        if let address = listen(table) { return .tlsALPN01(listen: address) }
        if !table.has("listen") {
            diagnostics.error(
                "tls-alpn-01 in \(table.displayName) needs listen = \"0.0.0.0:443\" (or the address a TLS proxy forwards to)",
                atKeyOf: table.node)
        }
        return nil
    }

    private func parseDNS01(_ table: TableReader) -> SolverSpec? {
        let propagation = parsePropagation(table)
        guard let (provider, providerNode) = table.string("provider") else {
            if !table.has("provider") {
                diagnostics.error(
                    "dns-01 in \(table.displayName) needs provider = \(Self.providerList)", atKeyOf: table.node)
            }
            return nil
        }
        switch provider {
        case "rfc2136":
            guard let settings = parseRFC2136(table), let propagation else { return nil }
            return .dns01RFC2136(settings, propagation)
        case "exec":
            let command = table.command("command")
            if !table.has("command") {
                diagnostics.error(
                    "provider = \"exec\" in \(table.displayName) needs command = [\"/usr/local/bin/dns-hook\"]",
                    atKeyOf: table.node)
            }
            guard let command, let propagation else { return nil }
            return .dns01Exec(command: command, propagation)
        case "powerdns", "route53", "cloudflare":
            guard let settings = DNSProviderParser(diagnostics: diagnostics).parse(provider, table), let propagation
            else { return nil }
            return .dns01Provider(settings, propagation)
        default:
            var message = "'provider' in \(table.displayName) is '\(provider)'; use \(Self.providerList)"
            if let suggestion = Suggestion.closest(to: provider, in: Self.providers) {
                message += " (did you mean '\(suggestion)'?)"
            }
            diagnostics.error(message, atValueOf: providerNode)
            return nil
        }
    }

    private func parseRFC2136(_ table: TableReader) -> RFC2136Settings? {
        let before = diagnostics.diagnostics.count
        var server: String?
        if let (text, node) = table.string("server") {
            server = NameSyntax.hostPort(text, defaultPort: 53)
            if server == nil {
                diagnostics.error(
                    "'server' in \(table.displayName) must be host or host:port (default port 53), e.g. \"127.0.0.1:53\"; got '\(text)'",
                    atValueOf: node)
            }
        } else if !table.has("server") {
            diagnostics.error(
                "provider = \"rfc2136\" in \(table.displayName) needs server = \"127.0.0.1:53\" (the primary DNS server accepting updates)",
                atKeyOf: table.node)
        }
        let zone = zoneName(table, "zone")
        let delegatedZone = zoneName(table, "delegated_zone")
        let keyName = table.string("tsig_key_name")
        if let keyName, keyName.value.isEmpty || keyName.value.contains(" ") {
            diagnostics.error(
                "'tsig_key_name' in \(table.displayName) must be a key name like \"certkeeper\"; got '\(keyName.value)'",
                atValueOf: keyName.node)
        }
        var algorithm = TSIGAlgorithmName.hmacSHA256
        if let (text, node) = table.string("tsig_algorithm") {
            var name = text.lowercased()
            if name.hasSuffix(".") { name.removeLast() }
            if let parsed = TSIGAlgorithmName(rawValue: name) {
                algorithm = parsed
            } else {
                diagnostics.error(
                    "'tsig_algorithm' in \(table.displayName) is '\(text)'; use hmac-sha256, hmac-sha384, hmac-sha512 or hmac-sha1",
                    atValueOf: node)
            }
            if keyName == nil && table["tsig_key_name"] == nil {
                diagnostics.error(
                    "'tsig_algorithm' in \(table.displayName) needs tsig_key_name and tsig_secret_file (or tsig_secret_credential)",
                    atKeyOf: node)
            }
        }
        let (secret, secretOK) = table.secretSource(filePrefix: "tsig_secret")
        if secretOK {
            if let keyName, secret == nil {
                diagnostics.error(
                    "'tsig_key_name' in \(table.displayName) needs its secret: add tsig_secret_file = \"/etc/certkeeper/tsig.key\" or tsig_secret_credential = \"NAME\"",
                    atKeyOf: keyName.node)
            }
            if secret != nil && table["tsig_key_name"] == nil {
                let node = table["tsig_secret_file"] ?? table["tsig_secret_credential"]!
                diagnostics.error(
                    "'\(node.key)' in \(table.displayName) needs tsig_key_name = \"...\" (the TSIG key's name on the server)",
                    atKeyOf: node)
            }
        }
        guard diagnostics.diagnostics.count == before, let server else { return nil }
        return RFC2136Settings(
            server: server, zone: zone, tsigKeyName: keyName?.value, tsigAlgorithm: algorithm, tsigSecret: secret,
            delegatedZone: delegatedZone)
    }

    /// A zone name setting (`zone`, `delegated_zone`), lowercased without the trailing dot.
    func zoneName(_ table: TableReader, _ key: String) -> String? {
        guard let (text, node) = table.string(key) else { return nil }
        var name = text.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        if let problem = NameSyntax.dnsNameProblem(name) {
            diagnostics.error(
                "'\(key)' in \(table.displayName) is not a DNS name ('\(text)'): \(problem)", atValueOf: node)
        }
        return name
    }

    private func parsePropagation(_ table: TableReader) -> PropagationSettings? {
        let before = diagnostics.diagnostics.count
        var settings = PropagationSettings()
        if let (entries, _) = table.stringArray("propagation_servers") {
            for (text, node) in entries {
                if let server = NameSyntax.hostPort(text, defaultPort: 53) {
                    settings.servers.append(server)
                } else {
                    diagnostics.error(
                        "'propagation_servers' in \(table.displayName): '\(text)' is not host or host:port (default port 53)",
                        atValueOf: node)
                }
            }
        }
        if let (text, node) = table.string("resolver") {
            if let resolver = NameSyntax.hostPort(text, defaultPort: 53) {
                settings.resolver = resolver
            } else {
                diagnostics.error(
                    "'resolver' in \(table.displayName) must be host or host:port of a recursive resolver (default port 53), e.g. \"127.0.0.1:53\"; got '\(text)'",
                    atValueOf: node)
            }
        }
        if let timeout = table.duration(
            "propagation_timeout", allowZero: true, maximum: DurationLimits.propagationTimeout)
        {
            settings.timeoutSeconds = timeout
        }
        return diagnostics.diagnostics.count == before ? settings : nil
    }
}
