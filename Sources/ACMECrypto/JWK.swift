import ACMEModels
import Crypto

/// A public JSON Web Key (RFC 7517) with only the members RFC 7638 requires, so its JSON is canonical.
package struct JWK: Sendable, Hashable, Codable {
    /// `EC` or `RSA`.
    package var kty: String
    /// EC curve, `P-256` or `P-384`.
    package var crv: String?
    package var x: String?
    package var y: String?
    /// RSA modulus (no leading zero octets).
    package var n: String?
    /// RSA public exponent (no leading zero octets).
    package var e: String?

    /// A JWK from already-encoded members.
    package init(
        kty: String, crv: String? = nil, x: String? = nil, y: String? = nil, n: String? = nil, e: String? = nil
    ) {
        self.kty = kty
        self.crv = crv
        self.x = x
        self.y = y
        self.n = n
        self.e = e
    }

    /// An EC key from full-length coordinates.
    package static func ec(curve: String, x: [UInt8], y: [UInt8]) -> JWK {
        JWK(kty: "EC", crv: curve, x: Base64URL.encode(x), y: Base64URL.encode(y), n: nil, e: nil)
    }

    /// An RSA key; leading zero octets of `n` and `e` are stripped.
    package static func rsa(modulus: [UInt8], exponent: [UInt8]) -> JWK {
        func strip(_ bytes: [UInt8]) -> [UInt8] {
            let trimmed = Array(bytes.drop { $0 == 0 })
            return trimmed.isEmpty ? [0] : trimmed
        }
        return JWK(
            kty: "RSA",
            crv: nil,
            x: nil,
            y: nil,
            n: Base64URL.encode(strip(modulus)),
            e: Base64URL.encode(strip(exponent))
        )
    }

    /// The key as a JSON object (for `jwk` headers, EAB payloads and `oldKey`).
    package var jsonValue: JSONValue {
        var members: [String: JSONValue] = ["kty": .string(kty)]
        if let crv { members["crv"] = .string(crv) }
        if let x { members["x"] = .string(x) }
        if let y { members["y"] = .string(y) }
        if let n { members["n"] = .string(n) }
        if let e { members["e"] = .string(e) }
        return .object(members)
    }

    /// The canonical JSON (sorted members, no whitespace), as hashed for the thumbprint.
    package var canonicalJSON: [UInt8] { jsonValue.serialized }

    /// The RFC 7638 SHA-256 thumbprint, base64url.
    package func thumbprint() -> String {
        Base64URL.encode(SHA256.hash(data: canonicalJSON))
    }
}
