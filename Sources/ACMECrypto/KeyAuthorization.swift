import Crypto

/// Key authorizations for challenges (RFC 8555 §8.1, §8.4).
package enum KeyAuthorization {
    /// `token + "." + thumbprint(jwk)`: the http-01 response body.
    package static func make(token: String, jwk: JWK) -> String {
        "\(token).\(jwk.thumbprint())"
    }

    /// The dns-01 TXT value: base64url(SHA-256(keyAuthorization)), 43 characters.
    package static func dns01Value(_ keyAuthorization: String) -> String {
        Base64URL.encode(SHA256.hash(data: Array(keyAuthorization.utf8)))
    }

    /// SHA-256(keyAuthorization): the tls-alpn-01 acmeIdentifier extension value.
    package static func tlsALPN01Digest(_ keyAuthorization: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(keyAuthorization.utf8)))
    }
}
