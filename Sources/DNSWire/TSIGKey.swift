import Foundation

/// A TSIG shared secret with its key name and algorithm. The secret never appears in descriptions.
package struct TSIGKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The key name as configured on the server, e.g. `acme-key.`.
    package var name: DNSName
    package var algorithm: TSIGAlgorithm
    /// The decoded secret bytes.
    package var secret: [UInt8]

    package init(name: DNSName, algorithm: TSIGAlgorithm = .hmacSHA256, secret: [UInt8]) {
        self.name = name
        self.algorithm = algorithm
        self.secret = secret
    }

    /// Builds a key from a name and a standard base64 secret (whitespace ignored), as `tsig-keygen` prints it.
    package init(name: String, algorithm: TSIGAlgorithm = .hmacSHA256, base64Secret: String) throws {
        let keyName: DNSName
        do {
            keyName = try DNSName(name)
        } catch {
            throw TSIGKeyError(source: "TSIG key \"\(name)\"", reason: "bad key name: \(error)")
        }
        self.init(
            name: keyName,
            algorithm: algorithm,
            secret: try Self.decodeBase64(base64Secret, source: "TSIG key \(keyName)")
        )
    }

    package var description: String { "TSIGKey(\(name), \(algorithm), secret: <redacted>)" }
    package var debugDescription: String { description }

    static func decodeBase64(_ text: String, source: String) throws -> [UInt8] {
        var compact = String(text.unicodeScalars.filter { !CharacterSet.whitespacesAndNewlines.contains($0) })
        guard !compact.isEmpty else { throw TSIGKeyError(source: source, reason: "the secret is empty") }
        if compact.contains("-") || compact.contains("_") {
            throw TSIGKeyError(
                source: source,
                reason: "the secret looks like base64url; TSIG secrets are standard base64 (+ and /)"
            )
        }
        while compact.count % 4 != 0 { compact += "=" }
        guard let data = Data(base64Encoded: compact), !data.isEmpty else {
            throw TSIGKeyError(source: source, reason: "the secret is not valid standard base64")
        }
        return Array(data)
    }
}

/// A TSIG key file or key value that cannot be used; says where and why, never the secret.
package struct TSIGKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file path or configuration location.
    package var source: String
    package var reason: String

    package init(source: String, reason: String) {
        self.source = source
        self.reason = reason
    }

    package var description: String { "\(source): \(reason)" }
}
