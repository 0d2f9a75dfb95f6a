import ACMECrypto
import CertkeeperConfig
import Foundation
import SafeFiles

/// Turns certbot lineages (`renewal/*.conf` plus the certificates they name) into certkeeper specs that point at the
/// lineage's `live/` files, so the daemon adopts what is installed and renews it there. Pure apart from reading the
/// certbot files.
package enum CertbotMigration {
    /// Every lineage under `certbotDirectory/renewal`, in name order.
    /// `secretDirectory`: where a lineage's TSIG secret is copied to (`NAME.tsig`, mode 0600).
    package static func plans(certbotDirectory: String, secretDirectory: String) throws -> [MigrationPlan] {
        let renewal = "\(certbotDirectory)/renewal"
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: renewal) else {
            throw MigrationError(
                path: renewal, reason: "cannot be read; is \(certbotDirectory) certbot's --config-dir?")
        }
        return try files.filter { $0.hasSuffix(".conf") }.sorted().map { file in
            let path = "\(renewal)/\(file)"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw MigrationError(path: path, reason: "cannot be read")
            }
            let conf = try CertbotRenewalConf.parse(text, path: path)
            guard let certPath = conf.cert, let pem = try? String(contentsOfFile: certPath, encoding: .utf8),
                let chain = try? CertificateChain(pem: pem), let info = try? CertificateInfo(certificate: chain.leaf)
            else {
                // Reported and skipped: the other lineages are still migrated.
                return MigrationPlan(
                    name: "", confPath: path, domains: [], server: conf.params["server"] ?? "", accountDirectory: nil,
                    spec: "",
                    todos: [
                        "its certificate (\(sanitized(conf.cert ?? "no cert = line"))) cannot be read: see `certbot certificates`, and `certbot delete` a lineage that is gone"
                    ], complete: false, secretFile: nil)
            }
            return plan(
                lineage: String(file.dropLast(".conf".count)), confPath: path, conf: conf,
                certificateNames: info.identifiers, certificateKeyType: info.keyType,
                certbotDirectory: certbotDirectory, secretDirectory: secretDirectory)
        }
    }

    /// The plan for one lineage whose certificate names `certificateNames` with a key of `certificateKeyType`.
    package static func plan(
        lineage: String, confPath: String, conf: CertbotRenewalConf, certificateNames: [String],
        certificateKeyType: KeyType?, certbotDirectory: String, secretDirectory: String = "/etc/certkeeper"
    ) -> MigrationPlan {
        var todos: [String] = []
        var name = lineage
        if !StateName.isValid(name) {
            name = String(lineage.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "-" })
            if !StateName.isValid(name) { name = "lineage-\(stableHash(lineage))" }
            todos.append(
                "the lineage name '\(sanitized(lineage))' is not a valid spec name; the spec is called '\(name)'")
        }
        let params = conf.params
        let server = params["server"] ?? "https://acme-v02.api.letsencrypt.org/directory"
        let ca = CAPreset.all.first { $0.directoryURL == server }?.name ?? server
        let keyType: KeyType
        if let certificateKeyType {
            keyType = certificateKeyType
        } else if let fromParams = keyTypeFromParams(params) {
            keyType = fromParams
        } else {
            keyType = .ecdsaP256
            todos.append(
                "the key type certbot used has no certkeeper equivalent (ecdsa-p256, ecdsa-p384, rsa-2048/3072/4096); the spec asks for ecdsa-p256"
            )
        }
        if params["autorenew"]?.lowercased() == "false" {
            todos.append(
                "certbot did not renew this lineage (autorenew = False); certkeeper will: remove the spec if that is wrong"
            )
        }
        var lines = [
            "# Migrated from certbot (\(sanitized(confPath))) by `certkeeper migrate certbot`.",
            "# The certificate stays where certbot put it; certkeeper renews it there.",
            "domains = [\(certificateNames.map(quoted).joined(separator: ", "))]",
            "ca = \(quoted(ca))",
            "key = \(quoted(keyType.rawValue))",
        ]
        if params["reuse_key"]?.lowercased() == "true" { lines.append("reuse_key = true") }
        let secretPath = "\(secretDirectory)/\(name).tsig"
        let (challenge, complete, challengeTodos, secret) = challengeLines(
            conf, domains: certificateNames, secretPath: secretPath)
        todos += challengeTodos
        lines.append("")
        lines += challenge
        lines.append("")
        lines.append("[install]")
        for (key, path) in [
            ("fullchain", conf.fullchain), ("key", conf.privkey), ("cert", conf.cert), ("chain", conf.chain),
        ] {
            if let path { lines.append("\(key) = \(quoted(path))") }
        }
        if let hook = params["renew_hook"] ?? params["deploy_hook"], !hook.isEmpty {
            // certbot runs deploy hooks through a shell with RENEWED_LINEAGE and RENEWED_DOMAINS set; so does this.
            let lineageDirectory = conf.cert.map { ($0 as NSString).deletingLastPathComponent } ?? ""
            let command =
                "RENEWED_LINEAGE=\(shellQuoted(lineageDirectory)) RENEWED_DOMAINS=\(shellQuoted(certificateNames.joined(separator: " "))); "
                + "export RENEWED_LINEAGE RENEWED_DOMAINS; \(hook)"
            lines += [
                "", "[hooks]",
                "# certbot's deploy hook, run through a shell with the variables certbot set.",
                "run = [[\"/bin/sh\", \"-c\", \(quoted(command))]]",
            ]
        }
        var reloadUnits: [String] = []
        switch params["installer"] ?? "" {
        case "nginx": reloadUnits = ["nginx"]
        case "apache": reloadUnits = ["apache2"]
        case "", "none", "None", "null": break
        case let other:
            todos.append(
                "certbot's installer '\(sanitized(other))' reloaded a server after renewal: add [hooks] reload_units")
        }
        if !reloadUnits.isEmpty {
            if !lines.contains("[hooks]") { lines += ["", "[hooks]"] }
            lines.append("# certbot's \(sanitized(params["installer"]!)) installer reloaded it after each renewal.")
            lines.append("reload_units = [\(reloadUnits.map(quoted).joined(separator: ", "))]")
        }
        let deployHooks = "\(certbotDirectory)/renewal-hooks/deploy"
        if let hooks = try? FileManager.default.contentsOfDirectory(atPath: deployHooks), !hooks.isEmpty {
            todos.append(
                "certbot also ran every program in \(sanitized(deployHooks)) (\(hooks.sorted().map(sanitized).joined(separator: ", "))) after each renewal: add them to [hooks] run"
            )
        }
        for key in ["pre_hook", "post_hook"] where !(params[key] ?? "").isEmpty {
            todos.append(
                "\(key) (\(sanitized(params[key]!))) has no equivalent: certkeeper does not stop the web server; use [hooks] run or reload_units"
            )
        }
        if !todos.isEmpty { lines.insert(contentsOf: todos.map { "# TODO: \($0)" }, at: 2) }
        var accountDirectory: String?
        // certbot's account ids are 32 hex digits; anything else never becomes part of a path.
        if let account = params["account"], account.count == 32, account.allSatisfy(\.isHexDigit),
            let url = URLComponents(string: server), let host = url.host
        {
            let netloc = url.port.map { "\(host):\($0)" } ?? host
            let path = url.path.split(separator: "/").joined(separator: "/")
            accountDirectory = "\(certbotDirectory)/accounts/\(netloc)/\(path)/\(account)"
        }
        return MigrationPlan(
            name: name, confPath: confPath, domains: certificateNames, server: server,
            accountDirectory: accountDirectory, spec: lines.joined(separator: "\n") + "\n", todos: todos,
            complete: complete,
            secretFile: secret.map { MigrationPlan.SecretFile(path: secretPath, contents: $0 + "\n") })
    }

    /// `[challenge]` for the lineage's authenticator, whether it works, and what could not be mapped.
    static func challengeLines(_ conf: CertbotRenewalConf, domains: [String], secretPath: String) -> (
        [String], Bool, [String], String?
    ) {
        let params = conf.params
        switch params["authenticator"] ?? "" {
        case "webroot":
            // certbot uses the last webroot_path for names without a webroot_map entry.
            let fallback = CertbotRenewalConf.list(params["webroot_path"]).last
            var roots: [String: String] = [:]
            for domain in domains {
                if let root = conf.webrootMap[domain.lowercased()] ?? fallback { roots[domain] = root }
            }
            let counts = Dictionary(grouping: roots.values, by: { $0 }).mapValues(\.count)
            guard let main = counts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) })?.key,
                roots.count == domains.count
            else {
                return (
                    commented(["[challenge]", "type = \"http-01\"", "webroot = \"/var/www/html\""]), false,
                    ["webroot without a webroot_path or webroot_map entry for every name: set [challenge] webroot"],
                    nil
                )
            }
            var lines = ["[challenge]", "type = \"http-01\"", "webroot = \(quoted(main))"]
            for domain in domains where roots[domain] != main {
                lines += [
                    "", "[challenge.domains.\(quoted(domain))]", "type = \"http-01\"",
                    "webroot = \(quoted(roots[domain]!))",
                ]
            }
            return (lines, true, [], nil)
        case "standalone":
            let address = params["http01_address"].flatMap { $0.isEmpty ? nil : $0 } ?? "0.0.0.0"
            let port = params["http01_port"].flatMap { Int($0) } ?? 80
            let host = address.contains(":") ? "[\(address)]" : address
            return (["[challenge]", "type = \"http-01\"", "listen = \"\(host):\(port)\""], true, [], nil)
        case "dns-rfc2136":
            return rfc2136Lines(params, secretPath: secretPath)
        case let other:
            let what = other.isEmpty ? "no authenticator" : "the authenticator '\(other)'"
            return (
                commented(["[challenge]", "type = \"http-01\"", "webroot = \"/var/www/html\""]), false,
                ["\(what) has no certkeeper equivalent: write [challenge] (http-01, dns-01 or tls-alpn-01)"], nil
            )
        }
    }

    /// certbot-dns-rfc2136's credentials INI: server, port, key name, algorithm, and the secret, which is copied into
    /// a file of its own (`secretPath`, mode 0600) since the INI is not a TSIG key file.
    static func rfc2136Lines(_ params: [String: String], secretPath: String) -> ([String], Bool, [String], String?) {
        guard let path = params["dns_rfc2136_credentials"],
            let text = try? String(contentsOfFile: path, encoding: .utf8)
        else {
            return (
                commented(["[challenge]", "type = \"dns-01\"", "provider = \"rfc2136\""]), false,
                ["dns-rfc2136 credentials (\(params["dns_rfc2136_credentials"] ?? "not named")) cannot be read"], nil
            )
        }
        var ini: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: "=", maxSplits: 1).map {
                $0.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            }
            if parts.count == 2 { ini[parts[0]] = CertbotRenewalConf.unquoted(parts[1]) }
        }
        let server = ini["dns_rfc2136_server"] ?? "127.0.0.1"
        let port = ini["dns_rfc2136_port"] ?? "53"
        var lines = [
            "[challenge]", "type = \"dns-01\"", "provider = \"rfc2136\"",
            "server = \(quoted(server.contains(":") ? "[\(server)]:\(port)" : "\(server):\(port)"))",
        ]
        guard let name = ini["dns_rfc2136_name"], let secret = ini["dns_rfc2136_secret"], !secret.isEmpty else {
            return (
                lines, true,
                ["\(path) has no dns_rfc2136_name and dns_rfc2136_secret: the updates are sent unsigned"], nil
            )
        }
        lines.append("tsig_key_name = \(quoted(name))")
        // certbot-dns-rfc2136 signs with HMAC-MD5 unless told otherwise; certkeeper has SHA-1 and SHA-2 only.
        let algorithm = (ini["dns_rfc2136_algorithm"] ?? "HMAC-MD5").lowercased()
        guard ["hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha1"].contains(algorithm) else {
            return (
                lines + ["# TODO: the key uses \(sanitized(algorithm)): make a hmac-sha256 key and set tsig_algorithm"],
                false,
                [
                    "the TSIG key in \(sanitized(path)) uses \(sanitized(algorithm)), which certkeeper does not sign with: create a hmac-sha256 key on the server"
                ],
                nil
            )
        }
        lines.append("tsig_algorithm = \(quoted(algorithm))")
        lines.append("tsig_secret_file = \(quoted(secretPath))   # copied from \(sanitized(path))")
        return (lines, true, [], secret)
    }

    /// The key type certbot's settings ask for (RSA 2048 when none is named, certbot's old default); nil for one
    /// certkeeper does not issue (secp521r1, RSA 8192).
    static func keyTypeFromParams(_ params: [String: String]) -> KeyType? {
        if params["key_type"] == "ecdsa" {
            switch params["elliptic_curve"] ?? "secp256r1" {
            case "secp256r1": return .ecdsaP256
            case "secp384r1": return .ecdsaP384
            default: return nil
            }
        }
        switch params["rsa_key_size"] ?? "2048" {
        case "2048": return .rsa2048
        case "3072": return .rsa3072
        case "4096": return .rsa4096
        default: return nil
        }
    }

    /// Text from another client's files as it may appear in a TOML comment: control characters (a newline would end
    /// the comment and inject settings) become spaces.
    package static func sanitized(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            out.append(scalar.properties.generalCategory == .control ? " " : scalar)
        }
        return String(out)
    }

    /// A hash of `text` that is the same in every process (Swift's hashValue is seeded per process).
    static func stableHash(_ text: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return String(hash, radix: 16)
    }

    static func commented(_ lines: [String]) -> [String] { lines.map { "# " + $0 } }

    /// `text` in single quotes for sh.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A TOML basic string.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\u%04X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
