import ACMEClient
import ACMEModels
import CertkeeperConfig
import Foundation
import Logging

/// Checks `profile = "NAME"` in specs against the profiles each CA advertises under `meta.profiles`
/// (draft-ietf-acme-profiles §3), at start-up and at reload.
package struct ProfileValidator: Sendable {
    package var clients: ACMEClientPool
    package var logger: Logger

    package init(clients: ACMEClientPool, logger: Logger) {
        self.clients = clients
        self.logger = logger
    }

    /// The specs among `specs` whose profile the CA does not advertise, by spec name, each with a diagnostic that
    /// names the spec file, the profile and the profiles the CA offers.
    ///
    /// A CA whose directory cannot be fetched rejects nothing (a warning is logged): the order itself checks again.
    package func rejections(for specs: [CertificateSpec]) async -> [String: ConfigDiagnostic] {
        var result: [String: ConfigDiagnostic] = [:]
        var directories: [String: ACMEDirectory?] = [:]
        for spec in specs.sorted(by: { $0.name < $1.name }) where spec.profile != nil {
            let key = spec.ca.directoryURL
            if directories[key] == nil {
                do {
                    directories[key] = .some(try await clients.client(for: spec.ca).directory())
                } catch {
                    directories[key] = .some(nil)
                    logger.warning(
                        "cannot fetch the directory of \(spec.ca.directoryURL) to check profile '\(spec.profile ?? "")' of \(spec.file): \(error); the profile is checked again before ordering",
                        metadata: CertificateMaintainer.metadata(spec))
                }
            }
            guard let directory = directories[key] ?? nil else { continue }
            if let diagnostic = Self.check(spec: spec, directory: directory) { result[spec.name] = diagnostic }
        }
        return result
    }

    /// Nil when `spec` has no profile or its CA advertises it; otherwise the diagnostic. Pure (apart from reading
    /// the spec file to point at the `profile` line).
    package static func check(spec: CertificateSpec, directory: ACMEDirectory) -> ConfigDiagnostic? {
        guard let profile = spec.profile else { return nil }
        let offered = (directory.meta?.profiles ?? [:]).keys.sorted()
        if offered.contains(profile) { return nil }
        let (line, column) = position(ofKey: "profile", inFile: spec.file)
        return ConfigDiagnostic(
            file: spec.file, line: line, column: column,
            message: message(profile: profile, ca: spec.ca, offered: offered))
    }

    /// The explanation, for reload diagnostics and order-time errors alike.
    static func message(profile: String, ca: CASettings, offered: [String]) -> String {
        let caText = ca.name == ca.directoryURL ? ca.directoryURL : "'\(ca.name)' (\(ca.directoryURL))"
        if offered.isEmpty {
            return
                "profile '\(profile)' is not offered by CA \(caText): its directory advertises no profiles (no meta.profiles); remove `profile` from this spec"
        }
        return
            "profile '\(profile)' is not offered by CA \(caText); it offers: \(offered.joined(separator: ", ")); set `profile` to one of these or remove it"
    }

    /// 1-based line and column of the value of `key = ...` in a TOML file; (1, 1) when not found.
    static func position(ofKey key: String, inFile path: String) -> (Int, Int) {
        guard let data = FileManager.default.contents(atPath: path) else { return (1, 1) }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            guard trimmed.hasPrefix(key) else { continue }
            let rest = trimmed.dropFirst(key.count).drop { $0 == " " || $0 == "\t" }
            guard rest.first == "=" else { continue }
            let value = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
            return (index + 1, line.count - value.count + 1)
        }
        return (1, 1)
    }
}
