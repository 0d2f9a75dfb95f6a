import ACMECrypto
import Foundation

/// Why an account directory or key file from another ACME client cannot be imported.
package struct AccountImportError: Error, Sendable, CustomStringConvertible, LocalizedError {
    /// The file or directory at fault.
    package var path: String
    /// What is wrong and what to do.
    package var reason: String

    package init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    package var description: String { "cannot import \(path): \(reason)" }
    package var errorDescription: String? { description }
}

/// An account key (and what else is known) read from another client's account directory.
///
/// The key is only parsed here; `certkeeper account import` then looks it up at the CA with `onlyReturnExisting`
/// before anything is stored.
package struct AccountImportSource: Sendable {
    /// The account private key.
    package var key: SigningKey
    /// The account URL the other client recorded, if any (the CA's answer is authoritative).
    package var accountURL: String?
    /// Contact URLs the other client recorded ("mailto:...").
    package var contact: [String]
    /// Where it came from, for the record's notes ("certbot DIR", "lego DIR", a key file).
    package var origin: String

    package init(key: SigningKey, accountURL: String?, contact: [String], origin: String) {
        self.key = key
        self.accountURL = accountURL
        self.contact = contact
        self.origin = origin
    }

    /// Reads exactly one of: a certbot account directory, a lego account directory, a PEM key file.
    package static func load(certbot: String?, lego: String?, pemKey: String?) throws -> AccountImportSource {
        switch (certbot, lego, pemKey) {
        case (let directory?, nil, nil): return try fromCertbot(directory)
        case (nil, let directory?, nil): return try fromLego(directory)
        case (nil, nil, let file?): return try fromPEM(file)
        default:
            throw AccountImportError(
                path: [certbot, lego, pemKey].compactMap { $0 }.joined(separator: ", "),
                reason: "give exactly one of --from-certbot DIR, --from-lego DIR, --key FILE")
        }
    }

    /// A PEM private key file (PKCS#8 or SEC1/PKCS#1).
    package static func fromPEM(_ file: String) throws -> AccountImportSource {
        AccountImportSource(
            key: try parsePEM(try readText(file), path: file), accountURL: nil, contact: [], origin: file)
    }

    /// certbot: `private_key.json` (a private JWK; RSA with n,e,d,p,q,dp,dq,qi), `regr.json`
    /// (`{"body": {"contact": [...]}, "uri": account URL}`) and `meta.json` (not needed).
    package static func fromCertbot(_ directory: String) throws -> AccountImportSource {
        let keyFile = "\(directory)/private_key.json"
        let key: SigningKey
        do {
            key = try SigningKey(jwkJSON: try readBytes(keyFile))
        } catch let error as AccountImportError {
            throw error
        } catch {
            throw AccountImportError(
                path: keyFile,
                reason: "not a usable private JWK (\(error)); is this a certbot account directory "
                    + "(/etc/letsencrypt/accounts/SERVER/directory/ID)?")
        }
        var url: String?
        var contact: [String] = []
        let regrFile = "\(directory)/regr.json"
        if FileManager.default.fileExists(atPath: regrFile) {
            guard let regr = try? JSONSerialization.jsonObject(with: Data(try readBytes(regrFile))) as? [String: Any]
            else { throw AccountImportError(path: regrFile, reason: "not a JSON object") }
            url = regr["uri"] as? String
            contact = ((regr["body"] as? [String: Any])?["contact"] as? [String]) ?? []
        }
        return AccountImportSource(key: key, accountURL: url, contact: contact, origin: "certbot \(directory)")
    }

    /// lego: `account.json` (`{"email", "registration": {"body": {...}, "uri": account URL}}`) and the PEM key in
    /// `keys/EMAIL.key` (or any single `*.key` next to account.json or in `keys/`).
    package static func fromLego(_ directory: String) throws -> AccountImportSource {
        let accountFile = "\(directory)/account.json"
        guard let json = try? JSONSerialization.jsonObject(with: Data(try readBytes(accountFile))) as? [String: Any]
        else {
            throw AccountImportError(path: accountFile, reason: "not a JSON object; is this a lego account directory?")
        }
        let email = (json["email"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        let registration = json["registration"] as? [String: Any]
        let url = registration?["uri"] as? String
        let contact =
            ((registration?["body"] as? [String: Any])?["contact"] as? [String]) ?? email.map { ["mailto:\($0)"] } ?? []
        var candidates: [String] = []
        if let email { candidates += ["\(directory)/keys/\(email).key", "\(directory)/\(email).key"] }
        var others: [String] = []
        for sub in ["\(directory)/keys", directory] {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: sub)) ?? []
            others += files.filter { $0.hasSuffix(".key") }.sorted().map { "\(sub)/\($0)" }
        }
        if candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) == nil && others.count > 1 {
            throw AccountImportError(
                path: directory,
                reason: "several *.key files (\(others.joined(separator: ", "))) and none named after the email; "
                    + "use --key FILE --ca URL instead")
        }
        guard let keyFile = (candidates + others).first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw AccountImportError(
                path: directory,
                reason: "no account key (keys/EMAIL.key or *.key) found; is this a lego account directory?")
        }
        return AccountImportSource(
            key: try parsePEM(try readText(keyFile), path: keyFile), accountURL: url, contact: contact,
            origin: "lego \(directory)")
    }

    private static func parsePEM(_ pem: String, path: String) throws -> SigningKey {
        do {
            return try SigningKey(pemRepresentation: pem)
        } catch {
            throw AccountImportError(path: path, reason: "not a usable PEM private key (\(error))")
        }
    }

    private static func readBytes(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AccountImportError(path: path, reason: "does not exist or is not readable by uid \(getuid())")
        }
        return [UInt8](data)
    }

    private static func readText(_ path: String) throws -> String {
        String(decoding: try readBytes(path), as: UTF8.self)
    }
}
