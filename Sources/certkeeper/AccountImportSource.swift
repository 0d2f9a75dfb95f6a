import ACMECrypto
import ArgumentParser
import Foundation

/// An account key (and what else is known) read from another client's account directory.
struct AccountImportSource {
    var key: SigningKey
    var accountURL: String?
    var contact: [String]
    var origin: String

    /// Reads exactly one of: a certbot account directory, a lego account directory, a PEM key file.
    static func load(certbot: String?, lego: String?, pemKey: String?) throws -> AccountImportSource {
        switch (certbot, lego, pemKey) {
        case (let directory?, nil, nil): return try fromCertbot(directory)
        case (nil, let directory?, nil): return try fromLego(directory)
        case (nil, nil, let file?):
            return AccountImportSource(
                key: try SigningKey(pemRepresentation: try readText(file)), accountURL: nil, contact: [],
                origin: file)
        default:
            throw ValidationError("give exactly one of --from-certbot DIR, --from-lego DIR, --key FILE")
        }
    }

    /// certbot: `private_key.json` (a JWK), `regr.json` ({"uri": account URL, "body": {...}}), `meta.json`.
    static func fromCertbot(_ directory: String) throws -> AccountImportSource {
        let jwk = try readBytes("\(directory)/private_key.json")
        let key = try SigningKey(jwkJSON: jwk)
        var url: String?
        var contact: [String] = []
        if let regr = try? JSONSerialization.jsonObject(with: Data(try readBytes("\(directory)/regr.json")))
            as? [String: Any]
        {
            url = regr["uri"] as? String
            contact = ((regr["body"] as? [String: Any])?["contact"] as? [String]) ?? []
        }
        return AccountImportSource(key: key, accountURL: url, contact: contact, origin: "certbot \(directory)")
    }

    /// lego: `account.json` ({"email", "registration": {"body": {...}, "uri": account URL}}) and the PEM key in
    /// `keys/EMAIL.key` (or any single `*.key` next to account.json).
    static func fromLego(_ directory: String) throws -> AccountImportSource {
        let json =
            try JSONSerialization.jsonObject(with: Data(try readBytes("\(directory)/account.json"))) as? [String: Any]
            ?? [:]
        let email = json["email"] as? String
        let registration = json["registration"] as? [String: Any]
        let url = registration?["uri"] as? String
        let contact =
            ((registration?["body"] as? [String: Any])?["contact"] as? [String]) ?? email.map { ["mailto:\($0)"] } ?? []
        var candidates: [String] = []
        if let email { candidates += ["\(directory)/keys/\(email).key", "\(directory)/\(email).key"] }
        for sub in [directory, "\(directory)/keys"] {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: sub)) ?? []
            candidates += files.filter { $0.hasSuffix(".key") }.sorted().map { "\(sub)/\($0)" }
        }
        guard let keyFile = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw ValidationError("no account key (*.key) found in \(directory) or \(directory)/keys")
        }
        return AccountImportSource(
            key: try SigningKey(pemRepresentation: try readText(keyFile)), accountURL: url, contact: contact,
            origin: "lego \(directory)")
    }

    private static func readBytes(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path)")
        }
        return [UInt8](data)
    }

    private static func readText(_ path: String) throws -> String {
        String(decoding: try readBytes(path), as: UTF8.self)
    }
}
