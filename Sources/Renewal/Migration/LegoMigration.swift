import ACMECrypto
import CertkeeperConfig
import Foundation
import SafeFiles

/// Turns lego's certificates (`PATH/certificates/NAME.{crt,key,issuer.crt,json}`) into certkeeper specs that point at
/// those files. lego keeps no renewal settings (they are its command line), so the CA and the challenge are given to
/// the migration the way they were given to lego (`--server`, `--http.webroot`, `--http.port`).
package enum LegoMigration {
    /// How lego answered http-01, as its flags said.
    package enum Challenge: Sendable, Hashable {
        /// `--http.webroot DIR`.
        case webroot(String)
        /// `--http --http.port [IFACE]:PORT`: certkeeper's built-in responder there.
        case listen(String)
        /// Not given: the spec's challenge is left as a TODO.
        case unknown
    }

    /// Every certificate under `legoPath/certificates`, in name order, for the CA at `server`.
    package static func plans(legoPath: String, server: String, challenge: Challenge) throws -> [MigrationPlan] {
        let directory = "\(legoPath)/certificates"
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw MigrationError(path: directory, reason: "cannot be read; is \(legoPath) lego's --path?")
        }
        let accounts = accountDirectories(legoPath: legoPath, server: server)
        return try files.filter { $0.hasSuffix(".json") }.sorted().map { file in
            let stem = String(file.dropLast(".json".count))
            let crt = "\(directory)/\(stem).crt"
            guard let pem = try? String(contentsOfFile: crt, encoding: .utf8),
                let chain = try? CertificateChain(pem: pem), let info = try? CertificateInfo(certificate: chain.leaf)
            else { throw MigrationError(path: crt, reason: "cannot be read as a certificate") }
            let issuer = "\(directory)/\(stem).issuer.crt"
            return plan(
                stem: stem, jsonPath: "\(directory)/\(file)", server: server, challenge: challenge,
                certificateNames: info.identifiers, certificateKeyType: info.keyType,
                fullchain: crt, key: "\(directory)/\(stem).key",
                chain: FileManager.default.fileExists(atPath: issuer) ? issuer : nil,
                bundled: chain.certificates.count > 1,
                accountDirectory: accounts.count == 1 ? accounts[0] : nil, accountCandidates: accounts.count)
        }
    }

    /// lego's account directories for `server`: `PATH/accounts/HOST[_PORT]/EMAIL`.
    static func accountDirectories(legoPath: String, server: String) -> [String] {
        guard let url = URLComponents(string: server), let host = url.host else { return [] }
        let directory = "\(legoPath)/accounts/\(url.port.map { "\(host)_\($0)" } ?? host)"
        let emails = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return emails.sorted().map { "\(directory)/\($0)" }.filter {
            FileManager.default.fileExists(atPath: "\($0)/account.json")
        }
    }

    package static func plan(
        stem: String, jsonPath: String, server: String, challenge: Challenge, certificateNames: [String],
        certificateKeyType: KeyType?, fullchain: String, key: String, chain: String?, bundled: Bool,
        accountDirectory: String?, accountCandidates: Int
    ) -> MigrationPlan {
        var todos: [String] = []
        // lego writes a wildcard's files as _.example.com.
        var name = stem.hasPrefix("_.") ? "wildcard." + stem.dropFirst(2) : stem
        if !StateName.isValid(name) {
            name = "certificate-\(CertbotMigration.stableHash(stem))"
            todos.append(
                "the certificate name '\(CertbotMigration.sanitized(stem))' is not a valid spec name; the spec is called '\(name)'"
            )
        }
        let ca = CAPreset.all.first { $0.directoryURL == server }?.name ?? server
        var lines = [
            "# Migrated from lego (\(CertbotMigration.sanitized(jsonPath))) by `certkeeper migrate lego`.",
            "# The certificate stays where lego put it; certkeeper renews it there.",
            "domains = [\(certificateNames.map(CertbotMigration.quoted).joined(separator: ", "))]",
            "ca = \(CertbotMigration.quoted(ca))",
            "key = \(CertbotMigration.quoted((certificateKeyType ?? .ecdsaP256).rawValue))",
            "",
        ]
        let complete: Bool
        switch challenge {
        case .webroot(let root):
            lines += ["[challenge]", "type = \"http-01\"", "webroot = \(CertbotMigration.quoted(root))"]
            complete = true
        case .listen(let address):
            lines += ["[challenge]", "type = \"http-01\"", "listen = \(CertbotMigration.quoted(address))"]
            complete = true
        case .unknown:
            lines += CertbotMigration.commented(["[challenge]", "type = \"http-01\"", "webroot = \"/var/www/html\""])
            todos.append(
                "lego keeps no challenge settings: give --webroot or --http-port as lego had --http.webroot or --http.port, or write [challenge]"
            )
            complete = false
        }
        if !bundled {
            todos.append(
                "\(fullchain) holds the certificate only (lego --no-bundle); certkeeper writes the full chain there")
        }
        if accountDirectory == nil {
            todos.append(
                accountCandidates == 0
                    ? "no lego account for \(server): certkeeper registers one at the first renewal"
                    : "several lego accounts for \(server): import the right one with `certkeeper account import --from-lego`"
            )
        }
        lines += [
            "", "[install]", "fullchain = \(CertbotMigration.quoted(fullchain))",
            "key = \(CertbotMigration.quoted(key))",
        ]
        if let chain { lines.append("chain = \(CertbotMigration.quoted(chain))") }
        if !todos.isEmpty { lines.insert(contentsOf: todos.map { "# TODO: \($0)" }, at: 2) }
        return MigrationPlan(
            name: name, confPath: jsonPath, domains: certificateNames, server: server,
            accountDirectory: accountDirectory, spec: lines.joined(separator: "\n") + "\n", todos: todos,
            complete: complete, secretFile: nil)
    }
}
