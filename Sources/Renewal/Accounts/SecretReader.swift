import ACMECrypto
import CertkeeperConfig
import Foundation

/// Reads secrets named in config (files or systemd credentials) at the moment they are needed.
/// Their contents are never logged or stored anywhere else.
package struct SecretReader: Sendable {
    /// `$CREDENTIALS_DIRECTORY`, set by systemd when the unit has `LoadCredential=`.
    package var credentialsDirectory: String?

    package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.credentialsDirectory = environment["CREDENTIALS_DIRECTORY"]
    }

    /// The raw bytes of a secret.
    package func read(_ source: SecretSource, what: String) throws -> [UInt8] {
        let path: String
        switch source {
        case .file(let file):
            path = file
        case .credential(let name):
            guard let directory = credentialsDirectory else {
                throw AccountError.secretUnreadable(
                    what: what,
                    reason:
                        "credential '\(name)' requested but $CREDENTIALS_DIRECTORY is not set; add `LoadCredential=\(name):/etc/credstore/\(name)` to the unit (systemctl edit certkeeper)"
                )
            }
            path = "\(directory)/\(name)"
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AccountError.secretUnreadable(
                what: what, reason: "\(path) does not exist or is not readable by uid \(getuid())")
        }
        return [UInt8](data)
    }

    /// An EAB HMAC key: base64url or standard base64, with or without padding, whitespace ignored.
    package func hmacKey(_ source: SecretSource, what: String) throws -> [UInt8] {
        let raw = String(decoding: try read(source, what: what), as: UTF8.self)
        guard let key = Base64URL.decodeLenient(raw), !key.isEmpty else {
            throw AccountError.secretUnreadable(
                what: what, reason: "the file does not hold a base64url or base64 key")
        }
        return key
    }
}
