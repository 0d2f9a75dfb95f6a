/// A challenge token from the CA, checked to be safe as a file name and a map key.
///
/// Tokens come from the CA and are therefore untrusted. RFC 8555 §8.1 makes them base64url;
/// this type accepts exactly `^[A-Za-z0-9_-]{1,256}$` (no `.`, `/`, `=` or control characters),
/// so a valid token can never escape `.well-known/acme-challenge/`.
package struct ChallengeToken: Sendable, Hashable, CustomStringConvertible {
    /// The longest token accepted.
    package static let maximumLength = 256

    /// The validated token text.
    package let value: String

    /// Validates `value`.
    ///
    /// - Parameters:
    ///   - value: The token as the CA sent it.
    ///   - domain: The identifier the challenge is for; only used in the error.
    /// - Throws: ``InvalidChallengeTokenError`` when the token is empty, too long or not base64url.
    package init(_ value: String, domain: String) throws {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty, bytes.count <= Self.maximumLength, bytes.allSatisfy(Self.isBase64URL) else {
            throw InvalidChallengeTokenError(domain: domain, token: value)
        }
        self.value = value
    }

    /// The token text.
    package var description: String { self.value }

    private static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }
}

/// The CA sent a challenge token that is not 1 to 256 base64url characters.
package struct InvalidChallengeTokenError: Error, Hashable, CustomStringConvertible {
    /// The identifier whose challenge carried the token.
    package var domain: String
    /// An escaped, shortened rendering of the token, safe to log.
    package var tokenExcerpt: String
    /// The token's length in UTF-8 bytes.
    package var tokenLength: Int

    init(domain: String, token: String) {
        self.domain = domain
        self.tokenLength = token.utf8.count
        let head = String(token.unicodeScalars.prefix(40).map { Character($0) })
        self.tokenExcerpt = head.debugDescription + (token.unicodeScalars.count > 40 ? "..." : "")
    }

    package var description: String {
        "challenge for \(self.domain): the CA sent a token \(self.tokenExcerpt) (\(self.tokenLength) bytes) that is not "
            + "1 to \(ChallengeToken.maximumLength) base64url characters [A-Za-z0-9_-]; refusing to use it. "
            + "Check that the directory URL points at a genuine ACME server; the order will be retried."
    }
}
